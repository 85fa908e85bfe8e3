// String, numeric and time functions (see functions.h and docs/functions.md).
#include "exec/functions.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/decimal.h"
#include "types/value_ops.h"

namespace surge::exec {

using sql::BoundExpr;
using sql::ScalarFunc;
using sql::TimeUnit;

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// ---- strings (UTF-8: positions count characters) ------------------------------------------

size_t CharWidth(unsigned char lead) { return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1; }

// The characters of s, each as a view of its bytes.
std::vector<std::string_view> Chars(std::string_view s) {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < s.size();) {
        size_t n = std::min(CharWidth(static_cast<unsigned char>(s[i])), s.size() - i);
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

Value Trim(int side, std::string_view chars, std::string_view s) {
    const std::vector<std::string_view> set = Chars(chars);
    auto in_set = [&](std::string_view c) {
        for (std::string_view x : set) {
            if (x == c) return true;
        }
        return false;
    };
    std::vector<std::string_view> cs = Chars(s);
    size_t from = 0, to = cs.size();
    if (side != 2) {
        while (from < to && in_set(cs[from])) ++from;
    }
    if (side != 1) {
        while (to > from && in_set(cs[to - 1])) --to;
    }
    if (from == to) return Value::Varchar("");
    const char* begin = cs[from].data();
    const char* end = cs[to - 1].data() + cs[to - 1].size();
    return Value::Varchar(std::string_view(begin, static_cast<size_t>(end - begin)));
}

Value Replace(std::string_view s, std::string_view from, std::string_view to) {
    if (from.empty()) return Value::Varchar(s);
    std::string out;
    size_t at = 0;
    for (size_t hit = s.find(from); hit != std::string_view::npos; hit = s.find(from, at)) {
        out.append(s.substr(at, hit - at));
        out.append(to);
        at = hit + from.size();
    }
    out.append(s.substr(at));
    return Value::Varchar(out);
}

Value Position(std::string_view needle, std::string_view hay) {
    size_t hit = hay.find(needle);
    if (hit == std::string_view::npos) return Value::BigInt(0);
    return Value::BigInt(static_cast<int64_t>(Utf8Length(hay.substr(0, hit))) + 1);
}

// ---- numbers -------------------------------------------------------------------------------

Value CheckedFloat(double d, const char* fn) {
    if (!std::isfinite(d)) {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, std::string(fn) + " result is out of FLOAT range");
    }
    return Value::Float(d);
}

Decimal::Rep Pow10(int n) {
    Decimal::Rep r = 1;
    for (int i = 0; i < n; ++i) r *= 10;
    return r;
}

// Rounds r to a multiple of f, half away from zero.
Decimal::Rep RoundRep(Decimal::Rep r, Decimal::Rep f) {
    Decimal::Rep q = r / f, rem = r % f;
    if ((rem < 0 ? -rem : rem) * 2 >= f) q += r < 0 ? -1 : 1;
    return q * f;
}

Value CeilFloor(const Value& x, bool ceiling) {
    if (IsIntegral(x.type())) return Value::BigInt(x.AsInt());
    if (x.type() == TypeId::kFloat) return Value::Float(ceiling ? std::ceil(x.AsDouble()) : std::floor(x.AsDouble()));
    const Decimal::Rep one = Pow10(Decimal::kScale);
    Decimal::Rep r = x.AsDecimal().raw(), q = r / one;
    if (r % one != 0 && (r > 0) == ceiling) q += ceiling ? 1 : -1;
    return Value::Dec(Decimal::FromRaw(q * one));
}

Value Round(const Value& x, int64_t places) {
    if (x.type() == TypeId::kFloat) {
        if (places > 300 || places < -300) return places > 0 ? x : Value::Float(0.0);
        double scale = std::pow(10.0, static_cast<double>(places));
        return CheckedFloat(std::round(x.AsDouble() * scale) / scale, "ROUND");
    }
    if (IsIntegral(x.type())) {
        if (places >= 0) return Value::BigInt(x.AsInt());
        if (places < -18) return Value::BigInt(0);
        __int128 r = RoundRep(x.AsInt(), Pow10(static_cast<int>(-places)));
        if (r > INT64_MAX || r < INT64_MIN) ThrowSqlError(ErrorCode::kNumericOutOfRange, "BIGINT overflow in ROUND");
        return Value::BigInt(static_cast<int64_t>(r));
    }
    if (places >= Decimal::kScale) return x;
    const int digits = Decimal::kScale - static_cast<int>(std::max<int64_t>(places, -26));
    return Value::Dec(Decimal::FromRaw(RoundRep(x.AsDecimal().raw(), Pow10(digits))));
}

double AsDouble(const Value& v) {
    if (v.type() == TypeId::kFloat) return v.AsDouble();
    if (v.type() == TypeId::kDecimal) return v.AsDecimal().ToDouble();
    return static_cast<double>(v.AsInt());
}

// ---- time ----------------------------------------------------------------------------------

int64_t FloorDiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Micros in one of the fixed-length units (WEEK and shorter); 0 for MONTH, QUARTER, YEAR.
int64_t FixedMicros(TimeUnit u) {
    switch (u) {
        case TimeUnit::kWeek:
            return 7 * kMicrosPerDay;
        case TimeUnit::kDay:
            return kMicrosPerDay;
        case TimeUnit::kHour:
            return 3600 * kMicrosPerSecond;
        case TimeUnit::kMinute:
            return 60 * kMicrosPerSecond;
        case TimeUnit::kSecond:
            return kMicrosPerSecond;
        case TimeUnit::kMillisecond:
            return 1000;
        case TimeUnit::kMicrosecond:
            return 1;
        default:
            return 0;
    }
}

int MonthsIn(TimeUnit u) { return u == TimeUnit::kYear ? 12 : u == TimeUnit::kQuarter ? 3 : 1; }

Value CheckedTimestamp(__int128 micros, const char* fn) {
    if (micros < INT64_MIN || micros > INT64_MAX || !InTimestampRange(static_cast<int64_t>(micros))) {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, std::string(fn) + " result is outside the TIMESTAMP range");
    }
    return Value::Timestamp(static_cast<int64_t>(micros));
}

struct Civil {
    int64_t year;
    int month, day;
    int64_t days;         // since the epoch
    int64_t time_of_day;  // micros since midnight
};

Civil ToCivil(int64_t ts) {
    Civil c{};
    c.days = FloorDiv(ts, kMicrosPerDay);
    c.time_of_day = ts - c.days * kMicrosPerDay;
    CivilFromDays(c.days, &c.year, &c.month, &c.day);
    return c;
}

// Months since 1970-01 of the month holding ts.
int64_t EpochMonth(const Civil& c) { return (c.year - 1970) * 12 + (c.month - 1); }

// Micros of 00:00 on the first day of the month that is m months after 1970-01.
__int128 MonthStart(int64_t m) {
    int64_t y = 1970 + FloorDiv(m, 12);
    int month = static_cast<int>(m - FloorDiv(m, 12) * 12) + 1;
    return static_cast<__int128>(DaysFromCivil(y, month, 1)) * kMicrosPerDay;
}

// Monday 1969-12-29, day -3: weeks start on Mondays.
constexpr int64_t kMondayOrigin = -3 * kMicrosPerDay;

Value TruncateTime(TimeUnit u, int64_t ts) {
    if (int64_t f = FixedMicros(u)) {
        int64_t origin = u == TimeUnit::kWeek ? kMondayOrigin : 0;
        return CheckedTimestamp(static_cast<__int128>(FloorDiv(ts - origin, f)) * f + origin, "TRUNCATE");
    }
    Civil c = ToCivil(ts);
    int64_t m = EpochMonth(c);
    int size = MonthsIn(u);
    int64_t month_in_year = m - FloorDiv(m, 12) * 12;
    return CheckedTimestamp(MonthStart(m - month_in_year % size), "TRUNCATE");
}

Value TimeWindow(TimeUnit u, int64_t n, int64_t ts, bool end) {
    if (n < 1) ThrowSqlError(ErrorCode::kInvalidParameter, "TIME_WINDOW needs a window length of at least 1");
    if (int64_t f = FixedMicros(u)) {
        __int128 width = static_cast<__int128>(f) * n;
        if (width > INT64_MAX) return CheckedTimestamp(end ? width : 0, "TIME_WINDOW");
        int64_t origin = u == TimeUnit::kWeek ? kMondayOrigin : 0;
        __int128 start = static_cast<__int128>(FloorDiv(ts - origin, static_cast<int64_t>(width))) * width + origin;
        return CheckedTimestamp(end ? start + width : start, "TIME_WINDOW");
    }
    if (n > 1'000'000) ThrowSqlError(ErrorCode::kInvalidParameter, "TIME_WINDOW length is too large");
    int64_t size = n * MonthsIn(u);
    int64_t first = FloorDiv(EpochMonth(ToCivil(ts)), size) * size;
    return CheckedTimestamp(MonthStart(end ? first + size : first), "TIME_WINDOW");
}

int DayOfWeek(int64_t days) {  // 1 = Sunday ... 7 = Saturday; 1970-01-01 was a Thursday
    int64_t r = (days + 4) % 7;
    return static_cast<int>(r < 0 ? r + 7 : r) + 1;
}

int IsoWeek(const Civil& c) {
    // ISO 8601: weeks start on Monday; week 1 holds the year's first Thursday.
    auto iso_weekday = [](int64_t days) { return (DayOfWeek(days) + 5) % 7 + 1; };  // 1 = Monday
    int64_t thursday = c.days - iso_weekday(c.days) + 4;
    int64_t y;
    int m, d;
    CivilFromDays(thursday, &y, &m, &d);
    return static_cast<int>((thursday - DaysFromCivil(y, 1, 1)) / 7 + 1);
}

Value Extract(TimeUnit u, int64_t ts) {
    Civil c = ToCivil(ts);
    switch (u) {
        case TimeUnit::kYear:
            return Value::Integer(static_cast<int32_t>(c.year));
        case TimeUnit::kQuarter:
            return Value::Integer((c.month - 1) / 3 + 1);
        case TimeUnit::kMonth:
            return Value::Integer(c.month);
        case TimeUnit::kDay:
            return Value::Integer(c.day);
        case TimeUnit::kHour:
            return Value::Integer(static_cast<int32_t>(c.time_of_day / (3600 * kMicrosPerSecond)));
        case TimeUnit::kMinute:
            return Value::Integer(static_cast<int32_t>(c.time_of_day / (60 * kMicrosPerSecond) % 60));
        case TimeUnit::kSecond: {
            int64_t micros = c.time_of_day % (60 * kMicrosPerSecond);
            return Value::Dec(Decimal::FromRaw(static_cast<Decimal::Rep>(micros) * Pow10(Decimal::kScale - 6)));
        }
        case TimeUnit::kDayOfWeek:
            return Value::Integer(DayOfWeek(c.days));
        case TimeUnit::kDayOfYear:
            return Value::Integer(static_cast<int32_t>(c.days - DaysFromCivil(c.year, 1, 1) + 1));
        case TimeUnit::kWeek:
        case TimeUnit::kWeekOfYear:
            return Value::Integer(IsoWeek(c));
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "EXTRACT: unhandled field");
}

Value DateAdd(TimeUnit u, int64_t n, int64_t ts) {
    if (int64_t f = FixedMicros(u)) return CheckedTimestamp(static_cast<__int128>(n) * f + ts, "DATEADD");
    if (n > 120'000 || n < -120'000) return CheckedTimestamp(n > 0 ? INT64_MAX : INT64_MIN, "DATEADD");
    Civil c = ToCivil(ts);
    int64_t m = EpochMonth(c) + n * MonthsIn(u);
    int64_t y = 1970 + FloorDiv(m, 12);
    int month = static_cast<int>(m - FloorDiv(m, 12) * 12) + 1;
    if (y < 1 || y > 9999) return CheckedTimestamp(n > 0 ? INT64_MAX : INT64_MIN, "DATEADD");
    int day = std::min(c.day, DaysInMonth(y, month));  // Jan 31 + 1 month = Feb 28 (29)
    return CheckedTimestamp(static_cast<__int128>(DaysFromCivil(y, month, day)) * kMicrosPerDay + c.time_of_day,
                            "DATEADD");
}

}  // namespace

bool IsLibraryFunction(ScalarFunc f) { return f >= ScalarFunc::kTrim; }

Value EvalLibraryFunction(const BoundExpr& e, std::span<const Value> a) {
    const auto unit = static_cast<TimeUnit>(e.func_arg);
    switch (e.func) {
        case ScalarFunc::kTrim:
            return Trim(e.func_arg, a[0].AsString(), a[1].AsString());
        case ScalarFunc::kReplace:
            return Replace(a[0].AsString(), a[1].AsString(), a[2].AsString());
        case ScalarFunc::kPosition:
            return Position(a[0].AsString(), a[1].AsString());
        case ScalarFunc::kCeiling:
        case ScalarFunc::kFloor:
            return CeilFloor(a[0], e.func == ScalarFunc::kCeiling);
        case ScalarFunc::kRound:
            return Round(a[0], a.size() > 1 ? a[1].AsInt() : 0);
        case ScalarFunc::kPower: {
            double x = AsDouble(a[0]), y = AsDouble(a[1]);
            if (x < 0 && y != std::floor(y)) {
                ThrowSqlError(ErrorCode::kInvalidParameter, "POWER of a negative number to a fractional exponent");
            }
            if (x == 0 && y < 0) ThrowSqlError(ErrorCode::kDivisionByZero, "POWER of zero to a negative exponent");
            return CheckedFloat(std::pow(x, y), "POWER");
        }
        case ScalarFunc::kSqrt: {
            double x = AsDouble(a[0]);
            if (x < 0) ThrowSqlError(ErrorCode::kInvalidParameter, "SQRT of a negative number");
            return Value::Float(std::sqrt(x));
        }
        case ScalarFunc::kExp:
            return CheckedFloat(std::exp(AsDouble(a[0])), "EXP");
        case ScalarFunc::kLn: {
            double x = AsDouble(a[0]);
            if (x <= 0) ThrowSqlError(ErrorCode::kInvalidParameter, "LN of a number that is not positive");
            return Value::Float(std::log(x));
        }
        case ScalarFunc::kTruncateTime:
            return TruncateTime(unit, a[0].AsInt());
        case ScalarFunc::kTimeWindow:
            return TimeWindow(unit, a[0].AsInt(), a[1].AsInt(), e.window_end);
        case ScalarFunc::kExtract:
            return Extract(unit, a[0].AsInt());
        case ScalarFunc::kDateAdd:
            return DateAdd(unit, a[0].AsInt(), a[1].AsInt());
        case ScalarFunc::kSinceEpoch:
            return Value::BigInt(FloorDiv(a[0].AsInt(), FixedMicros(unit)));
        case ScalarFunc::kToTimestamp:
            return CheckedTimestamp(static_cast<__int128>(a[0].AsInt()) * FixedMicros(unit), "TO_TIMESTAMP");
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "EvalLibraryFunction: not a library function");
}

}  // namespace surge::exec
