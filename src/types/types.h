// SQL types: the type ids, declared types with their lengths, and names for messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace surge {

/// Type of a value or column. kBoolean exists only in expressions (predicates), never in columns.
enum class TypeId : uint8_t {
    kNull = 0,  ///< the type of an untyped NULL literal
    kBoolean,
    kTinyInt,
    kSmallInt,
    kInteger,
    kBigInt,
    kFloat,
    kDecimal,
    kVarchar,
    kVarbinary,
    kTimestamp,
};

/// Declared type of a column or expression. length: maximum characters (VARCHAR) or bytes
/// (VARBINARY); 0 for other types.
struct SqlType {
    TypeId id = TypeId::kNull;
    uint32_t length = 0;

    bool operator==(const SqlType&) const = default;
    static SqlType Of(TypeId id) { return SqlType{id, 0}; }
};

/// Default VARCHAR/VARBINARY length when none is declared (as in VoltDB).
constexpr uint32_t kDefaultVarLength = 1 << 20;  // 1 MiB
/// Largest declarable VARCHAR/VARBINARY length.
constexpr uint32_t kMaxVarLength = 1 << 20;

bool IsIntegral(TypeId t);  ///< TINYINT..BIGINT
bool IsNumeric(TypeId t);   ///< integral, FLOAT, DECIMAL
bool IsString(TypeId t);    ///< VARCHAR, VARBINARY
/// Inclusive range of an integral type.
int64_t IntegralMin(TypeId t);
int64_t IntegralMax(TypeId t);

/// "INTEGER", "VARCHAR(20)", ...
std::string TypeName(SqlType t);
std::string_view TypeIdName(TypeId t);

}  // namespace surge
