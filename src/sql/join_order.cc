// Join order for query blocks of inner and cross joins.
//
// Without statistics (plans are cached and tables change size under them), the order follows
// what each table's access would be, greedily: first the table reached most narrowly by its own
// conditions (a unique key lookup, then an index equality, an index range, any filter), then,
// step by step, the table best joined to those already placed (a unique index lookup per row, an
// index lookup, a hash join on an equality, another condition), avoiding cross products while a
// connected table remains. Ties keep FROM order, so a query whose FROM order is already good keeps
// its plan. Outer joins and blocks whose conditions hold subqueries keep FROM order.
#include <numeric>

#include "sql/planner_internal.h"

namespace surge::sql {
namespace {

void RemapSlots(BoundExpr& e, const std::vector<int>& slot_map) {
    if (e.kind == BoundKind::kColumn && e.depth == 0) e.index = slot_map[static_cast<size_t>(e.index)];
    for (auto& c : e.children) RemapSlots(*c, slot_map);
}

bool IsEquality(const BoundExpr& e) { return e.kind == BoundKind::kBinary && e.binary_op == BinaryOp::kEq; }

}  // namespace

void Planner::Impl::ReorderJoins(Scope& scope, std::vector<PlanPtr>& derived, std::vector<BoundExprPtr>& where) {
    auto& tables = scope.tables;
    const size_t n = tables.size();
    if (n < 2) return;
    for (const auto& t : tables) {
        if (t.join != JoinType::kInner && t.join != JoinType::kCross) return;
    }
    std::vector<uint64_t> masks;
    for (const auto& c : where) {
        if (!c) continue;
        if (HasSubquery(*c)) return;
        masks.push_back(TableMask(*c, tables));
    }

    // Rank of table j when the tables in `placed` come before it (lower is better).
    auto rank = [&](size_t j, uint64_t placed) {
        const uint64_t self = uint64_t{1} << j;
        bool local = false, connected = false, equality = false;
        std::vector<BoundExprPtr> usable;
        size_t k = 0;
        for (const auto& c : where) {
            if (!c) continue;
            const uint64_t m = masks[k++];
            if ((m & self) == 0 || (m & ~(placed | self)) != 0) continue;
            if (m == self) {
                local = true;
            } else {
                connected = true;
                equality |= IsEquality(*c);
            }
            usable.push_back(Clone(*c));
        }
        int access = 5;  // 0 unique lookup, 1 index equality, 2 index range, 5 scan
        if (tables[j].def) {
            PlanPtr scan = ChooseAccess(planner, *this, tables[j].def, tables[j].offset, self, placed, tables, usable);
            if (scan->kind == PlanKind::kIndexScan) {
                access = scan->access.eq_keys.empty() ? 2 : 1;
                for (const auto& idx : catalog.IndexesOf(*tables[j].def)) {
                    if (idx->name == scan->access.index && idx->unique() &&
                        idx->key.size() == scan->access.eq_keys.size()) {
                        access = 0;
                    }
                }
            }
        }
        if (placed == 0) return access < 5 ? access : local ? 3 : 4;
        // Not joined to the placed tables: a cross product, harmless only for one row at most.
        if (!connected) return access == 0 ? 0 : local ? 6 : 7;
        if (access <= 1) return access;
        return equality ? 2 : access == 2 ? 3 : 4;
    };

    std::vector<size_t> order;
    uint64_t placed = 0;
    while (order.size() < n) {
        size_t best = n;
        int best_rank = 0;
        for (size_t j = 0; j < n; ++j) {
            if (placed >> j & 1) continue;
            const int r = rank(j, placed);
            if (best == n || r < best_rank) {
                best = j;
                best_rank = r;
            }
        }
        order.push_back(best);
        placed |= uint64_t{1} << best;
    }
    std::vector<size_t> identity(n);
    std::iota(identity.begin(), identity.end(), 0);
    if (order == identity) return;

    // Lay the tables out in the new order and move every slot that reads them.
    std::vector<int> slot_map(static_cast<size_t>(scope.width));
    std::vector<ScopeTable> reordered;
    std::vector<PlanPtr> reordered_derived;
    scope.from_order.assign(n, 0);
    int offset = 0;
    for (size_t pos = 0; pos < n; ++pos) {
        ScopeTable t = std::move(tables[order[pos]]);
        for (size_t c = 0; c < t.columns.size(); ++c) slot_map[t.offset + c] = offset + static_cast<int>(c);
        t.offset = offset;
        t.join = pos == 0 ? JoinType::kInner : JoinType::kCross;
        offset += static_cast<int>(t.columns.size());
        scope.from_order[order[pos]] = pos;
        reordered.push_back(std::move(t));
        reordered_derived.push_back(std::move(derived[order[pos]]));
    }
    tables = std::move(reordered);
    derived = std::move(reordered_derived);
    for (auto& c : where) {
        if (c) RemapSlots(*c, slot_map);
    }
}

}  // namespace surge::sql
