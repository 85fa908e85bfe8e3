// Type predicates, integral ranges and type names. The names here are the ones every error
// message uses, so they must match the SQL spelling users write (and docs/types.md).
#include "types/types.h"

#include <limits>

#include "common/status.h"

namespace surge {

bool IsIntegral(TypeId t) {
    return t == TypeId::kTinyInt || t == TypeId::kSmallInt || t == TypeId::kInteger || t == TypeId::kBigInt;
}

bool IsNumeric(TypeId t) { return IsIntegral(t) || t == TypeId::kFloat || t == TypeId::kDecimal; }

bool IsString(TypeId t) { return t == TypeId::kVarchar || t == TypeId::kVarbinary; }

int64_t IntegralMin(TypeId t) {
    switch (t) {
        case TypeId::kTinyInt:
            return std::numeric_limits<int8_t>::min();
        case TypeId::kSmallInt:
            return std::numeric_limits<int16_t>::min();
        case TypeId::kInteger:
            return std::numeric_limits<int32_t>::min();
        case TypeId::kBigInt:
            return std::numeric_limits<int64_t>::min();
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "IntegralMin of non-integral type " + std::string(TypeIdName(t)));
}

int64_t IntegralMax(TypeId t) {
    switch (t) {
        case TypeId::kTinyInt:
            return std::numeric_limits<int8_t>::max();
        case TypeId::kSmallInt:
            return std::numeric_limits<int16_t>::max();
        case TypeId::kInteger:
            return std::numeric_limits<int32_t>::max();
        case TypeId::kBigInt:
            return std::numeric_limits<int64_t>::max();
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "IntegralMax of non-integral type " + std::string(TypeIdName(t)));
}

std::string_view TypeIdName(TypeId t) {
    switch (t) {
        case TypeId::kNull:
            return "NULL";
        case TypeId::kBoolean:
            return "BOOLEAN";
        case TypeId::kTinyInt:
            return "TINYINT";
        case TypeId::kSmallInt:
            return "SMALLINT";
        case TypeId::kInteger:
            return "INTEGER";
        case TypeId::kBigInt:
            return "BIGINT";
        case TypeId::kFloat:
            return "FLOAT";
        case TypeId::kDecimal:
            return "DECIMAL";
        case TypeId::kVarchar:
            return "VARCHAR";
        case TypeId::kVarbinary:
            return "VARBINARY";
        case TypeId::kTimestamp:
            return "TIMESTAMP";
    }
    return "UNKNOWN";
}

std::string TypeName(SqlType t) {
    std::string name(TypeIdName(t.id));
    if (t.id == TypeId::kDecimal) return name + "(38,12)";
    // The default length is what an undeclared VARCHAR gets, so printing it would show users a
    // number they never wrote.
    if (IsString(t.id) && t.length != 0 && t.length != kDefaultVarLength) {
        name += '(';
        name += std::to_string(t.length);
        name += ')';
    }
    return name;
}

}  // namespace surge
