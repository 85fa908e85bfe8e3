// Private to the planner: scopes and the binding state shared by bind.cc (expressions) and
// planner.cc (query blocks, access paths, DML).
#pragma once

#include <string>
#include <vector>

#include "sql/parser.h"
#include "sql/planner.h"

namespace surge::sql {

/// Slot of a window function's result until the window node's input width is known (distinct
/// per function, so SameExpr tells two window references apart).
constexpr int kPendingWindowSlot = 1 << 24;

/// How deeply query views may read other query views.
constexpr int kMaxViewDepth = 32;

/// One FROM item visible in a query block.
struct ScopeTable {
    std::string name;                              ///< alias, or the table name
    std::shared_ptr<const catalog::TableDef> def;  ///< null for derived tables
    std::vector<OutputColumn> columns;
    int offset = 0;                    ///< first slot in the block's row
    bool nullable_side = false;        ///< may be null-extended by an outer join
    int nulled_at = -1;                ///< the last join step that may null-extend it (-1: none)
    JoinType join = JoinType::kInner;  ///< how it joins the tables before it
};

/// Name resolution context of one query block; parent is the enclosing block.
struct Scope {
    Scope* parent = nullptr;
    std::vector<ScopeTable> tables;  ///< in join order (FROM order unless ReorderJoins changed it)
    std::vector<size_t> from_order;  ///< tables[from_order[k]] is the k-th FROM item (empty: in order)
    int width = 0;
    bool correlated = false;  ///< something inside referenced a block outside this one

    // Post-aggregation binding (select list, HAVING, ORDER BY of an aggregate query).
    bool aggregated = false;
    std::vector<std::string> group_text;  ///< SQL text of each GROUP BY expression
    std::vector<SqlType> group_types;
    std::vector<int> group_slot;  ///< row slot of a GROUP BY key that is a plain column, else -1
    std::vector<AggSpec>* aggs = nullptr;
    std::vector<std::string> agg_text;

    // Window functions (select list and ORDER BY only): bound ones, their text (to share equal
    // calls), and the column references to patch once the window node's input width is known.
    std::vector<WindowFunc>* windows = nullptr;
    std::vector<std::string> window_text;
    std::vector<std::pair<BoundExpr*, int>> window_refs;
};

enum class BindMode : uint8_t {
    kRow,            ///< plain row expression (WHERE, ON, GROUP BY, non-aggregate select list)
    kPostAggregate,  ///< over the aggregate's output: group keys and aggregate results only
};

struct Planner::Impl {
    Impl(Planner& p, const catalog::Catalog& c) : planner(p), catalog(c) {}

    Planner& planner;

    const catalog::Catalog& catalog;
    int param_count = 0;
    std::vector<SqlType> param_types;
    int depth_guard = 0;
    bool last_plan_correlated = false;     ///< set by PlanSelect: the block read an outer block
    int view_depth = 0;                    ///< query views being expanded (nesting guard)
    std::vector<ParseResult> view_asts;    ///< parsed view texts, kept while planning
    std::vector<const CommonTable*> ctes;  ///< common tables in scope, innermost last

    // bind.cc
    BoundExprPtr Bind(const Expr& e, Scope& scope, BindMode mode);
    BoundExprPtr BindColumn(const Expr& e, Scope& scope);
    BoundExprPtr BindFunction(const Expr& e, Scope& scope, BindMode mode);
    BoundExprPtr BindAggregate(const Expr& e, Scope& scope);
    BoundExprPtr BindWindow(const Expr& e, Scope& scope, BindMode mode);
    BoundExprPtr BindSubquery(const Expr& e, Scope& scope, BindMode mode);
    void NoteParamType(const BoundExpr& maybe_param, SqlType type);
    static bool IsAggregateName(const std::string& name);
    static bool ContainsAggregate(const Expr& e);

    // planner.cc
    PlanPtr PlanSelect(const SelectStmt& s, Scope* parent);
    PlanPtr PlanSelectBody(const SelectStmt& s, Scope* parent);  ///< PlanSelect once WITH is in scope
    int FindCommonTable(const std::string& name) const;          ///< index into ctes, -1 if none
    PlanPtr PlanCommonTable(size_t k);
    PlanPtr PlanBlock(const SelectStmt& s, Scope* parent, bool apply_order_limit);
    /// A query view's query, planned like a derived table (its own scope: no outer references).
    PlanPtr PlanQueryView(const catalog::QueryViewDef& view, SourcePos pos);
    /// The plan without the hidden ORDER BY columns a query block may carry past its select list.
    static PlanPtr WithoutHiddenColumns(PlanPtr plan);
    PlanPtr PlanFromLeaves(Scope& scope, std::vector<PlanPtr> derived, std::vector<BoundExprPtr> where,
                           std::vector<std::pair<int, std::vector<BoundExprPtr>>> on_conjuncts);
    /// join_order.cc: for a block of inner and cross joins whose WHERE/ON conjuncts (`where`)
    /// hold no subquery, picks the join order and permutes scope.tables, `derived` and the
    /// conjuncts' slots to it (scope.from_order keeps FROM order for SELECT *).
    void ReorderJoins(Scope& scope, std::vector<PlanPtr>& derived, std::vector<BoundExprPtr>& where);
    /// Moves the equalities between table i and the tables before it out of *join into a
    /// kHashJoin of *node (probe) and *scan (build), left in *node; false (and *join unchanged in
    /// meaning) if there are none.
    bool TakeHashKeys(const std::vector<ScopeTable>& tables, size_t i, std::vector<BoundExprPtr>* join, PlanPtr* node,
                      PlanPtr* scan);
    /// Drops a sort that an ordered index can provide; true if it did.
    bool TryIndexOrder(PlanNode& top, const std::vector<SortKey>& keys, bool disallow);
    PlanPtr PlanInsert(const InsertStatement& s);
    PlanPtr PlanUpdate(const UpdateStatement& s);
    PlanPtr PlanDelete(const DeleteStatement& s);
};

/// Picks an index access for `table` (at `offset` in the block row; `self` its bit among the
/// block's tables) from the conjuncts, whose other sides may read the tables in `earlier`; used
/// conjuncts are nulled out. Returns an IndexScan or SeqScan node.
PlanPtr ChooseAccess(Planner& planner, Planner::Impl& impl, const std::shared_ptr<const catalog::TableDef>& table,
                     int offset, uint64_t self, uint64_t earlier, const std::vector<ScopeTable>& tables,
                     std::vector<BoundExprPtr>& conj);
BoundExprPtr Clone(const BoundExpr& e);
/// Whether the expression holds a subquery anywhere.
bool HasSubquery(const BoundExpr& e);
/// Whether an index scan's lookup keys read the context row (the tables joined before it).
bool ReadsContextRow(const PlanNode& scan);
/// Splits a predicate on AND into conjuncts (BETWEEN becomes two comparisons).
void SplitConjuncts(BoundExprPtr e, std::vector<BoundExprPtr>* out);
/// Adds delta to every depth-0 column slot.
void RebaseSlots(BoundExpr& e, int delta, int depth = 0);
/// Bitmask of FROM tables (by offset ranges) a depth-0 expression reads; all bits if it holds a
/// correlated subquery.
uint64_t TableMask(const BoundExpr& e, const std::vector<ScopeTable>& tables);
/// Combines conjuncts with AND (null if empty).
BoundExprPtr AndAll(std::vector<BoundExprPtr> conjuncts);
BoundExprPtr MakeConstant(Value v);
BoundExprPtr MakeColumn(int slot, SqlType type, std::string text);

}  // namespace surge::sql
