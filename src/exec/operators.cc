// Operator implementations: scans, joins, filters, projection, aggregation, sort, limit,
// distinct and set operations.
#include "exec/operators.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/status.h"
#include "exec/operators_internal.h"
#include "exec/scan_filter.h"
#include "storage/key_encoding.h"
#include "types/value_ops.h"

namespace surge::exec {

bool MarkAll(const std::vector<sql::BoundExprPtr>& exprs, std::vector<bool>* used) {
    for (const auto& e : exprs) {
        if (e && !MarkColumns(*e, used)) return false;
    }
    return true;
}

using sql::PlanKind;
using sql::PlanNode;

namespace {

struct RowHash {
    size_t n;
    size_t operator()(const std::vector<Value>& r) const {
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < n; ++i) h = (h ^ HashValue(r[i])) * 0x100000001B3ull;
        return h;
    }
};
struct RowEq {
    size_t n;
    bool operator()(const std::vector<Value>& a, const std::vector<Value>& b) const {
        for (size_t i = 0; i < n; ++i) {
            if (!GroupEquals(a[i], b[i])) return false;
        }
        return true;
    }
};
using RowSet = std::unordered_set<std::vector<Value>, RowHash, RowEq>;

class OneRowOp : public Operator {
  public:
    using Operator::Operator;
    void Open(ExecContext&, const EvalRow&) override { done_ = false; }
    bool Next(ExecContext&, std::vector<Value>* row) override {
        if (done_) return false;
        row->resize(width_);
        done_ = true;
        return true;
    }

  private:
    bool done_ = false;
};

/// Base of the two table scans: tests tuples against the compiled part of the residual filter,
/// decodes the columns the parent reads (and the rest of the filter reads) into rows, and applies
/// the rest of the filter. A scan covers every table of its TableSet in turn (one for a
/// partition's own plan; each partition's part in multi-partition execution).
class ScanOp : public Operator {
  public:
    ScanOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), filter_(plan.filter.get(), Layout(plan, tables, &tables_)) {
        used_.assign(width_, true);
    }
    storage::TuplePtr current_tuple() const override { return current_; }
    size_t current_part() const override { return current_part_; }
    void LimitColumns(const std::vector<bool>& used) override {
        used_ = used;
        used_.resize(width_, true);
        decode_valid_ = false;
    }
    ScanBound* BoundColumn(size_t slot) override {
        return bound_.Attach(tables_[0]->layout(), static_cast<int>(slot)) ? &bound_ : nullptr;
    }

  protected:
    /// Binds the filter for this execution; false when no row can pass.
    bool OpenFilter(ExecContext& ctx) {
        bound_.Clear();
        if (!filter_.Open(ctx)) return false;
        if (!decode_valid_ || filter_.depends_on_params()) {
            std::vector<bool> need = used_;
            for (const sql::BoundExpr* e : filter_.residual()) {
                if (!MarkColumns(*e, &need)) need.assign(width_, true);
            }
            decode_.clear();
            for (size_t c = 0; c < width_; ++c) {
                if (need[c]) decode_.push_back(static_cast<int>(c));
            }
            decode_valid_ = true;
        }
        return true;
    }

    bool Emit(ExecContext& ctx, storage::TuplePtr t, std::vector<Value>* row) {
        if (!filter_.Pass(t) || !bound_.Pass(t)) return false;
        row->resize(width_);
        const auto& layout = tables_[part_]->layout();
        for (int c : decode_) layout.Read(t, c, &(*row)[c]);
        for (const sql::BoundExpr* e : filter_.residual()) {
            if (!EvalPredicate(*e, EvalRow{row->data(), outer_}, ctx)) return false;
        }
        current_ = t;
        current_part_ = part_;
        return true;
    }

    std::vector<storage::Table*> tables_;
    size_t part_ = 0;  ///< the table being scanned
    storage::TuplePtr current_ = nullptr;
    size_t current_part_ = 0;
    const EvalRow* outer_ = nullptr;
    TupleFilter filter_;
    ScanBound bound_;

  private:
    static const storage::TupleLayout& Layout(const PlanNode& plan, TableResolver& tables,
                                              std::vector<storage::Table*>* out) {
        TableSet set = tables.Resolve(*plan.table);
        out->assign(set.begin(), set.end());
        if (out->empty()) ThrowSqlError(ErrorCode::kInternal, "no storage for \"" + plan.table->name + "\"");
        return (*out)[0]->layout();
    }

    std::vector<bool> used_;   ///< columns the parent reads
    std::vector<int> decode_;  ///< columns Emit decodes: used_ and what the residual reads
    bool decode_valid_ = false;
};

class SeqScanOp : public ScanOp {
  public:
    using ScanOp::ScanOp;
    void Open(ExecContext& ctx, const EvalRow& context) override {
        block_ = slot_ = 0;
        outer_ = context.outer;
        part_ = OpenFilter(ctx) ? 0 : tables_.size();
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        for (; part_ < tables_.size(); ++part_, block_ = slot_ = 0) {
            const storage::Table& table = *tables_[part_];
            const size_t size = table.layout().size();
            for (; block_ < table.block_count(); ++block_, slot_ = 0) {
                size_t n;
                storage::TuplePtr base = table.block(block_, &n);
                // The tight loop: rows the compiled tests reject are never decoded.
                for (size_t s = slot_; s < n; ++s) {
                    storage::TuplePtr t = base + s * size;
                    if (storage::TupleLayout::Flags(t) != storage::kTupleLive) continue;
                    if (Emit(ctx, t, row)) {
                        slot_ = s + 1;
                        return true;
                    }
                }
            }
        }
        return false;
    }

  private:
    size_t block_ = 0, slot_ = 0;
};

class IndexScanOp : public ScanOp {
  public:
    IndexScanOp(const PlanNode& plan, TableResolver& tables) : ScanOp(plan, tables) {
        for (storage::Table* t : tables_) {
            storage::Index* index = t->FindIndex(plan.access.index);
            if (!index) ThrowSqlError(ErrorCode::kInternal, "index \"" + plan.access.index + "\" missing in storage");
            indexes_.push_back(index);
        }
        index_ = indexes_[0];
    }

    void Open(ExecContext& ctx, const EvalRow& context) override {
        outer_ = context.outer;
        part_ = 0;
        lookup_ = Lookup::kNone;
        if (!OpenFilter(ctx)) return;
        single_ = nullptr;
        single_pending_ = false;
        cursor_ = storage::IndexCursor();
        const auto& a = plan_.access;
        prefix_.clear();
        for (size_t i = 0; i < a.eq_keys.size(); ++i) {
            if (a.eq_is_null[i]) {
                storage::EncodeKeyPart(Value(), index_->part_type(i), &prefix_);
                continue;
            }
            Value v = Eval(*a.eq_keys[i], context, ctx);
            int oor = 0;
            if (v.is_null() || !ToKeyValue(v, index_->part_type(i), 0, &key_value_, &oor)) return;  // no match
            storage::EncodeKeyPart(key_value_, index_->part_type(i), &prefix_);
        }
        const size_t k = a.eq_keys.size();
        const bool has_null_part = std::find(a.eq_is_null.begin(), a.eq_is_null.end(), true) != a.eq_is_null.end();
        if (!a.lower && !a.upper) {
            if (k == index_->part_count() && index_->unique() && !has_null_part) {
                lookup_ = Lookup::kUnique;
            } else if (!index_->ordered()) {
                lookup_ = Lookup::kPrefix;
            } else if (k == 0) {
                lookup_ = Lookup::kAll;
            } else {
                range_ = storage::KeyRange();
                range_.has_lower = range_.has_upper = true;
                range_.lower = range_.upper = prefix_;
                lookup_ = Lookup::kRange;
            }
            Start();
            return;
        }
        storage::KeyRange& r = range_;
        r = storage::KeyRange();
        r.lower = prefix_;
        r.upper = prefix_;
        r.has_lower = true;
        r.has_upper = k > 0;
        TypeId t = index_->part_type(k);
        if (a.lower) {
            Value v = Eval(*a.lower, context, ctx);
            if (v.is_null()) return;
            int oor = 0;
            if (ToKeyValue(v, t, +1, &key_value_, &oor)) {
                storage::EncodeKeyPart(key_value_, t, &r.lower);
                r.lower_inclusive = a.lower_inclusive || !SameNumber(v, key_value_);
            } else if (oor > 0) {
                return;  // above the type's range: nothing qualifies
            } else {
                r.lower.push_back('\x01');  // below the range: every non-NULL key
            }
        } else {
            r.lower.push_back('\x01');  // a range never matches NULL keys
        }
        if (a.upper) {
            Value v = Eval(*a.upper, context, ctx);
            if (v.is_null()) return;
            int oor = 0;
            if (ToKeyValue(v, t, -1, &key_value_, &oor)) {
                storage::EncodeKeyPart(key_value_, t, &r.upper);
                r.has_upper = true;
                r.upper_inclusive = a.upper_inclusive || !SameNumber(v, key_value_);
            } else if (oor < 0) {
                return;
            }
        }
        lookup_ = Lookup::kRange;
        Start();
    }

    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        if (lookup_ == Lookup::kNone) return false;
        while (true) {
            if (lookup_ == Lookup::kUnique) {
                if (single_pending_) {
                    single_pending_ = false;
                    if (Emit(ctx, single_, row)) return true;
                }
            } else {
                while (storage::TuplePtr t = cursor_.Next()) {
                    if (Emit(ctx, t, row)) return true;
                }
            }
            if (++part_ >= tables_.size()) return false;
            Start();
        }
    }

  private:
    enum class Lookup : uint8_t { kNone, kUnique, kPrefix, kAll, kRange };

    /// Positions the lookup Open computed on partition part_'s index.
    void Start() {
        const storage::Index* index = indexes_[part_];
        const bool reverse = plan_.access.reverse;
        switch (lookup_) {
            case Lookup::kNone:
                break;
            case Lookup::kUnique:
                single_ = index->FindUnique(prefix_);
                single_pending_ = single_ != nullptr;
                break;
            case Lookup::kPrefix:
                index->ScanPrefix(prefix_, &cursor_);
                break;
            case Lookup::kAll:
                index->ScanAll(reverse, &cursor_);
                break;
            case Lookup::kRange:
                index->ScanRange(range_, reverse, &cursor_);
                break;
        }
    }

    /// Whether the converted bound equals the original (else the bound was rounded and is
    /// inclusive of the rounded value).
    static bool SameNumber(const Value& a, const Value& b) { return CompareValues(a, b) == 0; }

    std::vector<storage::Index*> indexes_;  ///< per table of the set
    storage::Index* index_;                 ///< the first: key types and shape (same in every part)
    Lookup lookup_ = Lookup::kNone;
    storage::IndexCursor cursor_;
    storage::TuplePtr single_ = nullptr;
    bool single_pending_ = false;
    std::string prefix_;
    storage::KeyRange range_;
    Value key_value_;
};

class FilterOp : public Operator {
  public:
    FilterOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), child_(BuildOperator(*plan.children[0], tables)) {
        width_ = child_->width();
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        outer_ = context.outer;
        child_->Open(ctx, context);
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        while (child_->Next(ctx, row)) {
            if (EvalPredicate(*plan_.filter, EvalRow{row->data(), outer_}, ctx)) return true;
        }
        return false;
    }
    void LimitColumns(const std::vector<bool>& used) override {
        std::vector<bool> need = used;
        if (MarkColumns(*plan_.filter, &need)) child_->LimitColumns(need);
    }
    ScanBound* BoundColumn(size_t slot) override { return child_->BoundColumn(slot); }
    // A filter over a DML target's scan (a condition the scan could not take, such as a
    // correlated subquery) passes the scan's tuple through.
    storage::TuplePtr current_tuple() const override { return child_->current_tuple(); }
    size_t current_part() const override { return child_->current_part(); }
    void Trim() override { child_->Trim(); }

  private:
    std::unique_ptr<Operator> child_;
    const EvalRow* outer_ = nullptr;
};

class ProjectOp : public Operator {
  public:
    ProjectOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), child_(BuildOperator(*plan.children[0], tables)) {
        width_ = plan.exprs.size();
        LimitColumns(std::vector<bool>(width_, true));
    }
    ScanBound* BoundColumn(size_t slot) override {
        const sql::BoundExpr& e = *plan_.exprs[slot];
        if (e.kind != sql::BoundKind::kColumn || e.depth != 0) return nullptr;
        return child_->BoundColumn(static_cast<size_t>(e.index));
    }
    /// Computes only the outputs the parent reads, from only the columns those read.
    void LimitColumns(const std::vector<bool>& used) override {
        computed_.clear();
        std::vector<bool> need(child_->width(), false);
        bool known = true;
        for (size_t i = 0; i < width_; ++i) {
            if (i < used.size() && !used[i]) continue;
            computed_.push_back(i);
            known = known && MarkColumns(*plan_.exprs[i], &need);
        }
        if (known) child_->LimitColumns(need);
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        outer_ = context.outer;
        child_->Open(ctx, context);
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        if (!child_->Next(ctx, &in_)) return false;
        row->resize(width_);
        EvalRow r{in_.data(), outer_};
        for (size_t i : computed_) (*row)[i] = Eval(*plan_.exprs[i], r, ctx);
        return true;
    }
    void Trim() override { child_->Trim(); }

  private:
    std::unique_ptr<Operator> child_;
    std::vector<Value> in_;
    std::vector<size_t> computed_;  ///< the outputs the parent reads
    const EvalRow* outer_ = nullptr;
};

class NestedLoopJoinOp : public Operator {
  public:
    NestedLoopJoinOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan),
          left_(BuildOperator(*plan.children[0], tables)),
          right_(BuildOperator(*plan.children[1], tables)) {
        width_ = left_->width() + right_->width();
    }
    /// Narrows the right side only: the right side's index lookups read the left row as their
    /// context, beyond what this node's own expressions read.
    void LimitColumns(const std::vector<bool>& used) override {
        std::vector<bool> need = used;
        need.resize(width_, true);
        if (plan_.filter && !MarkColumns(*plan_.filter, &need)) return;
        right_->LimitColumns(std::vector<bool>(need.begin() + static_cast<ptrdiff_t>(left_->width()), need.end()));
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        outer_ = context.outer;
        left_->Open(ctx, context);
        have_left_ = false;
        if (keeps_right() || plan_.materialize_right) {
            // The right side does not depend on the left row (the planner gives it no lookups
            // or filters from the left): read it once and remember which rows found a partner.
            right_rows_.clear();
            right_->Open(ctx, EvalRow{nullptr, outer_});
            while (right_->Next(ctx, &right_row_)) right_rows_.push_back(right_row_);
            right_matched_.assign(right_rows_.size(), false);
            unmatched_pos_ = 0;
        }
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        return keeps_right() || plan_.materialize_right ? NextKeepingRight(ctx, row) : NextNested(ctx, row);
    }

  private:
    bool keeps_right() const {
        return plan_.join_type == sql::JoinType::kRight || plan_.join_type == sql::JoinType::kFull;
    }

    // Every left row against the materialized right rows (null-extended for LEFT and FULL when
    // none matched); then, for RIGHT and FULL, the right rows that matched none.
    bool NextKeepingRight(ExecContext& ctx, std::vector<Value>* row) {
        const size_t lw = left_->width();
        while (true) {
            if (!have_left_) {
                if (!left_->Next(ctx, &left_row_)) break;
                have_left_ = true;
                matched_ = false;
                right_pos_ = 0;
            }
            while (right_pos_ < right_rows_.size()) {
                const size_t r = right_pos_++;
                row->resize(width_);
                std::copy(left_row_.begin(), left_row_.begin() + lw, row->begin());
                std::copy(right_rows_[r].begin(), right_rows_[r].end(), row->begin() + lw);
                if (plan_.filter && !EvalPredicate(*plan_.filter, EvalRow{row->data(), outer_}, ctx)) continue;
                matched_ = true;
                right_matched_[r] = true;
                return true;
            }
            have_left_ = false;
            if ((plan_.join_type == sql::JoinType::kFull || plan_.join_type == sql::JoinType::kLeft) && !matched_) {
                row->resize(width_);
                std::copy(left_row_.begin(), left_row_.begin() + lw, row->begin());
                for (size_t i = lw; i < width_; ++i) (*row)[i] = Value::Null(plan_.output[i].type.id);
                return true;
            }
        }
        while (keeps_right() && unmatched_pos_ < right_rows_.size()) {
            const size_t r = unmatched_pos_++;
            if (right_matched_[r]) continue;
            row->resize(width_);
            for (size_t i = 0; i < lw; ++i) (*row)[i] = Value::Null(plan_.output[i].type.id);
            std::copy(right_rows_[r].begin(), right_rows_[r].end(), row->begin() + lw);
            return true;
        }
        return false;
    }

    bool NextNested(ExecContext& ctx, std::vector<Value>* row) {
        const size_t lw = left_->width();
        while (true) {
            if (!have_left_) {
                if (!left_->Next(ctx, &left_row_)) return false;
                have_left_ = true;
                matched_ = false;
                right_->Open(ctx, EvalRow{left_row_.data(), outer_});
            }
            while (right_->Next(ctx, &right_row_)) {
                row->resize(width_);
                std::copy(left_row_.begin(), left_row_.begin() + lw, row->begin());
                std::copy(right_row_.begin(), right_row_.end(), row->begin() + lw);
                if (plan_.filter && !EvalPredicate(*plan_.filter, EvalRow{row->data(), outer_}, ctx)) continue;
                matched_ = true;
                return true;
            }
            have_left_ = false;
            if (plan_.join_type == sql::JoinType::kLeft && !matched_) {
                row->resize(width_);
                std::copy(left_row_.begin(), left_row_.begin() + lw, row->begin());
                for (size_t i = lw; i < width_; ++i) (*row)[i] = Value::Null(plan_.output[i].type.id);
                return true;
            }
        }
    }

  public:
    void Trim() override {
        left_->Trim();
        right_->Trim();
        TrimVector(right_rows_);
        TrimVector(right_matched_);
    }

  private:
    std::unique_ptr<Operator> left_, right_;
    std::vector<Value> left_row_, right_row_;
    bool have_left_ = false;
    bool matched_ = false;
    const EvalRow* outer_ = nullptr;
    // RIGHT and FULL joins.
    std::vector<std::vector<Value>> right_rows_;
    std::vector<bool> right_matched_;
    size_t right_pos_ = 0;
    size_t unmatched_pos_ = 0;
};

/// Inner or left equi-join: reads the right side once at Open into a hash table keyed on
/// hash_right_keys (rows with a NULL key can never match and are left out), then probes it with
/// each left row's hash_left_keys, testing the residual filter on each candidate pair. A single
/// key of integer (or TIMESTAMP) type on both sides is hashed as an int64 in a flat table;
/// other keys as rows of Values. Right rows keep only the columns the parent and the filter read.
class HashJoinOp : public Operator {
  public:
    HashJoinOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan),
          left_(BuildOperator(*plan.children[0], tables)),
          right_(BuildOperator(*plan.children[1], tables)),
          table_(0, RowHash{plan.hash_right_keys.size()}, RowEq{plan.hash_right_keys.size()}) {
        width_ = left_->width() + right_->width();
        for (size_t i = 0; i < left_->width(); ++i) copy_left_.push_back(i);
        for (size_t i = 0; i < right_->width(); ++i) copy_right_.push_back(i);
        auto integer = [](const sql::BoundExprPtr& e) {
            return IsIntegral(e->type.id) || e->type.id == TypeId::kTimestamp;
        };
        int_keys_ =
            plan.hash_right_keys.size() == 1 && integer(plan.hash_left_keys[0]) && integer(plan.hash_right_keys[0]);
    }
    void LimitColumns(const std::vector<bool>& used) override {
        const size_t lw = left_->width();
        std::vector<bool> need = used;
        need.resize(width_, true);
        if (plan_.filter && !MarkColumns(*plan_.filter, &need)) return;
        copy_left_.clear();
        copy_right_.clear();
        for (size_t i = 0; i < width_; ++i) {
            if (need[i]) (i < lw ? copy_left_ : copy_right_).push_back(i < lw ? i : i - lw);
        }
        std::vector<bool> left(need.begin(), need.begin() + static_cast<ptrdiff_t>(lw));
        std::vector<bool> right(need.begin() + static_cast<ptrdiff_t>(lw), need.end());
        if (MarkAll(plan_.hash_left_keys, &left)) left_->LimitColumns(left);
        if (MarkAll(plan_.hash_right_keys, &right)) right_->LimitColumns(right);
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        outer_ = context.outer;
        use_ints_ = int_keys_;
        if (!Build(ctx)) {  // a key value that is not an integer after all
            use_ints_ = false;
            Build(ctx);
        }
        left_->Open(ctx, context);
        probing_ = false;
        batch_n_ = batch_pos_ = 0;
        left_done_ = false;
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        const size_t lw = left_->width();
        while (true) {
            if (!probing_) {
                candidate_ = kEnd;
                bucket_ = nullptr;
                pos_ = 0;
                if (use_ints_) {
                    if (!NextIntProbe(ctx)) return false;
                } else if (!left_->Next(ctx, &left_row_)) {
                    return false;
                } else if (Keys(ctx, plan_.hash_left_keys, left_row_, &key_)) {
                    auto it = table_.find(key_);
                    if (it != table_.end()) bucket_ = &it->second;
                }
                matched_ = false;
                probing_ = true;
            }
            while (true) {
                uint32_t r;
                if (use_ints_) {
                    if (candidate_ == kEnd) break;
                    r = candidate_;
                    candidate_ = r == last_ ? kEnd : next_[r];  // a key's only row: no next_ read
                } else {
                    if (!bucket_ || pos_ >= bucket_->size()) break;
                    r = (*bucket_)[pos_++];
                }
                row->resize(width_);
                for (size_t i : copy_left_) (*row)[i] = left_row_[i];
                const Value* right = right_values_.data() + r * copy_right_.size();
                for (size_t j = 0; j < copy_right_.size(); ++j) (*row)[lw + copy_right_[j]] = right[j];
                if (plan_.filter && !EvalPredicate(*plan_.filter, EvalRow{row->data(), outer_}, ctx)) continue;
                matched_ = true;
                return true;
            }
            probing_ = false;
            if (plan_.join_type == sql::JoinType::kLeft && !matched_) {
                row->resize(width_);
                for (size_t i : copy_left_) (*row)[i] = left_row_[i];
                for (size_t i = lw; i < width_; ++i) (*row)[i] = Value::Null(plan_.output[i].type.id);
                return true;
            }
        }
    }

  private:
    static constexpr uint32_t kEnd = UINT32_MAX;
    static constexpr size_t kBatch = 32;

    /// The next left row into left_row_ and its first candidate, with the integer table: left
    /// rows are read kBatch at a time and their table slots prefetched, so the probes' cache
    /// misses overlap instead of following one another. False at the end of the left side.
    bool NextIntProbe(ExecContext& ctx) {
        if (batch_pos_ == batch_n_) {
            batch_n_ = batch_pos_ = 0;
            while (!left_done_ && batch_n_ < kBatch) {
                if (batch_rows_.size() <= batch_n_) batch_rows_.emplace_back();
                if (!left_->Next(ctx, &batch_rows_[batch_n_])) {
                    left_done_ = true;
                    break;
                }
                int64_t k = 0;
                const bool ok =
                    IntKey(Eval(*plan_.hash_left_keys[0], EvalRow{batch_rows_[batch_n_].data(), outer_}, ctx), &k);
                if (ok) int_table_.prefetch(k);
                batch_keys_[batch_n_] = ok ? std::optional<int64_t>(k) : std::nullopt;
                ++batch_n_;
            }
            if (batch_n_ == 0) return false;
        }
        std::swap(left_row_, batch_rows_[batch_pos_]);
        if (const auto& k = batch_keys_[batch_pos_++]) {
            auto it = int_table_.find(*k);
            if (it != int_table_.end()) std::tie(candidate_, last_) = it->second;
        }
        return true;
    }

    /// Reads the right side into the table; false (in integer mode) when a key is not an integer.
    bool Build(ExecContext& ctx) {
        table_.clear();
        int_table_.clear();
        next_.clear();
        right_values_.clear();
        right_->Open(ctx, EvalRow{nullptr, outer_});
        std::vector<Value> row, key;
        uint32_t n = 0;
        while (right_->Next(ctx, &row)) {
            if (use_ints_) {
                Value v = Eval(*plan_.hash_right_keys[0], EvalRow{row.data(), outer_}, ctx);
                if (v.is_null()) continue;
                if (!IsIntegral(v.type()) && v.type() != TypeId::kTimestamp) return false;
                // Chained in insertion order: first and last row of each key, next_ links.
                auto [it, inserted] = int_table_.try_emplace(v.AsInt(), n, n);
                if (!inserted) {
                    next_[it->second.second] = n;
                    it->second.second = n;
                }
                next_.push_back(kEnd);
            } else {
                if (!Keys(ctx, plan_.hash_right_keys, row, &key)) continue;
                table_[key].push_back(n);
            }
            for (size_t j : copy_right_) right_values_.push_back(row[j]);
            ++n;
        }
        return true;
    }

    /// A left key as the int64 that equal right keys (all integers) would have; false when no
    /// integer equals it (NULL, a fraction, another type).
    static bool IntKey(const Value& v, int64_t* out) {
        if (v.is_null()) return false;
        if (IsIntegral(v.type()) || v.type() == TypeId::kTimestamp) {
            *out = v.AsInt();
            return true;
        }
        if (!IsNumeric(v.type())) return false;
        Value whole = Value::BigInt(0);
        try {
            whole = CastValue(v, SqlType::Of(TypeId::kBigInt));
        } catch (const SqlError&) {
            return false;  // out of BIGINT's range
        }
        if (!GroupEquals(whole, v)) return false;
        *out = whole.AsInt();
        return true;
    }

    // The key values of row; false if one is NULL (= never matches).
    bool Keys(ExecContext& ctx, const std::vector<sql::BoundExprPtr>& exprs, const std::vector<Value>& row,
              std::vector<Value>* key) {
        key->resize(exprs.size());
        EvalRow r{row.data(), outer_};
        for (size_t i = 0; i < exprs.size(); ++i) {
            (*key)[i] = Eval(*exprs[i], r, ctx);
            if ((*key)[i].is_null()) return false;
        }
        return true;
    }

  public:
    void Trim() override {
        left_->Trim();
        right_->Trim();
        TrimHashed(table_);
        if (int_table_.capacity() * (sizeof(decltype(int_table_)::value_type) + 1) > TrimThreshold()) {
            decltype(int_table_)().swap(int_table_);
        }
        TrimVector(next_);
        TrimVector(right_values_);
    }

  private:
    std::unique_ptr<Operator> left_, right_;
    bool int_keys_ = false;  ///< the plan's key types allow the integer table
    bool use_ints_ = false;  ///< this execution uses it
    std::unordered_map<std::vector<Value>, std::vector<uint32_t>, RowHash, RowEq> table_;
    absl::flat_hash_map<int64_t, std::pair<uint32_t, uint32_t>> int_table_;
    std::vector<uint32_t> next_;
    std::vector<Value> right_values_;  ///< copy_right_.size() values per right row
    std::vector<size_t> copy_left_, copy_right_;
    std::vector<Value> left_row_, key_;
    bool probing_ = false;
    uint32_t candidate_ = kEnd, last_ = kEnd;
    std::vector<std::vector<Value>> batch_rows_;  ///< left rows read ahead (integer table)
    std::array<std::optional<int64_t>, kBatch> batch_keys_;
    size_t batch_n_ = 0, batch_pos_ = 0;
    bool left_done_ = false;
    const std::vector<uint32_t>* bucket_ = nullptr;
    size_t pos_ = 0;
    bool matched_ = false;
    const EvalRow* outer_ = nullptr;
};

/// Materializing operators collect rows at Open and replay them.
class MaterializedOp : public Operator {
  public:
    using Operator::Operator;
    bool Next(ExecContext&, std::vector<Value>* row) override {
        if (pos_ >= rows_.size()) return false;
        *row = std::move(rows_[pos_++]);  // every subclass rebuilds rows_ at Open
        return true;
    }
    void Trim() override { TrimVector(rows_); }

  protected:
    std::vector<std::vector<Value>> rows_;
    size_t pos_ = 0;
};

class AggregateOp : public MaterializedOp {
  public:
    AggregateOp(const PlanNode& plan, TableResolver& tables)
        : MaterializedOp(plan), child_(BuildOperator(*plan.children[0], tables)) {
        std::vector<bool> need(child_->width(), false);
        bool known = MarkAll(plan.group_by, &need);
        for (const auto& a : plan.aggs) known = known && (!a.arg || MarkColumns(*a.arg, &need));
        if (known) child_->LimitColumns(need);
    }

    void Open(ExecContext& ctx, const EvalRow& context) override {
        rows_.clear();
        pos_ = 0;
        const size_t ng = plan_.group_by.size();
        const size_t na = plan_.aggs.size();
        struct State {
            std::vector<Value> acc;       // per aggregate: running value
            std::vector<int64_t> counts;  // per aggregate: non-null inputs (COUNT, AVG)
            std::vector<RowSet> distinct;
        };
        std::unordered_map<std::vector<Value>, size_t, RowHash, RowEq> groups(16, RowHash{ng}, RowEq{ng});
        // One integer (or TIMESTAMP) key: groups by the int64 in a flat table, until a key of
        // another type shows up (then every group moves to the general table, where 1 and 1.0
        // are one group).
        absl::flat_hash_map<int64_t, size_t> int_groups;
        bool use_ints = ng == 1;
        std::vector<std::vector<Value>> keys;
        std::vector<State> states;
        auto new_state = [&] {
            State s;
            s.acc.resize(na);
            s.counts.assign(na, 0);
            for (size_t i = 0; i < na; ++i) {
                s.acc[i] = Value::Null(plan_.aggs[i].type.id);
                s.distinct.emplace_back(4, RowHash{1}, RowEq{1});
            }
            return s;
        };
        child_->Open(ctx, context);
        std::vector<Value> key(ng);
        while (child_->Next(ctx, &in_)) {
            EvalRow r{in_.data(), context.outer};
            size_t group = 0;
            if (ng == 0) {  // one group: no key to hash
                if (states.empty()) {
                    keys.emplace_back();
                    states.push_back(new_state());
                }
            } else if (use_ints && (key[0] = Eval(*plan_.group_by[0], r, ctx), !key[0].is_null()) &&
                       (IsIntegral(key[0].type()) || key[0].type() == TypeId::kTimestamp)) {
                auto [it, inserted] = int_groups.try_emplace(key[0].AsInt(), states.size());
                if (inserted) {
                    keys.push_back(key);
                    states.push_back(new_state());
                }
                group = it->second;
            } else {
                if (use_ints) {  // NULL or another type: from now on the general table
                    for (const auto& [k, g] : int_groups) groups.emplace(keys[g], g);
                    int_groups.clear();
                    use_ints = false;
                } else {
                    for (size_t i = 0; i < ng; ++i) key[i] = Eval(*plan_.group_by[i], r, ctx);
                }
                auto [it, inserted] = groups.try_emplace(key, states.size());
                if (inserted) {
                    keys.push_back(key);
                    states.push_back(new_state());
                }
                group = it->second;
            }
            State& st = states[group];
            for (size_t a = 0; a < na; ++a) {
                const auto& spec = plan_.aggs[a];
                if (spec.func == sql::AggFunc::kCountStar) {
                    ++st.counts[a];
                    continue;
                }
                Value v = Eval(*spec.arg, r, ctx);
                if (v.is_null()) continue;
                if (spec.distinct && !st.distinct[a].insert(std::vector<Value>{v}).second) continue;
                ++st.counts[a];
                Value& acc = st.acc[a];
                switch (spec.func) {
                    case sql::AggFunc::kSum:
                    case sql::AggFunc::kAvg:
                        acc = acc.is_null() ? Promote(v, spec) : Add(acc, v);
                        break;
                    case sql::AggFunc::kMin:
                        if (acc.is_null() || CompareValues(v, acc) < 0) acc = v;
                        break;
                    case sql::AggFunc::kMax:
                        if (acc.is_null() || CompareValues(v, acc) > 0) acc = v;
                        break;
                    default:
                        break;
                }
            }
        }
        if (keys.empty() && ng == 0) {
            keys.emplace_back();
            states.push_back(new_state());
        }
        rows_.reserve(keys.size());
        for (size_t g = 0; g < keys.size(); ++g) {
            std::vector<Value> out(ng + na);
            for (size_t i = 0; i < ng; ++i) out[i] = keys[g][i];
            State& st = states[g];
            for (size_t a = 0; a < na; ++a) {
                const auto& spec = plan_.aggs[a];
                switch (spec.func) {
                    case sql::AggFunc::kCountStar:
                    case sql::AggFunc::kCount:
                        out[ng + a] = Value::BigInt(st.counts[a]);
                        break;
                    case sql::AggFunc::kAvg:
                        if (st.counts[a] == 0) {
                            out[ng + a] = Value::Null(spec.type.id);
                        } else if (spec.type.id == TypeId::kDecimal) {
                            out[ng + a] = Divide(st.acc[a], Value::BigInt(st.counts[a]));
                        } else {
                            out[ng + a] = Value::Float(st.acc[a].ToDouble() / static_cast<double>(st.counts[a]));
                        }
                        break;
                    default:
                        out[ng + a] = st.acc[a];
                        break;
                }
            }
            rows_.push_back(std::move(out));
        }
    }

  private:
    /// First SUM/AVG input: widen integers to BIGINT so later additions check BIGINT overflow.
    static Value Promote(const Value& v, const sql::AggSpec& spec) {
        if (IsIntegral(v.type())) {
            if (spec.func == sql::AggFunc::kAvg) return Value::Float(static_cast<double>(v.AsInt()));
            return Value::BigInt(v.AsInt());
        }
        if (spec.func == sql::AggFunc::kAvg && v.type() != TypeId::kDecimal) return Value::Float(v.ToDouble());
        return v;
    }

  public:
    void Trim() override {
        MaterializedOp::Trim();
        child_->Trim();
    }

  private:
    std::unique_ptr<Operator> child_;
    std::vector<Value> in_;
};

class SortOp : public MaterializedOp {
  public:
    SortOp(const PlanNode& plan, TableResolver& tables)
        : MaterializedOp(plan), child_(BuildOperator(*plan.children[0], tables)) {
        width_ = child_->width();
    }
    void SetRowBudget(int64_t rows) override { budget_ = rows; }
    void LimitColumns(const std::vector<bool>& used) override {
        std::vector<bool> need = used;
        need.resize(width_, true);
        for (const auto& k : plan_.sort_keys) need[k.slot] = true;
        child_->LimitColumns(need);
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        rows_.clear();
        pos_ = 0;
        child_->Open(ctx, context);
        std::vector<Value> row;
        if (budget_ >= 0) return OpenTopN(ctx, static_cast<size_t>(budget_));
        while (child_->Next(ctx, &row)) rows_.push_back(row);
        std::stable_sort(rows_.begin(), rows_.end(),
                         [&](const std::vector<Value>& a, const std::vector<Value>& b) { return Before(a, b); });
    }

  private:
    // Whether a sorts before b by the sort keys.
    bool Before(const std::vector<Value>& a, const std::vector<Value>& b) const {
        for (const auto& k : plan_.sort_keys) {
            const Value& x = a[k.slot];
            const Value& y = b[k.slot];
            if (x.is_null() || y.is_null()) {
                if (x.is_null() && y.is_null()) continue;
                return x.is_null() == k.nulls_first;
            }
            int c = CompareValues(x, y);
            if (c != 0) return k.descending ? c > 0 : c < 0;
        }
        return false;
    }

    // ORDER BY ... LIMIT n: a heap of the best n rows so far (ties keep input order, as the
    // stable sort does), so memory and time grow with n, not with the input.
    void OpenTopN(ExecContext& ctx, size_t n) {
        if (n == 0) return;
        struct Item {
            std::vector<Value> row;
            uint64_t seq;
        };
        auto worse = [&](const Item& a, const Item& b) {  // max-heap on "sorts later"
            if (Before(a.row, b.row)) return true;
            if (Before(b.row, a.row)) return false;
            return a.seq < b.seq;
        };
        std::vector<Item> heap;
        Item item;
        // Once the heap is full, rows whose first key sorts after the worst kept row's cannot
        // enter it: the scan below skips them.
        const sql::SortKey first = plan_.sort_keys.empty() ? sql::SortKey{0} : plan_.sort_keys[0];
        ScanBound* bound = plan_.sort_keys.empty() ? nullptr : child_->BoundColumn(static_cast<size_t>(first.slot));
        for (uint64_t seq = 0; child_->Next(ctx, &item.row); ++seq) {
            item.seq = seq;
            if (heap.size() < n) {
                heap.push_back(item);
                std::push_heap(heap.begin(), heap.end(), worse);
            } else if (worse(item, heap.front())) {
                std::pop_heap(heap.begin(), heap.end(), worse);
                heap.back() = item;
                std::push_heap(heap.begin(), heap.end(), worse);
            } else {
                continue;
            }
            if (bound && heap.size() == n)
                bound->Set(heap.front().row[first.slot], first.descending, first.nulls_first);
        }
        std::sort_heap(heap.begin(), heap.end(), worse);
        rows_.reserve(heap.size());
        for (auto& h : heap) rows_.push_back(std::move(h.row));
    }

  public:
    void Trim() override {
        MaterializedOp::Trim();
        child_->Trim();
    }

  private:
    std::unique_ptr<Operator> child_;
    int64_t budget_ = -1;
};

class LimitOp : public Operator {
  public:
    LimitOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), child_(BuildOperator(*plan.children[0], tables)) {
        width_ = child_->width();
    }
    void LimitColumns(const std::vector<bool>& used) override { child_->LimitColumns(used); }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        auto count = [&](const sql::BoundExprPtr& e, const char* what) -> int64_t {
            Value v = Eval(*e, context, ctx);
            if (v.is_null()) return -1;
            if (!IsIntegral(v.type()))
                ThrowSqlError(ErrorCode::kInvalidParameter, std::string(what) + " must be an integer");
            if (v.AsInt() < 0) {
                ThrowSqlError(ErrorCode::kInvalidParameter,
                              std::string(what) + " must not be negative, got " + std::to_string(v.AsInt()));
            }
            return v.AsInt();
        };
        limit_ = plan_.limit ? count(plan_.limit, "LIMIT") : -1;
        skip_ = plan_.offset ? std::max<int64_t>(count(plan_.offset, "OFFSET"), 0) : 0;
        produced_ = 0;
        child_->SetRowBudget(limit_ < 0 || skip_ > INT64_MAX - limit_ ? -1 : limit_ + skip_);
        child_->Open(ctx, context);
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        if (limit_ >= 0 && produced_ >= limit_) return false;
        while (skip_ > 0) {
            if (!child_->Next(ctx, row)) return false;
            --skip_;
        }
        if (!child_->Next(ctx, row)) return false;
        ++produced_;
        return true;
    }

  public:
    void Trim() override { child_->Trim(); }

  private:
    std::unique_ptr<Operator> child_;
    int64_t limit_ = -1, skip_ = 0, produced_ = 0;
};

class DistinctOp : public Operator {
  public:
    DistinctOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), child_(BuildOperator(*plan.children[0], tables)), seen_(16, RowHash{0}, RowEq{0}) {
        width_ = child_->width();
        visible_ = plan.visible_columns ? plan.visible_columns : plan.output.size();
        seen_ = RowSet(16, RowHash{visible_}, RowEq{visible_});
    }
    void LimitColumns(const std::vector<bool>& used) override {
        std::vector<bool> need = used;
        need.resize(width_, true);
        for (size_t i = 0; i < visible_ && i < width_; ++i) need[i] = true;
        child_->LimitColumns(need);
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        seen_.clear();
        child_->Open(ctx, context);
    }
    bool Next(ExecContext& ctx, std::vector<Value>* row) override {
        while (child_->Next(ctx, row)) {
            if (seen_.insert(*row).second) return true;
        }
        return false;
    }

  public:
    void Trim() override {
        child_->Trim();
        TrimHashed(seen_);
    }

  private:
    std::unique_ptr<Operator> child_;
    size_t visible_;
    RowSet seen_;
};

class SetOpOp : public MaterializedOp {
  public:
    SetOpOp(const PlanNode& plan, TableResolver& tables)
        : MaterializedOp(plan),
          left_(BuildOperator(*plan.children[0], tables)),
          right_(BuildOperator(*plan.children[1], tables)) {}
    void Open(ExecContext& ctx, const EvalRow& context) override {
        rows_.clear();
        pos_ = 0;
        const size_t n = width_;
        std::vector<Value> row;
        left_->Open(ctx, context);
        right_->Open(ctx, context);
        auto trim = [&](std::vector<Value>& r) { r.resize(n); };
        switch (plan_.set_op) {
            case sql::SetOp::kUnionAll:
                while (left_->Next(ctx, &row)) rows_.push_back((trim(row), row));
                while (right_->Next(ctx, &row)) rows_.push_back((trim(row), row));
                break;
            case sql::SetOp::kUnion: {
                RowSet seen(16, RowHash{n}, RowEq{n});
                while (left_->Next(ctx, &row)) {
                    trim(row);
                    if (seen.insert(row).second) rows_.push_back(row);
                }
                while (right_->Next(ctx, &row)) {
                    trim(row);
                    if (seen.insert(row).second) rows_.push_back(row);
                }
                break;
            }
            default: {
                RowSet right(16, RowHash{n}, RowEq{n}), emitted(16, RowHash{n}, RowEq{n});
                while (right_->Next(ctx, &row)) right.insert((trim(row), row));
                const bool intersect = plan_.set_op == sql::SetOp::kIntersect;
                while (left_->Next(ctx, &row)) {
                    trim(row);
                    if ((right.count(row) > 0) == intersect && emitted.insert(row).second) rows_.push_back(row);
                }
                break;
            }
        }
    }

    void Trim() override {
        MaterializedOp::Trim();
        left_->Trim();
        right_->Trim();
    }

  private:
    std::unique_ptr<Operator> left_, right_;
};

}  // namespace

namespace {
constexpr size_t kDefaultTrimThreshold = size_t{64} << 20;
std::atomic<size_t> g_trim_threshold{kDefaultTrimThreshold};
}  // namespace

size_t TrimThreshold() { return g_trim_threshold.load(std::memory_order_relaxed); }
void SetTrimThreshold(size_t bytes) {
    g_trim_threshold.store(bytes == 0 ? kDefaultTrimThreshold : bytes, std::memory_order_relaxed);
}

std::unique_ptr<Operator> BuildOperator(const PlanNode& plan, TableResolver& tables) {
    switch (plan.kind) {
        case PlanKind::kSeqScan:
            return std::make_unique<SeqScanOp>(plan, tables);
        case PlanKind::kIndexScan:
            return std::make_unique<IndexScanOp>(plan, tables);
        case PlanKind::kOneRow:
            return std::make_unique<OneRowOp>(plan);
        case PlanKind::kFilter:
            return std::make_unique<FilterOp>(plan, tables);
        case PlanKind::kProject:
            return std::make_unique<ProjectOp>(plan, tables);
        case PlanKind::kNestedLoopJoin:
            return std::make_unique<NestedLoopJoinOp>(plan, tables);
        case PlanKind::kHashJoin:
            return std::make_unique<HashJoinOp>(plan, tables);
        case PlanKind::kAggregate:
            return std::make_unique<AggregateOp>(plan, tables);
        case PlanKind::kSort:
            return std::make_unique<SortOp>(plan, tables);
        case PlanKind::kLimit:
            return std::make_unique<LimitOp>(plan, tables);
        case PlanKind::kDistinct:
            return std::make_unique<DistinctOp>(plan, tables);
        case PlanKind::kSetOp:
            return std::make_unique<SetOpOp>(plan, tables);
        case PlanKind::kWindow:
            return MakeWindowOp(plan, tables);
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "BuildOperator: not a query plan node");
}

bool ToKeyValue(const Value& v, TypeId t, int mode, Value* out, int* out_of_range) {
    *out_of_range = 0;
    if (IsIntegral(t) || t == TypeId::kTimestamp) {
        int64_t lo = t == TypeId::kTimestamp ? INT64_MIN : IntegralMin(t);
        int64_t hi = t == TypeId::kTimestamp ? INT64_MAX : IntegralMax(t);
        if (t == TypeId::kTimestamp && v.type() == TypeId::kVarchar) {
            out->SetInt(t, ParseTimestamp(v.AsString()));
            return true;
        }
        if (IsIntegral(v.type()) || v.type() == TypeId::kTimestamp) {
            int64_t x = v.AsInt();
            if (x < lo) return *out_of_range = -1, false;
            if (x > hi) return *out_of_range = 1, false;
            out->SetInt(t, x);
            return true;
        }
        if (!IsNumeric(v.type()))
            ThrowSqlError(ErrorCode::kTypeMismatch, "cannot compare " + std::string(TypeIdName(v.type())) + " with " +
                                                        std::string(TypeIdName(t)));
        double d = v.ToDouble();
        double r = mode == 0 ? d : (mode > 0 ? std::ceil(d) : std::floor(d));
        if (std::isnan(d)) return false;
        if (r < static_cast<double>(lo)) return *out_of_range = -1, false;
        if (r >= static_cast<double>(hi)) {
            if (r > static_cast<double>(hi) || r >= 9.2233720368547758e18) return *out_of_range = 1, false;
        }
        int64_t x = static_cast<int64_t>(r);
        if (mode == 0) {
            // Exact only if the value is integral (DECIMAL compared exactly).
            Value back =
                v.type() == TypeId::kDecimal ? Value::Dec(Decimal::FromInt(x)) : Value::Float(static_cast<double>(x));
            if (CompareValues(back, v) != 0) return false;
        }
        out->SetInt(t, x);
        return true;
    }
    if (t == TypeId::kFloat) {
        if (!IsNumeric(v.type()))
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          "cannot compare " + std::string(TypeIdName(v.type())) + " with FLOAT");
        *out = Value::Float(v.ToDouble());
        if (mode == 0 && CompareValues(*out, v) != 0) return false;
        return true;
    }
    if (t == TypeId::kDecimal) {
        if (!IsNumeric(v.type()))
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          "cannot compare " + std::string(TypeIdName(v.type())) + " with DECIMAL");
        try {
            *out = CastValue(v, SqlType::Of(TypeId::kDecimal));
        } catch (const SqlError&) {
            *out_of_range = v.ToDouble() < 0 ? -1 : 1;
            return false;
        }
        if (mode == 0 && CompareValues(*out, v) != 0) return false;
        return true;
    }
    if (v.type() != t) {
        ThrowSqlError(ErrorCode::kTypeMismatch,
                      "cannot compare " + std::string(TypeIdName(v.type())) + " with " + std::string(TypeIdName(t)));
    }
    *out = v;
    return true;
}

}  // namespace surge::exec
