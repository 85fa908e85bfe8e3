// Ad-hoc single-partition inference (see adhoc_route.h).
#include "server/adhoc_route.h"

#include <vector>

#include "common/status.h"
#include "types/value_ops.h"

namespace surge::server {
namespace {

using sql::Expr;
using sql::ExprKind;

// Whether an expression (or anything below it) reads through a subquery.
bool HasSubquery(const Expr* e) {
    if (!e) return false;
    std::vector<const Expr*> todo{e};
    while (!todo.empty()) {
        const Expr* x = todo.back();
        todo.pop_back();
        if (x->subquery || x->kind == ExprKind::kExists || x->kind == ExprKind::kSubquery ||
            x->kind == ExprKind::kInSubquery) {
            return true;
        }
        for (const Expr* a : x->args) todo.push_back(a);
    }
    return false;
}

// The value of a literal or parameter, else nothing.
std::optional<Value> Constant(const Expr* e, std::span<const Value> params) {
    if (e->kind == ExprKind::kLiteral) return e->literal;
    if (e->kind == ExprKind::kParam && e->param_index >= 0 && static_cast<size_t>(e->param_index) < params.size()) {
        return params[static_cast<size_t>(e->param_index)];
    }
    return std::nullopt;
}

// `column = constant` (either side) among the top-level AND terms of where.
std::optional<Value> PinnedBy(const Expr* where, const std::string& column, std::span<const Value> params) {
    std::vector<const Expr*> todo;
    if (where) todo.push_back(where);
    while (!todo.empty()) {
        const Expr* e = todo.back();
        todo.pop_back();
        if (e->kind != ExprKind::kBinary) continue;
        if (e->binary_op == sql::BinaryOp::kAnd) {
            todo.push_back(e->args[0]);
            todo.push_back(e->args[1]);
            continue;
        }
        if (e->binary_op != sql::BinaryOp::kEq) continue;
        for (int side = 0; side < 2; ++side) {
            const Expr* col = e->args[side];
            const Expr* val = e->args[1 - side];
            if (col->kind == ExprKind::kColumnRef && col->name == column) {
                if (auto v = Constant(val, params)) return v;
            }
        }
    }
    return std::nullopt;
}

// The partitioned (non-view) table `name`, or null.
std::shared_ptr<const catalog::TableDef> Partitioned(const catalog::Catalog& cat, const std::string& name) {
    auto t = cat.FindTable(name);
    if (!t || t->is_view() || !t->partition_column) return nullptr;
    return t;
}

std::optional<Value> Converted(const catalog::TableDef& t, const std::optional<Value>& v) {
    if (!v || v->is_null()) return std::nullopt;
    try {
        return CoerceForColumn(*v, t.columns[*t.partition_column].type, "");
    } catch (const SqlError&) {
        return std::nullopt;  // the multi-partition run reports the error
    }
}

// Every table a SELECT (with everything nested in it) reads is a replicated base table.
bool SelectReadsOnlyReplicated(const catalog::Catalog& cat, const sql::SelectStmt* s);

bool ExprReadsOnlyReplicated(const catalog::Catalog& cat, const Expr* e) {
    if (!e) return true;
    std::vector<const Expr*> todo{e};
    while (!todo.empty()) {
        const Expr* x = todo.back();
        todo.pop_back();
        if (x->subquery && !SelectReadsOnlyReplicated(cat, x->subquery)) return false;
        for (const Expr* a : x->args) todo.push_back(a);
    }
    return true;
}

bool RefReadsOnlyReplicated(const catalog::Catalog& cat, const sql::TableRef* r) {
    if (!r) return true;
    switch (r->kind) {
        case sql::TableRef::Kind::kTable: {
            auto t = cat.FindTable(r->name);
            return t && !t->is_view() && !t->partition_column;
        }
        case sql::TableRef::Kind::kJoin:
            return RefReadsOnlyReplicated(cat, r->left) && RefReadsOnlyReplicated(cat, r->right) &&
                   ExprReadsOnlyReplicated(cat, r->on);
        case sql::TableRef::Kind::kSubquery:
            return SelectReadsOnlyReplicated(cat, r->subquery);
    }
    return false;
}

bool SelectReadsOnlyReplicated(const catalog::Catalog& cat, const sql::SelectStmt* s) {
    if (s && !s->with.empty()) return false;  // a common table may hide a table's name
    for (; s; s = s->next) {
        if (s->from.empty()) return false;  // nothing to read: leave it to the usual path
        for (const sql::TableRef* r : s->from) {
            if (!RefReadsOnlyReplicated(cat, r)) return false;
        }
        for (const auto& item : s->items) {
            if (!ExprReadsOnlyReplicated(cat, item.expr)) return false;
        }
        for (const Expr* g : s->group_by) {
            if (!ExprReadsOnlyReplicated(cat, g)) return false;
        }
        for (const auto& o : s->order_by) {
            if (!ExprReadsOnlyReplicated(cat, o.expr)) return false;
        }
        if (!ExprReadsOnlyReplicated(cat, s->where) || !ExprReadsOnlyReplicated(cat, s->having) ||
            !ExprReadsOnlyReplicated(cat, s->limit) || !ExprReadsOnlyReplicated(cat, s->offset)) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool ReadsOnlyReplicated(const catalog::Catalog& cat, const sql::Statement& stmt) {
    if (stmt.kind != sql::StmtKind::kSelect) return false;
    return SelectReadsOnlyReplicated(cat, static_cast<const sql::SelectStatement&>(stmt).select);
}

std::optional<Value> SinglePartitionValue(const catalog::Catalog& cat, const sql::Statement& stmt,
                                          std::span<const Value> params) {
    switch (stmt.kind) {
        case sql::StmtKind::kSelect: {
            const sql::SelectStmt* s = static_cast<const sql::SelectStatement&>(stmt).select;
            if (!s || s->next || !s->with.empty() || s->from.size() != 1 ||
                s->from[0]->kind != sql::TableRef::Kind::kTable) {
                return std::nullopt;
            }
            auto t = Partitioned(cat, s->from[0]->name);
            if (!t) return std::nullopt;
            for (const auto& item : s->items) {
                if (HasSubquery(item.expr)) return std::nullopt;
            }
            for (const Expr* g : s->group_by) {
                if (HasSubquery(g)) return std::nullopt;
            }
            for (const auto& o : s->order_by) {
                if (HasSubquery(o.expr)) return std::nullopt;
            }
            if (HasSubquery(s->where) || HasSubquery(s->having)) return std::nullopt;
            return Converted(*t, PinnedBy(s->where, t->columns[*t->partition_column].name, params));
        }
        case sql::StmtKind::kInsert: {
            const auto& ins = static_cast<const sql::InsertStatement&>(stmt);
            auto t = Partitioned(cat, ins.table);
            if (!t || ins.select || ins.rows.size() != 1) return std::nullopt;
            const std::string& pc = t->columns[*t->partition_column].name;
            size_t pos = static_cast<size_t>(*t->partition_column);
            if (!ins.columns.empty()) {
                pos = ins.columns.size();
                for (size_t i = 0; i < ins.columns.size(); ++i) {
                    if (ins.columns[i] == pc) pos = i;
                }
            }
            const auto& row = ins.rows[0];
            if (pos >= row.size()) return std::nullopt;
            for (const Expr* e : row) {
                if (HasSubquery(e)) return std::nullopt;
            }
            return Converted(*t, Constant(row[pos], params));
        }
        case sql::StmtKind::kUpdate: {
            const auto& up = static_cast<const sql::UpdateStatement&>(stmt);
            auto t = Partitioned(cat, up.table);
            if (!t || HasSubquery(up.where)) return std::nullopt;
            for (const auto& [col, e] : up.assignments) {
                if (HasSubquery(e)) return std::nullopt;
            }
            return Converted(*t, PinnedBy(up.where, t->columns[*t->partition_column].name, params));
        }
        case sql::StmtKind::kDelete: {
            const auto& del = static_cast<const sql::DeleteStatement&>(stmt);
            auto t = Partitioned(cat, del.table);
            if (!t || HasSubquery(del.where)) return std::nullopt;
            return Converted(*t, PinnedBy(del.where, t->columns[*t->partition_column].name, params));
        }
        default:
            return std::nullopt;
    }
}

}  // namespace surge::server
