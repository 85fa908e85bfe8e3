// Fast paths of table scans: which columns a plan node reads, and scan predicates compiled to
// tests on a tuple's bytes.
//
// A scan normally decodes every column of a row into Values and then evaluates its residual
// filter as an expression tree. Most filters of analytic and dashboard queries are a conjunction
// of `column <op> constant` terms on fixed-width columns; TupleFilter tests those directly on the
// stored tuple (a load and a compare), so rows they reject are never decoded. Operators that know
// which of their input's columns they read tell their child (Operator::LimitColumns), and the scan
// decodes only those.
#pragma once

#include <vector>

#include "exec/eval.h"
#include "storage/tuple.h"

namespace surge::exec {

/// Marks in *used (indexed by slot) the columns of its own row (depth 0) that e reads. Returns
/// false when that cannot be known from e alone: e holds a correlated subquery, which may read
/// any column of the row through its outer chain. Slots outside *used are ignored.
bool MarkColumns(const sql::BoundExpr& e, std::vector<bool>* used);

/// One test on a fixed-width column of a stored tuple: column <cmp> constant, or IS [NOT] NULL.
struct TupleTest {
    enum class Load : uint8_t { kI8, kI16, kI32, kI64, kF64 };
    enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIsNull, kIsNotNull };

    uint32_t offset = 0;
    uint32_t null_byte = 0;
    uint8_t null_mask = 0;
    Load load = Load::kI64;
    Cmp cmp = Cmp::kEq;
    bool null_passes = false;  ///< what a NULL gives a comparison (false: SQL's unknown rejects)
    int64_t i = 0;
    double d = 0;

    /// Points the test at column col of layout; false if the column is not fixed-width numeric
    /// (TINYINT..BIGINT, TIMESTAMP, FLOAT).
    bool Attach(const storage::TupleLayout& layout, int col);
    /// Sets the constant for the attached column: false if v's type does not allow one machine
    /// compare with the same result CompareValues gives (then the test must not be used).
    bool SetConstant(const Value& v);
    bool Run(const char* t) const;
};

/// A bound on one column that a parent moves while a scan runs: ORDER BY ... LIMIT n knows,
/// once it holds n rows, that a row whose first sort key sorts after its worst row's cannot be in
/// the answer, and the scan skips such rows without decoding them.
class ScanBound {
  public:
    /// False if the column cannot carry a bound (not fixed-width numeric).
    bool Attach(const storage::TupleLayout& layout, int col) { return test_.Attach(layout, col); }
    /// Rows pass when their value sorts no later than worst's (ties pass); inactive if worst is
    /// NULL or NaN or of a type the column does not compare with in one instruction.
    void Set(const Value& worst, bool descending, bool nulls_first);
    void Clear() { active_ = false; }
    bool Pass(const char* t) const { return !active_ || test_.Run(t); }

  private:
    TupleTest test_;
    bool active_ = false;
};

/// A scan's residual filter split into tests on tuple bytes and the conjuncts that remain
/// expressions. Built once per operator; Open binds parameter values, since whether a term can be
/// tested on the tuple depends on its value's type.
class TupleFilter {
  public:
    /// filter: the scan's residual (may be null); layout: the scanned tables' tuple layout.
    TupleFilter(const sql::BoundExpr* filter, const storage::TupleLayout& layout);

    /// Binds the candidate terms to this execution's parameters. False when some conjunct can
    /// never be true (a comparison with NULL): the scan produces nothing.
    bool Open(ExecContext& ctx);

    /// Whether a live tuple passes every compiled test.
    bool Pass(const char* t) const {
        for (const TupleTest& x : tests_) {
            if (!x.Run(t)) return false;
        }
        return true;
    }
    /// The conjuncts Open could not compile, to evaluate over the decoded row.
    const std::vector<const sql::BoundExpr*>& residual() const { return residual_; }
    /// Whether Open's result depends on parameter values (else it is the same every time).
    bool depends_on_params() const { return depends_on_params_; }

  private:
    using Cmp = TupleTest::Cmp;

    /// A conjunct that may compile: column <cmp> value, or column IS [NOT] NULL.
    struct Candidate {
        const sql::BoundExpr* expr;  ///< the whole conjunct
        int column;
        Cmp cmp;
        const sql::BoundExpr* value;  ///< constant or parameter; null for IS [NOT] NULL
    };

    void Split(const sql::BoundExpr* e);
    /// Compiles c against value v; false if v's type does not allow a test on the tuple.
    bool Compile(const Candidate& c, const Value& v, TupleTest* out) const;

    const storage::TupleLayout& layout_;
    std::vector<Candidate> candidates_;
    std::vector<const sql::BoundExpr*> others_;  ///< conjuncts that never compile
    std::vector<TupleTest> tests_;
    std::vector<const sql::BoundExpr*> residual_;
    bool depends_on_params_ = false;
    bool opened_ = false;
    bool never_ = false;  ///< a constant made a conjunct never true
};

}  // namespace surge::exec
