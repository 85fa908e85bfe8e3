// Plan operators: a pull-based (Volcano) tree built once per prepared statement and re-opened per
// execution, so a warm execution reuses every row buffer.
#pragma once

#include <memory>
#include <vector>

#include "exec/eval.h"
#include "exec/scan_filter.h"
#include "sql/plan.h"
#include "storage/table.h"

namespace surge::exec {

class Operator {
  public:
    explicit Operator(const sql::PlanNode& plan) : plan_(plan), width_(plan.output.size()) {}
    virtual ~Operator() = default;

    /// Starts (or restarts) the operator. context: the row key expressions read (the left side of
    /// a join), whose outer chain is the enclosing query block's row.
    virtual void Open(ExecContext& ctx, const EvalRow& context) = 0;
    /// Produces the next row into *row (resized to width()); false at the end.
    virtual bool Next(ExecContext& ctx, std::vector<Value>* row) = 0;
    /// Called before Open by a parent that will read at most rows rows (LIMIT + OFFSET); a sort
    /// then keeps only that many. Negative: no bound.
    virtual void SetRowBudget(int64_t rows) {}
    /// Called after construction by a parent that reads only the columns marked in used (one
    /// entry per column of this operator's rows): the others may then hold any value, and a scan
    /// does not decode them. A later call replaces an earlier one. Default: every column is made.
    virtual void LimitColumns(const std::vector<bool>& used) {}
    /// A bound on column slot of this operator's rows that the caller moves as it learns which
    /// rows cannot be in its answer (ORDER BY ... LIMIT), so that they are skipped early; nullptr
    /// when this operator cannot skip rows by that column. Valid until the next Open, which
    /// clears it.
    virtual ScanBound* BoundColumn(size_t slot) { return nullptr; }
    /// After a statement has run (or failed): gives back buffers larger than TrimThreshold()
    /// bytes (materialized and sorted rows, hash tables, window inputs), then
    /// the children's, so a cached plan that once ran over millions of rows does not keep their
    /// memory. Smaller ones are kept: the next run reuses them without allocating or faulting in
    /// pages.
    virtual void Trim() {}
    /// The tuple behind the last row, for scans (UPDATE and DELETE targets); else nullptr.
    virtual storage::TuplePtr current_tuple() const { return nullptr; }
    /// Which of the scanned TableSet's tables current_tuple() lives in.
    virtual size_t current_part() const { return 0; }

    size_t width() const { return width_; }
    const sql::PlanNode& plan() const { return plan_; }

  protected:
    const sql::PlanNode& plan_;
    size_t width_;
};

/// Operator::Trim frees buffers larger than this many bytes (their capacity times the element
/// size): by default 64 MiB, so a cached plan keeps what runs of a million or two rows need (a
/// warm run then neither allocates nor faults in pages) and gives back the memory of larger ones.
/// 0 restores the default (tests lower it).
size_t TrimThreshold();
void SetTrimThreshold(size_t bytes);
/// Frees a vector's memory (and elements) when its capacity exceeds TrimThreshold() bytes.
template <class V>
void TrimVector(V& v) {
    if (v.capacity() * sizeof(typename V::value_type) > TrimThreshold()) V().swap(v);
}
/// The same for a std::unordered_map/set (buckets plus elements, approximately; keeping its
/// hasher and equality).
template <class H>
void TrimHashed(H& h) {
    const size_t bytes = h.bucket_count() * sizeof(void*) + h.size() * sizeof(typename H::value_type);
    if (bytes > TrimThreshold()) H(0, h.hash_function(), h.key_eq()).swap(h);
}

/// Builds the operator tree of a query plan (not DML nodes).
std::unique_ptr<Operator> BuildOperator(const sql::PlanNode& plan, TableResolver& tables);

/// Converts v to an index key part of type t. mode: 0 exact (false if not representable),
/// -1 round down, +1 round up (for range bounds). Sets *out_of_range to -1/+1 when v lies
/// below/above the type's range (returns false then).
bool ToKeyValue(const Value& v, TypeId t, int mode, Value* out, int* out_of_range);

}  // namespace surge::exec
