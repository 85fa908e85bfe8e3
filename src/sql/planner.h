// The planner: binds an AST against a catalog version (names to slots, types checked, aggregates
// and subqueries resolved) and chooses access paths: index equality and range lookups on key
// prefixes, index nested-loop joins, ORDER BY served by an index's order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "sql/ast.h"
#include "sql/plan.h"

namespace surge::sql {

/// A planned DML or query statement.
struct PlannedStatement {
    StmtKind kind;
    PlanPtr plan;
    int param_count = 0;
    std::vector<SqlType> param_types;   ///< kNull where the planner could not infer a type
    std::vector<OutputColumn> columns;  ///< result columns (queries)
    bool read_only = true;
};

class Planner {
  public:
    explicit Planner(const catalog::Catalog& catalog) : catalog_(catalog) {}

    /// Plans for multi-partition execution, where a scan visits each partition's part of a table
    /// in turn: no index order is relied on for ORDER BY (it holds within a part only).
    void set_multi_partition(bool on) { multi_partition_ = on; }
    bool multi_partition() const { return multi_partition_; }

    /// SELECT, INSERT, UPSERT, UPDATE, DELETE, TRUNCATE. Throws SqlError.
    PlannedStatement Plan(const Statement& stmt);

    /// Binds an expression over one table's columns (index keys, view predicates, defaults).
    /// Column refs get depth 0 and slot = column number. Parameters and subqueries are rejected.
    BoundExprPtr BindTableExpression(const Expr& expr, const catalog::TableDef& table, const char* what);

    /// Plans a query view's query (as a statement reading it would) and returns its columns.
    /// Throws SqlError naming the view when the query does not plan against this catalog.
    std::vector<OutputColumn> QueryViewColumns(const catalog::QueryViewDef& view);

    struct Impl;  // binding state (planner_internal.h)

  private:
    const catalog::Catalog& catalog_;
    bool multi_partition_ = false;
};

/// Structural equality of bound expressions (same shape, slots, constants).
bool SameExpr(const BoundExpr& a, const BoundExpr& b);

}  // namespace surge::sql
