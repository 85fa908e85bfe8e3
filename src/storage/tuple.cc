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
namespace {

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

uint32_t SlotAlign(uint32_t width) { return std::min<uint32_t>(width, 8); }

}  // namespace

TupleLayout::TupleLayout(const std::vector<catalog::ColumnDef>& columns) {
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
    size_ = (pos + max_align - 1) / max_align * max_align;
}

int64_t TupleLayout::GetInt(const char* t, int col) const {
    const char* p = t + offsets_[col];
    switch (types_[col]) {
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

void TupleLayout::Read(const char* t, int col, Value* out) const {
    const TypeId type = types_[col];
    if (IsNull(t, col)) {
        out->SetNull(type);
        return;
    }
    switch (type) {
        case TypeId::kFloat:
            // Move-assigning a Value whose string is empty keeps out's string buffer.
            *out = Value::Float(GetDouble(t, col));
            return;
        case TypeId::kDecimal: {
            Decimal::Rep raw;
            std::memcpy(&raw, t + offsets_[col], sizeof raw);
            *out = Value::Dec(Decimal::FromRaw(raw));
            return;
        }
        case TypeId::kVarchar:
        case TypeId::kVarbinary: {
            const VarData* v = GetVar(t, col);
            out->SetString(type, std::string_view(v->bytes(), v->size));
            return;
        }
        default:
            out->SetInt(type, GetInt(t, col));
            return;
    }
}

}  // namespace surge::storage
