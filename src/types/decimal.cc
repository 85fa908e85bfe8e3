// DECIMAL(38,12) arithmetic on scaled 128-bit integers. Products and quotients need up to 256 bits
// before they are scaled back (1e38 * 1e38, or 1e38 * 1e12), so this file carries a small unsigned
// 256-bit helper instead of depending on a bignum library; it only needs multiply and divide.
// Rounding is half away from zero everywhere, as VoltDB and SQL Server round DECIMAL.
#include "types/decimal.h"

#include <charconv>
#include <cmath>
#include <string>

#include "common/status.h"
#include "types/value_ops.h"

namespace surge {
namespace {

using U128 = unsigned __int128;

constexpr U128 Pow10(int n) {
    U128 r = 1;
    for (int i = 0; i < n; ++i) r *= 10;
    return r;
}

constexpr U128 kOne = Pow10(Decimal::kScale);        // raw value of 1
constexpr U128 kLimit = Pow10(Decimal::kPrecision);  // exclusive bound on |raw|

U128 Magnitude(Decimal::Rep v) { return v < 0 ? U128(0) - U128(v) : U128(v); }

// Digits of an unsigned 128-bit integer.
std::string U128ToString(U128 v) {
    char buf[48];
    char* p = buf + sizeof buf;
    do {
        *--p = static_cast<char>('0' + static_cast<int>(v % 10));
        v /= 10;
    } while (v != 0);
    return std::string(p, buf + sizeof buf);
}

// Text of a raw scaled value even when it is out of range, for error messages.
std::string RawToString(Decimal::Rep raw) {
    U128 mag = Magnitude(raw);
    std::string frac = U128ToString(mag % kOne);
    std::string s = raw < 0 ? "-" : "";
    s += U128ToString(mag / kOne);
    s += '.';
    s.append(static_cast<size_t>(Decimal::kScale) - frac.size(), '0');
    s += frac;
    return s;
}

[[noreturn]] void ThrowOverflow(Decimal a, char op, Decimal b) {
    ThrowSqlError(ErrorCode::kNumericOutOfRange, "DECIMAL overflow in " + a.ToString() + " " + op + " " + b.ToString());
}

// Unsigned 256-bit integer as four little-endian 64-bit limbs. Only what * and / need.
struct U256 {
    uint64_t w[4] = {0, 0, 0, 0};

    bool FitsU128() const { return w[2] == 0 && w[3] == 0; }
    U128 Low128() const { return (U128(w[1]) << 64) | w[0]; }
    bool Bit(int i) const { return (w[i / 64] >> (i % 64)) & 1; }
    void SetBit(int i) { w[i / 64] |= uint64_t{1} << (i % 64); }
    int BitWidth() const {
        for (int i = 3; i >= 0; --i) {
            if (w[i] != 0) return i * 64 + 64 - __builtin_clzll(w[i]);
        }
        return 0;
    }
};

U256 Mul(U128 a, U128 b) {
    const uint64_t a0 = static_cast<uint64_t>(a), a1 = static_cast<uint64_t>(a >> 64);
    const uint64_t b0 = static_cast<uint64_t>(b), b1 = static_cast<uint64_t>(b >> 64);
    const U128 p00 = U128(a0) * b0, p01 = U128(a0) * b1, p10 = U128(a1) * b0, p11 = U128(a1) * b1;
    U256 r;
    r.w[0] = static_cast<uint64_t>(p00);
    // Middle column: high half of p00 plus the low halves of the cross products; at most 66 bits.
    U128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
    r.w[1] = static_cast<uint64_t>(mid);
    U128 high = (mid >> 64) + (p01 >> 64) + (p10 >> 64) + static_cast<uint64_t>(p11);
    r.w[2] = static_cast<uint64_t>(high);
    r.w[3] = static_cast<uint64_t>((high >> 64) + (p11 >> 64));
    return r;
}

// n / d for a divisor below 2^64; returns the remainder.
uint64_t DivSmall(U256* n, uint64_t d) {
    U128 rem = 0;
    for (int i = 3; i >= 0; --i) {
        U128 cur = (rem << 64) | n->w[i];
        n->w[i] = static_cast<uint64_t>(cur / d);
        rem = cur % d;
    }
    return static_cast<uint64_t>(rem);
}

// n / d for a divisor below 2^127 by shift-and-subtract; returns the remainder. Only reached when
// the numerator exceeds 128 bits, which needs a dividend above 1.7e14.
U128 DivLong(const U256& n, U128 d, U256* q) {
    U128 rem = 0;
    *q = U256{};
    for (int i = n.BitWidth() - 1; i >= 0; --i) {
        rem = (rem << 1) | static_cast<U128>(n.Bit(i));  // rem < d < 2^127, so no bit is lost
        if (rem >= d) {
            rem -= d;
            q->SetBit(i);
        }
    }
    return rem;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Decimal Decimal::FromRaw(Rep raw) {
    if (Magnitude(raw) >= kLimit) {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + RawToString(raw) + " out of range for DECIMAL");
    }
    return Decimal(raw);
}

Decimal Decimal::FromInt(int64_t v) {
    // |v| < 9.3e18, so v * 10^12 < 9.3e30 always fits the 38 digits.
    return Decimal(static_cast<Rep>(v) * static_cast<Rep>(kOne));
}

Decimal Decimal::FromDouble(double v) {
    // 1e26 is the first double whose scaled value reaches 10^38.
    if (!std::isfinite(v) || std::fabs(v) >= 1e26) {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + FormatDouble(v) + " out of range for DECIMAL");
    }
    // An integral double converts exactly, so CAST(f AS DECIMAL) = f holds for it (DECIMAL against
    // an integral FLOAT compares exactly).
    if (v == std::trunc(v)) return Decimal(static_cast<Rep>(v) * static_cast<Rep>(kOne));
    // Otherwise convert the shortest text that round-trips v -- what FLOAT displays -- rather than
    // v's exact binary value: 123456.789 must become 123456.789000000000, not ...789000000004.
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return Parse(std::string_view(buf, static_cast<size_t>(end - buf)));
}

Decimal Decimal::Parse(std::string_view text) {
    auto invalid = [&]() -> Decimal {
        ThrowSqlError(ErrorCode::kInvalidText, "invalid DECIMAL text: '" + std::string(text) + "'");
    };
    size_t i = 0, n = text.size();
    bool negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    std::string digits;  // all significant digits, integer part then fraction
    int64_t frac_digits = 0;
    while (i < n && IsDigit(text[i])) digits += text[i++];
    if (i < n && text[i] == '.') {
        ++i;
        while (i < n && IsDigit(text[i])) {
            digits += text[i++];
            ++frac_digits;
        }
    }
    if (digits.empty()) return invalid();
    int64_t exponent = 0;
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        if (i == n || !IsDigit(text[i])) return invalid();
        while (i < n && IsDigit(text[i])) {
            // Saturate: any exponent this large already over- or underflows 38 digits.
            if (exponent < 1'000'000) exponent = exponent * 10 + (text[i] - '0');
            ++i;
        }
        if (exp_negative) exponent = -exponent;
    }
    if (i != n) return invalid();

    size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) return Decimal();
    digits.erase(0, first);
    // raw = digits * 10^shift
    int64_t shift = kScale + exponent - frac_digits;
    int64_t keep = static_cast<int64_t>(digits.size()) + shift;  // digits left of the raw's unit
    auto out_of_range = [&]() -> Decimal {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, "value '" + std::string(text) + "' out of range for DECIMAL");
    };
    if (keep > kPrecision) return out_of_range();
    if (keep < 0) return Decimal();  // below half a unit of the 12th fractional digit
    U128 mag = 0;
    for (int64_t k = 0; k < keep; ++k) {
        mag = mag * 10 + (k < static_cast<int64_t>(digits.size()) ? digits[k] - '0' : 0);
    }
    if (keep < static_cast<int64_t>(digits.size()) && digits[keep] >= '5') ++mag;
    if (mag >= kLimit) return out_of_range();
    Rep raw = static_cast<Rep>(mag);
    return Decimal(negative ? -raw : raw);
}

std::string Decimal::ToString() const { return RawToString(v_); }

double Decimal::ToDouble() const {
    // Must be correctly rounded: hashing and comparison rely on a DECIMAL and an equal BIGINT
    // converting to the same double.
    if (v_ % static_cast<Rep>(kOne) == 0) {
        Rep whole = v_ / static_cast<Rep>(kOne);  // exact: no remainder
        return static_cast<double>(whole);
    }
    if (Magnitude(v_) < (U128(1) << 53)) {
        // Both operands are exact doubles, so the one division rounds once.
        return static_cast<double>(static_cast<int64_t>(v_)) / static_cast<double>(static_cast<int64_t>(kOne));
    }
    std::string s = ToString();
    double d = 0;
    std::from_chars(s.data(), s.data() + s.size(), d);
    return d;
}

int64_t Decimal::ToInt64() const {
    Rep whole = v_ / static_cast<Rep>(kOne);  // C++ division truncates toward zero
    if (whole < INT64_MIN || whole > INT64_MAX) {
        ThrowSqlError(ErrorCode::kNumericOutOfRange, "value " + ToString() + " out of range for BIGINT");
    }
    return static_cast<int64_t>(whole);
}

bool Decimal::IsIntegral() const { return v_ % static_cast<Rep>(kOne) == 0; }

Decimal Decimal::operator-() const { return Decimal(-v_); }

Decimal operator+(Decimal a, Decimal b) {
    Decimal::Rep r;
    // Each |raw| < 10^38 < 2^127 / 1.7, so the sum can still leave int128: check both ways.
    if (__builtin_add_overflow(a.v_, b.v_, &r) || Magnitude(r) >= kLimit) ThrowOverflow(a, '+', b);
    return Decimal(r);
}

Decimal operator-(Decimal a, Decimal b) {
    Decimal::Rep r;
    if (__builtin_sub_overflow(a.v_, b.v_, &r) || Magnitude(r) >= kLimit) ThrowOverflow(a, '-', b);
    return Decimal(r);
}

Decimal operator*(Decimal a, Decimal b) {
    U128 ua = Magnitude(a.v_), ub = Magnitude(b.v_);
    U128 mag;
    U128 product;
    if (!__builtin_mul_overflow(ua, ub, &product)) {
        mag = product / kOne;
        if ((product % kOne) * 2 >= kOne) ++mag;
    } else {
        U256 wide = Mul(ua, ub);
        uint64_t rem = DivSmall(&wide, static_cast<uint64_t>(kOne));
        if (!wide.FitsU128()) ThrowOverflow(a, '*', b);
        mag = wide.Low128();
        if (U128(rem) * 2 >= kOne) ++mag;
    }
    if (mag >= kLimit) ThrowOverflow(a, '*', b);
    Decimal::Rep r = static_cast<Decimal::Rep>(mag);
    return Decimal((a.v_ < 0) != (b.v_ < 0) ? -r : r);
}

Decimal operator/(Decimal a, Decimal b) {
    if (b.v_ == 0) {
        ThrowSqlError(ErrorCode::kDivisionByZero, "division by zero in " + a.ToString() + " / " + b.ToString());
    }
    U128 ua = Magnitude(a.v_), ub = Magnitude(b.v_);
    // raw quotient = a * 10^12 / b, rounded.
    U256 num = Mul(ua, kOne);
    U128 mag, rem;
    if (num.FitsU128()) {
        U128 n = num.Low128();
        mag = n / ub;
        rem = n % ub;
    } else {
        U256 q;
        rem = DivLong(num, ub, &q);
        if (!q.FitsU128()) ThrowOverflow(a, '/', b);
        mag = q.Low128();
    }
    if (rem >= ub - rem) ++mag;  // 2 * rem >= ub without overflowing
    if (mag >= kLimit) ThrowOverflow(a, '/', b);
    Decimal::Rep r = static_cast<Decimal::Rep>(mag);
    return Decimal((a.v_ < 0) != (b.v_ < 0) ? -r : r);
}

Decimal operator%(Decimal a, Decimal b) {
    if (b.v_ == 0) {
        ThrowSqlError(ErrorCode::kDivisionByZero, "division by zero in " + a.ToString() + " % " + b.ToString());
    }
    // Both raws share the scale, so the remainder of the raws is the raw of the remainder.
    return Decimal(a.v_ % b.v_);
}

}  // namespace surge
