// ViewMaintainer: keeps one materialized view current inside the transactions that write its
// source table (a storage::TableListener). Declared here; see view_maintainer.cc.
#pragma once

#include <memory>
#include <vector>

#include "catalog/catalog.h"
#include "sql/plan.h"
#include "storage/table.h"

namespace surge::exec {

class ViewMaintainer : public storage::TableListener {
  public:
    /// where: the view's predicate bound over source columns (null if none).
    ViewMaintainer(std::shared_ptr<const catalog::TableDef> view, storage::Table* source, storage::Table* view_table,
                   sql::BoundExprPtr where);
    ~ViewMaintainer() override;

    void OnInsert(storage::Table& table, const char* tuple, storage::UndoLog& undo) override;
    void OnDelete(storage::Table& table, const char* tuple, storage::UndoLog& undo) override;
    void OnUpdate(storage::Table& table, const char* before, const char* after, storage::UndoLog& undo) override;

    storage::Table* source() const { return source_; }
    /// A view without GROUP BY always has one row (its query returns one row even over no rows):
    /// inserts it, COUNT 0 and the rest NULL, when the view is empty.
    void EnsureRowWithoutGroups(storage::UndoLog& undo);

  private:
    bool Passes(const char* tuple);
    void Apply(const char* tuple, int sign, storage::UndoLog& undo);
    /// Recomputes aggregate a of the group whose key values are group_ (MIN/MAX after removing
    /// the extreme, SUM to tell 0 from NULL), through an index when one serves.
    Value Recompute(size_t a);
    /// Sets current_'s aggregates to their values over no rows (COUNTs 0, others NULL).
    void EmptyAggregates();

    std::shared_ptr<const catalog::TableDef> view_;
    storage::Table* source_;
    storage::Table* view_table_;
    sql::BoundExprPtr where_;
    std::vector<Value> row_;      // source row being applied
    std::vector<Value> group_;    // its group key
    std::vector<Value> current_;  // the view row being updated
    std::string key_;
};

}  // namespace surge::exec
