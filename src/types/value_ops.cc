// Operations on Values: comparison and hashing, arithmetic with promotion, CAST, assignment
// coercion, and the text forms of timestamps and doubles. docs/types.md is the user-facing
// statement of these rules; keep the two in step.
//
// Two consistency rules shape this file:
//  - GroupEquals and HashValue must agree (hash aggregation and DISTINCT depend on it), including
//    across numeric types, so every integral numeric value hashes as its int64 whatever its type.
//  - Nothing wraps, saturates or silently truncates: overflow, division by zero, over-long
//    strings and unconvertible text all throw SqlError with the values involved.
#include "types/value_ops.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/hash.h"
#include "common/status.h"

namespace surge {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// TIMESTAMP range: 0001-01-01 00:00:00 through 9999-12-31 23:59:59.999999, the years the text
// form can spell with four digits.
constexpr int64_t kMinTimestamp = -62'135'596'800 * kMicrosPerSecond;
constexpr int64_t kMaxTimestamp = 253'402'300'800 * kMicrosPerSecond - 1;
// 2^63 as a double: the first double above every int64.
constexpr double kTwo63 = 9223372036854775808.0;
constexpr Decimal::Rep kDecimalOne = 1'000'000'000'000;
constexpr uint64_t kNullHash = 0x9E3779B97F4A7C15ull;

std::string Name(TypeId t) { return std::string(TypeIdName(t)); }

// Quoted text for an error message, cut short (at a character boundary) so a megabyte string does
// not become a megabyte message.
std::string Quoted(std::string_view s) {
    constexpr size_t kMax = 64;
    std::string out = "'";
    if (s.size() <= kMax) {
        out += s;
    } else {
        size_t cut = kMax;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        out += s.substr(0, cut);
        out += "...";
    }
    out += '\'';
    return out;
}

std::string_view Trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    size_t b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(kSpace);
    return s.substr(b, e - b + 1);
}

template <typename T>
int Sign3(T a, T b) {
    return a < b ? -1 : (a > b ? 1 : 0);
}

// ---- Timestamps ------------------------------------------------------------------------------

// " column X" for error messages about a column, or "" when there is no column.
std::string InColumn(std::string_view column) {
    return column.empty() ? std::string() : " column " + std::string(column);
}

// Range checks take the value's display text as a callable, so the text is only formatted when the
// check fails (these run on every stored value).
template <class Text>
int64_t CheckTimestampRange(int64_t micros, const Text& text, std::string_view column) {
    if (micros < kMinTimestamp || micros > kMaxTimestamp) [[unlikely]] {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + std::string(text()) + " out of range for TIMESTAMP" +
                                                         InColumn(column) +
                                                         " (0001-01-01 through 9999-12-31 23:59:59.999999)");
    }
    return micros;
}

// ---- Comparison and hashing ------------------------------------------------------------------

int CompareDoubles(double a, double b) {
    // NaN sorts above everything and equals itself, as the index key encoding orders it.
    bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
    return Sign3(a, b);
}

// Exact: int64 -> double conversion could round (2^63-1 becomes 2^63), so split d instead.
int CompareIntDouble(int64_t i, double d) {
    if (std::isnan(d) || d >= kTwo63) return -1;
    if (d < -kTwo63) return 1;
    double whole = std::trunc(d);
    auto wi = static_cast<int64_t>(whole);  // in range: -2^63 <= whole < 2^63
    if (i != wi) return i < wi ? -1 : 1;
    double frac = d - whole;  // exact
    return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

// DECIMAL with FLOAT compares as double, except against an integral double, where it compares
// exactly. The exception keeps equality consistent with HashValue: an integral value equal to
// an integral double is exactly that integer and hashes as one.
int CompareDecimalDouble(Decimal x, double d) {
    if (std::isnan(d)) return -1;
    if (std::fabs(d) >= 1e26) return d > 0 ? -1 : 1;  // beyond every DECIMAL, including infinities
    if (d == std::trunc(d)) return Sign3(x.raw(), static_cast<Decimal::Rep>(d) * kDecimalOne);
    return CompareDoubles(x.ToDouble(), d);
}

int CompareNumeric(const Value& a, const Value& b) {
    TypeId ta = a.type(), tb = b.type();
    if (IsIntegral(ta) && IsIntegral(tb)) return Sign3(a.AsInt(), b.AsInt());
    if (ta == TypeId::kFloat || tb == TypeId::kFloat) {
        if (ta == TypeId::kFloat && tb == TypeId::kFloat) return CompareDoubles(a.AsDouble(), b.AsDouble());
        bool flip = ta == TypeId::kFloat;  // put the FLOAT on the right
        const Value& x = flip ? b : a;
        double d = flip ? a.AsDouble() : b.AsDouble();
        int c = x.type() == TypeId::kDecimal ? CompareDecimalDouble(x.AsDecimal(), d) : CompareIntDouble(x.AsInt(), d);
        return flip ? -c : c;
    }
    Decimal da = ta == TypeId::kDecimal ? a.AsDecimal() : Decimal::FromInt(a.AsInt());
    Decimal db = tb == TypeId::kDecimal ? b.AsDecimal() : Decimal::FromInt(b.AsInt());
    return Sign3(da.raw(), db.raw());
}

int CompareBytes(std::string_view a, std::string_view b) {
    size_t n = std::min(a.size(), b.size());
    int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    if (c != 0) return c < 0 ? -1 : 1;
    return Sign3(a.size(), b.size());
}

uint64_t HashInt(int64_t i) { return Hash64(&i, sizeof i); }

uint64_t HashDouble(double d) {
    if (std::isnan(d)) return HashInt(INT64_MIN) ^ kNullHash;  // one hash for every NaN
    // Integral doubles in int64 range (including -0.0) hash as the integer, like BIGINT 1 and 1.0.
    if (d == std::trunc(d) && d >= -kTwo63 && d < kTwo63) return HashInt(static_cast<int64_t>(d));
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return Hash64(&bits, sizeof bits);
}

// ---- Arithmetic ------------------------------------------------------------------------------

enum class Op : uint8_t { kAdd, kSub, kMul, kDiv, kMod };

std::string_view OpText(Op op) {
    switch (op) {
        case Op::kAdd:
            return "+";
        case Op::kSub:
            return "-";
        case Op::kMul:
            return "*";
        case Op::kDiv:
            return "/";
        case Op::kMod:
            return "%";
    }
    return "?";
}

TypeId ResultType(TypeId a, TypeId b, std::string_view op) {
    // An untyped NULL takes the other operand's type; a TIMESTAMP is not a number here (no
    // interval arithmetic yet), nor is BOOLEAN.
    auto usable = [](TypeId t) { return IsNumeric(t) || t == TypeId::kNull; };
    if (!usable(a) || !usable(b)) {
        ThrowSqlError(ErrorCode::kTypeMismatch,
                      "cannot apply " + std::string(op) + " to " + Name(a) + " and " + Name(b));
    }
    if (a == TypeId::kNull && b == TypeId::kNull) return TypeId::kNull;
    if (a == TypeId::kFloat || b == TypeId::kFloat) return TypeId::kFloat;
    if (a == TypeId::kDecimal || b == TypeId::kDecimal) return TypeId::kDecimal;
    return TypeId::kBigInt;
}

std::string Expr(const Value& a, Op op, const Value& b) {
    return a.ToString() + " " + std::string(OpText(op)) + " " + b.ToString();
}

Value IntArith(Op op, const Value& va, const Value& vb) {
    int64_t a = va.AsInt(), b = vb.AsInt(), r = 0;
    bool overflow = false;
    switch (op) {
        case Op::kAdd:
            overflow = __builtin_add_overflow(a, b, &r);
            break;
        case Op::kSub:
            overflow = __builtin_sub_overflow(a, b, &r);
            break;
        case Op::kMul:
            overflow = __builtin_mul_overflow(a, b, &r);
            break;
        case Op::kDiv:
        case Op::kMod:
            if (b == 0) ThrowSqlError(ErrorCode::kDivisionByZero, "division by zero in " + Expr(va, op, vb));
            if (b == -1) {
                // INT64_MIN / -1 overflows and INT64_MIN % -1 traps in hardware; the remainder is 0.
                if (op == Op::kMod) return Value::BigInt(0);
                overflow = __builtin_sub_overflow(int64_t{0}, a, &r);
            } else {
                r = op == Op::kDiv ? a / b : a % b;
            }
            break;
    }
    if (overflow) ThrowSqlError(ErrorCode::kNumericOutOfRange, "BIGINT overflow in " + Expr(va, op, vb));
    return Value::BigInt(r);
}

Decimal ToDecimal(const Value& v) { return v.type() == TypeId::kDecimal ? v.AsDecimal() : Decimal::FromInt(v.AsInt()); }

Value DecimalArith(Op op, const Value& va, const Value& vb) {
    Decimal a = ToDecimal(va), b = ToDecimal(vb);
    switch (op) {
        case Op::kAdd:
            return Value::Dec(a + b);
        case Op::kSub:
            return Value::Dec(a - b);
        case Op::kMul:
            return Value::Dec(a * b);
        case Op::kDiv:
            return Value::Dec(a / b);
        case Op::kMod:
            return Value::Dec(a % b);
    }
    return Value::Null(TypeId::kDecimal);
}

Value FloatArith(Op op, const Value& va, const Value& vb) {
    double a = va.ToDouble(), b = vb.ToDouble(), r = 0;
    switch (op) {
        case Op::kAdd:
            r = a + b;
            break;
        case Op::kSub:
            r = a - b;
            break;
        case Op::kMul:
            r = a * b;
            break;
        case Op::kDiv:
        case Op::kMod:
            // No IEEE infinities escape into SQL: x / 0.0 is an error like x / 0.
            if (b == 0) ThrowSqlError(ErrorCode::kDivisionByZero, "division by zero in " + Expr(va, op, vb));
            r = op == Op::kDiv ? a / b : std::fmod(a, b);
            break;
    }
    if (std::isnan(r)) ThrowSqlError(ErrorCode::kNumericOutOfRange, "FLOAT result is NaN in " + Expr(va, op, vb));
    if (std::isinf(r)) ThrowSqlError(ErrorCode::kNumericOutOfRange, "FLOAT overflow in " + Expr(va, op, vb));
    return Value::Float(r);
}

Value Arith(Op op, const Value& a, const Value& b) {
    TypeId rt = ResultType(a.type(), b.type(), OpText(op));
    if (a.is_null() || b.is_null()) return Value::Null(rt);
    switch (rt) {
        case TypeId::kBigInt:
            return IntArith(op, a, b);
        case TypeId::kDecimal:
            return DecimalArith(op, a, b);
        default:
            return FloatArith(op, a, b);
    }
}

// ---- Casts -----------------------------------------------------------------------------------

template <class Text>
int64_t CheckIntegralRange(int64_t i, TypeId t, const Text& text, std::string_view column) {
    if (i < IntegralMin(t) || i > IntegralMax(t)) [[unlikely]] {
        ThrowSqlError(ErrorCode::kNumericOutOfRange,
                      "value " + std::string(text()) + " out of range for " + Name(t) + InColumn(column));
    }
    return i;
}

[[noreturn]] void ThrowOutOfRange(const std::string& text, TypeId t, std::string_view column) {
    ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + text + " out of range for " + Name(t) + InColumn(column));
}

// Whole part of a DECIMAL (truncated toward zero), range-checked for integral type t.
int64_t DecimalToIntegral(Decimal x, TypeId t, std::string_view column) {
    Decimal::Rep whole = x.raw() / kDecimalOne;
    if (whole < IntegralMin(t) || whole > IntegralMax(t)) ThrowOutOfRange(x.ToString(), t, column);
    return static_cast<int64_t>(whole);
}

// Whole part of a double (truncated toward zero), range-checked for integral type t.
int64_t DoubleToIntegral(double d, TypeId t, std::string_view column) {
    double whole = std::trunc(d);
    if (!std::isfinite(d) || whole < -kTwo63 || whole >= kTwo63) ThrowOutOfRange(FormatDouble(d), t, column);
    return CheckIntegralRange(
        static_cast<int64_t>(whole), t, [d] { return FormatDouble(d); }, column);
}

int64_t ParseIntegral(std::string_view text, TypeId t) {
    std::string_view s = Trim(text);
    size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i == s.size()) ThrowSqlError(ErrorCode::kInvalidText, "invalid " + Name(t) + " text: " + Quoted(text));
    int64_t v = 0;
    bool overflow = false;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            ThrowSqlError(ErrorCode::kInvalidText, "invalid " + Name(t) + " text: " + Quoted(text));
        }
        // Accumulate with the final sign so INT64_MIN parses.
        int digit = s[i] - '0';
        overflow = overflow || __builtin_mul_overflow(v, 10, &v) ||
                   (negative ? __builtin_sub_overflow(v, digit, &v) : __builtin_add_overflow(v, digit, &v));
    }
    std::string shown(Quoted(s));
    if (overflow) ThrowOutOfRange(shown, t, "");
    return CheckIntegralRange(
        v, t, [&] { return shown; }, "");
}

double ParseFloat(std::string_view text) {
    std::string_view s = Trim(text);
    auto invalid = [&]() -> double { ThrowSqlError(ErrorCode::kInvalidText, "invalid FLOAT text: " + Quoted(text)); };
    // from_chars takes no leading '+', and would read "nan"/"inf", which SQL FLOAT values never are.
    if (!s.empty() && s[0] == '+') {
        s.remove_prefix(1);
        if (!s.empty() && s[0] == '-') return invalid();
    }
    if (s.empty() || s[0] == '+' || s.find_first_of("nNiI") != std::string_view::npos) return invalid();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (end != s.data() + s.size() || ec == std::errc::invalid_argument) return invalid();
    if (ec == std::errc::result_out_of_range) {
        // Overflow is an error; underflow quietly becomes the nearest tiny value or zero.
        std::string copy(s);
        d = std::strtod(copy.c_str(), nullptr);
        if (std::isinf(d))
            ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + Quoted(text) + " out of range for FLOAT");
    }
    return d;
}

bool ParseBool(std::string_view text) {
    std::string_view s = Trim(text);
    auto is = [&](std::string_view word) {
        if (s.size() != word.size()) return false;
        for (size_t i = 0; i < s.size(); ++i) {
            if ((s[i] | 0x20) != word[i]) return false;
        }
        return true;
    };
    if (is("true")) return true;
    if (is("false")) return false;
    ThrowSqlError(ErrorCode::kInvalidText, "invalid BOOLEAN text: " + Quoted(text));
}

// Text of a value for CAST AS VARCHAR and ||: strings as they are, everything else displayed.
std::string AsText(const Value& v) { return IsString(v.type()) ? std::string(v.AsString()) : v.ToString(); }

void CheckLength(std::string_view s, SqlType t, std::string_view column_name, bool is_column) {
    if (t.length == 0) return;
    bool chars = t.id == TypeId::kVarchar;
    size_t n = chars ? Utf8Length(s) : s.size();
    if (n <= t.length) return;
    std::string where = is_column ? "column " + std::string(column_name) + " " + TypeName(t) : TypeName(t);
    ThrowSqlError(ErrorCode::kStringTooLong,
                  "value too long for " + where + ": " + std::to_string(n) + (chars ? " characters" : " bytes"));
}

}  // namespace

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

static bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

bool InTimestampRange(int64_t micros) { return micros >= kMinTimestamp && micros <= kMaxTimestamp; }

// ---- Public: text ----------------------------------------------------------------------------

size_t Utf8Length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

int64_t ParseTimestamp(std::string_view s) {
    auto fail = [&](std::string_view why) -> int64_t {
        ThrowSqlError(ErrorCode::kInvalidText, "invalid TIMESTAMP text: " + Quoted(s) + " (" + std::string(why) + ")");
    };
    constexpr std::string_view kShape = "expected YYYY-MM-DD[ HH:MM:SS[.ffffff]]";
    auto digits = [&](size_t pos, size_t n, int64_t* out) {
        if (pos + n > s.size()) return false;
        int64_t v = 0;
        for (size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
    };
    int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
    if (!(s.size() == 10 || s.size() == 19 || (s.size() >= 21 && s.size() <= 26))) return fail(kShape);
    if (!digits(0, 4, &year) || s[4] != '-' || !digits(5, 2, &month) || s[7] != '-' || !digits(8, 2, &day)) {
        return fail(kShape);
    }
    if (s.size() > 10) {
        if ((s[10] != ' ' && s[10] != 'T') || !digits(11, 2, &hour) || s[13] != ':' || !digits(14, 2, &minute) ||
            s[16] != ':' || !digits(17, 2, &second)) {
            return fail(kShape);
        }
        if (s.size() > 19) {
            size_t n = s.size() - 20;
            if (s[19] != '.' || !digits(20, n, &micros)) return fail(kShape);
            for (size_t i = n; i < 6; ++i) micros *= 10;
        }
    }
    if (year < 1) return fail("year out of range");
    if (month < 1 || month > 12) return fail("month out of range");
    if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) return fail("day out of range");
    if (hour > 23) return fail("hour out of range");
    if (minute > 59) return fail("minute out of range");
    if (second > 59) return fail("second out of range");
    int64_t days = DaysFromCivil(year, month, day);
    return days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros;
}

std::string FormatTimestamp(int64_t micros) {
    // Floor division: -1 microsecond is 1969-12-31 23:59:59.999999, not day 0 minus something.
    int64_t days = micros / kMicrosPerDay, rem = micros % kMicrosPerDay;
    if (rem < 0) {
        --days;
        rem += kMicrosPerDay;
    }
    int64_t year;
    int month, day;
    CivilFromDays(days, &year, &month, &day);
    int64_t secs = rem / kMicrosPerSecond;
    if (year < 0 || year > 9999) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d.%06lld", static_cast<long long>(year), month,
                      day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                      static_cast<long long>(rem % kMicrosPerSecond));
        return buf;
    }
    // The common case without printf (export formats every timestamp of every row).
    char buf[27] = "0000-00-00 00:00:00.000000";
    auto put = [&buf](int at, int64_t v, int width) {
        for (int i = at + width - 1; i >= at; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, secs / 3600, 2);
    put(14, secs / 60 % 60, 2);
    put(17, secs % 60, 2);
    put(20, rem % kMicrosPerSecond, 6);
    return std::string(buf, 26);
}

std::string FormatDouble(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Inf" : "-Inf";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, end);
}

// ---- Public: comparison and hashing ----------------------------------------------------------

int CompareValues(const Value& a, const Value& b) {
    if (a.is_null() || b.is_null()) ThrowSqlError(ErrorCode::kInternal, "CompareValues called with NULL");
    TypeId ta = a.type(), tb = b.type();
    if (IsNumeric(ta) && IsNumeric(tb)) return CompareNumeric(a, b);
    if (ta == tb && IsString(ta)) return CompareBytes(a.AsString(), b.AsString());
    if (ta == TypeId::kTimestamp) {
        if (tb == TypeId::kTimestamp || IsIntegral(tb)) return Sign3(a.AsInt(), b.AsInt());
        if (tb == TypeId::kVarchar) return Sign3(a.AsInt(), ParseTimestamp(b.AsString()));
    }
    if (tb == TypeId::kTimestamp) {
        if (IsIntegral(ta)) return Sign3(a.AsInt(), b.AsInt());
        if (ta == TypeId::kVarchar) return Sign3(ParseTimestamp(a.AsString()), b.AsInt());
    }
    if (ta == TypeId::kBoolean && tb == TypeId::kBoolean) return Sign3(a.AsBool(), b.AsBool());
    ThrowSqlError(ErrorCode::kTypeMismatch, "cannot compare " + Name(ta) + " with " + Name(tb));
}

bool GroupEquals(const Value& a, const Value& b) {
    if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
    TypeId ta = a.type(), tb = b.type();
    // TIMESTAMP against VARCHAR compares by parsing, but a string hashes as its bytes, so grouping
    // keeps them apart; all other pairs CompareValues accepts hash consistently.
    bool comparable = (IsNumeric(ta) && IsNumeric(tb)) || (ta == tb && ta != TypeId::kNull) ||
                      (ta == TypeId::kTimestamp && IsIntegral(tb)) || (tb == TypeId::kTimestamp && IsIntegral(ta));
    return comparable && CompareValues(a, b) == 0;
}

uint64_t HashValue(const Value& v) {
    if (v.is_null()) return kNullHash;
    switch (v.type()) {
        case TypeId::kFloat:
            return HashDouble(v.AsDouble());
        case TypeId::kDecimal: {
            Decimal x = v.AsDecimal();
            Decimal::Rep whole = x.raw() / kDecimalOne;
            if (x.IsIntegral() && whole >= INT64_MIN && whole <= INT64_MAX) return HashInt(static_cast<int64_t>(whole));
            // Equal to a FLOAT only when their doubles match (CompareDecimalDouble), so hash that.
            return HashDouble(x.ToDouble());
        }
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            return Hash64(v.AsString());
        default:
            return HashInt(v.AsInt());  // integral, TIMESTAMP, BOOLEAN
    }
}

// ---- Public: arithmetic ----------------------------------------------------------------------

TypeId ArithmeticResultType(TypeId a, TypeId b) { return ResultType(a, b, "arithmetic"); }

Value Add(const Value& a, const Value& b) { return Arith(Op::kAdd, a, b); }
Value Subtract(const Value& a, const Value& b) { return Arith(Op::kSub, a, b); }
Value Multiply(const Value& a, const Value& b) { return Arith(Op::kMul, a, b); }
Value Divide(const Value& a, const Value& b) { return Arith(Op::kDiv, a, b); }
Value Modulo(const Value& a, const Value& b) { return Arith(Op::kMod, a, b); }

Value Negate(const Value& a) {
    TypeId t = a.type();
    if (!IsNumeric(t) && t != TypeId::kNull)
        ThrowSqlError(ErrorCode::kTypeMismatch, "cannot apply unary - to " + Name(t));
    TypeId rt = ResultType(t, t, "unary -");
    if (a.is_null()) return Value::Null(rt);
    switch (rt) {
        case TypeId::kBigInt:
            if (a.AsInt() == INT64_MIN) {
                ThrowSqlError(ErrorCode::kNumericOutOfRange, "BIGINT overflow in -(" + a.ToString() + ")");
            }
            return Value::BigInt(-a.AsInt());
        case TypeId::kDecimal:
            return Value::Dec(-a.AsDecimal());
        default:
            return Value::Float(-a.AsDouble());
    }
}

Value Concat(const Value& a, const Value& b) {
    if (a.is_null() || b.is_null()) return Value::Null(TypeId::kVarchar);
    std::string s = AsText(a) + AsText(b);
    // No value may exceed the largest declarable length, so neither may a concatenation.
    if (s.size() > kMaxVarLength) {
        ThrowSqlError(ErrorCode::kStringTooLong, "concatenation result of " + std::to_string(s.size()) +
                                                     " bytes exceeds the maximum of " + std::to_string(kMaxVarLength));
    }
    return Value::Varchar(s);
}

// ---- Public: casts and coercion --------------------------------------------------------------

Value CastValue(const Value& v, SqlType to) {
    if (v.is_null()) return Value::Null(to.id);
    TypeId from = v.type();
    switch (to.id) {
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
            if (IsIntegral(from) || from == TypeId::kTimestamp || from == TypeId::kBoolean) {
                return Value::Int(to.id, CheckIntegralRange(
                                             v.AsInt(), to.id, [&] { return v.ToString(); }, ""));
            }
            if (from == TypeId::kFloat) return Value::Int(to.id, DoubleToIntegral(v.AsDouble(), to.id, ""));
            if (from == TypeId::kDecimal) return Value::Int(to.id, DecimalToIntegral(v.AsDecimal(), to.id, ""));
            if (from == TypeId::kVarchar) return Value::Int(to.id, ParseIntegral(v.AsString(), to.id));
            break;
        case TypeId::kFloat:
            if (IsNumeric(from)) return Value::Float(v.ToDouble());
            if (from == TypeId::kVarchar) return Value::Float(ParseFloat(v.AsString()));
            break;
        case TypeId::kDecimal:
            if (IsIntegral(from)) return Value::Dec(Decimal::FromInt(v.AsInt()));
            if (from == TypeId::kDecimal) return v;
            if (from == TypeId::kFloat) return Value::Dec(Decimal::FromDouble(v.AsDouble()));
            if (from == TypeId::kVarchar) return Value::Dec(Decimal::Parse(Trim(v.AsString())));
            break;
        case TypeId::kVarchar: {
            Value out = Value::Varchar(AsText(v));
            CheckLength(out.AsString(), to, "", false);
            return out;
        }
        case TypeId::kVarbinary:
            if (IsString(from)) {
                CheckLength(v.AsString(), to, "", false);
                return Value::Varbinary(v.AsString());
            }
            break;
        case TypeId::kTimestamp:
            if (from == TypeId::kTimestamp || IsIntegral(from)) {
                return Value::Timestamp(CheckTimestampRange(
                    v.AsInt(), [&] { return v.ToString(); }, ""));
            }
            if (from == TypeId::kVarchar) return Value::Timestamp(ParseTimestamp(Trim(v.AsString())));
            break;
        case TypeId::kBoolean:
            if (from == TypeId::kBoolean) return v;
            if (IsIntegral(from)) return Value::Bool(v.AsInt() != 0);
            if (from == TypeId::kVarchar) return Value::Bool(ParseBool(v.AsString()));
            break;
        case TypeId::kNull:
            break;
    }
    ThrowSqlError(ErrorCode::kTypeMismatch, "cannot cast " + Name(from) + " to " + TypeName(to));
}

Value CoerceForColumn(const Value& v, SqlType col, std::string_view column_name) {
    if (v.is_null()) return Value::Null(col.id);
    TypeId from = v.type();
    auto lossy = [&]() {
        ThrowSqlError(ErrorCode::kTypeMismatch, "cannot store " + v.ToString() + " in " + TypeName(col) +
                                                    InColumn(column_name) + " without losing digits");
    };
    switch (col.id) {
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
            if (IsIntegral(from))
                return Value::Int(col.id, CheckIntegralRange(
                                              v.AsInt(), col.id, [&] { return v.ToString(); }, column_name));
            if (from == TypeId::kFloat) {
                double d = v.AsDouble();
                if (std::isfinite(d) && d != std::trunc(d)) lossy();
                return Value::Int(col.id, DoubleToIntegral(d, col.id, column_name));
            }
            if (from == TypeId::kDecimal) {
                if (!v.AsDecimal().IsIntegral()) lossy();
                return Value::Int(col.id, DecimalToIntegral(v.AsDecimal(), col.id, column_name));
            }
            break;
        case TypeId::kFloat:
            if (IsNumeric(from)) return Value::Float(v.ToDouble());
            break;
        case TypeId::kDecimal:
            if (IsIntegral(from)) return Value::Dec(Decimal::FromInt(v.AsInt()));
            if (from == TypeId::kDecimal) return v;
            if (from == TypeId::kFloat) {
                double d = v.AsDouble();
                if (!std::isfinite(d) || std::fabs(d) >= 1e26) ThrowOutOfRange(FormatDouble(d), col.id, column_name);
                return Value::Dec(Decimal::FromDouble(d));
            }
            break;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            // Strict: no number-to-text, and no reinterpreting text as bytes or bytes as text.
            if (from == col.id) {
                CheckLength(v.AsString(), col, column_name, true);
                return v;
            }
            break;
        case TypeId::kTimestamp:
            if (from == TypeId::kTimestamp || IsIntegral(from)) {
                return Value::Timestamp(CheckTimestampRange(
                    v.AsInt(), [&] { return v.ToString(); }, column_name));
            }
            if (from == TypeId::kVarchar) return Value::Timestamp(ParseTimestamp(v.AsString()));
            break;
        case TypeId::kBoolean:
        case TypeId::kNull:
            break;
    }
    ThrowSqlError(ErrorCode::kTypeMismatch,
                  "cannot store " + Name(from) + " in " + TypeName(col) + InColumn(column_name));
}

void CoerceForColumnInPlace(Value* v, SqlType col, std::string_view column_name) {
    if (v->is_null()) {
        v->SetNull(col.id);
        return;
    }
    if (v->type() == col.id) {
        // The common case (a value already of the column's type) checks without copying.
        switch (col.id) {
            case TypeId::kVarchar:
            case TypeId::kVarbinary:
                CheckLength(v->AsString(), col, column_name, true);
                return;
            case TypeId::kTinyInt:
            case TypeId::kSmallInt:
            case TypeId::kInteger:
            case TypeId::kBigInt:
                CheckIntegralRange(
                    v->AsInt(), col.id, [&] { return v->ToString(); }, column_name);
                return;
            case TypeId::kTimestamp:
                CheckTimestampRange(
                    v->AsInt(), [&] { return v->ToString(); }, column_name);
                return;
            case TypeId::kFloat:
            case TypeId::kDecimal:
                return;
            default:
                break;
        }
    }
    *v = CoerceForColumn(*v, col, column_name);
}

}  // namespace surge
