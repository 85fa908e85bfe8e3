// The expression half of the generator: leaves (columns, literals, aggregates) and the rule table
// every compound expression comes from.
//
// Each rule is a feature that --exclude can switch off. To test a new function, add a rule: give
// it the kinds it returns, lay out its parts (with a Text pair where SurgeDB and SQLite spell it
// differently), and keep its arguments inside what both engines define the same way (the file's
// rules below say how, e.g. SUBSTR starts are never negative because SQLite counts those from the
// end of the string).
#include <string>
#include <utility>
#include <vector>

#include "difftest/generator.h"

namespace surge::difftest {
namespace {

constexpr unsigned Bit(Kind k) { return 1u << static_cast<unsigned>(k); }
constexpr unsigned kNumeric = Bit(Kind::kInt) | Bit(Kind::kFloat);
constexpr unsigned kValues = kNumeric | Bit(Kind::kStr);

// Precedence of the operators whose parentheses the generator may leave out. Both engines'
// grammars agree on this order (parse.y and SQLite's parse.y): OR < AND < NOT < comparison <
// + - < * / %. String concatenation is not in the list: SQLite binds || tighter than *, SurgeDB
// looser than +, so it is always parenthesized.
constexpr int kPrecOr = 1;
constexpr int kPrecAnd = 2;
constexpr int kPrecNot = 3;
constexpr int kPrecCompare = 4;
constexpr int kPrecAdd = 6;
constexpr int kPrecMul = 7;

// Drops the parentheses around an operand when its operator binds tighter than the parent's (or
// as tight, on the left: every operator here is left-associative), half of the time.
NodePtr Loose(Generator& g, NodePtr child, int parent_precedence, bool left) {
    if (!g.On("precedence") || !child->compound || child->precedence == 0) return child;
    bool tighter = child->precedence > parent_precedence || (left && child->precedence == parent_precedence);
    if (tighter && g.rng().Chance(0.5)) child->bare = true;
    return child;
}

NodePtr Binary(Generator& g, Kind k, NodePtr a, const char* op, NodePtr b, int precedence) {
    a = Loose(g, std::move(a), precedence, true);
    b = Loose(g, std::move(b), precedence, false);
    return MakeNode(k, {std::move(a), op, std::move(b)}, precedence);
}

std::string IntText(int64_t v) { return std::to_string(v); }

// A non-zero integer literal for a divisor.
std::string Divisor(Generator& g) {
    int64_t v = g.rng().Uniform(1, 7);
    return IntText(g.rng().Chance(0.3) ? -v : v);
}

// A non-zero float divisor, as a DECIMAL or a FLOAT literal: a power of two, so that the quotient
// is exact in binary and in decimal. SurgeDB divides DECIMALs to 12 places, SQLite in doubles; with
// a divisor like 1.5 the two quotients differ in the last digits, and rows that tie in one engine
// come apart in the other (ORDER BY ... LIMIT then keeps different rows).
std::string FloatDivisor(Generator& g) {
    static const std::vector<std::string> kDivisors = {"0.5", "2.0", "-4.0", "0.25", "8e0", "-2e0", "0.125"};
    return g.rng().Pick(kDivisors);
}

// ---- arithmetic -----------------------------------------------------------------------------

NodePtr Arith(Generator& g, Kind k, const Scope& s, int depth) {
    static const std::vector<std::pair<const char*, int>> kOps = {
        {" + ", kPrecAdd}, {" - ", kPrecAdd}, {" * ", kPrecMul}};
    // Integer results need integer operands; a float result needs at least one float operand.
    Kind ka = k, kb = k;
    if (k == Kind::kFloat && g.rng().Chance(0.4)) (g.rng().Chance(0.5) ? ka : kb) = Kind::kInt;
    const auto& op = g.rng().Pick(kOps);
    NodePtr a = g.Expr(ka, s, depth - 1);
    return Binary(g, k, a, op.first, g.Expr(kb, s, depth - 1), op.second);
}

// Division by a non-zero literal only: SurgeDB raises division by zero where SQLite yields NULL.
NodePtr Divide(Generator& g, Kind k, const Scope& s, int depth) {
    if (k == Kind::kInt) {
        NodePtr a = g.Expr(Kind::kInt, s, depth - 1);
        return Binary(g, k, a, " / ", MakeLeaf(k, Divisor(g)), kPrecMul);
    }
    Kind ka = g.rng().Chance(0.5) ? Kind::kFloat : Kind::kInt;
    std::string divisor = FloatDivisor(g);
    NodePtr a = g.Expr(ka, s, depth - 1);
    return Binary(g, k, a, " / ", MakeLeaf(k, divisor), kPrecMul);
}

// Integer operands only: SQLite's % converts floats to integers first, SurgeDB's is fmod.
NodePtr Modulo(Generator& g, Kind k, const Scope& s, int depth) {
    NodePtr a = g.Expr(Kind::kInt, s, depth - 1);
    return Binary(g, k, a, " % ", MakeLeaf(k, Divisor(g)), kPrecMul);
}

NodePtr Negate(Generator& g, Kind k, const Scope& s, int depth) {
    // The space keeps "- -3" from becoming the comment "--3".
    return MakeNode(k, {"- ", g.Expr(k, s, depth - 1)});
}

NodePtr Abs(Generator& g, Kind k, const Scope& s, int depth) {
    return MakeNode(k, {"ABS(", g.Expr(k, s, depth - 1), ")"});
}

// ---- strings --------------------------------------------------------------------------------

NodePtr Concat(Generator& g, Kind k, const Scope& s, int depth) {
    // Integers convert to the same text in both engines; floats do not (3.0 vs 3), so no floats.
    Kind ka = g.rng().Chance(0.75) ? Kind::kStr : Kind::kInt;
    Kind kb = g.rng().Chance(0.75) ? Kind::kStr : Kind::kInt;
    return MakeNode(k, {g.Expr(ka, s, depth - 1), " || ", g.Expr(kb, s, depth - 1)});
}

NodePtr UpperLower(Generator& g, Kind k, const Scope& s, int depth) {
    return MakeNode(k, {g.rng().Chance(0.5) ? "UPPER(" : "LOWER(", g.Expr(Kind::kStr, s, depth - 1), ")"});
}

NodePtr Length(Generator& g, Kind k, const Scope& s, int depth) {
    return MakeNode(k, {Text{"CHAR_LENGTH(", "length("}, g.Expr(Kind::kStr, s, depth - 1), ")"});
}

// Start and length are non-negative literals: SQLite counts a negative start from the end of the
// string and takes a negative length as the characters before the start; SurgeDB rejects a
// negative length and counts from position 1.
NodePtr Substr(Generator& g, Kind k, const Scope& s, int depth) {
    std::vector<Part> parts = {"SUBSTR(", g.Expr(Kind::kStr, s, depth - 1), ", " + IntText(g.rng().Uniform(0, 4))};
    if (g.rng().Chance(0.7)) parts.emplace_back(", " + IntText(g.rng().Uniform(0, 4)));
    parts.emplace_back(")");
    return MakeNode(k, std::move(parts));
}

// ---- conditional expressions ----------------------------------------------------------------

NodePtr CaseSearched(Generator& g, Kind k, const Scope& s, int depth) {
    std::vector<Part> parts = {"CASE"};
    int whens = static_cast<int>(g.rng().Uniform(1, 3));
    for (int i = 0; i < whens; i++) {
        parts.insert(parts.end(), {" WHEN ", g.Expr(Kind::kBool, s, depth - 1), " THEN ", g.Expr(k, s, depth - 1)});
    }
    if (g.rng().Chance(0.7)) parts.insert(parts.end(), {" ELSE ", g.Expr(k, s, depth - 1)});
    parts.emplace_back(" END");
    return MakeNode(k, std::move(parts));
}

NodePtr CaseSimple(Generator& g, Kind k, const Scope& s, int depth) {
    Kind operand = g.ValueKind();
    std::vector<Part> parts = {"CASE ", g.Expr(operand, s, depth - 1)};
    int whens = static_cast<int>(g.rng().Uniform(1, 3));
    for (int i = 0; i < whens; i++) {
        parts.insert(parts.end(),
                     {" WHEN ", g.Expr(g.ComparableKind(operand), s, depth - 1), " THEN ", g.Expr(k, s, depth - 1)});
    }
    if (g.rng().Chance(0.7)) parts.insert(parts.end(), {" ELSE ", g.Expr(k, s, depth - 1)});
    parts.emplace_back(" END");
    return MakeNode(k, std::move(parts));
}

NodePtr Coalesce(Generator& g, Kind k, const Scope& s, int depth) {
    std::vector<Part> parts = {"COALESCE(", g.Expr(k, s, depth - 1), ", ", g.Expr(k, s, depth - 1)};
    if (g.rng().Chance(0.3)) parts.insert(parts.end(), {", ", g.Expr(k, s, depth - 1)});
    parts.emplace_back(")");
    return MakeNode(k, std::move(parts));
}

NodePtr NullIf(Generator& g, Kind k, const Scope& s, int depth) {
    return MakeNode(k, {"NULLIF(", g.Expr(k, s, depth - 1), ", ", g.Expr(k, s, depth - 1), ")"});
}

// ---- predicates -----------------------------------------------------------------------------

NodePtr Compare(Generator& g, Kind, const Scope& s, int depth) {
    static const std::vector<std::string> kOps = {" = ", " <> ", " < ", " <= ", " > ", " >= "};
    Kind a = g.ValueKind();
    const char* op = g.rng().Pick(kOps).c_str();
    NodePtr x = g.Expr(a, s, depth - 1);
    return Binary(g, Kind::kBool, x, op, g.Expr(g.ComparableKind(a), s, depth - 1), kPrecCompare);
}

NodePtr AndOr(Generator& g, Kind, const Scope& s, int depth) {
    bool is_and = g.rng().Chance(0.55);
    NodePtr a = g.Expr(Kind::kBool, s, depth - 1);
    return Binary(g, Kind::kBool, a, is_and ? " AND " : " OR ", g.Expr(Kind::kBool, s, depth - 1),
                  is_and ? kPrecAnd : kPrecOr);
}

NodePtr Not(Generator& g, Kind, const Scope& s, int depth) {
    NodePtr x = Loose(g, g.Expr(Kind::kBool, s, depth - 1), kPrecNot, false);
    return MakeNode(Kind::kBool, {"NOT ", std::move(x)}, kPrecNot);
}

NodePtr IsNull(Generator& g, Kind, const Scope& s, int depth) {
    return MakeNode(Kind::kBool,
                    {g.Expr(g.ValueKind(), s, depth - 1), g.rng().Chance(0.5) ? " IS NULL" : " IS NOT NULL"},
                    kPrecCompare);
}

// SQLite (before 3.39) spells IS [NOT] DISTINCT FROM as IS [NOT].
NodePtr DistinctFrom(Generator& g, Kind, const Scope& s, int depth) {
    Kind a = g.ValueKind();
    bool negated = g.rng().Chance(0.5);
    Text op = negated ? Text{" IS NOT DISTINCT FROM ", " IS "} : Text{" IS DISTINCT FROM ", " IS NOT "};
    return MakeNode(Kind::kBool, {g.Expr(a, s, depth - 1), op, g.Expr(g.ComparableKind(a), s, depth - 1)},
                    kPrecCompare);
}

NodePtr Between(Generator& g, Kind, const Scope& s, int depth) {
    Kind a = g.ValueKind();
    NodePtr x = Loose(g, g.Expr(a, s, depth - 1), kPrecCompare, true);
    NodePtr lo = Loose(g, g.Expr(g.ComparableKind(a), s, depth - 1), kPrecCompare, false);
    NodePtr hi = Loose(g, g.Expr(g.ComparableKind(a), s, depth - 1), kPrecCompare, false);
    return MakeNode(Kind::kBool, {x, g.rng().Chance(0.7) ? " BETWEEN " : " NOT BETWEEN ", lo, " AND ", hi},
                    kPrecCompare);
}

NodePtr InList(Generator& g, Kind, const Scope& s, int depth) {
    Kind a = g.ValueKind();
    std::vector<Part> parts = {g.Expr(a, s, depth - 1), g.rng().Chance(0.7) ? " IN (" : " NOT IN ("};
    int n = static_cast<int>(g.rng().Uniform(1, 4));
    for (int i = 0; i < n; i++) {
        if (i > 0) parts.emplace_back(", ");
        Kind b = g.ComparableKind(a);
        if (g.On("null_literal") && g.rng().Chance(0.1)) {
            parts.emplace_back(MakeLeaf(b, "NULL"));
        } else {
            parts.emplace_back(g.rng().Chance(0.7) ? g.Literal(b) : g.Expr(b, s, depth - 1));
        }
    }
    parts.emplace_back(")");
    return MakeNode(Kind::kBool, std::move(parts), kPrecCompare);
}

// Both engines compare case-sensitively: the SQLite side runs PRAGMA case_sensitive_like.
NodePtr Like(Generator& g, Kind, const Scope& s, int depth) {
    std::vector<Part> parts = {g.Expr(Kind::kStr, s, depth - 1), g.rng().Chance(0.7) ? " LIKE " : " NOT LIKE "};
    if (g.On("like_escape") && g.rng().Chance(0.15)) {
        // '!' escapes the wildcard after it, so the pattern matches a literal % or _.
        std::string pattern = g.LikePattern();
        size_t at = static_cast<size_t>(g.rng().Uniform(0, static_cast<int64_t>(pattern.size())));
        pattern.insert(at, g.rng().Chance(0.5) ? "!%" : "!_");
        parts.insert(parts.end(), {"'" + pattern + "'", " ESCAPE '!'"});
    } else if (g.rng().Chance(0.85)) {
        parts.emplace_back("'" + g.LikePattern() + "'");
    } else {
        parts.emplace_back(g.Expr(Kind::kStr, s, depth - 1));
    }
    return MakeNode(Kind::kBool, std::move(parts), kPrecCompare);
}

// ---- subqueries -----------------------------------------------------------------------------

NodePtr InSubquery(Generator& g, Kind, const Scope& s, int depth) {
    if (s.nesting <= 0) return nullptr;
    Kind a = g.ValueKind();
    SelectSpec spec;
    spec.outer = &s;
    spec.types = {g.ComparableKind(a)};
    spec.depth = s.nesting - 1;
    NodePtr x = g.Expr(a, s, depth - 1);
    return MakeNode(Kind::kBool, {x, g.rng().Chance(0.6) ? " IN " : " NOT IN ", g.GenSelect(spec)}, kPrecCompare);
}

NodePtr Exists(Generator& g, Kind, const Scope& s, int depth) {
    if (s.nesting <= 0) return nullptr;
    SelectSpec spec;
    spec.outer = &s;
    spec.depth = s.nesting - 1;
    return MakeNode(Kind::kBool, {g.rng().Chance(0.7) ? "EXISTS " : "NOT EXISTS ", g.GenSelect(spec)}, kPrecNot);
}

// A subquery of exactly one row and column: an aggregate without GROUP BY, or ORDER BY .. LIMIT 1.
NodePtr ScalarSubquery(Generator& g, Kind k, const Scope& s, int depth) {
    if (s.nesting <= 0 || (!g.On("aggregate") && !g.On("subquery_limit"))) return nullptr;
    SelectSpec spec;
    spec.outer = &s;
    spec.types = {k};
    spec.depth = s.nesting - 1;
    spec.scalar = true;
    return MakeNode(k, {g.GenSelect(spec)});
}

// ---- aggregates -----------------------------------------------------------------------------

NodePtr Aggregate(Generator& g, Kind k, const Scope& s, int depth) {
    if (!s.agg_rows) return nullptr;
    // The argument reads the group's rows only: an aggregate over outer columns alone would belong
    // to the outer query, a corner neither engine needs to be tested on here.
    Scope rows = *s.agg_rows;
    rows.outer = nullptr;
    int arg_depth = depth > 2 ? 2 : depth > 0 ? depth - 1 : 0;
    bool distinct = g.On("aggregate_distinct") && g.rng().Chance(0.15);
    std::string d = distinct ? "DISTINCT " : "";
    switch (k) {
        case Kind::kInt: {
            int which = static_cast<int>(g.rng().Uniform(0, 4));
            if (which == 0) return MakeNode(k, {"COUNT(*)"});
            if (which == 1) {
                bool count_distinct = g.On("count_distinct") && g.rng().Chance(0.4);
                return MakeNode(
                    k, {count_distinct ? "COUNT(DISTINCT " : "COUNT(", g.Expr(g.ValueKind(), rows, arg_depth), ")"});
            }
            if (which == 2) return MakeNode(k, {"SUM(" + d, g.Expr(Kind::kInt, rows, arg_depth), ")"});
            return MakeNode(k, {which == 3 ? "MIN(" : "MAX(", g.Expr(Kind::kInt, rows, arg_depth), ")"});
        }
        case Kind::kFloat: {
            int which = static_cast<int>(g.rng().Uniform(0, 3));
            if (which == 0) return MakeNode(k, {"SUM(" + d, g.Expr(Kind::kFloat, rows, arg_depth), ")"});
            if (which == 1) {
                // AVG is FLOAT in both engines, whatever numeric kind it averages.
                Kind arg = g.rng().Chance(0.6) ? Kind::kInt : Kind::kFloat;
                return MakeNode(k, {"AVG(" + d, g.Expr(arg, rows, arg_depth), ")"});
            }
            return MakeNode(k, {which == 2 ? "MIN(" : "MAX(", g.Expr(Kind::kFloat, rows, arg_depth), ")"});
        }
        case Kind::kStr:
            return MakeNode(k, {g.rng().Chance(0.5) ? "MIN(" : "MAX(", g.Expr(Kind::kStr, rows, arg_depth), ")"});
        case Kind::kBool:
            break;
    }
    return nullptr;
}

}  // namespace

const std::vector<ExprRule>& ExprRules() {
    static const std::vector<ExprRule> kRules = {
        {"arith", "+ - * over integers and floats", kNumeric, 6, Arith},
        {"div", "/ by a non-zero literal", kNumeric, 2, Divide},
        {"mod", "% of integers by a non-zero literal", Bit(Kind::kInt), 1, Modulo},
        {"neg", "unary minus", kNumeric, 1, Negate},
        {"abs", "ABS", kNumeric, 1, Abs},
        {"concat", "|| of strings and integers", Bit(Kind::kStr), 3, Concat},
        {"upper_lower", "UPPER, LOWER", Bit(Kind::kStr), 2, UpperLower},
        {"length", "CHAR_LENGTH (SQLite: length)", Bit(Kind::kInt), 1, Length},
        {"substr", "SUBSTR with non-negative start and length", Bit(Kind::kStr), 2, Substr},
        {"case_searched", "CASE WHEN ... END", kValues, 2, CaseSearched},
        {"case_simple", "CASE x WHEN ... END", kValues, 1, CaseSimple},
        {"coalesce", "COALESCE", kValues, 2, Coalesce},
        {"nullif", "NULLIF", kValues, 1, NullIf},
        {"compare", "= <> < <= > >=", Bit(Kind::kBool), 8, Compare},
        {"and_or", "AND, OR", Bit(Kind::kBool), 4, AndOr},
        {"not", "NOT", Bit(Kind::kBool), 1, Not},
        {"is_null", "IS [NOT] NULL", Bit(Kind::kBool), 2, IsNull},
        {"distinct_from", "IS [NOT] DISTINCT FROM (SQLite: IS [NOT])", Bit(Kind::kBool), 1, DistinctFrom},
        {"between", "[NOT] BETWEEN", Bit(Kind::kBool), 2, Between},
        {"in_list", "[NOT] IN (list)", Bit(Kind::kBool), 2, InList},
        {"like", "[NOT] LIKE", Bit(Kind::kBool), 2, Like},
        {"in_subquery", "[NOT] IN (subquery), correlated or not", Bit(Kind::kBool), 2, InSubquery},
        {"exists", "[NOT] EXISTS (subquery)", Bit(Kind::kBool), 1, Exists},
        {"scalar_subquery", "(subquery) as a value", kValues, 1, ScalarSubquery},
        {"aggregate", "COUNT, SUM, MIN, MAX, AVG in grouped queries", kValues, 4, Aggregate},
    };
    return kRules;
}

NodePtr MakeAggregate(Generator& g, Kind k, const Scope& s, int depth) { return Aggregate(g, k, s, depth); }

// ---- leaves ---------------------------------------------------------------------------------

Kind Generator::ValueKind() {
    int64_t r = rng_.Uniform(0, 9);
    return r < 5 ? Kind::kInt : r < 7 ? Kind::kFloat : Kind::kStr;
}

Kind Generator::ComparableKind(Kind k) {
    if (k == Kind::kInt || k == Kind::kFloat)
        return rng_.Chance(0.8) ? k : (k == Kind::kInt ? Kind::kFloat : Kind::kInt);
    return k;
}

NodePtr Generator::Literal(Kind k) {
    switch (k) {
        case Kind::kInt: {
            int64_t r = rng_.Uniform(0, 9);
            int64_t v = r < 7   ? rng_.Uniform(-3, 10)
                        : r < 9 ? rng_.Uniform(-100, 100)
                                : rng_.Pick<int64_t>({0, 1000, -1000});
            return MakeLeaf(k, IntText(v));
        }
        case Kind::kFloat: {
            static const std::vector<std::string> kFloats = {"0.5",  "1.5",   "-2.25",  "3.0", "0.0",
                                                             "-0.5", "2.5e0", "10.125", "-4e0"};
            return MakeLeaf(k, rng_.Pick(kFloats));
        }
        case Kind::kStr:
            return MakeLeaf(k, "'" + StringValue(6) + "'");
        case Kind::kBool: {
            // No TRUE/FALSE keywords: a comparison of literals is a boolean in both engines.
            static const std::vector<std::string> kBools = {"1 = 1", "1 = 0", "1 > 2"};
            return MakeNode(k, {rng_.Pick(kBools)});
        }
    }
    return MakeLeaf(k, "NULL");
}

NodePtr Generator::PickColumn(Kind k, const Scope& s) {
    std::vector<const ScopeColumn*> mine, outer;
    for (const ScopeColumn& c : s.columns) {
        if (c.kind == k) mine.push_back(&c);
    }
    if (On("correlation")) {
        for (const Scope* o = s.outer; o; o = o->outer) {
            if (!o->correlatable) continue;
            for (const ScopeColumn& c : o->columns) {
                if (c.kind == k) outer.push_back(&c);
            }
        }
    }
    if (!outer.empty() && (mine.empty() || rng_.Chance(0.15))) return MakeColumn(k, rng_.Pick(outer)->ref);
    if (mine.empty()) return nullptr;
    return MakeColumn(k, rng_.Pick(mine)->ref);
}

NodePtr Generator::Leaf(Kind k, const Scope& s) {
    if (k == Kind::kBool) {
        Kind a = ValueKind();
        static const std::vector<std::string> kOps = {" = ", " <> ", " < ", " >= "};
        NodePtr x = Leaf(a, s);
        const std::string& op = rng_.Pick(kOps);
        return MakeNode(k, {x, op, Leaf(ComparableKind(a), s)}, kPrecCompare);
    }
    if (s.agg_rows && On("aggregate") && rng_.Chance(0.5)) {
        if (NodePtr agg = Aggregate(*this, k, s, 1)) return agg;
    }
    if (On("null_literal") && rng_.Chance(0.04)) return MakeLeaf(k, "NULL");
    if (rng_.Chance(0.7)) {
        if (NodePtr c = PickColumn(k, s)) return c;
    }
    return Literal(k);
}

NodePtr Generator::Expr(Kind k, const Scope& s, int depth) {
    if (depth <= 0 || (k != Kind::kBool && rng_.Chance(0.35))) return Leaf(k, s);
    std::vector<const ExprRule*> fit;
    int total = 0;
    for (const ExprRule& r : ExprRules()) {
        if ((r.kinds & Bit(k)) == 0 || !On(r.feature)) continue;
        fit.push_back(&r);
        total += r.weight;
    }
    for (int attempt = 0; attempt < 4 && total > 0; attempt++) {
        int64_t pick = rng_.Uniform(0, total - 1);
        for (const ExprRule* r : fit) {
            pick -= r->weight;
            if (pick >= 0) continue;
            if (NodePtr n = r->make(*this, k, s, depth)) return n;
            break;
        }
    }
    return Leaf(k, s);
}

}  // namespace surge::difftest
