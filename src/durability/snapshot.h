// Snapshot files: one directory per snapshot, written by one writer thread, made valid by a
// MANIFEST written last (docs/adr/0010-snapshots.md, docs/durability.md).
//
//   <dir>/p<partition>-t<n>.rows  rows of one table on one partition: an 16-byte header
//                                 ("SURGESNP", u32 format version, u32 0), then chunks:
//                                 u32 payload bytes, u32 rows, u64 XXH3(payload, seed = rows),
//                                 payload (rows encoded back to back, storage/row_codec.h)
//   <dir>/catalog.sql             the schema as the DDL batches that built it, in order
//   <dir>/<table>.csv             optional (@SnapshotSave ... 'CSV'): for batch systems, not read back
//   <dir>/MANIFEST                text: what the snapshot holds, each file's size and row count,
//                                 the cut's LSN, ending in a checksum of the lines before it
//
// This layer knows bytes, not tables: the server encodes and decodes the rows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace surge::durability {

struct SnapshotFile {
    std::string name;   ///< file name inside the snapshot directory
    std::string table;  ///< the table whose rows it holds (empty for extra files)
    uint32_t partition = 0;
    uint64_t rows = 0;
    uint64_t bytes = 0;
    bool rows_file = true;  ///< false: an extra file (CSV), listed but not verified or loaded
};

struct SnapshotManifest {
    std::string id;
    uint64_t cut_lsn = 0;  ///< every logged transaction up to this LSN is in the snapshot, none after
    uint32_t partitions = 0;
    int64_t created_micros = 0;  ///< wall clock when the cut was taken
    uint64_t next_txn_id = 0;    ///< the server's next transaction id at the cut
    int64_t last_timestamp = 0;  ///< the newest transaction timestamp at the cut
    uint64_t catalog_bytes = 0;
    uint64_t catalog_hash = 0;
    std::vector<SnapshotFile> files;
    /// The last export sequence number each exporting stream had given on each partition at the
    /// cut (recovery continues from there; docs/adr/0011-streams-and-export.md).
    struct ExportSequence {
        std::string stream;
        uint32_t partition = 0;
        uint64_t seq = 0;
    };
    std::vector<ExportSequence> export_sequences;

    uint64_t total_rows() const;
    uint64_t total_bytes() const;
};

/// The text of a MANIFEST, and back (false and *error set when it is damaged).
std::string FormatManifest(const SnapshotManifest& m);
bool ParseManifest(std::string_view text, SnapshotManifest* m, std::string* error);

/// Writes one snapshot's files off the partition threads. Callers queue chunks (no I/O, no
/// waiting); the thread writes them in order. Failures are sticky and reported by Finish.
class SnapshotWriter {
  public:
    /// Creates `dir` (it must not exist; its parent is created) and starts the thread.
    /// on_drained is called on the writer thread whenever queued bytes fall to half of
    /// max_queued_bytes after having exceeded it (to resume paused producers).
    static Result<std::unique_ptr<SnapshotWriter>> Create(std::string dir, size_t max_queued_bytes,
                                                          std::function<void()> on_drained);
    ~SnapshotWriter();  ///< Abandon()s if not finished
    SnapshotWriter(const SnapshotWriter&) = delete;
    SnapshotWriter& operator=(const SnapshotWriter&) = delete;

    const std::string& dir() const { return dir_; }
    /// Registers a file of rows (rows_file) or an extra file; returns its index. Before Finish.
    size_t AddFile(std::string name, std::string table, uint32_t partition, bool rows_file = true);
    /// Queues bytes for a file: rows encoded back to back (a chunk of `rows` rows) for a rows file,
    /// raw bytes for an extra file. Thread-safe.
    void Write(size_t file, std::string bytes, uint64_t rows);
    /// True while more than max_queued_bytes are queued: producers should pause.
    bool Behind() const { return queued_.load(std::memory_order_relaxed) > max_queued_; }
    /// Marks the writer so that the next Behind() -> !Behind() transition calls on_drained.
    void NoteProducerPaused() { paused_.store(true, std::memory_order_relaxed); }

    /// After the last Write: writes what is queued, catalog.sql, fsyncs every file, then writes
    /// the MANIFEST (file list filled in here) and fsyncs the directory. done(status, manifest)
    /// is called on the writer thread.
    void Finish(SnapshotManifest manifest, std::string catalog_sql,
                std::function<void(const Status&, const SnapshotManifest&)> done);
    /// Stops the thread without writing a MANIFEST (the directory stays incomplete) and waits.
    void Abandon();

  private:
    SnapshotWriter(std::string dir, size_t max_queued, std::function<void()> on_drained);
    void Loop();
    Status WriteChunk(size_t file, const std::string& bytes, uint64_t rows);
    Status OpenFile(size_t file);
    Status Complete(SnapshotManifest* manifest, const std::string& catalog_sql);

    struct Item {
        size_t file;
        std::string bytes;
        uint64_t rows;
    };
    struct OpenState {
        SnapshotFile info;
        int fd = -1;
    };

    const std::string dir_;
    const size_t max_queued_;
    std::function<void()> on_drained_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Item> queue_;
    /// Guarded by mu_ for AddFile; the thread owns fds and sizes. A deque: the thread keeps a
    /// pointer to an entry while AddFile appends more (a vector would move them).
    std::deque<OpenState> files_;
    std::atomic<size_t> queued_{0};
    std::atomic<bool> paused_{false};
    bool finishing_ = false;
    bool stop_ = false;
    SnapshotManifest manifest_;
    std::string catalog_sql_;
    std::function<void(const Status&, const SnapshotManifest&)> done_;
    Status failure_;
    std::string header_;
    std::thread thread_;
};

/// A snapshot directory as found on disk.
struct SnapshotListing {
    std::string dir;
    bool complete = false;  ///< has a MANIFEST that parses and checks
    std::string problem;    ///< why not complete (or, after Verify, not valid)
    SnapshotManifest manifest;
};

/// The snapshots under root (each subdirectory), oldest cut first; incomplete ones included.
Result<std::vector<SnapshotListing>> ListSnapshots(const std::string& root);
/// Removes a snapshot directory so that no crash in between leaves a snapshot that looks complete
/// with some of its files gone: the MANIFEST goes first (durably), then the rest.
Status RemoveSnapshot(const std::string& dir);
/// Reads and checks a snapshot's MANIFEST.
Result<SnapshotManifest> ReadManifest(const std::string& dir);
/// Reads every file the manifest names and checks sizes, chunk checksums and row counts.
Status VerifySnapshot(const std::string& dir, const SnapshotManifest& m);
/// The schema text (checked against the manifest).
Result<std::string> ReadSnapshotCatalog(const std::string& dir, const SnapshotManifest& m);
/// Calls fn for each chunk of a rows file (payload, rows), checking each checksum and the file's
/// size and row count against the manifest entry.
Status ReadSnapshotRows(const std::string& dir, const SnapshotFile& file,
                        const std::function<Status(std::string_view payload, uint32_t rows)>& fn);

/// The schema history as catalog.sql stores it (each DDL batch framed by a length line), and back.
std::string FormatDdlHistory(const std::vector<std::string>& batches);
Result<std::vector<std::string>> ParseDdlHistory(std::string_view text);

}  // namespace surge::durability
