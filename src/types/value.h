// Value: one SQL value (or NULL) of any type, as expressions, parameters and results carry it.
// Stored rows use a compact encoding (storage/tuple.h); a Value is the unpacked form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/decimal.h"
#include "types/types.h"

namespace surge {

class Value {
  public:
    /// Untyped NULL.
    Value() : i_(0) {}

    static Value Null(TypeId t = TypeId::kNull) {
        Value v;
        v.type_ = t;
        return v;
    }
    static Value Bool(bool b) { return Scalar(TypeId::kBoolean, b ? 1 : 0); }
    /// An integral (TINYINT..BIGINT) or TIMESTAMP value. The caller guarantees the range.
    static Value Int(TypeId t, int64_t v) { return Scalar(t, v); }
    static Value BigInt(int64_t v) { return Scalar(TypeId::kBigInt, v); }
    static Value Integer(int32_t v) { return Scalar(TypeId::kInteger, v); }
    static Value Timestamp(int64_t micros) { return Scalar(TypeId::kTimestamp, micros); }
    static Value Float(double d) {
        Value v;
        v.type_ = TypeId::kFloat;
        v.null_ = false;
        v.d_ = d;
        return v;
    }
    static Value Dec(Decimal d) {
        Value v;
        v.type_ = TypeId::kDecimal;
        v.null_ = false;
        v.dec_ = d.raw();
        return v;
    }
    static Value Varchar(std::string_view s) { return Str(TypeId::kVarchar, s); }
    static Value Varbinary(std::string_view s) { return Str(TypeId::kVarbinary, s); }

    TypeId type() const { return type_; }
    bool is_null() const { return null_; }

    bool AsBool() const { return i_ != 0; }
    /// Integral, TIMESTAMP and BOOLEAN values.
    int64_t AsInt() const { return i_; }
    double AsDouble() const { return d_; }
    Decimal AsDecimal() const { return Decimal::FromRaw(dec_); }
    std::string_view AsString() const { return s_; }

    /// Replaces this value's contents reusing its string buffer (no allocation when it fits).
    void SetString(TypeId t, std::string_view s) {
        type_ = t;
        null_ = false;
        s_.assign(s.data(), s.size());
    }
    void SetInt(TypeId t, int64_t v) {
        type_ = t;
        null_ = false;
        i_ = v;
    }
    void SetDouble(double d) {
        type_ = TypeId::kFloat;
        null_ = false;
        d_ = d;
    }
    void SetNull(TypeId t) {
        type_ = t;
        null_ = true;
    }

    /// Numeric value as double (integral, FLOAT, DECIMAL, TIMESTAMP).
    double ToDouble() const;
    /// Display text: NULL as "NULL", FLOAT shortest round-trip, DECIMAL with 12 digits,
    /// TIMESTAMP as "YYYY-MM-DD HH:MM:SS.ffffff", VARBINARY as hex.
    std::string ToString() const;

  private:
    static Value Scalar(TypeId t, int64_t x) {
        Value v;
        v.type_ = t;
        v.null_ = false;
        v.i_ = x;
        return v;
    }
    static Value Str(TypeId t, std::string_view s) {
        Value v;
        v.type_ = t;
        v.null_ = false;
        v.s_.assign(s.data(), s.size());
        return v;
    }

    TypeId type_ = TypeId::kNull;
    bool null_ = true;
    union {
        int64_t i_;
        double d_;
        Decimal::Rep dec_;
    };
    std::string s_;
};

}  // namespace surge
