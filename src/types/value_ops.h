// Operations on Values: comparison, casts, assignment coercion, arithmetic with SurgeDB's
// promotion rules (docs/types.md). Every failure throws SqlError; nothing wraps or truncates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/value.h"

namespace surge {

/// Three-way comparison of two non-NULL values. Numeric types compare by value across types;
/// strings and binaries bytewise; TIMESTAMP with TIMESTAMP (or with a string, parsed).
/// Throws kTypeMismatch for incomparable types.
int CompareValues(const Value& a, const Value& b);
/// Equality where NULL equals NULL (GROUP BY, DISTINCT).
bool GroupEquals(const Value& a, const Value& b);
/// Hash consistent with GroupEquals (1, 1.0 and 1.000000000000 hash alike).
uint64_t HashValue(const Value& v);

/// Result type of arithmetic between two operand types (BIGINT for integers, DECIMAL if either
/// is DECIMAL, FLOAT if either is FLOAT). Throws kTypeMismatch for non-numeric operands.
TypeId ArithmeticResultType(TypeId a, TypeId b);

/// Arithmetic; NULL in, NULL out. Throw on overflow, division by zero, type mismatch.
Value Add(const Value& a, const Value& b);
Value Subtract(const Value& a, const Value& b);
Value Multiply(const Value& a, const Value& b);
Value Divide(const Value& a, const Value& b);
Value Modulo(const Value& a, const Value& b);
Value Negate(const Value& a);
/// String concatenation (||); non-string operands are converted with CAST AS VARCHAR.
Value Concat(const Value& a, const Value& b);

/// Explicit CAST(v AS to). Throws on out-of-range, over-long, or unconvertible text.
Value CastValue(const Value& v, SqlType to);
/// Implicit conversion for storing v in a column of type col (INSERT/UPDATE, parameters).
/// Stricter than CAST: no string-to-number, no fractional loss. NULL passes through typed.
Value CoerceForColumn(const Value& v, SqlType col, std::string_view column_name);
/// CoerceForColumn on *v itself: no copy when *v already has the column's type.
void CoerceForColumnInPlace(Value* v, SqlType col, std::string_view column_name);

/// Character count of UTF-8 text (VARCHAR lengths are in characters).
size_t Utf8Length(std::string_view s);
/// Parses "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" (also 'T' separator) into microseconds since epoch.
/// Throws kInvalidText.
int64_t ParseTimestamp(std::string_view s);
std::string FormatTimestamp(int64_t micros);
/// Whether micros lies in TIMESTAMP's range (years 0001 through 9999).
bool InTimestampRange(int64_t micros);
/// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d);
void CivilFromDays(int64_t days, int64_t* y, int* m, int* d);
int DaysInMonth(int64_t y, int m);
/// Shortest text that round-trips a double ("1.5", "1e+20", "NaN").
std::string FormatDouble(double d);

}  // namespace surge
