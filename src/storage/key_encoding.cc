// Memcomparable key encoding (see key_encoding.h for the byte format and why it is shaped so).
#include "storage/key_encoding.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "common/status.h"

namespace surge::storage {
namespace {

constexpr char kNullMarker = '\x00';
constexpr char kValueMarker = '\x01';

void AppendBigEndian64(uint64_t v, std::string* out) {
    char buf[8];
    for (int i = 7; i >= 0; --i) {
        buf[i] = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
    out->append(buf, 8);
}

void EncodeInt(int64_t v, std::string* out) { AppendBigEndian64(static_cast<uint64_t>(v) ^ (uint64_t{1} << 63), out); }

void EncodeDouble(double d, std::string* out) {
    uint64_t bits;
    if (std::isnan(d)) {
        bits = 0x7FF8000000000000ULL;  // one NaN, positive, so it sorts above +inf
    } else {
        if (d == 0) d = 0.0;  // -0.0 == 0.0 in SQL, so they must encode alike
        bits = std::bit_cast<uint64_t>(d);
    }
    constexpr uint64_t kSign = uint64_t{1} << 63;
    bits = (bits & kSign) ? ~bits : (bits | kSign);
    AppendBigEndian64(bits, out);
}

void EncodeDecimal(Decimal::Rep raw, std::string* out) {
    const auto u = static_cast<unsigned __int128>(raw) ^ (static_cast<unsigned __int128>(1) << 127);
    AppendBigEndian64(static_cast<uint64_t>(u >> 64), out);
    AppendBigEndian64(static_cast<uint64_t>(u), out);
}

void EncodeBytes(std::string_view s, std::string* out) {
    // Escaping 0x00 as 0x00 0xFF keeps the terminator 0x00 0x00 the smallest continuation, so a
    // string sorts before every longer string it prefixes.
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\0') {
            out->append(s.data() + start, i - start + 1);
            out->push_back('\xFF');
            start = i + 1;
        }
    }
    out->append(s.data() + start, s.size() - start);
    out->append("\0\0", 2);
}

bool IsIntLike(TypeId t) {
    switch (t) {
        case TypeId::kBoolean:
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            return true;
        default:
            return false;
    }
}

[[noreturn]] void ThrowCannotEncode(TypeId value_type, TypeId key_type) {
    ThrowSqlError(ErrorCode::kInternal, "storage: cannot encode a " + std::string(TypeIdName(value_type)) +
                                            " value as an index key part of type " + std::string(TypeIdName(key_type)));
}

}  // namespace

void EncodeNullKeyPart(std::string* out) { out->push_back(kNullMarker); }

void EncodeIntKeyPart(int64_t v, std::string* out) {
    out->push_back(kValueMarker);
    EncodeInt(v, out);
}

void EncodeBytesKeyPart(std::string_view bytes, std::string* out) {
    out->push_back(kValueMarker);
    EncodeBytes(bytes, out);
}

void EncodeKeyPart(const Value& v, TypeId key_type, std::string* out) {
    if (v.is_null()) return EncodeNullKeyPart(out);
    const TypeId vt = v.type();
    switch (key_type) {
        case TypeId::kBoolean:
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            if (!IsIntLike(vt)) ThrowCannotEncode(vt, key_type);
            return EncodeIntKeyPart(v.AsInt(), out);
        case TypeId::kFloat:
            out->push_back(kValueMarker);
            if (vt == TypeId::kFloat) {
                EncodeDouble(v.AsDouble(), out);
            } else if (IsIntLike(vt) && vt != TypeId::kTimestamp && vt != TypeId::kBoolean) {
                EncodeDouble(static_cast<double>(v.AsInt()), out);
            } else {
                out->pop_back();
                ThrowCannotEncode(vt, key_type);
            }
            return;
        case TypeId::kDecimal:
            out->push_back(kValueMarker);
            if (vt == TypeId::kDecimal) {
                EncodeDecimal(v.AsDecimal().raw(), out);
            } else if (IsIntLike(vt) && vt != TypeId::kTimestamp && vt != TypeId::kBoolean) {
                EncodeDecimal(Decimal::FromInt(v.AsInt()).raw(), out);
            } else {
                out->pop_back();
                ThrowCannotEncode(vt, key_type);
            }
            return;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            if (vt != TypeId::kVarchar && vt != TypeId::kVarbinary) ThrowCannotEncode(vt, key_type);
            return EncodeBytesKeyPart(v.AsString(), out);
        default:
            ThrowCannotEncode(vt, key_type);
    }
}

std::string PrefixSuccessor(std::string_view prefix) {
    std::string s;
    s.reserve(prefix.size() + 1);
    s.append(prefix);
    s.push_back('\xFF');
    return s;
}

}  // namespace surge::storage
