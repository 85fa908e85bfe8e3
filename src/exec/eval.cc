// The expression interpreter: a switch over bound expression kinds. SQL's three-valued logic
// throughout: NULL propagates through operators, AND/OR follow Kleene logic.
#include "exec/eval.h"

#include <algorithm>
#include <cctype>

#include "common/status.h"
#include "exec/functions.h"
#include "exec/operators.h"
#include "types/value_ops.h"

namespace surge::exec {

using sql::BinaryOp;
using sql::BoundExpr;
using sql::BoundKind;
using sql::ScalarFunc;
using sql::UnaryOp;

namespace {

const Value& ColumnValue(const BoundExpr& e, const EvalRow& row) {
    const EvalRow* r = &row;
    for (int d = 0; d < e.depth; ++d) r = r->outer;
    return r->values[e.index];
}

/// -1 false, 0 unknown, +1 true.
int Truth(const Value& v) {
    if (v.is_null()) return 0;
    return v.AsBool() ? 1 : -1;
}

Value FromTruth(int t) { return t == 0 ? Value::Null(TypeId::kBoolean) : Value::Bool(t > 0); }

Value Compare(BinaryOp op, const Value& a, const Value& b) {
    if (a.is_null() || b.is_null()) return Value::Null(TypeId::kBoolean);
    int c = CompareValues(a, b);
    switch (op) {
        case BinaryOp::kEq:
            return Value::Bool(c == 0);
        case BinaryOp::kNe:
            return Value::Bool(c != 0);
        case BinaryOp::kLt:
            return Value::Bool(c < 0);
        case BinaryOp::kLe:
            return Value::Bool(c <= 0);
        case BinaryOp::kGt:
            return Value::Bool(c > 0);
        case BinaryOp::kGe:
            return Value::Bool(c >= 0);
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "not a comparison");
}

ExecContext::SubqueryState& Subquery(const BoundExpr& e, ExecContext& ctx) {
    auto& st = (*ctx.subqueries)[e.subquery.get()];
    if (!st.op) st.op = BuildOperator(*e.subquery, *ctx.tables);
    return st;
}

/// Runs an uncorrelated subquery once per execution, caching its first column.
const std::vector<Value>& CachedColumn(const BoundExpr& e, const EvalRow& row, ExecContext& ctx, bool* has_null) {
    auto& st = Subquery(e, ctx);
    if (st.cached_execution != ctx.execution) {
        st.cached.clear();
        st.cached_has_null = false;
        st.op->Open(ctx, EvalRow{nullptr, &row});
        while (st.op->Next(ctx, &st.row)) {
            if (st.row[0].is_null()) st.cached_has_null = true;
            st.cached.push_back(st.row[0]);
            if (e.kind == BoundKind::kExists) break;
        }
        st.cached_execution = ctx.execution;
    }
    *has_null = st.cached_has_null;
    return st.cached;
}

Value EvalSubquery(const BoundExpr& e, const EvalRow& row, ExecContext& ctx) {
    if (!e.subquery_correlated) {
        bool has_null = false;
        const auto& col = CachedColumn(e, row, ctx, &has_null);
        switch (e.kind) {
            case BoundKind::kExists:
                return Value::Bool(!col.empty() != e.negated);
            case BoundKind::kScalarSubquery:
                if (col.size() > 1) {
                    ThrowSqlError(ErrorCode::kConstraintViolation, "scalar subquery returned more than one row");
                }
                return col.empty() ? Value::Null(e.type.id) : col[0];
            default:
                break;
        }
        Value x = Eval(*e.children[0], row, ctx);
        if (col.empty()) return Value::Bool(e.negated);
        if (x.is_null()) return Value::Null(TypeId::kBoolean);
        for (const Value& v : col) {
            if (!v.is_null() && CompareValues(x, v) == 0) return Value::Bool(!e.negated);
        }
        return has_null ? Value::Null(TypeId::kBoolean) : Value::Bool(e.negated);
    }
    // Correlated: re-run against this row.
    auto& st = Subquery(e, ctx);
    st.op->Open(ctx, EvalRow{nullptr, &row});
    switch (e.kind) {
        case BoundKind::kExists:
            return Value::Bool(st.op->Next(ctx, &st.row) != e.negated);
        case BoundKind::kScalarSubquery: {
            if (!st.op->Next(ctx, &st.row)) return Value::Null(e.type.id);
            Value v = st.row[0];
            if (st.op->Next(ctx, &st.row)) {
                ThrowSqlError(ErrorCode::kConstraintViolation, "scalar subquery returned more than one row");
            }
            return v;
        }
        default:
            break;
    }
    Value x = Eval(*e.children[0], row, ctx);
    bool any = false, saw_null = false;
    while (st.op->Next(ctx, &st.row)) {
        any = true;
        if (x.is_null()) continue;
        if (st.row[0].is_null()) {
            saw_null = true;
        } else if (CompareValues(x, st.row[0]) == 0) {
            return Value::Bool(!e.negated);
        }
    }
    if (!any) return Value::Bool(e.negated);
    if (x.is_null() || saw_null) return Value::Null(TypeId::kBoolean);
    return Value::Bool(e.negated);
}

Value EvalFunction(const BoundExpr& e, const EvalRow& row, ExecContext& ctx) {
    if (e.func == ScalarFunc::kNow) return Value::Timestamp(ctx.now_micros);
    if (e.func == ScalarFunc::kCoalesce) {
        for (const auto& c : e.children) {
            Value v = Eval(*c, row, ctx);
            if (!v.is_null()) return v;
        }
        return Value::Null(e.type.id);
    }
    if (e.func == ScalarFunc::kConcat) {
        Value acc = Value::Varchar("");
        for (const auto& c : e.children) {
            Value v = Eval(*c, row, ctx);
            if (v.is_null()) continue;  // CONCAT() skips NULLs, unlike ||
            acc = Concat(acc, v);
        }
        return acc;
    }
    if (IsLibraryFunction(e.func)) {
        // Strict: NULL in, NULL out.
        Value args[4];
        const size_t n = std::min<size_t>(e.children.size(), 4);
        for (size_t i = 0; i < n; ++i) {
            args[i] = Eval(*e.children[i], row, ctx);
            if (args[i].is_null()) return Value::Null(e.type.id);
        }
        return EvalLibraryFunction(e, std::span<const Value>(args, n));
    }
    Value a = Eval(*e.children[0], row, ctx);
    switch (e.func) {
        case ScalarFunc::kAbs: {
            if (a.is_null()) return Value::Null(e.type.id);
            if (IsIntegral(a.type())) {
                if (a.AsInt() == INT64_MIN) ThrowSqlError(ErrorCode::kNumericOutOfRange, "BIGINT overflow in ABS");
                return Value::BigInt(a.AsInt() < 0 ? -a.AsInt() : a.AsInt());
            }
            if (a.type() == TypeId::kFloat) return Value::Float(a.AsDouble() < 0 ? -a.AsDouble() : a.AsDouble());
            return a.AsDecimal() < Decimal() ? Negate(a) : a;
        }
        case ScalarFunc::kNullIf: {
            Value b = Eval(*e.children[1], row, ctx);
            if (!a.is_null() && !b.is_null() && CompareValues(a, b) == 0) return Value::Null(e.type.id);
            return a;
        }
        case ScalarFunc::kLower:
        case ScalarFunc::kUpper: {
            if (a.is_null()) return a;
            std::string s(a.AsString());
            for (auto& c : s) {
                c = static_cast<char>(e.func == ScalarFunc::kLower ? std::tolower(static_cast<unsigned char>(c))
                                                                   : std::toupper(static_cast<unsigned char>(c)));
            }
            return Value::Varchar(s);
        }
        case ScalarFunc::kCharLength:
            if (a.is_null()) return Value::Null(TypeId::kBigInt);
            return Value::BigInt(static_cast<int64_t>(Utf8Length(a.AsString())));
        case ScalarFunc::kSubstring: {
            Value start = Eval(*e.children[1], row, ctx);
            Value len = e.children.size() > 2 ? Eval(*e.children[2], row, ctx) : Value();
            if (a.is_null() || start.is_null() || (e.children.size() > 2 && len.is_null())) {
                return Value::Null(TypeId::kVarchar);
            }
            // 1-based character positions over UTF-8 text.
            std::string_view s = a.AsString();
            int64_t from = start.AsInt();
            int64_t count = e.children.size() > 2 ? len.AsInt() : INT64_MAX;
            if (count < 0) ThrowSqlError(ErrorCode::kInvalidParameter, "negative length in SUBSTRING");
            int64_t end = count == INT64_MAX || from > INT64_MAX - count ? INT64_MAX : from + count;
            std::string out;
            int64_t pos = 1;
            for (size_t i = 0; i < s.size();) {
                size_t n = 1;
                unsigned char c = static_cast<unsigned char>(s[i]);
                if (c >= 0xF0)
                    n = 4;
                else if (c >= 0xE0)
                    n = 3;
                else if (c >= 0xC0)
                    n = 2;
                if (pos >= from && pos < end) out.append(s.substr(i, n));
                i += n;
                ++pos;
            }
            return Value::Varchar(out);
        }
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "unhandled scalar function");
}

}  // namespace

bool LikeMatch(std::string_view text, std::string_view pat, int escape) {
    // Iterative wildcard matching with single backtrack point: O(n*m) worst case, no recursion.
    size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
    auto literal_at = [&](size_t pi, char* c, size_t* width) {
        if (escape >= 0 && static_cast<unsigned char>(pat[pi]) == escape && pi + 1 < pat.size()) {
            *c = pat[pi + 1];
            *width = 2;
            return true;
        }
        *c = pat[pi];
        *width = 1;
        return false;
    };
    while (t < text.size()) {
        if (p < pat.size()) {
            char c;
            size_t w;
            bool escaped = literal_at(p, &c, &w);
            if (!escaped && c == '%') {
                star_p = ++p;
                star_t = t;
                continue;
            }
            if ((!escaped && c == '_') || c == text[t]) {
                if (!escaped && c == '_') {
                    // '_' matches one character: skip a whole UTF-8 sequence.
                    unsigned char b = static_cast<unsigned char>(text[t]);
                    size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                    t += std::min(n, text.size() - t);
                } else {
                    ++t;
                }
                p += w;
                continue;
            }
        }
        if (star_p != std::string_view::npos) {
            p = star_p;
            t = ++star_t;
            continue;
        }
        return false;
    }
    while (p < pat.size() && pat[p] == '%' && !(escape >= 0 && static_cast<unsigned char>(pat[p]) == escape)) ++p;
    return p == pat.size();
}

Value Eval(const BoundExpr& e, const EvalRow& row, ExecContext& ctx) {
    switch (e.kind) {
        case BoundKind::kConstant:
            return e.constant;
        case BoundKind::kParam:
            return ctx.params[e.index];
        case BoundKind::kColumn:
            return ColumnValue(e, row);
        case BoundKind::kUnary: {
            Value v = Eval(*e.children[0], row, ctx);
            if (e.unary_op == UnaryOp::kNot) return FromTruth(-Truth(v));
            return Negate(v);
        }
        case BoundKind::kBinary: {
            if (e.binary_op == BinaryOp::kAnd) {
                int l = Truth(Eval(*e.children[0], row, ctx));
                if (l < 0) return Value::Bool(false);
                int r = Truth(Eval(*e.children[1], row, ctx));
                return FromTruth(std::min(l, r));
            }
            if (e.binary_op == BinaryOp::kOr) {
                int l = Truth(Eval(*e.children[0], row, ctx));
                if (l > 0) return Value::Bool(true);
                int r = Truth(Eval(*e.children[1], row, ctx));
                return FromTruth(std::max(l, r));
            }
            Value a = Eval(*e.children[0], row, ctx);
            Value b = Eval(*e.children[1], row, ctx);
            switch (e.binary_op) {
                case BinaryOp::kAdd:
                    return Add(a, b);
                case BinaryOp::kSub:
                    return Subtract(a, b);
                case BinaryOp::kMul:
                    return Multiply(a, b);
                case BinaryOp::kDiv:
                    return Divide(a, b);
                case BinaryOp::kMod:
                    return Modulo(a, b);
                case BinaryOp::kConcat:
                    return Concat(a, b);
                default:
                    return Compare(e.binary_op, a, b);
            }
        }
        case BoundKind::kFunction:
            return EvalFunction(e, row, ctx);
        case BoundKind::kCase: {
            size_t i = 0;
            Value operand;
            if (e.case_has_operand) operand = Eval(*e.children[i++], row, ctx);
            size_t end = e.children.size() - (e.case_has_else ? 1 : 0);
            for (; i + 1 < end + 1 && i < end; i += 2) {
                Value w = Eval(*e.children[i], row, ctx);
                bool hit = e.case_has_operand ? (!operand.is_null() && !w.is_null() && CompareValues(operand, w) == 0)
                                              : Truth(w) > 0;
                if (hit) return Eval(*e.children[i + 1], row, ctx);
            }
            if (e.case_has_else) return Eval(*e.children.back(), row, ctx);
            return Value::Null(e.type.id);
        }
        case BoundKind::kCast:
            return CastValue(Eval(*e.children[0], row, ctx), e.type);
        case BoundKind::kInList: {
            Value x = Eval(*e.children[0], row, ctx);
            // x IN () is false (NOT IN () true) whatever x is, NULL included.
            if (x.is_null()) return e.children.size() == 1 ? Value::Bool(e.negated) : Value::Null(TypeId::kBoolean);
            bool saw_null = false;
            for (size_t i = 1; i < e.children.size(); ++i) {
                Value v = Eval(*e.children[i], row, ctx);
                if (v.is_null()) {
                    saw_null = true;
                } else if (CompareValues(x, v) == 0) {
                    return Value::Bool(!e.negated);
                }
            }
            return saw_null ? Value::Null(TypeId::kBoolean) : Value::Bool(e.negated);
        }
        case BoundKind::kLike: {
            Value x = Eval(*e.children[0], row, ctx);
            Value p = Eval(*e.children[1], row, ctx);
            int escape = -1;
            if (e.children.size() > 2) {
                Value esc = Eval(*e.children[2], row, ctx);
                if (esc.is_null()) return Value::Null(TypeId::kBoolean);
                if (esc.AsString().size() != 1) {
                    ThrowSqlError(ErrorCode::kInvalidParameter, "LIKE ESCAPE must be a single character");
                }
                escape = static_cast<unsigned char>(esc.AsString()[0]);
            }
            if (x.is_null() || p.is_null()) return Value::Null(TypeId::kBoolean);
            if (p.AsString().size() > kMaxLikePatternLength) {
                ThrowSqlError(ErrorCode::kLimitExceeded, "LIKE pattern of " + std::to_string(p.AsString().size()) +
                                                             " bytes is longer than the limit of " +
                                                             std::to_string(kMaxLikePatternLength));
            }
            return Value::Bool(LikeMatch(x.AsString(), p.AsString(), escape) != e.negated);
        }
        case BoundKind::kIsNull:
            return Value::Bool(Eval(*e.children[0], row, ctx).is_null() != e.negated);
        case BoundKind::kIsDistinctFrom: {
            Value a = Eval(*e.children[0], row, ctx);
            Value b = Eval(*e.children[1], row, ctx);
            bool distinct = !GroupEquals(a, b);
            return Value::Bool(e.negated ? !distinct : distinct);
        }
        case BoundKind::kScalarSubquery:
        case BoundKind::kExists:
        case BoundKind::kInSubquery:
            return EvalSubquery(e, row, ctx);
    }
    ThrowSqlError(ErrorCode::kInternal, "unhandled bound expression");
}

bool EvalPredicate(const BoundExpr& e, const EvalRow& row, ExecContext& ctx) {
    Value v = Eval(e, row, ctx);
    return !v.is_null() && v.AsBool();
}

}  // namespace surge::exec
