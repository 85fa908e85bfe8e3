// Value's conversions to double and to display text. Display text is what result sets, error
// messages and CAST AS VARCHAR show, so every type has exactly one spelling, defined here.
#include "types/value.h"

#include "common/status.h"
#include "types/value_ops.h"

namespace surge {

double Value::ToDouble() const {
    if (null_) ThrowSqlError(ErrorCode::kInternal, "ToDouble of a NULL value");
    switch (type_) {
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            return static_cast<double>(i_);
        case TypeId::kFloat:
            return d_;
        case TypeId::kDecimal:
            return AsDecimal().ToDouble();
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kTypeMismatch, "cannot convert " + std::string(TypeIdName(type_)) + " to a number");
}

std::string Value::ToString() const {
    if (null_) return "NULL";
    switch (type_) {
        case TypeId::kNull:
            return "NULL";
        case TypeId::kBoolean:
            return i_ != 0 ? "true" : "false";
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
            return std::to_string(i_);
        case TypeId::kFloat:
            return FormatDouble(d_);
        case TypeId::kDecimal:
            return AsDecimal().ToString();
        case TypeId::kVarchar:
            return s_;
        case TypeId::kVarbinary: {
            static constexpr char kHex[] = "0123456789ABCDEF";
            std::string out;
            out.reserve(s_.size() * 2);
            for (unsigned char c : s_) {
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
            }
            return out;
        }
        case TypeId::kTimestamp:
            return FormatTimestamp(i_);
    }
    return "?";
}

}  // namespace surge
