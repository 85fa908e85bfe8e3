// The spool: one stream's exported rows of one partition, on disk until their target has
// acknowledged them (VoltDB's export overflow). See docs/adr/0011-streams-and-export.md.
//
// DATA/export/<stream>/p<partition>/<first seq, 20 digits>.exs segment files:
//   header: "SRGEXP01", u32 header bytes, header, u32 checksum of the header
//     header = u32 column count, per column: u8 type, u32 length, u8 nullable, u16 name bytes, name;
//              then i32 partition column (-1: none)
//   records: u32 payload bytes, u32 checksum (XXH3 of the payload, low 32 bits), payload
//     payload = u64 seq, u64 txn id, i64 timestamp, u64 gate LSN, u8 op, row (storage/row_codec.h)
// A segment holds rows of one column list; a new list (ALTER, DROP and CREATE) starts a new
// segment. Sequence numbers increase by one within the spool.
//
// One writer thread appends, flushes and syncs; one reader thread (the stream's target) reads
// and releases. Both may run at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "exec/export_capture.h"
#include "storage/tuple.h"

namespace surge::exports {

/// The columns rows were encoded with, and the stream's partition column (-1: replicated).
struct SpoolSchema {
    explicit SpoolSchema(std::vector<catalog::ColumnDef> cols, int partition_col = -1)
        : columns(std::move(cols)), partition_column(partition_col), layout(columns) {}
    std::vector<catalog::ColumnDef> columns;
    int partition_column = -1;
    storage::TupleLayout layout;
    bool SameColumns(const std::vector<catalog::ColumnDef>& other) const;
    bool Same(const SpoolSchema& other) const {
        return partition_column == other.partition_column && SameColumns(other.columns);
    }
};

struct SpoolRow {
    uint64_t seq = 0;
    uint64_t txn_id = 0;
    int64_t timestamp = 0;
    uint64_t lsn = 0;  ///< deliverable once the command log is durable up to here
    exec::ExportOp op = exec::ExportOp::kInsert;
    std::string_view row;  ///< encoded values (into the batch's bytes)
    const SpoolSchema* schema = nullptr;
};

/// Rows read for delivery; rows point into its chunks and at schemas it keeps alive. Reused
/// batch after batch, it keeps its buffers.
struct SpoolBatch {
    std::vector<SpoolRow> rows;
    size_t bytes = 0;  ///< payload bytes read
    void Clear() {
        rows.clear();
        for (auto& c : chunks) spare.push_back(std::move(c));
        chunks.clear();
        schemas.clear();
        bytes = 0;
    }
    /// A buffer of n bytes for the next chunk (a spare one when there is one).
    std::unique_ptr<std::string> NewChunk(size_t n) {
        std::unique_ptr<std::string> c;
        if (spare.empty()) {
            c = std::make_unique<std::string>();
        } else {
            c = std::move(spare.back());
            spare.pop_back();
        }
        c->resize(n);
        return c;
    }
    std::vector<std::unique_ptr<std::string>> chunks;
    std::vector<std::unique_ptr<std::string>> spare;
    std::vector<std::shared_ptr<const SpoolSchema>> schemas;
};

class Spool {
  public:
    /// Opens dir (created if missing) and the segments in it. A torn or damaged record at the end
    /// of the newest segment is cut off (*repaired says what, else it is left empty); damage
    /// elsewhere is found when the rows are read. Rows found here are deliverable at once (they
    /// were written by an earlier run, which recovery has already checked against the log).
    static Result<std::unique_ptr<Spool>> Open(std::string dir, uint64_t segment_bytes, std::string* repaired);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    const std::string& dir() const { return dir_; }
    /// The newest row's sequence number (0: none ever kept here).
    uint64_t last_seq() const { return last_seq_.load(std::memory_order_acquire); }
    /// Bytes of segments and of rows not yet flushed.
    uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
    /// The bytes of rows after acked (what the export backlog's disk budget counts): exact for
    /// rows this spool's reader has read, else counting whole segments not all acknowledged.
    uint64_t PendingBytes(uint64_t acked);

    // ---- the writer ----

    /// Buffers a row; one with seq <= last_seq() is already here and skipped.
    Status Append(const std::shared_ptr<const SpoolSchema>& schema, uint64_t seq, uint64_t txn_id, int64_t timestamp,
                  uint64_t lsn, exec::ExportOp op, std::string_view row);
    /// Writes the buffered rows to the segment file (readers see them after this).
    Status Flush();
    /// Makes everything flushed durable (fdatasync; directory fsync after a new segment).
    Status Sync();
    /// Recovery, before the writer and reader start: drops every row with seq > seq.
    Status TruncateAfter(uint64_t seq);

    // ---- the reader ----

    /// Appends rows with seq > after, in order, to *batch, stopping at a row whose gate LSN
    /// exceeds max_lsn, after max_rows rows, or once max_bytes were read.
    Status Read(uint64_t after, uint64_t max_lsn, size_t max_rows, size_t max_bytes, SpoolBatch* batch);
    /// Deletes the segments whose rows all have seq <= seq. The one being written is not deleted
    /// but finished: the writer's next row starts a new segment, and a later Release deletes it.
    Status Release(uint64_t seq);

  private:
    struct Segment {
        uint64_t first_seq = 0;
        uint64_t last_seq = 0;  ///< 0 while empty
        std::string path;
        uint64_t size = 0;         ///< flushed bytes, header included
        uint64_t header_size = 0;  ///< where the records start
        std::shared_ptr<const SpoolSchema> schema;
        bool recovered = false;  ///< found at Open: its rows are deliverable at once
    };
    Spool(std::string dir, uint64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
    Status StartSegment(const std::shared_ptr<const SpoolSchema>& schema, uint64_t first_seq);
    /// Scans a segment's records from its header on: sets last_seq and the offset past the last
    /// whole record (*end), and whether bytes follow it (*torn).
    static Status ScanSegment(const std::string& path, Segment* seg, uint64_t* end, bool* torn);
    void CloseReader();

    const std::string dir_;
    const uint64_t segment_bytes_;
    mutable std::mutex mu_;  // guards segments_ (the reader reads it, the writer appends to it)
    std::vector<Segment> segments_;
    std::atomic<uint64_t> last_seq_{0};
    std::atomic<uint64_t> bytes_{0};
    std::atomic<bool> roll_requested_{false};  ///< set by Release: the newest segment is all acknowledged

    // Writer state.
    int fd_ = -1;  ///< the newest segment, open for appending
    // The newest segment's columns and flushed size, the writer's own copy: Release (the reader)
    // erases from segments_, so the writer reads it only under mu_.
    std::shared_ptr<const SpoolSchema> cur_schema_;
    uint64_t cur_size_ = 0;
    std::string buffer_;
    uint64_t buffered_last_seq_ = 0;
    bool unsynced_ = false;
    bool new_segment_ = false;
    std::vector<int> to_sync_;  ///< segments rolled since the last Sync (still open)

    // Where rows the reader read end (seq, segment, offset after it): PendingBytes's measure.
    struct ReadMark {
        uint64_t seq, segment, offset;
    };
    std::deque<ReadMark> marks_;  // guarded by mu_

    // Reader state: where the last Read stopped.
    int read_fd_ = -1;
    uint64_t read_segment_ = 0;  ///< first_seq of the segment read_fd_ is open on
    uint64_t read_offset_ = 0;
    uint64_t read_after_ = UINT64_MAX;  ///< the seq the row at read_offset_ follows
};

}  // namespace surge::exports
