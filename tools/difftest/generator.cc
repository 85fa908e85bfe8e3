// The statement half of the generator: schemas and data, UPDATE/DELETE, and query shapes (FROM
// lists and joins, grouping, set operations, common tables, ORDER BY/LIMIT). Expressions come
// from expr_rules.cc.
#include "difftest/generator.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "difftest/known_bugs.h"

namespace surge::difftest {
namespace {

// Query-shape features; the expression rules add theirs (AllFeatures).
const std::vector<Feature>& ShapeFeatures() {
    static const std::vector<Feature> kFeatures = {
        {"join_inner", "[INNER] JOIN ... ON"},
        {"join_left", "LEFT JOIN ... ON"},
        {"join_right", "RIGHT JOIN ... ON (only when SQLite >= 3.39)"},
        {"join_full", "FULL JOIN ... ON (only when SQLite >= 3.39)"},
        {"join_cross", "CROSS JOIN"},
        {"join_comma", "FROM a, b"},
        {"derived_table", "(subquery) AS alias in FROM"},
        {"cte", "WITH name AS (query) (not recursive)"},
        {"group_by", "GROUP BY with group keys and aggregates in the select list"},
        {"having", "HAVING"},
        {"distinct", "SELECT DISTINCT"},
        {"union", "UNION"},
        {"union_all", "UNION ALL"},
        {"intersect", "INTERSECT"},
        {"except", "EXCEPT"},
        {"order_limit", "ORDER BY [NULLS FIRST|LAST] with LIMIT/OFFSET on the statement"},
        {"subquery_limit", "ORDER BY ... LIMIT in subqueries and derived tables"},
        {"correlation", "subqueries reading columns of the enclosing query"},
        {"grouped_correlation", "subqueries in a grouped select list or HAVING reading the group keys"},
        {"dml_correlation", "subqueries in UPDATE/DELETE reading the row being changed"},
        {"null_literal", "bare NULL literals as operands"},
        {"precedence", "leave out parentheses where both engines' precedence agrees"},
        {"like_escape", "LIKE ... ESCAPE"},
        {"count_distinct", "COUNT(DISTINCT x)"},
        {"aggregate_distinct", "SUM/AVG(DISTINCT x)"},
        {"bool_output", "predicates as output columns"},
        {"dml", "UPDATE and DELETE after loading the data, their row counts compared"},
        {"index", "secondary indexes (CREATE INDEX)"},
        {"primary_key", "integer primary keys"},
    };
    return kFeatures;
}

// Text values: short, ASCII (UPPER/LOWER agree only there), with the LIKE wildcards, a quote,
// surrounding spaces and both letter cases (SurgeDB compares bytes, as SQLite's BINARY collation).
const std::vector<std::string>& StringPool() {
    static const std::vector<std::string> kStrings = {"",    "a",   "b",   "A",  "ab",  "ba",    "abc", "aBc",
                                                      "a%",  "x_y", " a",  "a ", "zz",  "hello", "o'k", "B",
                                                      "bab", "10",  "Abc", "lo", "ola", "%"};
    return kStrings;
}

std::string Quote(const std::string& raw) {
    std::string out = "'";
    for (char c : raw) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

}  // namespace

std::vector<Feature> AllFeatures() {
    std::vector<Feature> out;
    for (const ExprRule& r : ExprRules()) {
        bool known = std::any_of(out.begin(), out.end(), [&](const Feature& f) { return f.name == r.feature; });
        if (!known) out.push_back(Feature{r.feature, r.summary});
    }
    const std::vector<Feature>& shapes = ShapeFeatures();
    out.insert(out.end(), shapes.begin(), shapes.end());
    return out;
}

Generator::Generator(uint64_t seed, const FeatureSet& features, bool sqlite_outer_joins)
    : rng_(seed), features_(features), outer_joins_(sqlite_outer_joins) {}

std::string Generator::StringValue(int max_length) {
    for (;;) {
        const std::string& s = rng_.Pick(StringPool());
        if (static_cast<int>(s.size()) > max_length) continue;
        std::string quoted = Quote(s);
        return quoted.substr(1, quoted.size() - 2);
    }
}

std::string Generator::LikePattern() {
    static const std::vector<std::string> kPieces = {"a", "b", "A", "%", "_", "ab", "o", "l", "%", "z", " "};
    std::string p;
    int n = static_cast<int>(rng_.Uniform(1, 3));
    for (int i = 0; i < n; i++) p += rng_.Pick(kPieces);
    return p;
}

// ---- schema and data ------------------------------------------------------------------------

Database Generator::GenDatabase() {
    Database db;
    int ntables = static_cast<int>(rng_.Uniform(2, 4));
    for (int t = 0; t < ntables; t++) {
        Table table;
        table.name = "t" + std::to_string(t);
        int ncols = static_cast<int>(rng_.Uniform(2, 5));
        for (int c = 0; c < ncols; c++) {
            Column col;
            col.name = std::string(1, static_cast<char>('a' + c));
            int64_t r = rng_.Uniform(0, 19);
            if (r < 7) {
                col.kind = Kind::kInt;
                col.type = "INTEGER";
            } else if (r < 11) {
                col.kind = Kind::kInt;
                col.type = "BIGINT";
            } else if (r < 14) {
                col.kind = Kind::kFloat;
                col.type = "FLOAT";
            } else {
                col.kind = Kind::kStr;
                col.max_length = static_cast<int>(rng_.Uniform(3, 12));
                col.type = "VARCHAR(" + std::to_string(col.max_length) + ")";
            }
            table.columns.push_back(col);
        }
        if (On("primary_key") && rng_.Chance(0.3)) {
            for (int c = 0; c < ncols; c++) {
                if (table.columns[c].kind == Kind::kInt) {
                    table.primary_key = c;
                    break;
                }
            }
        }

        // Each column draws from a small pool so that rows share values (joins match, groups
        // form, DISTINCT has something to remove); NULLs are common.
        std::vector<std::vector<std::string>> pools(ncols);
        for (int c = 0; c < ncols; c++) {
            const Column& col = table.columns[c];
            int size = static_cast<int>(rng_.Uniform(2, 7));
            for (int i = 0; i < size; i++) {
                if (col.kind == Kind::kInt) {
                    int64_t v = rng_.Chance(0.85) ? rng_.Uniform(-5, 12) : rng_.Uniform(-1000, 1000);
                    if (col.type == "BIGINT" && rng_.Chance(0.1)) v = rng_.Uniform(-5000000000, 5000000000);
                    pools[c].push_back(std::to_string(v));
                } else if (col.kind == Kind::kFloat) {
                    static const std::vector<std::string> kFloats = {"0.5",    "-1.25", "2.0", "3",     "0.0",  "-7.5",
                                                                     "100.25", "1.5",   "-2",  "0.125", "12.75"};
                    pools[c].push_back(rng_.Pick(kFloats));
                } else {
                    pools[c].push_back("'" + StringValue(col.max_length) + "'");
                }
            }
        }
        int nrows = rng_.Chance(0.1) ? static_cast<int>(rng_.Uniform(0, 1)) : static_cast<int>(rng_.Uniform(2, 14));
        for (int r = 0; r < nrows; r++) {
            if (r > 0 && rng_.Chance(0.15)) {
                table.rows.push_back(table.rows[static_cast<size_t>(rng_.Uniform(0, r - 1))]);
            } else {
                std::vector<std::string> row;
                for (int c = 0; c < ncols; c++) row.push_back(rng_.Chance(0.15) ? "NULL" : rng_.Pick(pools[c]));
                table.rows.push_back(std::move(row));
            }
            // Primary keys: distinct, not NULL, in a random order.
            if (table.primary_key >= 0) table.rows.back()[table.primary_key] = std::to_string(r * 3 - 7);
        }
        if (table.primary_key >= 0) {
            for (int r = nrows - 1; r > 0; r--) {
                std::swap(table.rows[r][table.primary_key], table.rows[rng_.Uniform(0, r)][table.primary_key]);
            }
        }
        if (On("index")) {
            int nindexes = static_cast<int>(rng_.Uniform(0, 2));
            for (int i = 0; i < nindexes; i++) {
                std::vector<int> key = {static_cast<int>(rng_.Uniform(0, ncols - 1))};
                int second = static_cast<int>(rng_.Uniform(0, ncols - 1));
                if (second != key[0] && rng_.Chance(0.4)) key.push_back(second);
                table.indexes.push_back(key);
            }
        }
        db.tables.push_back(std::move(table));
    }
    return db;
}

Dml Generator::GenDml(const Database& db) {
    for (;;) {
        Dml dml = GenDmlOnce(db);
        if (!HitsKnownSqliteBug(dml)) return dml;
    }
}

Dml Generator::GenDmlOnce(const Database& db) {
    db_ = &db;
    ctes_.clear();
    const Table& t = rng_.Pick(db.tables);
    Scope s;
    for (const Column& c : t.columns) s.columns.push_back(ScopeColumn{t.name + "." + c.name, c.kind});
    s.correlatable = On("dml_correlation");
    s.nesting = 1;
    Dml dml;
    dml.table = t.name;
    if (!rng_.Chance(0.35)) {
        std::vector<int> targets;
        for (int c = 0; c < static_cast<int>(t.columns.size()); c++) {
            if (c != t.primary_key) targets.push_back(c);  // keys stay unique without extra care
        }
        int nset = std::min<int>(static_cast<int>(targets.size()), static_cast<int>(rng_.Uniform(1, 2)));
        for (int i = 0; i < nset; i++) {
            int c = targets[static_cast<size_t>(rng_.Uniform(0, static_cast<int64_t>(targets.size()) - 1))];
            targets.erase(std::find(targets.begin(), targets.end(), c));
            // An integer value fits a FLOAT column in both engines; a float is not stored alike in
            // an INTEGER column (SurgeDB rejects a fraction, SQLite keeps a REAL), so never that.
            const Column& col = t.columns[c];
            Kind k = col.kind == Kind::kFloat && rng_.Chance(0.3) ? Kind::kInt : col.kind;
            dml.sets.emplace_back(col.name, Expr(k, s, 1));
        }
    }
    if (rng_.Chance(0.8)) dml.where = Expr(Kind::kBool, s, 2);
    return dml;
}

// ---- queries --------------------------------------------------------------------------------

SelectPtr Generator::GenQuery(const Database& db) {
    db_ = &db;
    for (;;) {
        ctes_.clear();
        alias_counter_ = 0;
        SelectSpec spec;
        spec.top = true;
        spec.depth = 2;
        SelectPtr q = GenSelect(spec);
        if (!HitsKnownSqliteBug(*q)) return q;
    }
}

SelectPtr Generator::GenSelect(const SelectSpec& spec) {
    auto sel = std::make_shared<Select>();
    if (spec.top && On("cte") && rng_.Chance(0.2)) {
        int n = static_cast<int>(rng_.Uniform(1, 2));
        for (int i = 0; i < n; i++) {
            SelectSpec cs;
            cs.depth = std::max(0, spec.depth - 1);
            SelectPtr q = GenSelect(cs);
            std::string name = "w" + std::to_string(ctes_.size() + 1);
            ctes_.push_back(CommonTable{name, q->types});
            sel->ctes.emplace_back(name, std::move(q));
        }
    }
    sel->types = spec.types;
    if (sel->types.empty()) {
        int n = static_cast<int>(rng_.Uniform(1, 3));
        for (int i = 0; i < n; i++) {
            sel->types.push_back(spec.top && On("bool_output") && rng_.Chance(0.08) ? Kind::kBool : ValueKind());
        }
    }
    if (spec.scalar) {
        // One row: an aggregate without GROUP BY, or the first row of a totally ordered query.
        bool limited = !On("aggregate") || (On("subquery_limit") && rng_.Chance(0.25));
        sel->cores.push_back(GenCore(sel->types, spec, !limited));
        if (limited) {
            sel->order.push_back(OrderKey{1, rng_.Chance(0.5), static_cast<int>(rng_.Uniform(0, 2))});
            sel->limit = 1;
        }
        return sel;
    }
    std::vector<std::pair<const char*, SetOp>> ops;
    for (auto [name, op] : {std::pair{"union", SetOp::kUnion}, std::pair{"union_all", SetOp::kUnionAll},
                            std::pair{"intersect", SetOp::kIntersect}, std::pair{"except", SetOp::kExcept}}) {
        if (On(name)) ops.emplace_back(name, op);
    }
    int ncores = !ops.empty() && rng_.Chance(spec.top ? 0.15 : 0.07) ? static_cast<int>(rng_.Uniform(2, 3)) : 1;
    for (int i = 0; i < ncores; i++) {
        if (i > 0) sel->ops.push_back(rng_.Pick(ops).second);
        sel->cores.push_back(GenCore(sel->types, spec, false));
    }
    GenOrderLimit(sel.get(), spec.top);
    return sel;
}

void Generator::GenOrderLimit(Select* s, bool top) {
    // Inside a subquery an ORDER BY only matters with a LIMIT, and a LIMIT only gives both engines
    // the same rows when the ORDER BY is total.
    bool want = top ? On("order_limit") && rng_.Chance(0.35) : On("subquery_limit") && rng_.Chance(0.1);
    if (!want) return;
    std::vector<int> positions(s->types.size());
    std::iota(positions.begin(), positions.end(), 1);
    for (size_t i = positions.size(); i > 1; i--) std::swap(positions[i - 1], positions[rng_.Uniform(0, i - 1)]);
    bool total = !top || rng_.Chance(0.75);
    if (!total) positions.resize(static_cast<size_t>(rng_.Uniform(1, static_cast<int64_t>(positions.size()))));
    for (int p : positions) {
        s->order.push_back(OrderKey{p, rng_.Chance(0.35), rng_.Chance(0.3) ? static_cast<int>(rng_.Uniform(1, 2)) : 0});
    }
    if (s->TotallyOrdered() && (!top || rng_.Chance(0.6))) {
        s->limit = rng_.Uniform(0, 5);
        if (rng_.Chance(0.3)) s->offset = rng_.Uniform(0, 3);
    }
}

std::vector<FromItem> Generator::GenFrom(const SelectSpec& spec, Scope* rows) {
    std::vector<FromItem> from;
    // Subqueries join less: they run once per outer row.
    int64_t r = rng_.Uniform(0, 99);
    int n = spec.top ? (r < 45 ? 1 : r < 82 ? 2 : 3) : (r < 70 ? 1 : r < 95 ? 2 : 3);
    std::vector<JoinType> joins;
    if (On("join_comma")) joins.push_back(JoinType::kComma);
    if (On("join_cross")) joins.push_back(JoinType::kCross);
    if (On("join_inner")) joins.insert(joins.end(), {JoinType::kInner, JoinType::kInner});
    if (On("join_left")) joins.insert(joins.end(), {JoinType::kLeft, JoinType::kLeft});
    if (outer_joins_ && On("join_right")) joins.push_back(JoinType::kRight);
    if (outer_joins_ && On("join_full")) joins.push_back(JoinType::kFull);
    if (joins.empty()) n = 1;
    // Columns from here on are the ones an ON condition may read. After a comma the next join's ON
    // sees only the tables since the comma: the standard reads "a, b JOIN c" as "a, (b JOIN c)",
    // SQLite as "(a, b) JOIN c". For the same reason no RIGHT or FULL join follows a comma:
    // "(a, b) RIGHT JOIN c" keeps c's unmatched rows once, "a, (b RIGHT JOIN c)" once for every row
    // of a. (SurgeDB's grammar nests like the standard but it answers like SQLite today; until
    // that is settled the generator stays off the shape.)
    size_t group_start = 0;
    bool after_comma = false;
    for (int i = 0; i < n; i++) {
        FromItem f;
        f.alias = NewAlias();
        std::vector<ScopeColumn> cols;
        if (spec.depth > 0 && On("derived_table") && rng_.Chance(0.15)) {
            SelectSpec ds;
            ds.depth = spec.depth - 1;
            f.derived = GenSelect(ds);
            for (size_t c = 0; c < f.derived->types.size(); c++) {
                cols.push_back(ScopeColumn{f.alias + ".c" + std::to_string(c), f.derived->types[c]});
            }
        } else if (!ctes_.empty() && rng_.Chance(0.35)) {
            const CommonTable& cte = rng_.Pick(ctes_);
            f.table = cte.name;
            for (size_t c = 0; c < cte.types.size(); c++) {
                cols.push_back(ScopeColumn{f.alias + ".c" + std::to_string(c), cte.types[c]});
            }
        } else {
            const Table& t = rng_.Pick(db_->tables);
            f.table = t.name;
            for (const Column& c : t.columns) cols.push_back(ScopeColumn{f.alias + "." + c.name, c.kind});
        }
        if (i > 0) {
            JoinType j;
            do {
                j = rng_.Pick(joins);
            } while (after_comma && (j == JoinType::kRight || j == JoinType::kFull));
            f.join = j;
            if (j == JoinType::kComma) {
                after_comma = true;
                group_start = rows->columns.size();
            } else if (j != JoinType::kCross) {
                Scope on;
                on.columns.assign(rows->columns.begin() + static_cast<std::ptrdiff_t>(group_start),
                                  rows->columns.end());
                on.columns.insert(on.columns.end(), cols.begin(), cols.end());
                on.outer = spec.outer;
                on.nesting = rng_.Chance(0.1) ? spec.depth : 0;
                // Mostly an equi-join of a new column with an earlier one, sometimes with more.
                const ScopeColumn right = rng_.Pick(cols);
                std::vector<ScopeColumn> left;
                for (size_t c = group_start; c < rows->columns.size(); c++) {
                    const ScopeColumn& lc = rows->columns[c];
                    bool numeric = lc.kind != Kind::kStr && right.kind != Kind::kStr;
                    if (lc.kind == right.kind || numeric) left.push_back(lc);
                }
                if (!left.empty() && rng_.Chance(0.75)) {
                    const ScopeColumn& lc = rng_.Pick(left);
                    f.on =
                        MakeNode(Kind::kBool, {MakeColumn(lc.kind, lc.ref), " = ", MakeColumn(right.kind, right.ref)});
                    if (rng_.Chance(0.3)) {
                        NodePtr extra = Expr(Kind::kBool, on, 1);
                        f.on = MakeNode(Kind::kBool, {f.on, rng_.Chance(0.7) ? " AND " : " OR ", extra});
                    }
                } else {
                    f.on = Expr(Kind::kBool, on, 2);
                }
            }
        }
        rows->columns.insert(rows->columns.end(), cols.begin(), cols.end());
        from.push_back(std::move(f));
    }
    return from;
}

Core Generator::GenCore(const std::vector<Kind>& types, const SelectSpec& spec, bool aggregate_only) {
    Core c;
    Scope rows;
    rows.outer = spec.outer;
    rows.nesting = spec.depth;
    c.from = GenFrom(spec, &rows);
    // Expressions get simpler the deeper the block is nested.
    const int item_depth = std::max(1, spec.depth);
    if (rng_.Chance(0.6)) c.where = Expr(Kind::kBool, rows, spec.depth + 1);

    bool grouped = !aggregate_only && On("group_by") && rng_.Chance(0.3);
    if (!aggregate_only && !grouped && On("aggregate") && rng_.Chance(0.08)) aggregate_only = true;
    if (grouped || aggregate_only) {
        Scope groups;
        groups.outer = spec.outer;
        groups.agg_rows = &rows;
        groups.nesting = rows.nesting;
        groups.correlatable = On("grouped_correlation");
        if (grouped) {
            int nkeys = static_cast<int>(rng_.Uniform(1, 2));
            for (int i = 0; i < nkeys; i++) {
                const ScopeColumn& key = rng_.Pick(rows.columns);
                bool dup = std::any_of(groups.columns.begin(), groups.columns.end(),
                                       [&](const ScopeColumn& g) { return g.ref == key.ref; });
                if (dup) continue;
                groups.columns.push_back(key);
                c.group_by.push_back(MakeColumn(key.kind, key.ref));
            }
        }
        for (Kind k : types) {
            NodePtr item;
            if (grouped && rng_.Chance(0.5)) item = PickColumn(k, groups);
            // The first item of an aggregate-only block is an aggregate, so it returns one row.
            if (!item && aggregate_only && c.items.empty()) item = MakeAggregate(*this, k, groups, item_depth);
            if (!item) item = Expr(k, groups, item_depth);
            c.items.push_back(item);
        }
        if (grouped && On("having") && rng_.Chance(0.4)) c.having = Expr(Kind::kBool, groups, item_depth);
    } else {
        for (Kind k : types) c.items.push_back(Expr(k, rows, item_depth));
    }
    // A scalar subquery stays one row: no DISTINCT question there, but no harm either.
    c.distinct = On("distinct") && rng_.Chance(0.12);
    return c;
}

}  // namespace surge::difftest
