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

template <typename T>
bool Compare(T x, T y, uint8_t cmp) {
    switch (cmp) {
        case 0:
            return x == y;
        case 1:
            return x != y;
        case 2:
            return x < y;
        case 3:
            return x <= y;
        case 4:
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
    auto fixed = [&](const BoundExpr& c) {
        if (!IsOwnColumn(c) || static_cast<size_t>(c.index) >= layout_.column_count()) return false;
        switch (layout_.type(c.index)) {
            case TypeId::kTinyInt:
            case TypeId::kSmallInt:
            case TypeId::kInteger:
            case TypeId::kBigInt:
            case TypeId::kTimestamp:
            case TypeId::kFloat:
                return true;
            default:
                return false;
        }
    };
    if (e->kind == BoundKind::kIsNull && e->children.size() == 1 && IsOwnColumn(*e->children[0]) &&
        static_cast<size_t>(e->children[0]->index) < layout_.column_count()) {
        candidates_.push_back({e, e->children[0]->index, e->negated ? Cmp::kIsNotNull : Cmp::kIsNull, nullptr});
        return;
    }
    if (e->kind == BoundKind::kBinary && e->children.size() == 2) {
        BinaryOp op = e->binary_op;
        const BoundExpr* col = e->children[0].get();
        const BoundExpr* val = e->children[1].get();
        if (!fixed(*col) && fixed(*val) && IsValue(*col)) {
            std::swap(col, val);
            op = Mirror(op);
        }
        if (fixed(*col) && IsValue(*val)) {
            int cmp = -1;
            switch (op) {
                case BinaryOp::kEq:
                    cmp = 0;
                    break;
                case BinaryOp::kNe:
                    cmp = 1;
                    break;
                case BinaryOp::kLt:
                    cmp = 2;
                    break;
                case BinaryOp::kLe:
                    cmp = 3;
                    break;
                case BinaryOp::kGt:
                    cmp = 4;
                    break;
                case BinaryOp::kGe:
                    cmp = 5;
                    break;
                default:
                    break;
            }
            if (cmp >= 0) {
                candidates_.push_back({e, col->index, static_cast<Cmp>(cmp), val});
                return;
            }
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
    const auto c = static_cast<uint8_t>(cmp);
    switch (load) {
        case Load::kI8: {
            int8_t x;
            std::memcpy(&x, p, 1);
            return Compare<int64_t>(x, i, c);
        }
        case Load::kI16: {
            int16_t x;
            std::memcpy(&x, p, 2);
            return Compare<int64_t>(x, i, c);
        }
        case Load::kI32: {
            int32_t x;
            std::memcpy(&x, p, 4);
            return Compare<int64_t>(x, i, c);
        }
        case Load::kI64: {
            int64_t x;
            std::memcpy(&x, p, 8);
            return Compare<int64_t>(x, i, c);
        }
        case Load::kF64: {
            double x;
            std::memcpy(&x, p, 8);
            // A NaN in the column sorts above every number and equals only NaN (CompareDoubles);
            // the constant is never NaN here.
            if (std::isnan(x)) return cmp == Cmp::kNe || cmp == Cmp::kGt || cmp == Cmp::kGe;
            return Compare<double>(x, d, c);
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
