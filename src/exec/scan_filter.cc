#include "exec/scan_filter.h"

#include <cmath>
#include <cstring>

#include "types/value_ops.h"

namespace surge::exec {

using sql::BinaryOp;
using sql::BoundExpr;
using sql::BoundKind;

bool MarkColumns(const BoundExpr& e, std::vector<bool>* used) {
    switch (e.kind) {
        case BoundKind::kColumn:
            if (e.depth == 0 && e.index >= 0 && static_cast<size_t>(e.index) < used->size()) (*used)[e.index] = true;
            return true;
        case BoundKind::kScalarSubquery:
        case BoundKind::kExists:
        case BoundKind::kInSubquery:
            if (e.subquery_correlated) return false;
            break;
        default:
            break;
    }
    for (const auto& c : e.children) {
        if (c && !MarkColumns(*c, used)) return false;
    }
    return true;
}

namespace {

bool IsValue(const BoundExpr& e) { return e.kind == BoundKind::kConstant || e.kind == BoundKind::kParam; }

bool IsOwnColumn(const BoundExpr& e) { return e.kind == BoundKind::kColumn && e.depth == 0; }

BinaryOp Mirror(BinaryOp op) {  // a op b  ==  b Mirror(op) a
    switch (op) {
        case BinaryOp::kLt:
            return BinaryOp::kGt;
        case BinaryOp::kLe:
            return BinaryOp::kGe;
        case BinaryOp::kGt:
            return BinaryOp::kLt;
        case BinaryOp::kGe:
            return BinaryOp::kLe;
        default:
            return op;
    }
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEq && op <= BinaryOp::kGe; }

// Cmp's first six values are BinaryOp's kEq..kGe, in the same order.
TupleTest::Cmp ToCmp(BinaryOp op) {
    return static_cast<TupleTest::Cmp>(static_cast<int>(op) - static_cast<int>(BinaryOp::kEq));
}
static_assert(static_cast<int>(BinaryOp::kGe) - static_cast<int>(BinaryOp::kEq) ==
              static_cast<int>(TupleTest::Cmp::kGe));

template <typename T>
T LoadSlot(const char* p) {
    T x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

template <typename T>
bool Compare(T x, T y, TupleTest::Cmp cmp) {
    using Cmp = TupleTest::Cmp;
    switch (cmp) {
        case Cmp::kEq:
            return x == y;
        case Cmp::kNe:
            return x != y;
        case Cmp::kLt:
            return x < y;
        case Cmp::kLe:
            return x <= y;
        case Cmp::kGt:
            return x > y;
        default:
            return x >= y;
    }
}

}  // namespace

TupleFilter::TupleFilter(const BoundExpr* filter, const storage::TupleLayout& layout) : layout_(layout) {
    if (filter) Split(filter);
    for (const Candidate& c : candidates_) {
        if (c.value && c.value->kind == BoundKind::kParam) depends_on_params_ = true;
    }
}

void TupleFilter::Split(const BoundExpr* e) {
    if (e->kind == BoundKind::kBinary && e->binary_op == BinaryOp::kAnd) {
        Split(e->children[0].get());
        Split(e->children[1].get());
        return;
    }
    // A column of this row that a TupleTest can read (fixed-width numeric).
    auto fixed = [&](const BoundExpr& c) {
        TupleTest probe;
        return IsOwnColumn(c) && probe.Attach(layout_, c.index);
    };
    if (e->kind == BoundKind::kIsNull && e->children.size() == 1 && IsOwnColumn(*e->children[0]) &&
        static_cast<size_t>(e->children[0]->index) < layout_.column_count()) {
        candidates_.push_back({e, e->children[0]->index, e->negated ? Cmp::kIsNotNull : Cmp::kIsNull, nullptr});
        return;
    }
    if (e->kind == BoundKind::kBinary && e->children.size() == 2 && IsComparison(e->binary_op)) {
        BinaryOp op = e->binary_op;
        const BoundExpr* col = e->children[0].get();
        const BoundExpr* val = e->children[1].get();
        if (!fixed(*col) && fixed(*val) && IsValue(*col)) {
            std::swap(col, val);
            op = Mirror(op);
        }
        if (fixed(*col) && IsValue(*val)) {
            candidates_.push_back({e, col->index, ToCmp(op), val});
            return;
        }
    }
    others_.push_back(e);
}

bool TupleFilter::Open(ExecContext& ctx) {
    if (opened_ && !depends_on_params_) return !never_;
    opened_ = true;
    never_ = false;
    tests_.clear();
    residual_.clear();
    for (const Candidate& c : candidates_) {
        TupleTest t;
        if (!c.value) {
            if (!Compile(c, Value(), &t))
                residual_.push_back(c.expr);
            else
                tests_.push_back(t);
            continue;
        }
        const Value& v = c.value->kind == BoundKind::kConstant ? c.value->constant : ctx.params[c.value->index];
        if (v.is_null()) {  // a comparison with NULL is never true
            never_ = true;
            return false;
        }
        if (Compile(c, v, &t))
            tests_.push_back(t);
        else
            residual_.push_back(c.expr);
    }
    residual_.insert(residual_.end(), others_.begin(), others_.end());
    return true;
}

bool TupleFilter::Compile(const Candidate& c, const Value& v, TupleTest* out) const {
    if (!out->Attach(layout_, c.column)) return false;
    out->cmp = c.cmp;
    if (c.cmp == Cmp::kIsNull || c.cmp == Cmp::kIsNotNull) return true;
    return out->SetConstant(v);
}

bool TupleTest::Attach(const storage::TupleLayout& layout, int col) {
    if (col < 0 || static_cast<size_t>(col) >= layout.column_count()) return false;
    offset = layout.offset(col);
    null_byte = 1 + static_cast<uint32_t>(col) / 8;
    null_mask = static_cast<uint8_t>(1u << (col % 8));
    switch (layout.type(col)) {
        case TypeId::kTinyInt:
            load = Load::kI8;
            return true;
        case TypeId::kSmallInt:
            load = Load::kI16;
            return true;
        case TypeId::kInteger:
            load = Load::kI32;
            return true;
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            load = Load::kI64;
            return true;
        case TypeId::kFloat:
            load = Load::kF64;
            return true;
        default:
            return false;
    }
}

bool TupleTest::SetConstant(const Value& v) {
    // The comparisons CompareValues makes that are one machine compare.
    if (v.is_null()) return false;
    const TypeId vt = v.type();
    if (load == Load::kF64) {
        if (vt != TypeId::kFloat || std::isnan(v.AsDouble())) return false;
        d = v.AsDouble();
        return true;
    }
    if (!IsIntegral(vt) && vt != TypeId::kTimestamp) return false;
    i = v.AsInt();
    return true;
}

bool TupleTest::Run(const char* t) const {
    const bool null = (static_cast<uint8_t>(t[null_byte]) & null_mask) != 0;
    if (cmp == Cmp::kIsNull) return null;
    if (null) return null_passes;
    if (cmp == Cmp::kIsNotNull) return true;
    const char* p = t + offset;
    switch (load) {
        case Load::kI8:
            return Compare<int64_t>(LoadSlot<int8_t>(p), i, cmp);
        case Load::kI16:
            return Compare<int64_t>(LoadSlot<int16_t>(p), i, cmp);
        case Load::kI32:
            return Compare<int64_t>(LoadSlot<int32_t>(p), i, cmp);
        case Load::kI64:
            return Compare<int64_t>(LoadSlot<int64_t>(p), i, cmp);
        case Load::kF64: {
            const double x = LoadSlot<double>(p);
            // A NaN in the column sorts above every number and equals only NaN (CompareDoubles);
            // the constant is never NaN here.
            if (std::isnan(x)) return cmp == Cmp::kNe || cmp == Cmp::kGt || cmp == Cmp::kGe;
            return Compare<double>(x, d, cmp);
        }
    }
    return false;
}

void ScanBound::Set(const Value& worst, bool descending, bool nulls_first) {
    active_ = test_.SetConstant(worst);
    test_.cmp = descending ? TupleTest::Cmp::kGe : TupleTest::Cmp::kLe;
    test_.null_passes = nulls_first;  // a NULL sorts before the worst row's value
}

}  // namespace surge::exec
