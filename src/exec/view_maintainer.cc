// Materialized view maintenance. Each write to the source adjusts one view row per affected
// group through ordinary Table writes, so the view's changes sit in the same undo log as the
// source's and roll back with them. COUNT(*) reaching zero deletes the group's row (a view without
// GROUP BY keeps its one row, with COUNT 0 and the other aggregates NULL); removing a
// group's MIN or MAX (or a SUM reaching zero, which may mean "all NULL") recomputes that
// aggregate from the source, through an index on the group columns when one exists.
#include "exec/view_maintainer.h"

#include <algorithm>

#include "common/status.h"
#include "exec/eval.h"
#include "storage/key_encoding.h"
#include "types/value_ops.h"

namespace surge::exec {

using catalog::ViewAggKind;

ViewMaintainer::ViewMaintainer(std::shared_ptr<const catalog::TableDef> view, storage::Table* source,
                               storage::Table* view_table, sql::BoundExprPtr where)
    : view_(std::move(view)), source_(source), view_table_(view_table), where_(std::move(where)) {
    row_.resize(source_->def().columns.size());
    current_.resize(view_->columns.size());
}

ViewMaintainer::~ViewMaintainer() = default;

void ViewMaintainer::OnInsert(storage::Table&, const char* tuple, storage::UndoLog& undo) { Apply(tuple, +1, undo); }
void ViewMaintainer::OnDelete(storage::Table&, const char* tuple, storage::UndoLog& undo) { Apply(tuple, -1, undo); }
void ViewMaintainer::OnUpdate(storage::Table&, const char* before, const char* after, storage::UndoLog& undo) {
    // Add the new row first: a recomputation during the removal then sees the final state.
    Apply(after, +1, undo);
    Apply(before, -1, undo);
}

bool ViewMaintainer::Passes(const char* tuple) {
    for (size_t c = 0; c < row_.size(); ++c) source_->Read(tuple, static_cast<int>(c), &row_[c]);
    if (!where_) return true;
    ExecContext ctx;
    return EvalPredicate(*where_, EvalRow{row_.data(), nullptr}, ctx);
}

void ViewMaintainer::Apply(const char* tuple, int sign, storage::UndoLog& undo) {
    if (!Passes(tuple)) return;
    const catalog::ViewDef& v = *view_->view;
    const size_t g = v.group_by.size();
    group_.resize(g);
    for (size_t i = 0; i < g; ++i) group_[i] = row_[v.group_by[i]];

    storage::TuplePtr existing = nullptr;
    if (g == 0) {
        storage::ScanCursor cursor;
        existing = view_table_->NextLive(&cursor);
    } else {
        key_.clear();
        for (size_t i = 0; i < g; ++i) storage::EncodeKeyPart(group_[i], view_->columns[i].type.id, &key_);
        storage::IndexCursor cursor;
        view_table_->index(0).ScanPrefix(key_, &cursor);
        existing = cursor.Next();
    }
    const auto& cols = view_->columns;
    if (sign > 0 && !existing) {
        for (size_t i = 0; i < g; ++i) current_[i] = group_[i];
        for (size_t a = 0; a < v.aggregates.size(); ++a) {
            const auto& agg = v.aggregates[a];
            const auto& col = cols[g + a];
            const Value x = agg.column >= 0 ? row_[agg.column] : Value();
            switch (agg.kind) {
                case ViewAggKind::kCountStar:
                    current_[g + a] = Value::BigInt(1);
                    break;
                case ViewAggKind::kCount:
                    current_[g + a] = Value::BigInt(x.is_null() ? 0 : 1);
                    break;
                default:
                    current_[g + a] = CoerceForColumn(x, col.type, col.name);
                    break;
            }
        }
        view_table_->Insert(current_.data(), undo);
        return;
    }
    if (!existing) {
        ThrowSqlError(ErrorCode::kInternal, "materialized view \"" + view_->name + "\" has no row for a deleted group");
    }
    for (size_t c = 0; c < cols.size(); ++c) view_table_->Read(existing, static_cast<int>(c), &current_[c]);
    for (size_t a = 0; a < v.aggregates.size(); ++a) {
        const auto& agg = v.aggregates[a];
        Value& cur = current_[g + a];
        const Value x = agg.column >= 0 ? row_[agg.column] : Value();
        switch (agg.kind) {
            case ViewAggKind::kCountStar:
                cur = Value::BigInt(cur.AsInt() + sign);
                if (cur.AsInt() == 0) {
                    if (g > 0) {
                        view_table_->Delete(existing, undo);
                    } else {
                        // Without GROUP BY the view is one row, as its query is: COUNT 0, the rest NULL.
                        EmptyAggregates();
                        view_table_->Update(existing, current_.data(), undo);
                    }
                    return;
                }
                break;
            case ViewAggKind::kCount:
                if (!x.is_null()) cur = Value::BigInt(cur.AsInt() + sign);
                break;
            case ViewAggKind::kSum:
                if (x.is_null()) break;
                if (sign > 0) {
                    cur = cur.is_null() ? x : Add(cur, x);
                } else {
                    cur = Subtract(cur, x);
                    if (CompareValues(cur, Value::BigInt(0)) == 0) cur = Recompute(a);
                }
                cur = CoerceForColumn(cur, cols[g + a].type, cols[g + a].name);
                break;
            case ViewAggKind::kMin:
            case ViewAggKind::kMax: {
                if (x.is_null()) break;
                const bool is_min = agg.kind == ViewAggKind::kMin;
                if (sign > 0) {
                    if (cur.is_null() || (is_min ? CompareValues(x, cur) < 0 : CompareValues(x, cur) > 0)) cur = x;
                } else if (!cur.is_null() && CompareValues(x, cur) == 0) {
                    cur = Recompute(a);
                }
                break;
            }
        }
    }
    view_table_->Update(existing, current_.data(), undo);
}

void ViewMaintainer::EmptyAggregates() {
    const catalog::ViewDef& v = *view_->view;
    const size_t g = v.group_by.size();
    for (size_t a = 0; a < v.aggregates.size(); ++a) {
        const auto kind = v.aggregates[a].kind;
        if (kind == ViewAggKind::kCountStar || kind == ViewAggKind::kCount) {
            current_[g + a] = Value::BigInt(0);
        } else {
            current_[g + a] = Value::Null(view_->columns[g + a].type.id);
        }
    }
}

void ViewMaintainer::EnsureRowWithoutGroups(storage::UndoLog& undo) {
    if (!view_->view->group_by.empty()) return;
    storage::ScanCursor cursor;
    if (view_table_->NextLive(&cursor)) return;
    EmptyAggregates();
    view_table_->Insert(current_.data(), undo);
}

Value ViewMaintainer::Recompute(size_t a) {
    const catalog::ViewDef& v = *view_->view;
    const auto& agg = v.aggregates[a];
    const size_t g = v.group_by.size();
    std::vector<Value> row(row_.size());
    Value result = Value::Null(view_->columns[g + a].type.id);
    auto consider = [&](const char* t) {
        for (size_t c = 0; c < row.size(); ++c) source_->Read(t, static_cast<int>(c), &row[c]);
        for (size_t i = 0; i < g; ++i) {
            if (!GroupEquals(row[v.group_by[i]], group_[i])) return;
        }
        if (where_) {
            ExecContext ctx;
            if (!EvalPredicate(*where_, EvalRow{row.data(), nullptr}, ctx)) return;
        }
        const Value& x = row[agg.column];
        if (x.is_null()) return;
        if (result.is_null()) {
            result = x;
        } else if (agg.kind == ViewAggKind::kSum) {
            result = Add(result, x);
        } else if (agg.kind == ViewAggKind::kMin ? CompareValues(x, result) < 0 : CompareValues(x, result) > 0) {
            result = x;
        }
    };
    // An index whose leading columns are exactly the group columns narrows the scan to the group.
    for (size_t i = 0; g > 0 && i < source_->index_count(); ++i) {
        const storage::Index& idx = source_->index(i);
        if (!idx.ordered() || idx.part_count() < g) continue;
        std::vector<int> lead;
        for (size_t p = 0; p < g; ++p) lead.push_back(idx.def().key[p].column);
        if (!std::is_permutation(lead.begin(), lead.end(), v.group_by.begin())) continue;
        std::string prefix;
        for (size_t p = 0; p < g; ++p) {
            size_t which = std::find(v.group_by.begin(), v.group_by.end(), lead[p]) - v.group_by.begin();
            storage::EncodeKeyPart(group_[which], idx.part_type(p), &prefix);
        }
        storage::IndexCursor cursor;
        idx.ScanPrefix(prefix, &cursor);
        while (storage::TuplePtr t = cursor.Next()) consider(t);
        return result;
    }
    storage::ScanCursor cursor;
    while (storage::TuplePtr t = source_->NextLive(&cursor)) consider(t);
    return result;
}

}  // namespace surge::exec
