// DECIMAL(38,12): a 128-bit integer scaled by 10^12, as VoltDB stores it. Every operation checks
// the 38-digit precision and throws SqlError on overflow instead of wrapping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace surge {

class Decimal {
public:
    using Rep = __int128;
    static constexpr int kScale = 12;
    static constexpr int kPrecision = 38;

    constexpr Decimal() = default;
    /// From the scaled representation (value * 10^12). Throws if |raw| >= 10^38.
    static Decimal FromRaw(Rep raw);
    static Decimal FromInt(int64_t v);
    /// Rounds half away from zero to 12 fractional digits; throws on NaN, infinity or overflow.
    static Decimal FromDouble(double v);
    /// Parses [+-]digits[.digits][(e|E)[+-]digits]. Extra fractional digits round half away from
    /// zero. Throws kInvalidText on malformed text, kNumericOutOfRange past 38 digits.
    static Decimal Parse(std::string_view text);

    constexpr Rep raw() const { return v_; }
    /// Fixed notation with all 12 fractional digits, e.g. "-1.500000000000".
    std::string ToString() const;
    double ToDouble() const;
    /// Truncates toward zero; throws kNumericOutOfRange if outside int64.
    int64_t ToInt64() const;
    bool IsIntegral() const;

    Decimal operator-() const;
    friend Decimal operator+(Decimal a, Decimal b);
    friend Decimal operator-(Decimal a, Decimal b);
    /// Exact product rounded half away from zero to 12 digits; throws on overflow.
    friend Decimal operator*(Decimal a, Decimal b);
    /// Quotient rounded half away from zero to 12 digits; throws kDivisionByZero, overflow.
    friend Decimal operator/(Decimal a, Decimal b);
    /// Remainder with the sign of the dividend (like C's %); throws kDivisionByZero.
    friend Decimal operator%(Decimal a, Decimal b);
    friend constexpr auto operator<=>(Decimal a, Decimal b) { return a.v_ <=> b.v_; }
    friend constexpr bool operator==(Decimal a, Decimal b) { return a.v_ == b.v_; }

private:
    constexpr explicit Decimal(Rep v) : v_(v) {}
    Rep v_ = 0;
};

}  // namespace surge
