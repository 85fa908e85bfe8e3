// Table: slot allocation in blocks, writes with their constraint checks and undo records, and the
// undo/release callbacks the UndoLog makes (see table.h).
//
// Every write builds the new row image in a staging buffer and checks NOT NULL and uniqueness
// against it before it touches a slot or an index, so a failed write leaves no trace.
#include "storage/table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/huge_pages.h"
#include "common/status.h"
#include "storage/row_codec.h"

namespace surge::storage {
namespace {

bool IsIntegralType(TypeId t) {
    return t == TypeId::kTinyInt || t == TypeId::kSmallInt || t == TypeId::kInteger || t == TypeId::kBigInt;
}

bool MaskBit(const char* mask, size_t k) { return (static_cast<uint8_t>(mask[k / 8]) >> (k % 8)) & 1; }

}  // namespace

Table::Table(std::shared_ptr<const catalog::TableDef> def, std::vector<IndexSpec> indexes)
    : def_(std::move(def)),
      layout_(def_->columns, def_->ttl && !def_->ttl->migrate_target.empty()),
      stream_(def_->is_stream()) {
    const uint32_t size = layout_.size();
    for (size_t c = 0; c < def_->columns.size(); ++c) {
        if (!def_->columns[c].nullable) not_null_columns_.push_back(static_cast<int>(c));
        if (layout_.is_var(static_cast<int>(c))) var_columns_.push_back(static_cast<int>(c));
    }
    image_size_ = size + static_cast<uint32_t>((var_columns_.size() + 7) / 8);
    staging_ = std::make_unique<char[]>(size);
    for (auto& spec : indexes) {
        const bool has_expression =
            std::any_of(spec.def->key.begin(), spec.def->key.end(), [](const auto& p) { return p.column < 0; });
        std::vector<int> columns;
        if (!has_expression) {
            for (const auto& part : spec.def->key) columns.push_back(part.column);
        }
        index_columns_.push_back(std::move(columns));
        indexes_.push_back(std::make_unique<Index>(std::move(spec.def), layout_, std::move(spec.extractor)));
    }
    old_keys_.resize(indexes_.size());
    new_keys_.resize(indexes_.size());
    key_changed_.resize(indexes_.size());
}

Table::~Table() {
    // Rows still pending delete belong to an undo log that should have been released first; their
    // var data is freed here all the same so nothing leaks.
    if (var_columns_.empty()) return;
    for (size_t b = 0; b < blocks_.size(); ++b) {
        const size_t n = b + 1 == blocks_.size() ? used_in_last_block_ : blocks_[b].slots();
        const char* base = blocks_[b].base();
        for (size_t s = 0; s < n; ++s) {
            const char* t = base + s * layout_.size();
            if (TupleLayout::Flags(t) != kTupleFree) FreeVarData(t);
        }
    }
}

size_t Table::memory_bytes() const {
    size_t bytes = block_bytes_total_ + var_bytes_;
    for (const auto& index : indexes_) bytes += index->memory_bytes();
    return bytes;
}

Index* Table::FindIndex(std::string_view name) {
    for (auto& index : indexes_) {
        if (index->name() == name) return index.get();
    }
    return nullptr;
}

Index* Table::primary_key() {
    for (auto& index : indexes_) {
        if (index->def().is_primary_key()) return index.get();
    }
    return nullptr;
}

void Table::RemoveListener(TableListener* listener) { std::erase(listeners_, listener); }

// ---- writes -------------------------------------------------------------------------------------

TuplePtr Table::Insert(const Value* values, UndoLog& undo) {
    CheckNotNull(values);
    const uint32_t size = layout_.size();
    char* stage = staging_.get();
    std::memset(stage, 0, size);
    WriteValues(stage, values);

    TuplePtr tuple;
    try {
        tuple = AllocateSlot();
    } catch (...) {
        FreeVarData(stage);
        throw;
    }
    std::memcpy(tuple, stage, size);  // the slot now owns the staged var data

    // Each index either takes the tuple or throws and stays as it was (a duplicate key, or an
    // expression that fails), so the row is checked by inserting it: on a failure the indexes
    // that took it give it back and the slot is returned, leaving the table as it was. (A separate
    // uniqueness pre-check would probe every unique index twice on every insert.)
    size_t inserted = 0;
    try {
        for (; inserted < indexes_.size(); ++inserted) indexes_[inserted]->Insert(tuple);
    } catch (...) {
        for (size_t i = 0; i < inserted; ++i) indexes_[i]->Erase(tuple);
        FreeVarData(tuple);
        ReturnSlot(tuple);
        throw;
    }
    tuple[0] = static_cast<char>(kTupleLive | parity_);  // a new row is not part of a running snapshot
    ++live_rows_;
    undo.RecordInsert(this, tuple);
    for (size_t i = 0; i < listeners_.size(); ++i) listeners_[i]->OnInsert(*this, tuple, undo);
    return tuple;
}

void Table::Update(TuplePtr tuple, const Value* values, UndoLog& undo) {
    if (TupleLayout::Flags(tuple) != kTupleLive) {
        ThrowSqlError(ErrorCode::kInternal,
                      "storage: update of a row that is not live in table \"" + def_->name + "\"");
    }
    CheckNotNull(values);
    // Before the staged copy and the before-image, so both carry the written mark: a rollback
    // restores a row the snapshot already has.
    PreserveForSnapshot(tuple);
    const uint32_t size = layout_.size();
    char* stage = staging_.get();
    std::memcpy(stage, tuple, size);
    WriteValues(stage, values, tuple);  // unchanged var columns keep the row's pointers
    layout_.SetMark(stage, 0);          // a changed row is migrated again (as it is now) when it expires

    const size_t n = indexes_.size();
    char* before;
    try {
        for (size_t i = 0; i < n; ++i) {
            const Index& index = *indexes_[i];
            if (!index_columns_[i].empty() && SameColumns(tuple, stage, index_columns_[i])) {
                key_changed_[i] = false;  // the key's columns hold the same values: no need to encode it
                continue;
            }
            bool old_null, new_null;
            index.BuildKey(tuple, &old_keys_[i], &old_null);
            index.BuildKey(stage, &new_keys_[i], &new_null);
            key_changed_[i] = old_keys_[i] != new_keys_[i];
            if (key_changed_[i] && index.unique() && !new_null) {
                TuplePtr other = index.FindUnique(new_keys_[i]);
                if (other != nullptr && other != tuple) index.ThrowDuplicate(stage);
            }
        }
        before = BeforeImage(tuple, undo);
    } catch (...) {
        FreeVarDiff(stage, tuple);
        throw;
    }
    char* mask = before + size;
    for (size_t k = 0; k < var_columns_.size(); ++k) {
        const int c = var_columns_[k];
        if (layout_.GetVar(tuple, c) != layout_.GetVar(stage, c)) mask[k / 8] |= static_cast<char>(1 << (k % 8));
    }

    for (size_t i = 0; i < n; ++i) {
        if (key_changed_[i]) indexes_[i]->Erase(tuple);
    }
    std::memcpy(tuple, stage, size);
    size_t inserted = 0;
    try {
        for (; inserted < n; ++inserted) {
            if (key_changed_[inserted]) indexes_[inserted]->Insert(tuple);
        }
    } catch (...) {
        // Only reachable if an extractor is not deterministic or on a bug: put the row back.
        for (size_t i = 0; i < inserted; ++i) {
            if (key_changed_[i]) indexes_[i]->Erase(tuple);
        }
        FreeVarDiff(tuple, before);
        std::memcpy(tuple, before, size);
        for (size_t i = 0; i < n; ++i) {
            if (key_changed_[i]) indexes_[i]->Insert(tuple);
        }
        throw;
    }
    undo.RecordUpdate(this, tuple, before);
    for (size_t i = 0; i < listeners_.size(); ++i) listeners_[i]->OnUpdate(*this, before, tuple, undo);
}

void Table::Delete(TuplePtr tuple, UndoLog& undo) {
    if (TupleLayout::Flags(tuple) != kTupleLive) {
        ThrowSqlError(ErrorCode::kInternal,
                      "storage: delete of a row that is not live in table \"" + def_->name + "\"");
    }
    PreserveForSnapshot(tuple);
    for (auto& index : indexes_) index->Erase(tuple);
    TupleLayout::SetFlags(tuple, kTuplePendingDelete);
    --live_rows_;
    undo.RecordDelete(this, tuple);
    for (size_t i = 0; i < listeners_.size(); ++i) listeners_[i]->OnDelete(*this, tuple, undo);
}

void Table::SetMark(TuplePtr tuple, uint64_t mark, UndoLog& undo) {
    if (!layout_.has_mark() || TupleLayout::Flags(tuple) != kTupleLive) {
        ThrowSqlError(ErrorCode::kInternal,
                      "storage: migration mark on a row of \"" + def_->name + "\" that is not live or has no mark");
    }
    PreserveForSnapshot(tuple);               // the snapshot has the row with its mark as it was
    char* before = BeforeImage(tuple, undo);  // no var data changes hands: the mask stays clear
    layout_.SetMark(tuple, mark);
    undo.RecordUpdate(this, tuple, before);
}

char* Table::BeforeImage(const char* tuple, UndoLog& undo) {
    const uint32_t size = layout_.size();
    char* before = undo.AllocateImage(image_size_);
    std::memcpy(before, tuple, size);
    std::memset(before + size, 0, image_size_ - size);
    return before;
}

void Table::Truncate(UndoLog& undo) {
    // Collect first: deleting while scanning is fine for slots, but listeners may write to other
    // tables and we want a fixed set of victims.
    std::vector<TuplePtr> rows;
    rows.reserve(live_rows_);
    ScanCursor cursor;
    while (TuplePtr t = NextLive(&cursor)) rows.push_back(t);
    for (TuplePtr t : rows) Delete(t, undo);
}

TuplePtr Table::NextLive(ScanCursor* cursor) const {
    const uint32_t size = layout_.size();
    while (cursor->block < blocks_.size()) {
        const size_t n = cursor->block + 1 == blocks_.size() ? used_in_last_block_ : blocks_[cursor->block].slots();
        char* base = blocks_[cursor->block].base();
        while (cursor->slot < n) {
            char* t = base + cursor->slot * size;
            ++cursor->slot;
            if (TupleLayout::Flags(t) == kTupleLive) return t;
        }
        ++cursor->block;
        cursor->slot = 0;
    }
    return nullptr;
}

// ---- snapshots ----------------------------------------------------------------------------------

void Table::BeginSnapshot() {
    parity_ ^= kTupleParity;
    cow_active_ = true;
    cow_cursor_ = ScanCursor{};
    preserved_.clear();
    preserved_rows_ = 0;
}

void Table::PreserveSlow(TuplePtr tuple) {
    EncodeSnapshotRow(layout_, tuple, &preserved_);
    ++preserved_rows_;
    tuple[0] = static_cast<char>((static_cast<uint8_t>(tuple[0]) & ~kTupleParity) | parity_);
}

bool Table::SnapshotScan(std::string* out, size_t budget, uint64_t* rows) {
    if (!cow_active_) return true;
    if (!preserved_.empty()) {
        out->append(preserved_);
        *rows += preserved_rows_;
        preserved_.clear();
        preserved_rows_ = 0;
    }
    const uint32_t size = layout_.size();
    ScanCursor& cur = cow_cursor_;
    while (cur.block < blocks_.size()) {
        const size_t n = cur.block + 1 == blocks_.size() ? used_in_last_block_ : blocks_[cur.block].slots();
        char* base = blocks_[cur.block].base();
        while (cur.slot < n) {
            if (out->size() >= budget) return false;
            char* t = base + cur.slot * size;
            ++cur.slot;
            if (TupleLayout::Flags(t) != kTupleLive || TupleLayout::Parity(t) == parity_) continue;
            EncodeSnapshotRow(layout_, t, out);
            ++*rows;
            t[0] = static_cast<char>(kTupleLive | parity_);
        }
        // A block that filled up after the scan passed its end holds only rows inserted since
        // (written): stepping past it is right.
        ++cur.block;
        cur.slot = 0;
    }
    return true;
}

void Table::EndSnapshot() {
    cow_active_ = false;
    preserved_.clear();
    preserved_.shrink_to_fit();
    preserved_rows_ = 0;
}

// ---- undo and release ---------------------------------------------------------------------------

void Table::UndoInsert(TuplePtr tuple) {
    for (auto& index : indexes_) index->Erase(tuple);
    --live_rows_;
    FreeVarData(tuple);
    FreeSlot(tuple);
}

void Table::UndoDelete(TuplePtr tuple) {
    TupleLayout::SetFlags(tuple, kTupleLive);
    for (auto& index : indexes_) index->Insert(tuple);
    ++live_rows_;
}

void Table::UndoUpdate(TuplePtr tuple, const char* before) {
    const size_t n = indexes_.size();
    for (size_t i = 0; i < n; ++i) {
        bool has_null;
        indexes_[i]->BuildKey(tuple, &old_keys_[i], &has_null);
        indexes_[i]->BuildKey(before, &new_keys_[i], &has_null);
        key_changed_[i] = old_keys_[i] != new_keys_[i];
    }
    for (size_t i = 0; i < n; ++i) {
        if (key_changed_[i]) indexes_[i]->Erase(tuple);
    }
    // Undo runs newest-first, so the row is exactly as this update left it: the pointers that
    // differ from the before-image are the ones this update allocated.
    FreeVarDiff(tuple, before);
    std::memcpy(tuple, before, layout_.size());
    for (size_t i = 0; i < n; ++i) {
        if (key_changed_[i]) indexes_[i]->Insert(tuple);
    }
}

void Table::ReleaseDelete(TuplePtr tuple) {
    FreeVarData(tuple);
    FreeSlot(tuple);
}

void Table::ReleaseStreamInsert(TuplePtr tuple) {
    for (auto& index : indexes_) index->Erase(tuple);
    --live_rows_;
    FreeVarData(tuple);
    FreeSlot(tuple);
}

void Table::ReleaseUpdate(TuplePtr tuple, const char* before) {
    const char* mask = before + layout_.size();
    for (size_t k = 0; k < var_columns_.size(); ++k) {
        if (!MaskBit(mask, k)) continue;
        const VarData* old = layout_.GetVar(before, var_columns_[k]);
        if (old != nullptr) FreeVar(const_cast<VarData*>(old));
    }
}

// ---- helpers ------------------------------------------------------------------------------------

bool Table::SameColumns(const char* a, const char* b, const std::vector<int>& columns) const {
    for (const int c : columns) {
        const bool null_a = layout_.IsNull(a, c);
        if (null_a != layout_.IsNull(b, c)) return false;
        if (null_a) continue;
        // Equal slot bytes are equal values: a var column that WriteValues did not change keeps
        // its VarData pointer. (Unequal bytes may still encode the same key; the caller compares
        // the keys then.)
        const uint32_t off = layout_.offset(c);
        if (std::memcmp(a + off, b + off, SlotWidth(layout_.type(c))) != 0) return false;
    }
    return true;
}

Table::Block::Block(size_t bytes, uint32_t tuple_size) : bytes_(bytes), slots_(bytes / tuple_size) {
    // Zero-filled (every flag kTupleFree) without a memset: calloc skips it for fresh pages from
    // the OS, and a mapping is fresh. Writing the rows is then the only pass over a new block.
    if (bytes >= kHugePageBytes) {
        base_ = static_cast<char*>(MapLarge(bytes));
    } else {
        base_ = static_cast<char*>(std::calloc(1, bytes));
        if (base_ == nullptr) throw std::bad_alloc();
    }
}

Table::Block::Block(Block&& other) noexcept : base_(other.base_), bytes_(other.bytes_), slots_(other.slots_) {
    other.base_ = nullptr;
}

Table::Block::~Block() {
    if (base_ == nullptr) return;
    if (bytes_ >= kHugePageBytes) {
        UnmapLarge(base_, bytes_);
    } else {
        std::free(base_);
    }
}

TuplePtr Table::AllocateSlot() {
    if (!free_slots_.empty()) {
        TuplePtr t = free_slots_.back();
        free_slots_.pop_back();
        return t;
    }
    if (blocks_.empty() || used_in_last_block_ == blocks_.back().slots()) {
        const size_t bytes = blocks_.size() < kSmallBlocks ? kBlockBytes : kHugePageBytes;
        blocks_.emplace_back(std::max<size_t>(bytes, layout_.size()), layout_.size());
        block_bytes_total_ += blocks_.back().bytes();
        used_in_last_block_ = 0;
    }
    return blocks_.back().base() + used_in_last_block_++ * layout_.size();
}

void Table::ReturnSlot(TuplePtr tuple) {
    if (blocks_.empty() || used_in_last_block_ == 0 ||
        tuple != blocks_.back().base() + (used_in_last_block_ - 1) * layout_.size()) {
        FreeSlot(tuple);  // it came from the free list
        return;
    }
    tuple[0] = static_cast<char>(kTupleFree);
    if (--used_in_last_block_ == 0) {  // the block was made for this row: give it back too
        block_bytes_total_ -= blocks_.back().bytes();
        blocks_.pop_back();
        used_in_last_block_ = blocks_.empty() ? 0 : blocks_.back().slots();
    }
}

void Table::FreeSlot(TuplePtr tuple) {
    tuple[0] = static_cast<char>(kTupleFree);
    free_slots_.push_back(tuple);
}

VarData* Table::NewVar(std::string_view bytes) {
    void* mem = std::malloc(sizeof(VarData) + bytes.size());
    if (mem == nullptr) throw std::bad_alloc();
    auto* v = static_cast<VarData*>(mem);
    v->size = static_cast<uint32_t>(bytes.size());
    if (!bytes.empty()) std::memcpy(v->bytes(), bytes.data(), bytes.size());
    var_bytes_ += sizeof(VarData) + bytes.size();
    return v;
}

void Table::FreeVar(VarData* v) {
    var_bytes_ -= sizeof(VarData) + v->size;
    std::free(v);
}

void Table::FreeVarData(const char* tuple) {
    for (int c : var_columns_) {
        const VarData* v = layout_.GetVar(tuple, c);
        if (v != nullptr) FreeVar(const_cast<VarData*>(v));
    }
}

void Table::FreeVarDiff(const char* owner, const char* other) {
    for (int c : var_columns_) {
        const VarData* v = layout_.GetVar(owner, c);
        if (v != nullptr && (other == nullptr || v != layout_.GetVar(other, c))) FreeVar(const_cast<VarData*>(v));
    }
}

void Table::CheckNotNull(const Value* values) const {
    for (int c : not_null_columns_) {
        if (values[c].is_null()) {
            ThrowSqlError(ErrorCode::kNotNullViolation, "NULL value in column \"" + def_->columns[c].name +
                                                            "\" of table \"" + def_->name + "\" violates NOT NULL");
        }
    }
}

void Table::WriteValues(TuplePtr tuple, const Value* values, const char* share_from) {
    const size_t n = layout_.column_count();
    std::memset(tuple + 1, 0, (n + 7) / 8);
    try {
        for (size_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i);
            const Value& v = values[i];
            const TypeId type = layout_.type(c);
            char* slot = tuple + layout_.offset(c);
            if (v.is_null()) {
                tuple[1 + i / 8] |= static_cast<char>(1 << (i % 8));
                if (layout_.is_var(c)) {
                    const VarData* none = nullptr;
                    std::memcpy(slot, &none, sizeof none);
                }
                continue;
            }
            const TypeId vt = v.type();
            bool ok = true;
            switch (type) {
                case TypeId::kTinyInt: {
                    ok = IsIntegralType(vt);
                    const auto x = static_cast<int8_t>(v.AsInt());
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kSmallInt: {
                    ok = IsIntegralType(vt);
                    const auto x = static_cast<int16_t>(v.AsInt());
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kInteger: {
                    ok = IsIntegralType(vt);
                    const auto x = static_cast<int32_t>(v.AsInt());
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kBigInt:
                case TypeId::kTimestamp: {
                    ok = type == TypeId::kTimestamp ? vt == TypeId::kTimestamp : IsIntegralType(vt);
                    const int64_t x = v.AsInt();
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kFloat: {
                    ok = vt == TypeId::kFloat;
                    const double x = v.AsDouble();
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kDecimal: {
                    ok = vt == TypeId::kDecimal;
                    if (!ok) break;
                    const Decimal::Rep x = v.AsDecimal().raw();
                    std::memcpy(slot, &x, sizeof x);
                    break;
                }
                case TypeId::kVarchar:
                case TypeId::kVarbinary: {
                    ok = vt == TypeId::kVarchar || vt == TypeId::kVarbinary;
                    if (!ok) break;
                    const std::string_view s = v.AsString();
                    const VarData* old = share_from != nullptr ? layout_.GetVar(share_from, c) : nullptr;
                    const VarData* p = old;
                    if (old == nullptr || old->size != s.size() ||
                        (!s.empty() && std::memcmp(old->bytes(), s.data(), s.size()) != 0)) {
                        p = NewVar(s);
                    }
                    std::memcpy(slot, &p, sizeof p);
                    break;
                }
                default:
                    ok = false;
                    break;
            }
            if (!ok) {
                ThrowSqlError(ErrorCode::kInternal, "storage: a " + std::string(TypeIdName(vt)) +
                                                        " value for column \"" + def_->columns[i].name + "\" of type " +
                                                        std::string(TypeIdName(type)) + " in table \"" + def_->name +
                                                        "\"");
            }
        }
    } catch (...) {
        FreeVarDiff(tuple, share_from);
        throw;
    }
}

}  // namespace surge::storage
