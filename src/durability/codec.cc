// Byte encoding (see codec.h).
#include "durability/codec.h"

namespace surge::durability {

void ByteWriter::Val(const Value& v) {
    U8(static_cast<uint8_t>(v.type()));
    U8(v.is_null() ? 1 : 0);
    if (v.is_null()) return;
    switch (v.type()) {
        case TypeId::kNull:
            return;
        case TypeId::kBoolean:
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            I64(v.AsInt());
            return;
        case TypeId::kFloat: {
            uint64_t bits;
            const double d = v.AsDouble();
            std::memcpy(&bits, &d, sizeof bits);
            U64(bits);
            return;
        }
        case TypeId::kDecimal: {
            const auto raw = static_cast<unsigned __int128>(v.AsDecimal().raw());
            U64(static_cast<uint64_t>(raw));
            U64(static_cast<uint64_t>(raw >> 64));
            return;
        }
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            Str(v.AsString());
            return;
    }
}

std::string_view ByteReader::Str() {
    const uint32_t n = U32();
    if (!ok_ || remaining() < n) {
        ok_ = false;
        return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
}

bool ByteReader::Val(Value* out) {
    const uint8_t tag = U8();
    const uint8_t null = U8();
    if (!ok_ || tag > static_cast<uint8_t>(TypeId::kTimestamp) || null > 1) {
        ok_ = false;
        return false;
    }
    const auto type = static_cast<TypeId>(tag);
    if (null) {
        *out = Value::Null(type);
        return true;
    }
    switch (type) {
        case TypeId::kNull:
            *out = Value::Null();
            break;
        case TypeId::kBoolean:
            *out = Value::Bool(I64() != 0);
            break;
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
            *out = Value::Int(type, I64());
            break;
        case TypeId::kFloat: {
            const uint64_t bits = U64();
            double d;
            std::memcpy(&d, &bits, sizeof d);
            *out = Value::Float(d);
            break;
        }
        case TypeId::kDecimal: {
            const uint64_t lo = U64();
            const uint64_t hi = U64();
            const auto raw = static_cast<Decimal::Rep>((static_cast<unsigned __int128>(hi) << 64) | lo);
            // FromRaw checks the 38-digit range; a damaged value must not throw past the reader.
            try {
                *out = Value::Dec(Decimal::FromRaw(raw));
            } catch (...) {
                ok_ = false;
            }
            break;
        }
        case TypeId::kVarchar:
            *out = Value::Varchar(Str());
            break;
        case TypeId::kVarbinary:
            *out = Value::Varbinary(Str());
            break;
    }
    return ok_;
}

}  // namespace surge::durability
