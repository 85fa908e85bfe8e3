// Table: one partition's rows of one table, their indexes, and the hooks that keep materialized
// views current.
//
// Rows live in blocks of tuple slots (layout().size() bytes each): 256 KiB blocks first, 2 MiB
// blocks on huge pages once a table is large; freed slots go on a free list and are reused.
// Var-length values live out of line (VarData, malloc'd) and are counted in memory_bytes(). A
// TuplePtr stays valid while its row lives, so indexes point straight at slots. Only the
// partition's thread touches a Table: there are no locks.
#pragma once

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "storage/index.h"
#include "storage/tuple.h"
#include "storage/undo_log.h"

namespace surge::storage {

class Table;

/// Observes committed-or-pending writes to a table, inside the writing transaction (view
/// maintenance). Called after the write is applied; a listener's own writes go through Table too,
/// so they are undone with the transaction. Throwing aborts the statement.
class TableListener {
  public:
    virtual ~TableListener() = default;
    virtual void OnInsert(Table& table, const char* tuple, UndoLog& undo) = 0;
    /// The tuple is already invisible to scans and indexes; its bytes are still readable.
    virtual void OnDelete(Table& table, const char* tuple, UndoLog& undo) = 0;
    /// before: the row's bytes before the update; after: the live row.
    virtual void OnUpdate(Table& table, const char* before, const char* after, UndoLog& undo) = 0;
};

/// An index to create with the table: its definition and, for expression keys, its extractor.
struct IndexSpec {
    std::shared_ptr<const catalog::IndexDef> def;
    std::unique_ptr<KeyExtractor> extractor;
};

/// Position of a sequential scan. Valid across reads; after writes, rescan.
struct ScanCursor {
    size_t block = 0;
    size_t slot = 0;
};

class Table {
  public:
    Table(std::shared_ptr<const catalog::TableDef> def, std::vector<IndexSpec> indexes);
    ~Table();
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;

    const catalog::TableDef& def() const { return *def_; }
    const std::shared_ptr<const catalog::TableDef>& def_ptr() const { return def_; }
    const TupleLayout& layout() const { return layout_; }
    /// A stream's storage: rows live only until their transaction commits (then they are gone;
    /// its listeners saw them) or rolls back.
    bool is_stream() const { return stream_; }
    size_t row_count() const { return live_rows_; }
    /// Bytes held by blocks, var data and index entries.
    size_t memory_bytes() const;

    size_t index_count() const { return indexes_.size(); }
    Index& index(size_t i) { return *indexes_[i]; }
    const Index& index(size_t i) const { return *indexes_[i]; }
    Index* FindIndex(std::string_view name);  ///< nullptr if absent
    /// The primary key index if the table has one, else nullptr.
    Index* primary_key();

    /// Inserts a row. values: one per column, already coerced to the column types. Checks NOT
    /// NULL (kNotNullViolation, message names table and column) and every unique index
    /// (kUniqueViolation) before changing anything, so a failed insert leaves no trace.
    TuplePtr Insert(const Value* values, UndoLog& undo);
    /// Replaces a live row's values (all columns, already coerced). Same checks as Insert; the
    /// row keeps its slot. Indexes whose key did not change are not touched.
    void Update(TuplePtr tuple, const Value* values, UndoLog& undo);
    /// Deletes a live row: invisible at once, its slot freed when the undo log is released.
    void Delete(TuplePtr tuple, UndoLog& undo);
    /// Deletes every row (undoably).
    void Truncate(UndoLog& undo);

    // ---- migration marks (USING TTL ... MIGRATE TO TARGET; tuple.h) ----
    bool has_marks() const { return layout_.has_mark(); }
    uint64_t Mark(const char* tuple) const { return layout_.GetMark(tuple); }
    /// Sets a live row's mark (undoably; no listener hears it). Update() clears it.
    void SetMark(TuplePtr tuple, uint64_t mark, UndoLog& undo);
    /// Sets the mark of a row this transaction inserted (loading a snapshot, copying a table).
    void LoadMark(TuplePtr tuple, uint64_t mark) { layout_.SetMark(tuple, mark); }

    /// Storage blocks, for scans that walk tuples in place: block b holds *slots tuple slots of
    /// layout().size() bytes from the returned address, live or not (TupleLayout::Flags).
    size_t block_count() const { return blocks_.size(); }
    TuplePtr block(size_t b, size_t* slots) const {
        *slots = b + 1 == blocks_.size() ? used_in_last_block_ : blocks_[b].slots();
        return blocks_[b].base();
    }
    /// Next live tuple at or after cursor, advancing it; nullptr at the end.
    TuplePtr NextLive(ScanCursor* cursor) const;
    /// Reads a column of a tuple.
    void Read(const char* tuple, int col, Value* out) const { layout_.Read(tuple, col, out); }
    Value Get(const char* tuple, int col) const {
        Value v;
        layout_.Read(tuple, col, &v);
        return v;
    }

    // ---- snapshots (copy-on-write; docs/adr/0010-snapshots.md) ----
    // BeginSnapshot makes every row that exists now part of the running snapshot, at no cost per
    // row: it flips the table's parity, and a row is "written" when its parity bit equals it.
    // Until EndSnapshot, an update or delete of a row not yet written first encodes the row as it
    // is (row_codec.h) into a preserved buffer and marks it written; an insert is written at once
    // (not part of the snapshot). SnapshotScan emits the preserved rows and the rows not yet
    // written. Between transactions only (no row pending delete).

    void BeginSnapshot();
    bool snapshot_active() const { return cow_active_; }
    /// Appends rows of the snapshot not yet emitted to *out (encoded back to back) until out
    /// holds at least budget bytes or none is left, counting them in *rows. True when the
    /// snapshot's rows of this table are all emitted.
    bool SnapshotScan(std::string* out, size_t budget, uint64_t* rows);
    /// Stops copy-on-write (after SnapshotScan returned true, or to abandon the snapshot).
    void EndSnapshot();
    /// Bytes of preserved rows not yet emitted.
    size_t snapshot_preserved_bytes() const { return preserved_.size(); }

    void AddListener(TableListener* listener) { listeners_.push_back(listener); }
    void RemoveListener(TableListener* listener);
    void ClearListeners() { listeners_.clear(); }

    // Used by UndoLog only.
    void UndoInsert(TuplePtr tuple);
    void UndoDelete(TuplePtr tuple);
    void UndoUpdate(TuplePtr tuple, const char* before);
    void ReleaseDelete(TuplePtr tuple);
    void ReleaseUpdate(TuplePtr tuple, const char* before);
    /// A stream's row at commit: freed.
    void ReleaseStreamInsert(TuplePtr tuple);

  private:
    TuplePtr AllocateSlot();
    void FreeSlot(TuplePtr tuple);
    /// Undoes the AllocateSlot that returned tuple just now: a slot from the end of the last block
    /// lowers its high-water mark again (and a block made for it goes), any other returns to the
    /// free list.
    void ReturnSlot(TuplePtr tuple);
    /// Writes values into tuple's null bitmap and slots; flags untouched. Var columns get fresh
    /// VarData, except that when share_from is given, a var column whose bytes equal share_from's
    /// keeps share_from's pointer. If it throws, every VarData it allocated is freed (var slots it
    /// had not reached keep the pointers they held).
    void WriteValues(TuplePtr tuple, const Value* values, const char* share_from = nullptr);
    void FreeVarData(const char* tuple);
    /// Frees the VarData of `owner` that `other` does not point to as well.
    void FreeVarDiff(const char* owner, const char* other);
    void CheckNotNull(const Value* values) const;
    /// An update's before-image of tuple in undo's arena (image_size_ below), its var-column
    /// bitmap clear.
    char* BeforeImage(const char* tuple, UndoLog& undo);
    /// Copy-on-write before a row changes while a snapshot runs (see BeginSnapshot).
    void PreserveForSnapshot(TuplePtr tuple) {
        if (cow_active_ && TupleLayout::Parity(tuple) != parity_) PreserveSlow(tuple);
    }
    void PreserveSlow(TuplePtr tuple);
    VarData* NewVar(std::string_view bytes);
    /// Whether tuples a and b hold the same values (NULL or the same slot bytes) in every column.
    bool SameColumns(const char* a, const char* b, const std::vector<int>& columns) const;
    void FreeVar(VarData* v);

    std::shared_ptr<const catalog::TableDef> def_;
    TupleLayout layout_;
    std::vector<std::unique_ptr<Index>> indexes_;
    std::vector<TableListener*> listeners_;
    const bool stream_;

    // Tuple storage: zero-filled blocks, each a whole number of slots. A table's first
    // kSmallBlocks blocks are kBlockBytes; a table that outgrows them gets kHugePageBytes blocks,
    // mapped for transparent huge pages (common/huge_pages.h): a small table stays small, and a
    // large one's randomly accessed rows do not miss the TLB on every access.
    static constexpr size_t kBlockBytes = 256 * 1024;
    static constexpr size_t kSmallBlocks = 8;
    class Block {
      public:
        Block(size_t bytes, uint32_t tuple_size);
        Block(Block&& other) noexcept;
        Block& operator=(Block&&) = delete;
        ~Block();
        char* base() const { return base_; }
        size_t bytes() const { return bytes_; }
        size_t slots() const { return slots_; }

      private:
        char* base_;
        size_t bytes_;
        size_t slots_;
    };
    std::vector<Block> blocks_;
    size_t block_bytes_total_ = 0;
    size_t used_in_last_block_ = 0;  // slots handed out in blocks_.back()
    std::vector<TuplePtr> free_slots_;
    size_t live_rows_ = 0;
    size_t var_bytes_ = 0;

    // Snapshot state: the parity a written row carries, whether copy-on-write is on, the scan's
    // position, and the encoded rows preserved before a change.
    uint8_t parity_ = 0;
    bool cow_active_ = false;
    ScanCursor cow_cursor_;
    std::string preserved_;
    uint64_t preserved_rows_ = 0;

    std::vector<int> not_null_columns_;
    std::vector<int> var_columns_;
    // Per index, the columns its key is made of, in order; empty when a part is an expression.
    std::vector<std::vector<int>> index_columns_;
    // An update's before-image is the tuple bytes followed by a bitmap over var_columns_: bit set
    // when the update replaced that column's VarData, so the image owns the old pointer. Release
    // frees exactly those; comparing pointers at release time instead would free twice a pointer
    // that one update kept and a later update in the same transaction replaced.
    uint32_t image_size_;

    // Scratch reused by every write (single-threaded), so a warm table does not allocate.
    std::unique_ptr<char[]> staging_;  // the new image, built before anything changes
    std::vector<std::string> old_keys_;
    std::vector<std::string> new_keys_;
    std::vector<uint8_t> key_changed_;
};

}  // namespace surge::storage
