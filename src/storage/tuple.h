// Tuple layout: how one row of a table is packed in a storage block.
//
//   [flags: 1 byte][null bitmap: ceil(n/8) bytes][fixed-width slot per column][mark: 8 bytes]
//
// The mark is there only in tables created USING TTL ... MIGRATE TO TARGET: 0, or the export
// sequence number of the MIGRATE row that is taking the row to its target (docs/streams.md).
//
// Slot widths: TINYINT 1, SMALLINT 2, INTEGER 4, BIGINT/TIMESTAMP/FLOAT 8, DECIMAL 16,
// VARCHAR/VARBINARY 8 (a VarData* to out-of-line bytes, or nullptr when the value is NULL).
// Slots are aligned to their width (DECIMAL to 8) so reads are plain loads.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "catalog/catalog.h"
#include "types/value.h"

namespace surge::storage {

using TuplePtr = char*;

/// Tuple flags (first byte): a state in the low bits, and the snapshot parity bit (see
/// Table::BeginSnapshot): a tuple whose parity bit equals its table's parity has been written to
/// the running snapshot, or is not part of it.
enum TupleFlags : uint8_t {
    kTupleFree = 0,           ///< slot unused (on the free list or above the high-water mark)
    kTupleLive = 1,           ///< visible to scans and present in every index
    kTuplePendingDelete = 2,  ///< deleted by an open transaction: invisible, bytes still readable
    kTupleParity = 0x80,      ///< the snapshot parity bit
};

/// Out-of-line variable-length value: a length and the bytes.
struct VarData {
    uint32_t size;
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
};

/// Bytes a column of type t takes in its slot: the value itself for fixed-width types (as a
/// snapshot row also stores it, row_codec.h), a VarData pointer for VARCHAR/VARBINARY.
uint32_t SlotWidth(TypeId t);
/// The value of a fixed-width slot (integral or TIMESTAMP) as a 64-bit integer.
int64_t ReadIntSlot(TypeId t, const char* slot);
/// The value of a fixed-width slot of type t (any type but VARCHAR/VARBINARY) into *out.
void ReadFixedSlot(TypeId t, const char* slot, Value* out);

class TupleLayout {
  public:
    /// with_mark: the tuple ends with a migration mark (see above).
    explicit TupleLayout(const std::vector<catalog::ColumnDef>& columns, bool with_mark = false);

    uint32_t size() const { return size_; }
    size_t column_count() const { return types_.size(); }
    TypeId type(int col) const { return types_[col]; }
    uint32_t offset(int col) const { return offsets_[col]; }
    bool has_var_columns() const { return has_var_; }
    bool is_var(int col) const { return types_[col] == TypeId::kVarchar || types_[col] == TypeId::kVarbinary; }

    /// The tuple's state (kTupleFree, kTupleLive or kTuplePendingDelete), without the parity bit.
    static uint8_t Flags(const char* t) { return static_cast<uint8_t>(t[0]) & ~kTupleParity; }
    /// Sets the state and keeps the parity bit.
    static void SetFlags(char* t, uint8_t state) {
        t[0] = static_cast<char>((static_cast<uint8_t>(t[0]) & kTupleParity) | state);
    }
    static uint8_t Parity(const char* t) { return static_cast<uint8_t>(t[0]) & kTupleParity; }
    bool IsNull(const char* t, int col) const { return (t[1 + col / 8] >> (col % 8)) & 1; }
    int64_t GetInt(const char* t, int col) const;  ///< integral and TIMESTAMP columns
    double GetDouble(const char* t, int col) const {
        double d;
        std::memcpy(&d, t + offsets_[col], 8);
        return d;
    }
    const VarData* GetVar(const char* t, int col) const {
        const VarData* p;
        std::memcpy(&p, t + offsets_[col], sizeof p);
        return p;
    }
    /// Reads column col into *out, reusing out's string buffer.
    void Read(const char* t, int col, Value* out) const;

    bool has_mark() const { return mark_offset_ != 0; }
    /// The migration mark (0 in a layout without one).
    uint64_t GetMark(const char* t) const {
        if (!mark_offset_) return 0;
        uint64_t m;
        std::memcpy(&m, t + mark_offset_, 8);
        return m;
    }
    void SetMark(char* t, uint64_t mark) const {
        if (mark_offset_) std::memcpy(t + mark_offset_, &mark, 8);
    }

  private:
    std::vector<TypeId> types_;
    std::vector<uint32_t> offsets_;
    uint32_t size_ = 0;
    uint32_t mark_offset_ = 0;  ///< 0: no mark
    bool has_var_ = false;
};

}  // namespace surge::storage
