// Tuple layout: slot offsets for a table's columns, and reading a packed column back into a Value.
//
// Slots are placed in ascending order of width after the header, so the narrow columns fill the
// gap the header leaves before the first 8-byte boundary; the tuple size is rounded up to the
// widest alignment so every slot of every tuple in a block stays aligned.
#include "storage/tuple.h"

#include <algorithm>
#include <numeric>

#include "common/status.h"

namespace surge::storage {
uint32_t SlotWidth(TypeId t) {
    switch (t) {
        case TypeId::kTinyInt:
            return 1;
        case TypeId::kSmallInt:
            return 2;
        case TypeId::kInteger:
            return 4;
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
        case TypeId::kFloat:
            return 8;
        case TypeId::kDecimal:
            return 16;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            return sizeof(VarData*);
        default:
            ThrowSqlError(ErrorCode::kInternal,
                          "storage: column type " + std::string(TypeIdName(t)) + " cannot be stored in a table");
    }
}

namespace {

uint32_t SlotAlign(uint32_t width) { return std::min<uint32_t>(width, 8); }

}  // namespace

TupleLayout::TupleLayout(const std::vector<catalog::ColumnDef>& columns, bool with_mark) {
    const size_t n = columns.size();
    types_.reserve(n);
    for (const auto& c : columns) {
        types_.push_back(c.type.id);
        if (is_var(static_cast<int>(types_.size() - 1))) has_var_ = true;
    }
    offsets_.assign(n, 0);

    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return SlotWidth(types_[a]) < SlotWidth(types_[b]); });

    uint32_t pos = 1 + static_cast<uint32_t>((n + 7) / 8);
    uint32_t max_align = 1;
    for (int col : order) {
        const uint32_t width = SlotWidth(types_[col]);
        const uint32_t align = SlotAlign(width);
        pos = (pos + align - 1) / align * align;
        offsets_[col] = pos;
        pos += width;
        max_align = std::max(max_align, align);
    }
    if (with_mark) {
        pos = (pos + 7) / 8 * 8;
        mark_offset_ = pos;
        pos += 8;
        max_align = std::max<uint32_t>(max_align, 8);
    }
    size_ = (pos + max_align - 1) / max_align * max_align;
}

int64_t ReadIntSlot(TypeId t, const char* p) {
    switch (t) {
        case TypeId::kTinyInt: {
            int8_t v;
            std::memcpy(&v, p, 1);
            return v;
        }
        case TypeId::kSmallInt: {
            int16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case TypeId::kInteger: {
            int32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        default: {
            int64_t v;
            std::memcpy(&v, p, 8);
            return v;
        }
    }
}

void ReadFixedSlot(TypeId t, const char* slot, Value* out) {
    switch (t) {
        case TypeId::kFloat: {
            double d;
            std::memcpy(&d, slot, 8);
            // Move-assigning a Value whose string is empty keeps out's string buffer.
            *out = Value::Float(d);
            return;
        }
        case TypeId::kDecimal: {
            Decimal::Rep raw;
            std::memcpy(&raw, slot, sizeof raw);
            *out = Value::Dec(Decimal::FromRaw(raw));
            return;
        }
        default:
            out->SetInt(t, ReadIntSlot(t, slot));
            return;
    }
}

int64_t TupleLayout::GetInt(const char* t, int col) const { return ReadIntSlot(types_[col], t + offsets_[col]); }

void TupleLayout::Read(const char* t, int col, Value* out) const {
    const TypeId type = types_[col];
    if (IsNull(t, col)) {
        out->SetNull(type);
        return;
    }
    if (type == TypeId::kVarchar || type == TypeId::kVarbinary) {
        const VarData* v = GetVar(t, col);
        out->SetString(type, std::string_view(v->bytes(), v->size));
        return;
    }
    ReadFixedSlot(type, t + offsets_[col], out);
}

}  // namespace surge::storage
