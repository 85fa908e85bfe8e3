// Row encoding for snapshots (see row_codec.h).
#include "storage/row_codec.h"

#include <bit>
#include <cstring>

namespace surge::storage {

static_assert(std::endian::native == std::endian::little, "snapshot rows are written in the host's byte order");

namespace {

uint32_t FixedWidth(TypeId t) {
    switch (t) {
        case TypeId::kTinyInt:
            return 1;
        case TypeId::kSmallInt:
            return 2;
        case TypeId::kInteger:
            return 4;
        case TypeId::kDecimal:
            return 16;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            return 0;
        default:
            return 8;
    }
}

}  // namespace

void EncodeRow(const TupleLayout& layout, const char* tuple, std::string* out) {
    const size_t n = layout.column_count();
    const size_t bitmap = (n + 7) / 8;
    out->append(tuple + 1, bitmap);  // the tuple's null bitmap has this exact shape
    for (size_t i = 0; i < n; ++i) {
        const int c = static_cast<int>(i);
        if (layout.IsNull(tuple, c)) continue;
        const TypeId type = layout.type(c);
        const uint32_t width = FixedWidth(type);
        if (width != 0) {
            out->append(tuple + layout.offset(c), width);
            continue;
        }
        const VarData* v = layout.GetVar(tuple, c);
        const uint32_t size = v->size;
        char len[4];
        std::memcpy(len, &size, 4);
        out->append(len, 4);
        out->append(v->bytes(), size);
    }
}

bool DecodeRow(const TupleLayout& layout, std::string_view bytes, size_t* pos, Value* values) {
    const size_t n = layout.column_count();
    const size_t bitmap = (n + 7) / 8;
    size_t p = *pos;
    if (p > bytes.size() || bytes.size() - p < bitmap) return false;
    const char* nulls = bytes.data() + p;
    p += bitmap;
    for (size_t i = 0; i < n; ++i) {
        const TypeId type = layout.type(static_cast<int>(i));
        if ((nulls[i / 8] >> (i % 8)) & 1) {
            values[i].SetNull(type);
            continue;
        }
        const uint32_t width = FixedWidth(type);
        const char* at = bytes.data() + p;
        if (width != 0) {
            if (bytes.size() - p < width) return false;
            p += width;
            switch (type) {
                case TypeId::kTinyInt: {
                    int8_t v;
                    std::memcpy(&v, at, 1);
                    values[i].SetInt(type, v);
                    break;
                }
                case TypeId::kSmallInt: {
                    int16_t v;
                    std::memcpy(&v, at, 2);
                    values[i].SetInt(type, v);
                    break;
                }
                case TypeId::kInteger: {
                    int32_t v;
                    std::memcpy(&v, at, 4);
                    values[i].SetInt(type, v);
                    break;
                }
                case TypeId::kFloat: {
                    double d;
                    std::memcpy(&d, at, 8);
                    values[i] = Value::Float(d);
                    break;
                }
                case TypeId::kDecimal: {
                    Decimal::Rep raw;
                    std::memcpy(&raw, at, sizeof raw);
                    values[i] = Value::Dec(Decimal::FromRaw(raw));
                    break;
                }
                default: {
                    int64_t v;
                    std::memcpy(&v, at, 8);
                    values[i].SetInt(type, v);
                    break;
                }
            }
            continue;
        }
        uint32_t size;
        if (bytes.size() - p < 4) return false;
        std::memcpy(&size, at, 4);
        p += 4;
        if (bytes.size() - p < size) return false;
        values[i].SetString(type, std::string_view(bytes.data() + p, size));
        p += size;
    }
    *pos = p;
    return true;
}

}  // namespace surge::storage
