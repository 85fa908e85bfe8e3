// Random schemas, data, DML and queries for the differential test. Everything generated is meant
// to be accepted by both SurgeDB and SQLite with the same meaning: the generator tracks the kind of
// every expression (SurgeDB rejects comparing strings with numbers, SQLite would convert), keeps
// divisors non-zero and values small, and spells functions per engine. What it produces is
// decided by features that can be switched off one by one (--exclude), so a known engine bug can
// be parked while the rest keeps being tested.
//
// Expressions come from a table of rules (expr_rules.cc), each a named feature producing some
// kinds of value; adding a SQL function is adding a rule there.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "difftest/database.h"
#include "difftest/sql_tree.h"

namespace surge::difftest {

/// A deterministic random source with the few draws the generator needs.
class Rng {
  public:
    explicit Rng(uint64_t seed) : gen_(seed) {}
    /// Uniform in [lo, hi].
    int64_t Uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen_); }
    bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
    template <typename T>
    const T& Pick(const std::vector<T>& v) {
        return v[static_cast<size_t>(Uniform(0, static_cast<int64_t>(v.size()) - 1))];
    }

  private:
    std::mt19937_64 gen_;
};

/// A named switch over part of what the generator produces.
struct Feature {
    std::string name;
    std::string summary;
};

/// Every feature the generator knows, expression rules and query shapes alike.
std::vector<Feature> AllFeatures();

/// The features switched off for a run.
class FeatureSet {
  public:
    void Exclude(const std::string& name) { excluded_.insert(name); }
    bool On(const std::string& name) const { return excluded_.count(name) == 0; }
    const std::set<std::string>& excluded() const { return excluded_; }

  private:
    std::set<std::string> excluded_;
};

/// A column an expression may read, as the query spells it (alias.column).
struct ScopeColumn {
    std::string ref;
    Kind kind;
};

/// What an expression being generated can see.
struct Scope {
    std::vector<ScopeColumn> columns;
    const Scope* outer = nullptr;     ///< the enclosing query block, for correlated subqueries
    const Scope* agg_rows = nullptr;  ///< set in a grouped block: aggregates range over these rows
    int nesting = 0;                  ///< levels of subqueries that may still nest here (0: none)
    bool correlatable = true;         ///< subqueries inside may read these columns
};

class Generator;

/// An expression rule: builds one expression of kind k, or returns nullptr when it cannot here.
using ExprRuleFn = NodePtr (*)(Generator& g, Kind k, const Scope& s, int depth);

struct ExprRule {
    const char* feature;  ///< name for --exclude; several rules may share one
    const char* summary;
    unsigned kinds;  ///< bit (1 << Kind) for each kind of result the rule can build
    int weight;      ///< relative frequency among the rules that fit
    ExprRuleFn make;
};

/// The expression rule table (expr_rules.cc).
const std::vector<ExprRule>& ExprRules();
/// An aggregate call of kind k over s.agg_rows (nullptr for kBool or outside a grouped block).
NodePtr MakeAggregate(Generator& g, Kind k, const Scope& s, int depth);

/// What a subquery or derived table has to look like.
struct SelectSpec {
    const Scope* outer = nullptr;  ///< correlated references may reach this scope
    std::vector<Kind> types;       ///< output kinds; empty: any 1-3 columns
    int depth = 2;                 ///< nesting left for subqueries and derived tables
    bool scalar = false;           ///< must return exactly one row and one column
    bool top = false;              ///< the statement itself: may have WITH, ORDER BY, LIMIT
};

class Generator {
  public:
    /// sqlite_outer_joins: SQLite (3.39+) supports RIGHT and FULL JOIN.
    Generator(uint64_t seed, const FeatureSet& features, bool sqlite_outer_joins);

    Database GenDatabase();
    /// An UPDATE or DELETE of one of db's tables.
    Dml GenDml(const Database& db);
    SelectPtr GenQuery(const Database& db);

    // ---- for the expression rules ----
    Rng& rng() { return rng_; }
    bool On(const char* feature) const { return features_.On(feature); }
    /// An expression of kind k; depth bounds its nesting.
    NodePtr Expr(Kind k, const Scope& s, int depth);
    /// A column, literal or (in a grouped block) aggregate of kind k.
    NodePtr Leaf(Kind k, const Scope& s);
    /// A column of kind k visible in s (sometimes an outer one), or nullptr.
    NodePtr PickColumn(Kind k, const Scope& s);
    NodePtr Literal(Kind k);
    /// A kind for a value; numeric kinds are likelier.
    Kind ValueKind();
    /// The kind of a second operand comparable with one of kind k (INT and FLOAT mix).
    Kind ComparableKind(Kind k);
    /// A LIKE pattern over the data's alphabet.
    std::string LikePattern();
    SelectPtr GenSelect(const SelectSpec& spec);

  private:
    struct CommonTable {
        std::string name;
        std::vector<Kind> types;
    };

    Dml GenDmlOnce(const Database& db);
    /// One SELECT block with output kinds `types`; aggregate_only: aggregates without GROUP BY (one row).
    Core GenCore(const std::vector<Kind>& types, const SelectSpec& spec, bool aggregate_only);
    /// FROM items, filling *rows with their columns.
    std::vector<FromItem> GenFrom(const SelectSpec& spec, Scope* rows);
    void GenOrderLimit(Select* s, bool top);
    std::string NewAlias() { return "r" + std::to_string(++alias_counter_); }
    /// A text value of at most max_length characters, quotes doubled, without the enclosing quotes.
    std::string StringValue(int max_length);

    Rng rng_;
    const FeatureSet& features_;
    bool outer_joins_;
    const Database* db_ = nullptr;
    std::vector<CommonTable> ctes_;  ///< common tables of the statement being generated
    int alias_counter_ = 0;
};

}  // namespace surge::difftest
