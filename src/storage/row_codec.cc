// Row encoding for snapshots (see row_codec.h).
#include "storage/row_codec.h"

#include <bit>
#include <cstring>

#include "common/bytes.h"

namespace surge::storage {

static_assert(std::endian::native == std::endian::little, "snapshot rows are written in the host's byte order");

void EncodeRow(const TupleLayout& layout, const char* tuple, std::string* out) {
    const size_t n = layout.column_count();
    const size_t bitmap = (n + 7) / 8;
    out->append(tuple + 1, bitmap);  // the tuple's null bitmap has this exact shape
    for (size_t i = 0; i < n; ++i) {
        const int c = static_cast<int>(i);
        if (layout.IsNull(tuple, c)) continue;
        if (!layout.is_var(c)) {
            out->append(tuple + layout.offset(c), SlotWidth(layout.type(c)));
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
        const int c = static_cast<int>(i);
        const TypeId type = layout.type(c);
        if ((nulls[i / 8] >> (i % 8)) & 1) {
            values[i].SetNull(type);
            continue;
        }
        const char* at = bytes.data() + p;
        if (!layout.is_var(c)) {
            const uint32_t width = SlotWidth(type);
            if (bytes.size() - p < width) return false;
            p += width;
            ReadFixedSlot(type, at, &values[i]);
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

void EncodeSnapshotRow(const TupleLayout& layout, const char* tuple, std::string* out) {
    EncodeRow(layout, tuple, out);
    if (layout.has_mark()) PutRaw<uint64_t>(out, layout.GetMark(tuple));
}

bool DecodeSnapshotRow(const TupleLayout& layout, std::string_view bytes, size_t* pos, Value* values, uint64_t* mark) {
    *mark = 0;
    size_t p = *pos;
    if (!DecodeRow(layout, bytes, &p, values)) return false;
    if (layout.has_mark()) {
        if (bytes.size() - p < 8) return false;
        *mark = GetRaw<uint64_t>(bytes.data() + p);
        p += 8;
    }
    *pos = p;
    return true;
}

}  // namespace surge::storage
