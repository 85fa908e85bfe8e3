// Tests for types/: type names, DECIMAL arithmetic and rounding, Value text, comparison and
// hashing across types, arithmetic promotion and overflow, CAST, assignment coercion, UTF-8
// lengths and the timestamp text form. Expected values come from the rules in docs/types.md,
// and DECIMAL results were checked against Python's decimal module (ROUND_HALF_UP).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/decimal.h"
#include "types/types.h"
#include "types/value.h"
#include "types/value_ops.h"

namespace surge {
namespace {

// Runs stmt, expecting a SqlError with the given code whose message contains text.
#define EXPECT_SQL_ERROR(stmt, error_code, text)                                        \
    do {                                                                                \
        try {                                                                           \
            (void)(stmt);                                                               \
            ADD_FAILURE() << "expected SqlError from: " #stmt;                          \
        } catch (const SqlError& e) {                                                   \
            EXPECT_EQ(e.code(), (error_code)) << e.what();                              \
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what(); \
        }                                                                               \
    } while (0)

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
const char* const kMaxDecimalText = "99999999999999999999999999.999999999999";

Decimal D(const char* text) { return Decimal::Parse(text); }
Value DecV(const char* text) { return Value::Dec(Decimal::Parse(text)); }

// ---- types.h ----------------------------------------------------------------------------------

TEST(TypesTest, Predicates) {
    EXPECT_TRUE(IsIntegral(TypeId::kTinyInt));
    EXPECT_TRUE(IsIntegral(TypeId::kBigInt));
    EXPECT_FALSE(IsIntegral(TypeId::kFloat));
    EXPECT_FALSE(IsIntegral(TypeId::kTimestamp));
    EXPECT_FALSE(IsIntegral(TypeId::kBoolean));
    EXPECT_TRUE(IsNumeric(TypeId::kDecimal));
    EXPECT_TRUE(IsNumeric(TypeId::kFloat));
    EXPECT_TRUE(IsNumeric(TypeId::kSmallInt));
    EXPECT_FALSE(IsNumeric(TypeId::kVarchar));
    EXPECT_FALSE(IsNumeric(TypeId::kNull));
    EXPECT_TRUE(IsString(TypeId::kVarchar));
    EXPECT_TRUE(IsString(TypeId::kVarbinary));
    EXPECT_FALSE(IsString(TypeId::kTimestamp));
}

TEST(TypesTest, IntegralRanges) {
    EXPECT_EQ(IntegralMin(TypeId::kTinyInt), -128);
    EXPECT_EQ(IntegralMax(TypeId::kTinyInt), 127);
    EXPECT_EQ(IntegralMin(TypeId::kSmallInt), -32768);
    EXPECT_EQ(IntegralMax(TypeId::kSmallInt), 32767);
    EXPECT_EQ(IntegralMin(TypeId::kInteger), -2147483648LL);
    EXPECT_EQ(IntegralMax(TypeId::kInteger), 2147483647LL);
    EXPECT_EQ(IntegralMin(TypeId::kBigInt), kI64Min);
    EXPECT_EQ(IntegralMax(TypeId::kBigInt), kI64Max);
    EXPECT_SQL_ERROR(IntegralMin(TypeId::kFloat), ErrorCode::kInternal, "FLOAT");
}

TEST(TypesTest, Names) {
    EXPECT_EQ(TypeIdName(TypeId::kNull), "NULL");
    EXPECT_EQ(TypeIdName(TypeId::kBoolean), "BOOLEAN");
    EXPECT_EQ(TypeIdName(TypeId::kTinyInt), "TINYINT");
    EXPECT_EQ(TypeIdName(TypeId::kSmallInt), "SMALLINT");
    EXPECT_EQ(TypeIdName(TypeId::kInteger), "INTEGER");
    EXPECT_EQ(TypeIdName(TypeId::kBigInt), "BIGINT");
    EXPECT_EQ(TypeIdName(TypeId::kFloat), "FLOAT");
    EXPECT_EQ(TypeIdName(TypeId::kDecimal), "DECIMAL");
    EXPECT_EQ(TypeIdName(TypeId::kVarchar), "VARCHAR");
    EXPECT_EQ(TypeIdName(TypeId::kVarbinary), "VARBINARY");
    EXPECT_EQ(TypeIdName(TypeId::kTimestamp), "TIMESTAMP");
    EXPECT_EQ(TypeName(SqlType{TypeId::kVarchar, 20}), "VARCHAR(20)");
    EXPECT_EQ(TypeName(SqlType{TypeId::kVarbinary, 8}), "VARBINARY(8)");
    EXPECT_EQ(TypeName(SqlType{TypeId::kVarchar, kDefaultVarLength}), "VARCHAR");
    EXPECT_EQ(TypeName(SqlType{TypeId::kVarchar, 0}), "VARCHAR");
    EXPECT_EQ(TypeName(SqlType::Of(TypeId::kDecimal)), "DECIMAL(38,12)");
    EXPECT_EQ(TypeName(SqlType::Of(TypeId::kInteger)), "INTEGER");
    EXPECT_EQ(TypeName(SqlType::Of(TypeId::kTimestamp)), "TIMESTAMP");
}

// ---- Decimal ----------------------------------------------------------------------------------

TEST(DecimalTest, ParseAndFormat) {
    EXPECT_EQ(D("1.5").ToString(), "1.500000000000");
    EXPECT_EQ(D("-1.5").ToString(), "-1.500000000000");
    EXPECT_EQ(D("0").ToString(), "0.000000000000");
    EXPECT_EQ(D("-0").ToString(), "0.000000000000");
    EXPECT_EQ(D("+12.34e2").ToString(), "1234.000000000000");
    EXPECT_EQ(D("1234E-2").ToString(), "12.340000000000");
    EXPECT_EQ(D("1E+2").ToString(), "100.000000000000");
    EXPECT_EQ(D(".5").ToString(), "0.500000000000");
    EXPECT_EQ(D("5.").ToString(), "5.000000000000");
    EXPECT_EQ(D("000001.5").ToString(), "1.500000000000");
    EXPECT_EQ(D("1e-12").ToString(), "0.000000000001");
    EXPECT_EQ(D("-123456789.000000000001").ToString(), "-123456789.000000000001");
    EXPECT_EQ(D(kMaxDecimalText).ToString(), kMaxDecimalText);
    EXPECT_EQ(D("-99999999999999999999999999.999999999999").ToString(), "-99999999999999999999999999.999999999999");
    EXPECT_EQ(D("0e999999999").ToString(), "0.000000000000");
    EXPECT_EQ(D("1e-999999999999").ToString(), "0.000000000000");
    EXPECT_EQ(D("0.00000000000000000000000000000000000000000000000000000123e50").ToString(), "0.000123000000");
}

TEST(DecimalTest, ParseRoundsHalfAwayFromZero) {
    EXPECT_EQ(D("0.0000000000005").ToString(), "0.000000000001");
    EXPECT_EQ(D("-0.0000000000005").ToString(), "-0.000000000001");
    EXPECT_EQ(D("5e-13").ToString(), "0.000000000001");
    EXPECT_EQ(D("0.00000000000049999").ToString(), "0.000000000000");
    EXPECT_EQ(D("1.2345678901234").ToString(), "1.234567890123");
    EXPECT_EQ(D("1.2345678901235").ToString(), "1.234567890124");
    EXPECT_EQ(D("0.9999999999995").ToString(), "1.000000000000");
    EXPECT_EQ(D("5e-14").ToString(), "0.000000000000");
}

TEST(DecimalTest, ParseErrors) {
    for (const char* bad : {"", "abc", "1.2.3", "1e", "e5", "--1", "1 ", " 1", ".", "+", "-", "1e+", "0x10", "1,5"}) {
        EXPECT_SQL_ERROR(D(bad), ErrorCode::kInvalidText, "invalid DECIMAL text");
    }
    EXPECT_SQL_ERROR(D("100000000000000000000000000"), ErrorCode::kNumericOutOfRange, "out of range for DECIMAL");
    EXPECT_SQL_ERROR(D("1e26"), ErrorCode::kNumericOutOfRange, "out of range for DECIMAL");
    EXPECT_SQL_ERROR(D("99999999999999999999999999.9999999999995"), ErrorCode::kNumericOutOfRange, "out of range");
    EXPECT_SQL_ERROR(D("1e999999999999"), ErrorCode::kNumericOutOfRange, "out of range");
    EXPECT_EQ(D("9.9999999999999999999999999999999999999e25").ToString(), kMaxDecimalText);
}

TEST(DecimalTest, FromRawChecksPrecision) {
    __int128 limit = 1;
    for (int i = 0; i < 38; ++i) limit *= 10;
    EXPECT_EQ(Decimal::FromRaw(limit - 1).ToString(), kMaxDecimalText);
    EXPECT_EQ(Decimal::FromRaw(-(limit - 1)).raw(), -(limit - 1));
    EXPECT_SQL_ERROR(Decimal::FromRaw(limit), ErrorCode::kNumericOutOfRange, "out of range for DECIMAL");
    EXPECT_SQL_ERROR(Decimal::FromRaw(-limit), ErrorCode::kNumericOutOfRange, "out of range for DECIMAL");
    EXPECT_EQ(Decimal::FromRaw(1).ToString(), "0.000000000001");
}

TEST(DecimalTest, FromIntAndToInt64) {
    EXPECT_EQ(Decimal::FromInt(kI64Max).ToString(), "9223372036854775807.000000000000");
    EXPECT_EQ(Decimal::FromInt(kI64Min).ToString(), "-9223372036854775808.000000000000");
    EXPECT_EQ(Decimal::FromInt(kI64Min).ToInt64(), kI64Min);
    EXPECT_EQ(D("2.9").ToInt64(), 2);
    EXPECT_EQ(D("-2.9").ToInt64(), -2);
    EXPECT_EQ(D("0.999999999999").ToInt64(), 0);
    EXPECT_SQL_ERROR(D("9223372036854775808").ToInt64(), ErrorCode::kNumericOutOfRange, "out of range for BIGINT");
    EXPECT_EQ(D("9223372036854775807.9").ToInt64(), kI64Max);
    EXPECT_TRUE(D("3").IsIntegral());
    EXPECT_TRUE(D("-3.000").IsIntegral());
    EXPECT_FALSE(D("3.000000000001").IsIntegral());
}

TEST(DecimalTest, FromDouble) {
    EXPECT_EQ(Decimal::FromDouble(0.1).ToString(), "0.100000000000");
    EXPECT_EQ(Decimal::FromDouble(-2.5).ToString(), "-2.500000000000");
    EXPECT_EQ(Decimal::FromDouble(0.0).ToString(), "0.000000000000");
    EXPECT_EQ(Decimal::FromDouble(-0.0).ToString(), "0.000000000000");
    // 1/8192 = 0.0001220703125 exactly: a true tie at the 13th digit rounds away from zero.
    EXPECT_EQ(Decimal::FromDouble(1.0 / 8192).ToString(), "0.000122070313");
    EXPECT_EQ(Decimal::FromDouble(-1.0 / 8192).ToString(), "-0.000122070313");
    EXPECT_EQ(Decimal::FromDouble(1e-13).ToString(), "0.000000000000");
    EXPECT_EQ(Decimal::FromDouble(1e-300).ToString(), "0.000000000000");
    EXPECT_EQ(Decimal::FromDouble(1e25).ToString(), "10000000000000000905969664.000000000000");
    // Non-integral doubles convert their shortest round-trip text, not their binary expansion.
    EXPECT_EQ(Decimal::FromDouble(123456.789).ToString(), "123456.789000000000");
    EXPECT_EQ(Decimal::FromDouble(0.1 + 0.2).ToString(), "0.300000000000");
    EXPECT_EQ(Decimal::FromDouble(1.5e-7).ToString(), "0.000000150000");
    EXPECT_EQ(Decimal::FromDouble(0.1234567890123456).ToString(), "0.123456789012");
    EXPECT_EQ(Decimal::FromDouble(-98765432109876.55).ToString(), "-98765432109876.550000000000");
    // Integral doubles convert exactly, even past 2^53.
    EXPECT_EQ(Decimal::FromDouble(1152921504606846976.0).ToString(), "1152921504606846976.000000000000");
    EXPECT_SQL_ERROR(Decimal::FromDouble(1e26), ErrorCode::kNumericOutOfRange, "out of range for DECIMAL");
    EXPECT_SQL_ERROR(Decimal::FromDouble(-1e30), ErrorCode::kNumericOutOfRange, "-1e+30");
    EXPECT_SQL_ERROR(Decimal::FromDouble(std::nan("")), ErrorCode::kNumericOutOfRange, "NaN");
    EXPECT_SQL_ERROR(Decimal::FromDouble(INFINITY), ErrorCode::kNumericOutOfRange, "Inf");
}

TEST(DecimalTest, ToDoubleIsCorrectlyRounded) {
    EXPECT_EQ(D("0.1").ToDouble(), 0.1);
    EXPECT_EQ(D("-2.5").ToDouble(), -2.5);
    EXPECT_EQ(D("12345678.123456789012").ToDouble(), 12345678.123456789012);
    EXPECT_EQ(D("98765432109876.543210987654").ToDouble(), 98765432109876.543210987654);
    EXPECT_EQ(D(kMaxDecimalText).ToDouble(), 1e26);
    EXPECT_EQ(D("9007199254740993").ToDouble(), static_cast<double>(int64_t{9007199254740993}));
    EXPECT_EQ(D("0").ToDouble(), 0.0);
}

TEST(DecimalTest, AddSubtract) {
    EXPECT_EQ((D("1.5") + D("2.25")).ToString(), "3.750000000000");
    EXPECT_EQ((D("1.5") - D("2.25")).ToString(), "-0.750000000000");
    EXPECT_EQ((D(kMaxDecimalText) + -D(kMaxDecimalText)).ToString(), "0.000000000000");
    EXPECT_SQL_ERROR(D(kMaxDecimalText) + D("0.000000000001"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow in");
    EXPECT_SQL_ERROR(D(kMaxDecimalText) + D(kMaxDecimalText), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
    EXPECT_SQL_ERROR(-D(kMaxDecimalText) - D("1"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
    EXPECT_SQL_ERROR(-D(kMaxDecimalText) - D(kMaxDecimalText), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
    EXPECT_TRUE(D("1.5") < D("1.500000000001"));
    EXPECT_TRUE(D("-1") < D("0"));
    EXPECT_TRUE(D("2.50") == D("2.5"));
}

TEST(DecimalTest, Multiply) {
    EXPECT_EQ((D("1.5") * D("1.5")).ToString(), "2.250000000000");
    EXPECT_EQ((D("-1.5") * D("1.5")).ToString(), "-2.250000000000");
    EXPECT_EQ((D("-1.5") * D("-4")).ToString(), "6.000000000000");
    EXPECT_EQ((D("0.000001") * D("0.000001")).ToString(), "0.000000000001");
    EXPECT_EQ((D("0.000001") * D("0.0000005")).ToString(), "0.000000000001");  // 5e-13 rounds up
    EXPECT_EQ((D("-0.000001") * D("0.0000005")).ToString(), "-0.000000000001");
    EXPECT_EQ((D("0.000001") * D("0.00000049")).ToString(), "0.000000000000");
    // Raw products past 128 bits take the 256-bit path.
    EXPECT_EQ((D("12345678901234567890.5") * D("0.5")).ToString(), "6172839450617283945.250000000000");
    EXPECT_EQ((D("12345678901234567890.123456789015") * D("0.1")).ToString(), "1234567890123456789.012345678902");
    EXPECT_EQ((D("-12345678901234567890.123456789015") * D("0.1")).ToString(), "-1234567890123456789.012345678902");
    EXPECT_EQ((D("-98765432109876.54321") * D("1234567890.12345678")).ToString(),
              "-121932631137021794334857.491122237464");
    EXPECT_EQ((D(kMaxDecimalText) * D("1")).ToString(), kMaxDecimalText);
    EXPECT_EQ((D(kMaxDecimalText) * D("-1")).ToString(), std::string("-") + kMaxDecimalText);
    EXPECT_SQL_ERROR(D("1e19") * D("1e19"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow in");
    EXPECT_SQL_ERROR(D("10000000000000") * D("10000000000000"), ErrorCode::kNumericOutOfRange,
                     "DECIMAL overflow in 10000000000000.000000000000 *");
    EXPECT_SQL_ERROR(D(kMaxDecimalText) * D(kMaxDecimalText), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
    EXPECT_SQL_ERROR(D(kMaxDecimalText) * D("1.000000000001"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
}

TEST(DecimalTest, Divide) {
    EXPECT_EQ((D("1") / D("3")).ToString(), "0.333333333333");
    EXPECT_EQ((D("2") / D("3")).ToString(), "0.666666666667");
    EXPECT_EQ((D("-2") / D("3")).ToString(), "-0.666666666667");
    EXPECT_EQ((D("2") / D("-3")).ToString(), "-0.666666666667");
    EXPECT_EQ((D("-2") / D("-3")).ToString(), "0.666666666667");
    EXPECT_EQ((D("7.5") / D("2.5")).ToString(), "3.000000000000");
    EXPECT_EQ((D("0.000000000001") / D("2")).ToString(), "0.000000000001");  // half rounds away
    EXPECT_EQ((D("0.000000000001") / D("3")).ToString(), "0.000000000000");
    // Numerators past 128 bits take the long-division path.
    EXPECT_EQ((D("1e20") / D("7")).ToString(), "14285714285714285714.285714285714");
    EXPECT_EQ((D(kMaxDecimalText) / D("12345678.9")).ToString(), "8100000073710000670.761006103925");
    EXPECT_EQ((D(kMaxDecimalText) / D("1")).ToString(), kMaxDecimalText);
    EXPECT_EQ((D(kMaxDecimalText) / D("-1")).ToString(), std::string("-") + kMaxDecimalText);
    EXPECT_EQ((D("123456789012345.678901234567") / D("-0.000003")).ToString(), "-41152263004115226300.411522333333");
    EXPECT_SQL_ERROR(D("1") / D("0"), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(D(kMaxDecimalText) / D("0.5"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow in");
    EXPECT_SQL_ERROR(D("1e25") / D("0.000000000001"), ErrorCode::kNumericOutOfRange, "DECIMAL overflow");
}

TEST(DecimalTest, Modulo) {
    EXPECT_EQ((D("7.5") % D("2")).ToString(), "1.500000000000");
    EXPECT_EQ((D("-7.5") % D("2")).ToString(), "-1.500000000000");
    EXPECT_EQ((D("7.5") % D("-2")).ToString(), "1.500000000000");
    EXPECT_EQ((D("1") % D("0.3")).ToString(), "0.100000000000");
    EXPECT_SQL_ERROR(D("1") % D("0"), ErrorCode::kDivisionByZero, "division by zero");
}

// ---- Value text -------------------------------------------------------------------------------

TEST(ValueTest, ToString) {
    EXPECT_EQ(Value().ToString(), "NULL");
    EXPECT_EQ(Value::Null(TypeId::kInteger).ToString(), "NULL");
    EXPECT_EQ(Value::Bool(true).ToString(), "true");
    EXPECT_EQ(Value::Bool(false).ToString(), "false");
    EXPECT_EQ(Value::Integer(-42).ToString(), "-42");
    EXPECT_EQ(Value::BigInt(kI64Min).ToString(), "-9223372036854775808");
    EXPECT_EQ(Value::Int(TypeId::kTinyInt, 7).ToString(), "7");
    EXPECT_EQ(Value::Float(1.5).ToString(), "1.5");
    EXPECT_EQ(DecV("1.5").ToString(), "1.500000000000");
    EXPECT_EQ(Value::Varchar("héllo").ToString(), "héllo");
    EXPECT_EQ(Value::Varbinary(std::string("\x01\xab\x00\xff", 4)).ToString(), "01AB00FF");
    EXPECT_EQ(Value::Varbinary("").ToString(), "");
    EXPECT_EQ(Value::Timestamp(0).ToString(), "1970-01-01 00:00:00.000000");
}

TEST(ValueTest, ToDouble) {
    EXPECT_EQ(Value::Integer(3).ToDouble(), 3.0);
    EXPECT_EQ(Value::Float(2.5).ToDouble(), 2.5);
    EXPECT_EQ(DecV("0.1").ToDouble(), 0.1);
    EXPECT_EQ(Value::Timestamp(-5).ToDouble(), -5.0);
    EXPECT_SQL_ERROR(Value::Varchar("1").ToDouble(), ErrorCode::kTypeMismatch, "VARCHAR");
}

TEST(FormatDoubleTest, ShortestRoundTrip) {
    EXPECT_EQ(FormatDouble(1.5), "1.5");
    EXPECT_EQ(FormatDouble(0.1), "0.1");
    EXPECT_EQ(FormatDouble(100), "100");
    EXPECT_EQ(FormatDouble(1e20), "1e+20");
    EXPECT_EQ(FormatDouble(-2.5e-7), "-2.5e-07");
    EXPECT_EQ(FormatDouble(1.0 / 3), "0.3333333333333333");
    EXPECT_EQ(FormatDouble(std::nan("")), "NaN");
    EXPECT_EQ(FormatDouble(INFINITY), "Inf");
    EXPECT_EQ(FormatDouble(-INFINITY), "-Inf");
    uint64_t bits = 0x123456789abcdefULL;
    for (int i = 0; i < 1000; ++i) {
        bits = bits * 6364136223846793005ULL + 1442695040888963407ULL;
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) continue;
        EXPECT_EQ(std::strtod(FormatDouble(d).c_str(), nullptr), d) << FormatDouble(d);
    }
}

// ---- UTF-8 and timestamps ----------------------------------------------------------------------

TEST(Utf8Test, CountsCodePoints) {
    EXPECT_EQ(Utf8Length(""), 0u);
    EXPECT_EQ(Utf8Length("abc"), 3u);
    EXPECT_EQ(Utf8Length("héllo"), 5u);
    EXPECT_EQ(Utf8Length("日本語"), 3u);
    EXPECT_EQ(Utf8Length("😀x"), 2u);
    EXPECT_EQ(Utf8Length(std::string("a\0b", 3)), 3u);
}

TEST(TimestampTest, Parse) {
    EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
    EXPECT_EQ(ParseTimestamp("1970-01-01 00:00:01"), 1'000'000);
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.5"), 500'000);
    EXPECT_EQ(ParseTimestamp("1970-01-01 00:00:00.000001"), 1);
    EXPECT_EQ(ParseTimestamp("1970-01-02 00:00:00.123456"), 86'400'000'000 + 123'456);
    EXPECT_EQ(ParseTimestamp("1969-12-31 23:59:59.999999"), -1);
    EXPECT_EQ(ParseTimestamp("2000-02-29"), 951'782'400'000'000);
    EXPECT_EQ(ParseTimestamp("2024-02-29 12:34:56"), 1'709'210'096'000'000);
    EXPECT_EQ(ParseTimestamp("0001-01-01"), -62'135'596'800'000'000);
    EXPECT_EQ(ParseTimestamp("9999-12-31 23:59:59.999999"), 253'402'300'799'999'999);
}

TEST(TimestampTest, ParseErrors) {
    struct Case {
        const char* text;
        const char* why;
    };
    for (Case c : std::vector<Case>{{"1900-02-29", "day out of range"},
                                    {"2001-02-29", "day out of range"},
                                    {"2020-04-31", "day out of range"},
                                    {"2020-01-00", "day out of range"},
                                    {"2020-13-01", "month out of range"},
                                    {"2020-00-10", "month out of range"},
                                    {"0000-01-01", "year out of range"},
                                    {"2020-01-01 24:00:00", "hour out of range"},
                                    {"2020-01-01 23:60:00", "minute out of range"},
                                    {"2020-01-01 23:59:60", "second out of range"},
                                    {"2020-1-01", "expected"},
                                    {"2020-01-01 ", "expected"},
                                    {" 2020-01-01", "expected"},
                                    {"2020-01-01 12:00", "expected"},
                                    {"2020-01-01 12:00:00.", "expected"},
                                    {"2020-01-01 12:00:00.1234567", "expected"},
                                    {"2020-01-01x12:00:00", "expected"},
                                    {"2020-01-01 12:00:00,5", "expected"},
                                    {"abcd-01-01", "expected"},
                                    {"", "expected"},
                                    {"20200101", "expected"}}) {
        EXPECT_SQL_ERROR(ParseTimestamp(c.text), ErrorCode::kInvalidText, c.why);
    }
    EXPECT_SQL_ERROR(ParseTimestamp("2020-13-01"), ErrorCode::kInvalidText, "invalid TIMESTAMP text: '2020-13-01'");
}

TEST(TimestampTest, Format) {
    EXPECT_EQ(FormatTimestamp(0), "1970-01-01 00:00:00.000000");
    EXPECT_EQ(FormatTimestamp(-1), "1969-12-31 23:59:59.999999");
    EXPECT_EQ(FormatTimestamp(-86'400'000'000), "1969-12-31 00:00:00.000000");
    EXPECT_EQ(FormatTimestamp(951'782'400'000'000), "2000-02-29 00:00:00.000000");
    EXPECT_EQ(FormatTimestamp(1'709'210'096'000'123), "2024-02-29 12:34:56.000123");
    EXPECT_EQ(FormatTimestamp(-62'135'596'800'000'000), "0001-01-01 00:00:00.000000");
    EXPECT_EQ(FormatTimestamp(253'402'300'799'999'999), "9999-12-31 23:59:59.999999");
    EXPECT_EQ(FormatTimestamp(-2'208'988'800'000'000), "1900-01-01 00:00:00.000000");
    // Far outside the SQL range the text is odd but the arithmetic must not overflow.
    EXPECT_FALSE(FormatTimestamp(kI64Min).empty());
    EXPECT_FALSE(FormatTimestamp(kI64Max).empty());
}

// Walks the calendar one day at a time with a naive month table, independently of the
// days-from-civil arithmetic, across four centuries of leap-year rules on both sides of 1970.
TEST(TimestampTest, EveryDayAgreesWithNaiveCalendar) {
    auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
    const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day_number = ParseTimestamp("1600-01-01") / 86'400'000'000;
    char buf[32];
    for (int y = 1600; y <= 2400; ++y) {
        for (int m = 1; m <= 12; ++m) {
            int n = days_in[m - 1] + (m == 2 && leap(y) ? 1 : 0);
            for (int d = 1; d <= n; ++d, ++day_number) {
                std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
                int64_t micros = day_number * 86'400'000'000 + 45'296'000'007;  // 12:34:56.000007
                ASSERT_EQ(ParseTimestamp(buf), day_number * 86'400'000'000) << buf;
                ASSERT_EQ(FormatTimestamp(micros), std::string(buf) + " 12:34:56.000007") << buf;
            }
        }
    }
    EXPECT_EQ(day_number, ParseTimestamp("2401-01-01") / 86'400'000'000);
}

TEST(TimestampTest, RoundTripAcrossRange) {
    const int64_t lo = ParseTimestamp("0001-01-01"), hi = ParseTimestamp("9999-12-31 23:59:59.999999");
    const int64_t step = 7'919'000'003'631;  // prime-ish stride: varies every field
    int checked = 0;
    for (int64_t t = lo; t <= hi; t += step, ++checked) {
        ASSERT_EQ(ParseTimestamp(FormatTimestamp(t)), t) << FormatTimestamp(t);
    }
    EXPECT_GT(checked, 30000);
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(hi)), hi);
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(lo)), lo);
}

// ---- Comparison, equality and hashing ------------------------------------------------------------

TEST(CompareTest, IntegersAndFloatsExactly) {
    EXPECT_EQ(CompareValues(Value::Integer(1), Value::Float(1.0)), 0);
    EXPECT_EQ(CompareValues(Value::Integer(1), Value::Float(1.5)), -1);
    EXPECT_EQ(CompareValues(Value::Float(1.5), Value::Integer(1)), 1);
    EXPECT_EQ(CompareValues(Value::Integer(-2), Value::Float(-1.5)), -1);
    EXPECT_EQ(CompareValues(Value::Integer(-1), Value::Float(-1.5)), 1);
    EXPECT_EQ(CompareValues(Value::Int(TypeId::kTinyInt, 5), Value::BigInt(5)), 0);
    EXPECT_EQ(CompareValues(Value::Int(TypeId::kSmallInt, -5), Value::Integer(5)), -1);
    // Converting int64 to double would round these and get them wrong.
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Max), Value::Float(9.2e18)), 1);
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Max), Value::Float(9223372036854775807.0)), -1);  // that is 2^63
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Min), Value::Float(-9223372036854775808.0)), 0);
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Min), Value::Float(-1e19)), 1);
    EXPECT_EQ(CompareValues(Value::BigInt((int64_t{1} << 53) + 1), Value::Float(9007199254740992.0)), 1);
    EXPECT_EQ(CompareValues(Value::Float(9007199254740992.0), Value::BigInt((int64_t{1} << 53) + 1)), -1);
    EXPECT_EQ(CompareValues(Value::Float(-0.0), Value::Integer(0)), 0);
    EXPECT_EQ(CompareValues(Value::Float(-0.0), Value::Float(0.0)), 0);
    EXPECT_EQ(CompareValues(Value::Integer(7), Value::Float(INFINITY)), -1);
    EXPECT_EQ(CompareValues(Value::Integer(7), Value::Float(-INFINITY)), 1);
}

TEST(CompareTest, NaNSortsLastAndEqualsItself) {
    Value nan = Value::Float(std::nan(""));
    EXPECT_EQ(CompareValues(nan, nan), 0);
    EXPECT_EQ(CompareValues(nan, Value::Float(INFINITY)), 1);
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Max), nan), -1);
    EXPECT_EQ(CompareValues(nan, DecV("1")), 1);
}

TEST(CompareTest, Decimals) {
    EXPECT_EQ(CompareValues(DecV("1.5"), Value::Integer(1)), 1);
    EXPECT_EQ(CompareValues(DecV("1"), Value::BigInt(1)), 0);
    EXPECT_EQ(CompareValues(Value::BigInt(kI64Max), DecV("9223372036854775807.000000000001")), -1);
    EXPECT_EQ(CompareValues(DecV("-0.5"), DecV("-0.25")), -1);
    EXPECT_EQ(CompareValues(DecV("0.1"), Value::Float(0.1)), 0);
    EXPECT_EQ(CompareValues(Value::Float(0.1), DecV("0.1")), 0);
    EXPECT_EQ(CompareValues(DecV("0.5"), Value::Float(0.25)), 1);
    EXPECT_EQ(CompareValues(DecV("2"), Value::Float(2.0)), 0);
    // Against an integral double the comparison is exact.
    EXPECT_EQ(CompareValues(DecV("9007199254740993"), Value::Float(9007199254740992.0)), 1);
    EXPECT_EQ(CompareValues(DecV(kMaxDecimalText), Value::Float(1e26)), -1);
    EXPECT_EQ(CompareValues(DecV(kMaxDecimalText), Value::Float(INFINITY)), -1);
    EXPECT_EQ(CompareValues(DecV("-1"), Value::Float(-1e30)), 1);
}

TEST(CompareTest, StringsBytewise) {
    EXPECT_EQ(CompareValues(Value::Varchar("abc"), Value::Varchar("abd")), -1);
    EXPECT_EQ(CompareValues(Value::Varchar("ab"), Value::Varchar("abc")), -1);
    EXPECT_EQ(CompareValues(Value::Varchar("abc"), Value::Varchar("abc")), 0);
    EXPECT_EQ(CompareValues(Value::Varchar(""), Value::Varchar("")), 0);
    EXPECT_EQ(CompareValues(Value::Varchar("\xff"), Value::Varchar("a")), 1);  // unsigned bytes
    EXPECT_EQ(CompareValues(Value::Varchar("B"), Value::Varchar("a")), -1);    // no collation
    EXPECT_EQ(CompareValues(Value::Varbinary(std::string("a\0", 2)), Value::Varbinary("a")), 1);
    EXPECT_SQL_ERROR(CompareValues(Value::Varchar("a"), Value::Varbinary("a")), ErrorCode::kTypeMismatch,
                     "cannot compare VARCHAR with VARBINARY");
}

TEST(CompareTest, TimestampsAndBooleans) {
    Value ts = Value::Timestamp(ParseTimestamp("2020-01-01 10:00:00"));
    EXPECT_EQ(CompareValues(ts, Value::Varchar("2020-01-01 10:00:00")), 0);
    EXPECT_EQ(CompareValues(ts, Value::Varchar("2020-01-01")), 1);
    EXPECT_EQ(CompareValues(Value::Varchar("2020-01-01"), ts), -1);
    EXPECT_EQ(CompareValues(ts, Value::Timestamp(ts.AsInt() + 1)), -1);
    EXPECT_EQ(CompareValues(ts, Value::BigInt(ts.AsInt())), 0);
    EXPECT_EQ(CompareValues(Value::Integer(0), Value::Timestamp(1)), -1);
    EXPECT_SQL_ERROR(CompareValues(ts, Value::Varchar("yesterday")), ErrorCode::kInvalidText, "'yesterday'");
    EXPECT_SQL_ERROR(CompareValues(ts, Value::Float(1.0)), ErrorCode::kTypeMismatch,
                     "cannot compare TIMESTAMP with FLOAT");
    EXPECT_EQ(CompareValues(Value::Bool(false), Value::Bool(true)), -1);
    EXPECT_EQ(CompareValues(Value::Bool(true), Value::Bool(true)), 0);
    EXPECT_SQL_ERROR(CompareValues(Value::Bool(true), Value::Integer(1)), ErrorCode::kTypeMismatch,
                     "cannot compare BOOLEAN with INTEGER");
    EXPECT_SQL_ERROR(CompareValues(Value::Varchar("1"), Value::Integer(1)), ErrorCode::kTypeMismatch,
                     "cannot compare VARCHAR with INTEGER");
}

TEST(GroupEqualsTest, NullsAndMismatches) {
    EXPECT_TRUE(GroupEquals(Value(), Value()));
    EXPECT_TRUE(GroupEquals(Value::Null(TypeId::kInteger), Value::Null(TypeId::kVarchar)));
    EXPECT_FALSE(GroupEquals(Value(), Value::Integer(0)));
    EXPECT_FALSE(GroupEquals(Value::Integer(0), Value::Null(TypeId::kInteger)));
    EXPECT_FALSE(GroupEquals(Value::Integer(1), Value::Varchar("1")));  // no throw
    EXPECT_FALSE(GroupEquals(Value::Varchar("a"), Value::Varbinary("a")));
    EXPECT_FALSE(GroupEquals(Value::Bool(true), Value::Integer(1)));
    // Strings hash as bytes, so grouping never equates them with timestamps (and never parses).
    EXPECT_FALSE(GroupEquals(Value::Timestamp(0), Value::Varchar("1970-01-01")));
    EXPECT_FALSE(GroupEquals(Value::Timestamp(0), Value::Varchar("not a time")));
    EXPECT_TRUE(GroupEquals(Value::Varchar("x"), Value::Varchar("x")));
    EXPECT_FALSE(GroupEquals(Value::Varchar("x"), Value::Varchar("X")));
    EXPECT_EQ(HashValue(Value()), HashValue(Value::Null(TypeId::kDecimal)));
}

// Every pair of values that GroupEquals must hash alike; mixed types, and values at the edges
// of double precision where a naive hash would split equal values.
TEST(GroupEqualsTest, HashAgreesWithEquality) {
    std::vector<Value> values = {
        Value::Integer(1),
        Value::BigInt(1),
        Value::Int(TypeId::kTinyInt, 1),
        Value::Float(1.0),
        DecV("1"),
        DecV("1.000000000000"),
        Value::Integer(0),
        Value::Float(0.0),
        Value::Float(-0.0),
        DecV("0"),
        Value::Float(0.5),
        DecV("0.5"),
        Value::Float(0.1),
        DecV("0.1"),
        DecV("0.100000000001"),
        Value::Float(-2.75),
        DecV("-2.75"),
        Value::BigInt((int64_t{1} << 53) + 1),
        DecV("9007199254740993"),
        Value::Float(9007199254740992.0),
        Value::BigInt(int64_t{1} << 53),
        DecV("9007199254740992"),
        Value::BigInt(kI64Max),
        Value::BigInt(kI64Min),
        Value::Float(9223372036854775808.0),
        Value::Float(-9223372036854775808.0),
        DecV("9223372036854775808"),
        DecV("-9223372036854775808"),
        DecV("-9223372036854775809"),
        Value::Float(1e20),
        DecV("100000000000000000000"),
        DecV("100000000000000000001"),
        DecV("12345678901234.5678"),
        Value::Float(12345678901234.5678),
        Value::Float(1e300),
        Value::Float(std::nan("")),
        Value::Float(-std::nan("")),
        Value::Timestamp(1),
        Value::Timestamp(0),
        Value::Varchar("1"),
        Value::Varbinary("1"),
        Value::Bool(true),
        Value(),
        Value::Null(TypeId::kFloat),
    };
    int equal_pairs = 0;
    for (const Value& a : values) {
        for (const Value& b : values) {
            if (GroupEquals(a, b)) {
                ++equal_pairs;
                EXPECT_TRUE(GroupEquals(b, a)) << a.ToString() << " / " << b.ToString();
                EXPECT_EQ(HashValue(a), HashValue(b)) << TypeIdName(a.type()) << " " << a.ToString() << " vs "
                                                      << TypeIdName(b.type()) << " " << b.ToString();
            }
        }
    }
    // Spot checks that the equalities above really were exercised.
    EXPECT_TRUE(GroupEquals(Value::Integer(1), DecV("1")));
    EXPECT_TRUE(GroupEquals(Value::Float(1.0), DecV("1")));
    EXPECT_TRUE(GroupEquals(Value::Float(0.1), DecV("0.1")));
    EXPECT_TRUE(GroupEquals(Value::Float(-0.0), Value::Integer(0)));
    EXPECT_TRUE(GroupEquals(Value::Timestamp(1), Value::Integer(1)));
    EXPECT_TRUE(GroupEquals(Value::Float(1e20), DecV("100000000000000000000")));
    EXPECT_FALSE(GroupEquals(Value::Float(1e20), DecV("100000000000000000001")));
    EXPECT_FALSE(GroupEquals(Value::BigInt((int64_t{1} << 53) + 1), Value::Float(9007199254740992.0)));
    EXPECT_FALSE(GroupEquals(DecV("9007199254740993"), Value::Float(9007199254740992.0)));
    EXPECT_TRUE(GroupEquals(Value::Float(std::nan("")), Value::Float(-std::nan(""))));
    EXPECT_GT(equal_pairs, static_cast<int>(values.size()) + 30);
    // And that distinct common values do not all collide.
    EXPECT_NE(HashValue(Value::Integer(1)), HashValue(Value::Integer(2)));
    EXPECT_NE(HashValue(Value::Varchar("a")), HashValue(Value::Varchar("b")));
    EXPECT_NE(HashValue(Value::Float(0.5)), HashValue(Value::Float(0.25)));
    EXPECT_NE(HashValue(Value::BigInt(kI64Max)), HashValue(Value::BigInt(kI64Max - 1)));
}

// ---- Arithmetic -------------------------------------------------------------------------------

TEST(ArithmeticTest, ResultTypes) {
    EXPECT_EQ(ArithmeticResultType(TypeId::kTinyInt, TypeId::kSmallInt), TypeId::kBigInt);
    EXPECT_EQ(ArithmeticResultType(TypeId::kInteger, TypeId::kInteger), TypeId::kBigInt);
    EXPECT_EQ(ArithmeticResultType(TypeId::kInteger, TypeId::kDecimal), TypeId::kDecimal);
    EXPECT_EQ(ArithmeticResultType(TypeId::kDecimal, TypeId::kFloat), TypeId::kFloat);
    EXPECT_EQ(ArithmeticResultType(TypeId::kFloat, TypeId::kBigInt), TypeId::kFloat);
    EXPECT_EQ(ArithmeticResultType(TypeId::kNull, TypeId::kInteger), TypeId::kBigInt);
    EXPECT_EQ(ArithmeticResultType(TypeId::kNull, TypeId::kDecimal), TypeId::kDecimal);
    EXPECT_EQ(ArithmeticResultType(TypeId::kNull, TypeId::kNull), TypeId::kNull);
    EXPECT_SQL_ERROR(ArithmeticResultType(TypeId::kVarchar, TypeId::kInteger), ErrorCode::kTypeMismatch,
                     "VARCHAR and INTEGER");
    EXPECT_SQL_ERROR(ArithmeticResultType(TypeId::kTimestamp, TypeId::kInteger), ErrorCode::kTypeMismatch, "TIMESTAMP");
    EXPECT_SQL_ERROR(ArithmeticResultType(TypeId::kBoolean, TypeId::kBoolean), ErrorCode::kTypeMismatch, "BOOLEAN");
}

TEST(ArithmeticTest, IntegersComputeInBigInt) {
    Value r = Add(Value::Int(TypeId::kTinyInt, 127), Value::Int(TypeId::kTinyInt, 1));
    EXPECT_EQ(r.type(), TypeId::kBigInt);
    EXPECT_EQ(r.AsInt(), 128);
    EXPECT_EQ(Subtract(Value::Integer(3), Value::BigInt(5)).AsInt(), -2);
    EXPECT_EQ(Multiply(Value::Integer(2147483647), Value::Integer(2147483647)).AsInt(), 4611686014132420609LL);
    EXPECT_EQ(Divide(Value::Integer(7), Value::Integer(2)).AsInt(), 3);
    EXPECT_EQ(Divide(Value::Integer(-7), Value::Integer(2)).AsInt(), -3);
    EXPECT_EQ(Modulo(Value::Integer(-7), Value::Integer(2)).AsInt(), -1);
    EXPECT_EQ(Modulo(Value::Integer(7), Value::Integer(-2)).AsInt(), 1);
    EXPECT_EQ(Divide(Value::BigInt(kI64Min), Value::BigInt(1)).AsInt(), kI64Min);
    EXPECT_EQ(Modulo(Value::BigInt(kI64Min), Value::BigInt(-1)).AsInt(), 0);
    EXPECT_EQ(Divide(Value::BigInt(kI64Max), Value::BigInt(-1)).AsInt(), -kI64Max);
    EXPECT_EQ(Add(Value::BigInt(kI64Max), Value::BigInt(kI64Min)).AsInt(), -1);
}

TEST(ArithmeticTest, IntegerOverflow) {
    EXPECT_SQL_ERROR(Add(Value::BigInt(kI64Max), Value::Integer(1)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow in 9223372036854775807 + 1");
    EXPECT_SQL_ERROR(Subtract(Value::BigInt(kI64Min), Value::Integer(1)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow in -9223372036854775808 - 1");
    EXPECT_SQL_ERROR(Multiply(Value::BigInt(kI64Max), Value::Integer(2)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow in 9223372036854775807 * 2");
    EXPECT_SQL_ERROR(Multiply(Value::BigInt(kI64Min), Value::Integer(-1)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow");
    EXPECT_SQL_ERROR(Divide(Value::BigInt(kI64Min), Value::Integer(-1)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow in -9223372036854775808 / -1");
    EXPECT_SQL_ERROR(Negate(Value::BigInt(kI64Min)), ErrorCode::kNumericOutOfRange,
                     "BIGINT overflow in -(-9223372036854775808)");
}

TEST(ArithmeticTest, DivisionByZero) {
    EXPECT_SQL_ERROR(Divide(Value::Integer(5), Value::Integer(0)), ErrorCode::kDivisionByZero,
                     "division by zero in 5 / 0");
    EXPECT_SQL_ERROR(Modulo(Value::Integer(5), Value::Int(TypeId::kTinyInt, 0)), ErrorCode::kDivisionByZero,
                     "division by zero in 5 % 0");
    EXPECT_SQL_ERROR(Divide(DecV("1.5"), Value::Integer(0)), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Modulo(DecV("1.5"), DecV("0")), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Divide(Value::Float(1.0), Value::Float(0.0)), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Divide(Value::Float(1.0), Value::Float(-0.0)), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Divide(Value::Float(1.0), Value::Integer(0)), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Modulo(Value::Float(1.0), Value::Float(0.0)), ErrorCode::kDivisionByZero, "division by zero");
    EXPECT_SQL_ERROR(Divide(Value::Float(0.0), DecV("0")), ErrorCode::kDivisionByZero, "division by zero");
}

TEST(ArithmeticTest, FloatAndDecimalPromotion) {
    Value f = Add(Value::Float(1.5), Value::Integer(1));
    EXPECT_EQ(f.type(), TypeId::kFloat);
    EXPECT_EQ(f.AsDouble(), 2.5);
    Value d = Add(DecV("1.25"), Value::Integer(1));
    EXPECT_EQ(d.type(), TypeId::kDecimal);
    EXPECT_EQ(d.ToString(), "2.250000000000");
    Value df = Multiply(DecV("0.5"), Value::Float(3.0));
    EXPECT_EQ(df.type(), TypeId::kFloat);
    EXPECT_EQ(df.AsDouble(), 1.5);
    EXPECT_EQ(Divide(Value::Integer(1), DecV("3")).ToString(), "0.333333333333");
    EXPECT_EQ(Divide(Value::Integer(1), Value::Float(4)).AsDouble(), 0.25);
    EXPECT_EQ(Modulo(Value::Float(7.5), Value::Integer(2)).AsDouble(), 1.5);
    EXPECT_EQ(Modulo(Value::Float(-7.5), Value::Integer(2)).AsDouble(), -1.5);
    EXPECT_EQ(Modulo(DecV("7.5"), Value::Integer(-2)).ToString(), "1.500000000000");
    EXPECT_EQ(Subtract(Value::Integer(1), DecV("0.000000000001")).ToString(), "0.999999999999");
    EXPECT_SQL_ERROR(Multiply(Value::Float(1e308), Value::Integer(10)), ErrorCode::kNumericOutOfRange,
                     "FLOAT overflow in 1e+308 * 10");
    EXPECT_SQL_ERROR(Add(Value::Float(1.7e308), Value::Float(1.7e308)), ErrorCode::kNumericOutOfRange, "FLOAT");
    EXPECT_SQL_ERROR(Add(Value::Float(INFINITY), Value::Float(-INFINITY)), ErrorCode::kNumericOutOfRange, "NaN");
    EXPECT_SQL_ERROR(Multiply(DecV(kMaxDecimalText), Value::Integer(2)), ErrorCode::kNumericOutOfRange,
                     "DECIMAL overflow");
}

TEST(ArithmeticTest, NullsAndTypeErrors) {
    Value n = Add(Value::Null(TypeId::kInteger), Value::Integer(1));
    EXPECT_TRUE(n.is_null());
    EXPECT_EQ(n.type(), TypeId::kBigInt);
    EXPECT_EQ(Multiply(Value(), Value::Float(2)).type(), TypeId::kFloat);
    EXPECT_TRUE(Divide(DecV("1"), Value::Null(TypeId::kInteger)).is_null());
    EXPECT_EQ(Divide(DecV("1"), Value::Null(TypeId::kInteger)).type(), TypeId::kDecimal);
    EXPECT_TRUE(Divide(Value::Integer(1), Value::Null(TypeId::kInteger)).is_null());  // NULL, not div by 0
    Value neg = Negate(Value::Null(TypeId::kSmallInt));
    EXPECT_TRUE(neg.is_null());
    EXPECT_EQ(neg.type(), TypeId::kBigInt);
    EXPECT_SQL_ERROR(Add(Value::Varchar("a"), Value::Integer(1)), ErrorCode::kTypeMismatch,
                     "cannot apply + to VARCHAR and INTEGER");
    EXPECT_SQL_ERROR(Add(Value::Null(TypeId::kVarchar), Value::Integer(1)), ErrorCode::kTypeMismatch,
                     "cannot apply + to VARCHAR and INTEGER");
    EXPECT_SQL_ERROR(Subtract(Value::Timestamp(5), Value::Integer(1)), ErrorCode::kTypeMismatch,
                     "cannot apply - to TIMESTAMP and INTEGER");
    EXPECT_SQL_ERROR(Multiply(Value::Bool(true), Value::Integer(1)), ErrorCode::kTypeMismatch, "BOOLEAN");
    EXPECT_SQL_ERROR(Modulo(Value::Integer(1), Value::Varbinary("a")), ErrorCode::kTypeMismatch, "% to INTEGER");
    EXPECT_SQL_ERROR(Negate(Value::Varchar("1")), ErrorCode::kTypeMismatch, "cannot apply unary - to VARCHAR");
}

TEST(ArithmeticTest, Negate) {
    Value r = Negate(Value::Int(TypeId::kTinyInt, -128));
    EXPECT_EQ(r.type(), TypeId::kBigInt);
    EXPECT_EQ(r.AsInt(), 128);
    EXPECT_EQ(Negate(DecV("1.5")).ToString(), "-1.500000000000");
    EXPECT_EQ(Negate(DecV(kMaxDecimalText)).ToString(), std::string("-") + kMaxDecimalText);
    EXPECT_EQ(Negate(Value::Float(2.5)).AsDouble(), -2.5);
    EXPECT_EQ(Negate(Value::BigInt(kI64Max)).AsInt(), -kI64Max);
}

TEST(ConcatTest, ConvertsOperandsToText) {
    EXPECT_EQ(Concat(Value::Varchar("ab"), Value::Varchar("c")).AsString(), "abc");
    EXPECT_EQ(Concat(Value::Varchar("a"), Value::Integer(1)).AsString(), "a1");
    EXPECT_EQ(Concat(Value::Float(1.5), Value::Varchar("x")).AsString(), "1.5x");
    EXPECT_EQ(Concat(DecV("2"), Value::Bool(true)).AsString(), "2.000000000000true");
    EXPECT_EQ(Concat(Value::Timestamp(0), Value::Varchar("!")).AsString(), "1970-01-01 00:00:00.000000!");
    EXPECT_EQ(Concat(Value::Varbinary("hi"), Value::Varchar("!")).AsString(), "hi!");
    EXPECT_EQ(Concat(Value::Varchar(""), Value::Varchar("")).AsString(), "");
    Value r = Concat(Value::Varchar("a"), Value::Varchar("b"));
    EXPECT_EQ(r.type(), TypeId::kVarchar);
    Value n = Concat(Value::Varchar("a"), Value::Null(TypeId::kVarchar));
    EXPECT_TRUE(n.is_null());
    EXPECT_EQ(n.type(), TypeId::kVarchar);
    EXPECT_TRUE(Concat(Value(), Value::Integer(1)).is_null());
    std::string half(kMaxVarLength / 2 + 1, 'x');
    EXPECT_SQL_ERROR(Concat(Value::Varchar(half), Value::Varchar(half)), ErrorCode::kStringTooLong, "exceeds");
}

// ---- CAST -------------------------------------------------------------------------------------

SqlType T(TypeId id, uint32_t length = 0) { return SqlType{id, length}; }

TEST(CastTest, NullStaysNullWithTargetType) {
    Value r = CastValue(Value(), T(TypeId::kInteger));
    EXPECT_TRUE(r.is_null());
    EXPECT_EQ(r.type(), TypeId::kInteger);
    EXPECT_EQ(CastValue(Value::Null(TypeId::kVarchar), T(TypeId::kTimestamp)).type(), TypeId::kTimestamp);
}

TEST(CastTest, ToIntegral) {
    Value r = CastValue(Value::BigInt(100), T(TypeId::kTinyInt));
    EXPECT_EQ(r.type(), TypeId::kTinyInt);
    EXPECT_EQ(r.AsInt(), 100);
    EXPECT_EQ(CastValue(Value::BigInt(-128), T(TypeId::kTinyInt)).AsInt(), -128);
    EXPECT_SQL_ERROR(CastValue(Value::Integer(300), T(TypeId::kTinyInt)), ErrorCode::kNumericOutOfRange,
                     "value 300 out of range for TINYINT");
    EXPECT_SQL_ERROR(CastValue(Value::Integer(-129), T(TypeId::kTinyInt)), ErrorCode::kNumericOutOfRange,
                     "value -129 out of range for TINYINT");
    EXPECT_SQL_ERROR(CastValue(Value::BigInt(32768), T(TypeId::kSmallInt)), ErrorCode::kNumericOutOfRange, "SMALLINT");
    EXPECT_SQL_ERROR(CastValue(Value::BigInt(2147483648LL), T(TypeId::kInteger)), ErrorCode::kNumericOutOfRange,
                     "INTEGER");
    // FLOAT and DECIMAL truncate toward zero.
    EXPECT_EQ(CastValue(Value::Float(2.7), T(TypeId::kInteger)).AsInt(), 2);
    EXPECT_EQ(CastValue(Value::Float(-2.7), T(TypeId::kInteger)).AsInt(), -2);
    EXPECT_EQ(CastValue(Value::Float(127.9), T(TypeId::kTinyInt)).AsInt(), 127);
    EXPECT_EQ(CastValue(Value::Float(-9223372036854775808.0), T(TypeId::kBigInt)).AsInt(), kI64Min);
    EXPECT_SQL_ERROR(CastValue(Value::Float(9223372036854775808.0), T(TypeId::kBigInt)), ErrorCode::kNumericOutOfRange,
                     "out of range for BIGINT");
    EXPECT_SQL_ERROR(CastValue(Value::Float(128.5), T(TypeId::kTinyInt)), ErrorCode::kNumericOutOfRange,
                     "value 128.5 out of range for TINYINT");
    EXPECT_SQL_ERROR(CastValue(Value::Float(std::nan("")), T(TypeId::kInteger)), ErrorCode::kNumericOutOfRange, "NaN");
    EXPECT_SQL_ERROR(CastValue(Value::Float(-INFINITY), T(TypeId::kBigInt)), ErrorCode::kNumericOutOfRange, "-Inf");
    EXPECT_EQ(CastValue(DecV("2.9"), T(TypeId::kInteger)).AsInt(), 2);
    EXPECT_EQ(CastValue(DecV("-2.9"), T(TypeId::kSmallInt)).AsInt(), -2);
    EXPECT_SQL_ERROR(CastValue(DecV("1e20"), T(TypeId::kBigInt)), ErrorCode::kNumericOutOfRange,
                     "out of range for BIGINT");
    EXPECT_SQL_ERROR(CastValue(DecV("128"), T(TypeId::kTinyInt)), ErrorCode::kNumericOutOfRange, "TINYINT");
    EXPECT_EQ(CastValue(Value::Timestamp(12345), T(TypeId::kBigInt)).AsInt(), 12345);
    EXPECT_EQ(CastValue(Value::Bool(true), T(TypeId::kInteger)).AsInt(), 1);
    EXPECT_EQ(CastValue(Value::Bool(false), T(TypeId::kTinyInt)).AsInt(), 0);
    EXPECT_SQL_ERROR(CastValue(Value::Varbinary("a"), T(TypeId::kInteger)), ErrorCode::kTypeMismatch,
                     "cannot cast VARBINARY to INTEGER");
}

TEST(CastTest, TextToNumbers) {
    EXPECT_EQ(CastValue(Value::Varchar(" 42 "), T(TypeId::kInteger)).AsInt(), 42);
    EXPECT_EQ(CastValue(Value::Varchar("+5"), T(TypeId::kInteger)).AsInt(), 5);
    EXPECT_EQ(CastValue(Value::Varchar("-9223372036854775808"), T(TypeId::kBigInt)).AsInt(), kI64Min);
    EXPECT_EQ(CastValue(Value::Varchar("9223372036854775807"), T(TypeId::kBigInt)).AsInt(), kI64Max);
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("12x"), T(TypeId::kInteger)), ErrorCode::kInvalidText,
                     "invalid INTEGER text: '12x'");
    for (const char* bad : {"", "   ", "+", "-", "1.5", "1e3", "0x10", "1 2", "--1"}) {
        EXPECT_SQL_ERROR(CastValue(Value::Varchar(bad), T(TypeId::kBigInt)), ErrorCode::kInvalidText,
                         "invalid BIGINT text");
    }
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("9223372036854775808"), T(TypeId::kBigInt)),
                     ErrorCode::kNumericOutOfRange, "out of range for BIGINT");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("300"), T(TypeId::kTinyInt)), ErrorCode::kNumericOutOfRange,
                     "out of range for TINYINT");

    EXPECT_EQ(CastValue(Value::Varchar("1.5e3"), T(TypeId::kFloat)).AsDouble(), 1500.0);
    EXPECT_EQ(CastValue(Value::Varchar(" +2.5 "), T(TypeId::kFloat)).AsDouble(), 2.5);
    EXPECT_EQ(CastValue(Value::Varchar("-.5"), T(TypeId::kFloat)).AsDouble(), -0.5);
    EXPECT_EQ(CastValue(Value::Varchar("1e-400"), T(TypeId::kFloat)).AsDouble(), 0.0);
    for (const char* bad : {"", "abc", "nan", "inf", "-Infinity", "1.5x", "+-1", "1e", "0x1p3"}) {
        EXPECT_SQL_ERROR(CastValue(Value::Varchar(bad), T(TypeId::kFloat)), ErrorCode::kInvalidText,
                         "invalid FLOAT text");
    }
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("1e400"), T(TypeId::kFloat)), ErrorCode::kNumericOutOfRange,
                     "out of range for FLOAT");

    EXPECT_EQ(CastValue(Value::Varchar(" 1.5 "), T(TypeId::kDecimal)).ToString(), "1.500000000000");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("x"), T(TypeId::kDecimal)), ErrorCode::kInvalidText,
                     "invalid DECIMAL text: 'x'");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("1e30"), T(TypeId::kDecimal)), ErrorCode::kNumericOutOfRange, "DECIMAL");
}

TEST(CastTest, BetweenNumbers) {
    EXPECT_EQ(CastValue(Value::Integer(3), T(TypeId::kFloat)).AsDouble(), 3.0);
    EXPECT_EQ(CastValue(DecV("0.1"), T(TypeId::kFloat)).AsDouble(), 0.1);
    EXPECT_EQ(CastValue(Value::BigInt(kI64Min), T(TypeId::kDecimal)).ToString(), "-9223372036854775808.000000000000");
    EXPECT_EQ(CastValue(Value::Float(2.5), T(TypeId::kDecimal)).ToString(), "2.500000000000");
    EXPECT_EQ(CastValue(Value::Float(1.0 / 3), T(TypeId::kDecimal)).ToString(), "0.333333333333");
    EXPECT_SQL_ERROR(CastValue(Value::Float(1e30), T(TypeId::kDecimal)), ErrorCode::kNumericOutOfRange,
                     "value 1e+30 out of range for DECIMAL");
    EXPECT_SQL_ERROR(CastValue(Value::Float(std::nan("")), T(TypeId::kDecimal)), ErrorCode::kNumericOutOfRange, "NaN");
    EXPECT_SQL_ERROR(CastValue(Value::Timestamp(0), T(TypeId::kFloat)), ErrorCode::kTypeMismatch,
                     "cannot cast TIMESTAMP to FLOAT");
    EXPECT_SQL_ERROR(CastValue(Value::Bool(true), T(TypeId::kDecimal)), ErrorCode::kTypeMismatch,
                     "cannot cast BOOLEAN to DECIMAL(38,12)");
}

// CAST(f AS DECIMAL) = f whenever f's shortest text has at most 12 fractional digits.
TEST(CastTest, FloatToDecimalComparesEqualToTheFloat) {
    for (double f : {0.1, 0.3, 123456.789, -2.75, 1e-5, 1e25, 1152921504606846976.0, -9007199254740993.0, 0.0}) {
        Value d = CastValue(Value::Float(f), T(TypeId::kDecimal));
        EXPECT_EQ(CompareValues(d, Value::Float(f)), 0) << FormatDouble(f) << " -> " << d.ToString();
        EXPECT_TRUE(GroupEquals(d, Value::Float(f))) << FormatDouble(f);
        EXPECT_EQ(HashValue(d), HashValue(Value::Float(f))) << FormatDouble(f);
    }
}

TEST(CastTest, ToText) {
    EXPECT_EQ(CastValue(Value::Integer(42), T(TypeId::kVarchar)).AsString(), "42");
    EXPECT_EQ(CastValue(Value::Integer(42), T(TypeId::kVarchar)).type(), TypeId::kVarchar);
    EXPECT_EQ(CastValue(Value::Float(1.5), T(TypeId::kVarchar, 10)).AsString(), "1.5");
    EXPECT_EQ(CastValue(Value::Float(1e20), T(TypeId::kVarchar)).AsString(), "1e+20");
    EXPECT_EQ(CastValue(DecV("1.5"), T(TypeId::kVarchar)).AsString(), "1.500000000000");
    EXPECT_EQ(CastValue(Value::Bool(false), T(TypeId::kVarchar)).AsString(), "false");
    EXPECT_EQ(CastValue(Value::Timestamp(-1), T(TypeId::kVarchar)).AsString(), "1969-12-31 23:59:59.999999");
    EXPECT_EQ(CastValue(Value::Varbinary("\x01raw"), T(TypeId::kVarchar)).AsString(), "\x01raw");
    EXPECT_EQ(CastValue(Value::Varchar("hé"), T(TypeId::kVarchar, 2)).AsString(), "hé");  // 2 chars, 3 bytes
    EXPECT_EQ(CastValue(Value::Varchar(std::string(5000, 'x')), T(TypeId::kVarchar, 0)).AsString().size(), 5000u);
    EXPECT_SQL_ERROR(CastValue(Value::Integer(12345), T(TypeId::kVarchar, 3)), ErrorCode::kStringTooLong,
                     "value too long for VARCHAR(3): 5 characters");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("héllo"), T(TypeId::kVarchar, 4)), ErrorCode::kStringTooLong,
                     "5 characters");
}

TEST(CastTest, ToBinary) {
    Value b = CastValue(Value::Varchar("ab"), T(TypeId::kVarbinary, 2));
    EXPECT_EQ(b.type(), TypeId::kVarbinary);
    EXPECT_EQ(b.AsString(), "ab");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("hé"), T(TypeId::kVarbinary, 2)), ErrorCode::kStringTooLong,
                     "value too long for VARBINARY(2): 3 bytes");
    EXPECT_SQL_ERROR(CastValue(Value::Integer(1), T(TypeId::kVarbinary)), ErrorCode::kTypeMismatch,
                     "cannot cast INTEGER to VARBINARY");
}

TEST(CastTest, Timestamps) {
    Value t = CastValue(Value::Varchar(" 2024-02-29 12:34:56 "), T(TypeId::kTimestamp));
    EXPECT_EQ(t.type(), TypeId::kTimestamp);
    EXPECT_EQ(t.AsInt(), 1'709'210'096'000'000);
    EXPECT_EQ(CastValue(Value::BigInt(1'000'000), T(TypeId::kTimestamp)).AsInt(), 1'000'000);
    EXPECT_EQ(CastValue(Value::Integer(-1), T(TypeId::kTimestamp)).ToString(), "1969-12-31 23:59:59.999999");
    EXPECT_SQL_ERROR(CastValue(Value::BigInt(kI64Max), T(TypeId::kTimestamp)), ErrorCode::kNumericOutOfRange,
                     "out of range for TIMESTAMP");
    EXPECT_SQL_ERROR(CastValue(Value::BigInt(-62'135'596'800'000'001), T(TypeId::kTimestamp)),
                     ErrorCode::kNumericOutOfRange, "out of range for TIMESTAMP");
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("2023-02-29"), T(TypeId::kTimestamp)), ErrorCode::kInvalidText,
                     "day out of range");
    EXPECT_SQL_ERROR(CastValue(Value::Float(1.0), T(TypeId::kTimestamp)), ErrorCode::kTypeMismatch,
                     "cannot cast FLOAT to TIMESTAMP");
}

TEST(CastTest, Booleans) {
    EXPECT_TRUE(CastValue(Value::Varchar(" TRUE "), T(TypeId::kBoolean)).AsBool());
    EXPECT_FALSE(CastValue(Value::Varchar("false"), T(TypeId::kBoolean)).AsBool());
    EXPECT_TRUE(CastValue(Value::Integer(7), T(TypeId::kBoolean)).AsBool());
    EXPECT_FALSE(CastValue(Value::Integer(0), T(TypeId::kBoolean)).AsBool());
    EXPECT_SQL_ERROR(CastValue(Value::Varchar("yes"), T(TypeId::kBoolean)), ErrorCode::kInvalidText,
                     "invalid BOOLEAN text: 'yes'");
    EXPECT_SQL_ERROR(CastValue(Value::Float(1), T(TypeId::kBoolean)), ErrorCode::kTypeMismatch, "cannot cast");
}

// ---- Assignment coercion -------------------------------------------------------------------------

TEST(CoerceTest, NullsAndIntegers) {
    Value n = CoerceForColumn(Value(), T(TypeId::kSmallInt), "x");
    EXPECT_TRUE(n.is_null());
    EXPECT_EQ(n.type(), TypeId::kSmallInt);
    Value v = CoerceForColumn(Value::BigInt(5), T(TypeId::kTinyInt), "x");
    EXPECT_EQ(v.type(), TypeId::kTinyInt);
    EXPECT_EQ(v.AsInt(), 5);
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Integer(300), T(TypeId::kTinyInt), "x"), ErrorCode::kNumericOutOfRange,
                     "value 300 out of range for TINYINT column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::BigInt(kI64Min), T(TypeId::kInteger), "y"), ErrorCode::kNumericOutOfRange,
                     "INTEGER column y");
    EXPECT_EQ(CoerceForColumn(Value::Float(3.0), T(TypeId::kInteger), "x").AsInt(), 3);
    EXPECT_EQ(CoerceForColumn(Value::Float(-0.0), T(TypeId::kInteger), "x").AsInt(), 0);
    EXPECT_EQ(CoerceForColumn(DecV("-3"), T(TypeId::kSmallInt), "x").AsInt(), -3);
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(2.5), T(TypeId::kInteger), "x"), ErrorCode::kTypeMismatch,
                     "cannot store 2.5 in INTEGER column x without losing digits");
    EXPECT_SQL_ERROR(CoerceForColumn(DecV("2.5"), T(TypeId::kBigInt), "x"), ErrorCode::kTypeMismatch,
                     "without losing digits");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(1e10), T(TypeId::kInteger), "x"), ErrorCode::kNumericOutOfRange,
                     "value 1e+10 out of range for INTEGER column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(1e19), T(TypeId::kBigInt), "x"), ErrorCode::kNumericOutOfRange,
                     "BIGINT column x");
    EXPECT_SQL_ERROR(CoerceForColumn(DecV("1000"), T(TypeId::kTinyInt), "x"), ErrorCode::kNumericOutOfRange,
                     "TINYINT column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(INFINITY), T(TypeId::kBigInt), "x"), ErrorCode::kNumericOutOfRange,
                     "Inf");
}

TEST(CoerceTest, FloatsAndDecimals) {
    Value f = CoerceForColumn(Value::Integer(3), T(TypeId::kFloat), "f");
    EXPECT_EQ(f.type(), TypeId::kFloat);
    EXPECT_EQ(f.AsDouble(), 3.0);
    EXPECT_EQ(CoerceForColumn(DecV("0.25"), T(TypeId::kFloat), "f").AsDouble(), 0.25);
    Value d = CoerceForColumn(Value::Integer(3), T(TypeId::kDecimal), "d");
    EXPECT_EQ(d.type(), TypeId::kDecimal);
    EXPECT_EQ(d.ToString(), "3.000000000000");
    EXPECT_EQ(CoerceForColumn(Value::Float(0.1), T(TypeId::kDecimal), "d").ToString(), "0.100000000000");
    EXPECT_EQ(CoerceForColumn(Value::Float(1.0 / 3), T(TypeId::kDecimal), "d").ToString(), "0.333333333333");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(1e30), T(TypeId::kDecimal), "d"), ErrorCode::kNumericOutOfRange,
                     "value 1e+30 out of range for DECIMAL column d");
}

TEST(CoerceTest, NoImplicitTextConversions) {
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varchar("123"), T(TypeId::kInteger), "x"), ErrorCode::kTypeMismatch,
                     "cannot store VARCHAR in INTEGER column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varchar("1.5"), T(TypeId::kDecimal), "x"), ErrorCode::kTypeMismatch,
                     "VARCHAR in DECIMAL(38,12) column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Integer(1), T(TypeId::kVarchar, 10), "s"), ErrorCode::kTypeMismatch,
                     "cannot store INTEGER in VARCHAR(10) column s");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varchar("414243"), T(TypeId::kVarbinary, 10), "b"),
                     ErrorCode::kTypeMismatch, "cannot store VARCHAR in VARBINARY(10) column b");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varbinary("a"), T(TypeId::kVarchar, 10), "s"), ErrorCode::kTypeMismatch,
                     "VARBINARY in VARCHAR(10)");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Bool(true), T(TypeId::kInteger), "x"), ErrorCode::kTypeMismatch,
                     "cannot store BOOLEAN in INTEGER column x");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Timestamp(0), T(TypeId::kBigInt), "x"), ErrorCode::kTypeMismatch,
                     "TIMESTAMP");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Float(1), T(TypeId::kTimestamp), "t"), ErrorCode::kTypeMismatch,
                     "FLOAT in TIMESTAMP column t");
}

TEST(CoerceTest, Lengths) {
    Value s = CoerceForColumn(Value::Varchar("héllo"), T(TypeId::kVarchar, 5), "name");
    EXPECT_EQ(s.AsString(), "héllo");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varchar("héllo w"), T(TypeId::kVarchar, 5), "name"),
                     ErrorCode::kStringTooLong, "value too long for column name VARCHAR(5): 7 characters");
    EXPECT_EQ(CoerceForColumn(Value::Varchar(std::string(100, 'x')), T(TypeId::kVarchar, 0), "n").AsString().size(),
              100u);
    EXPECT_EQ(CoerceForColumn(Value::Varbinary("abcd"), T(TypeId::kVarbinary, 4), "b").type(), TypeId::kVarbinary);
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varbinary("abcdef"), T(TypeId::kVarbinary, 4), "b"),
                     ErrorCode::kStringTooLong, "value too long for column b VARBINARY(4): 6 bytes");
}

TEST(CoerceTest, Timestamps) {
    Value t = CoerceForColumn(Value::Varchar("2000-02-29 00:00:00"), T(TypeId::kTimestamp), "t");
    EXPECT_EQ(t.type(), TypeId::kTimestamp);
    EXPECT_EQ(t.AsInt(), 951'782'400'000'000);
    EXPECT_EQ(CoerceForColumn(Value::BigInt(42), T(TypeId::kTimestamp), "t").AsInt(), 42);
    EXPECT_EQ(CoerceForColumn(Value::Timestamp(7), T(TypeId::kTimestamp), "t").AsInt(), 7);
    EXPECT_SQL_ERROR(CoerceForColumn(Value::Varchar("2000-02-30"), T(TypeId::kTimestamp), "t"), ErrorCode::kInvalidText,
                     "invalid TIMESTAMP text");
    EXPECT_SQL_ERROR(CoerceForColumn(Value::BigInt(kI64Min), T(TypeId::kTimestamp), "t"), ErrorCode::kNumericOutOfRange,
                     "out of range for TIMESTAMP column t");
}

}  // namespace
}  // namespace surge
