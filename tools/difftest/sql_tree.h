// The SQL that surge-difftest generates, kept as a tree rather than text: one tree renders for
// either engine (function names and a few operators are spelled differently), and the reducer
// shrinks a failing query by editing the tree and rendering it again.
//
// An expression is a Node: a sequence of parts, each literal text, a child expression or a
// subquery. Keeping the shape that generic means a new function or operator needs no new node
// type, only a generator rule (see expr_rules.cc) that lays out its parts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace surge::difftest {

/// Which engine a tree is rendered for.
enum class Dialect : uint8_t { kSurge, kSqlite };

/// The kind of value an expression yields. INTEGER and BIGINT columns are both kInt; kBool is a
/// predicate (SurgeDB has no BOOLEAN columns, SQLite none at all).
enum class Kind : uint8_t { kInt, kFloat, kStr, kBool };

struct Node;
struct Select;
using NodePtr = std::shared_ptr<Node>;
using SelectPtr = std::shared_ptr<Select>;

/// Text that both engines spell the same way, or a per-engine pair.
struct Text {
    std::string surge;
    std::optional<std::string> sqlite;  ///< set when SQLite needs a different spelling

    const std::string& For(Dialect d) const { return d == Dialect::kSqlite && sqlite ? *sqlite : surge; }
};

/// One piece of an expression: text, a child expression or a subquery (exactly one is used).
struct Part {
    Part(const char* t) : text{t, std::nullopt} {}             // NOLINT(google-explicit-constructor)
    Part(std::string t) : text{std::move(t), std::nullopt} {}  // NOLINT(google-explicit-constructor)
    Part(Text t) : text(std::move(t)) {}                       // NOLINT(google-explicit-constructor)
    Part(NodePtr e) : expr(std::move(e)) {}                    // NOLINT(google-explicit-constructor)
    Part(SelectPtr s) : select(std::move(s)) {}                // NOLINT(google-explicit-constructor)

    Text text;
    NodePtr expr;
    SelectPtr select;
};

/// An expression. Compound expressions render in parentheses unless `bare` (the generator leaves
/// them out where both engines' precedence agrees, to exercise the parsers).
struct Node {
    Kind kind = Kind::kInt;
    std::vector<Part> parts;
    bool compound = true;  ///< false for leaves (columns, literals): never parenthesized
    bool column = false;   ///< a column reference (alias.name)
    bool bare = false;
    /// Operator precedence level for leaving out parentheses (0: not an operator); see expr_rules.cc.
    int precedence = 0;
};

/// Builds a compound expression of kind k from parts.
NodePtr MakeNode(Kind k, std::vector<Part> parts, int precedence = 0);
/// Builds a literal.
NodePtr MakeLeaf(Kind k, std::string text);
/// Builds a column reference, alias.name.
NodePtr MakeColumn(Kind k, std::string ref);

enum class JoinType : uint8_t { kFirst, kComma, kCross, kInner, kLeft, kRight, kFull };

/// One table in a FROM list and how it joins the items before it.
struct FromItem {
    JoinType join = JoinType::kFirst;
    std::string table;  ///< base table or common table name; empty for a derived table
    SelectPtr derived;
    std::string alias;
    NodePtr on;  ///< kInner, kLeft, kRight, kFull
};

/// One SELECT ... FROM ... WHERE ... GROUP BY ... HAVING block.
struct Core {
    bool distinct = false;
    std::vector<NodePtr> items;  ///< rendered AS c0, c1, ...
    std::vector<FromItem> from;
    NodePtr where;
    std::vector<NodePtr> group_by;
    NodePtr having;
};

enum class SetOp : uint8_t { kUnion, kUnionAll, kIntersect, kExcept };

struct OrderKey {
    int position = 1;  ///< 1-based output column
    bool desc = false;
    int nulls = 0;  ///< 0: the default, 1: NULLS FIRST, 2: NULLS LAST
};

/// A full query: common tables, one or more cores joined by set operators, ORDER BY and LIMIT.
struct Select {
    std::vector<std::pair<std::string, SelectPtr>> ctes;
    std::vector<Core> cores;
    std::vector<SetOp> ops;  ///< ops[i] joins cores[i] and cores[i + 1]
    std::vector<OrderKey> order;
    int64_t limit = -1;
    int64_t offset = -1;
    std::vector<Kind> types;  ///< output column kinds

    /// The ORDER BY names every output column, so both engines must return rows in one order.
    bool TotallyOrdered() const;
};

/// UPDATE table SET ... [WHERE ...], or DELETE FROM table [WHERE ...] when sets is empty.
struct Dml {
    std::string table;
    std::vector<std::pair<std::string, NodePtr>> sets;  ///< column, value
    NodePtr where;
};

std::string Render(const Node& n, Dialect d);
std::string Render(const Select& s, Dialect d);
std::string Render(const Dml& s, Dialect d);

/// A deep copy (nodes are shared_ptr; the reducer edits copies in place).
NodePtr Clone(const NodePtr& n);
SelectPtr Clone(const SelectPtr& s);
Dml Clone(const Dml& d);

}  // namespace surge::difftest
