// The undo log of one partition's open transaction (VoltDB's undo quantum).
//
// Every write records how to reverse it. Undo runs newest-first and restores rows and every
// index exactly; Release (commit) runs oldest-first and frees what the undone state would have
// needed: deleted tuples' slots and var data, and var data replaced by updates. Marks allow one
// statement to be undone without the rest of its transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "storage/tuple.h"

namespace surge::storage {

class Table;

/// Something outside the tables that a transaction changes with them (export rows): told to undo
/// or to commit the change it recorded, with the argument it recorded.
class UndoHook {
  public:
    virtual ~UndoHook() = default;
    virtual void Undo(uint64_t arg) = 0;
    virtual void Commit(uint64_t arg) = 0;
};

class UndoLog {
  public:
    UndoLog() = default;
    UndoLog(const UndoLog&) = delete;
    UndoLog& operator=(const UndoLog&) = delete;
    ~UndoLog();  ///< releases anything still recorded (as a commit would)

    size_t Mark() const { return records_.size(); }
    bool empty() const { return records_.empty(); }
    size_t size() const { return records_.size(); }
    /// Reverts records newer than mark, newest first.
    void UndoTo(size_t mark);
    void UndoAll() { UndoTo(0); }
    /// Commits: frees what the records hold, oldest first, and empties the log.
    void Release();

    // Called by Table.
    void RecordInsert(Table* table, TuplePtr tuple);
    void RecordDelete(Table* table, TuplePtr tuple);
    /// before: a copy of the tuple bytes before the update (allocated in this log's arena by
    /// AllocateImage).
    void RecordUpdate(Table* table, TuplePtr tuple, char* before);
    char* AllocateImage(uint32_t size);
    /// Records a change held by hook: undone (newest first) or committed (oldest first) in order
    /// with the table writes.
    void RecordHook(UndoHook* hook, uint64_t arg);

  private:
    enum class Kind : uint8_t { kInsert, kDelete, kUpdate, kHook };
    struct Record {
        Kind kind;
        Table* table;
        // A table write: the tuple (and an update's before-image). A hook: the hook and its
        // argument.
        union {
            TuplePtr tuple;
            UndoHook* hook;
        };
        union {
            char* before;
            uint64_t arg;
        };
    };
    std::vector<Record> records_;
    // Before-images: a list of chunks reused across transactions (no allocation once warm).
    std::vector<std::unique_ptr<char[]>> chunks_;
    size_t chunk_index_ = 0;
    size_t chunk_used_ = 0;
    static constexpr size_t kChunkSize = 64 * 1024;
    std::vector<std::unique_ptr<char[]>> big_images_;  // images larger than a chunk
    // A log that once held a huge transaction gives back all but this many chunks on Release.
    static constexpr size_t kChunksKept = 16;

    void RewindImages(const char* oldest_undone_image);
};

}  // namespace surge::storage
