// The command log: one record per committed writing transaction (its invocation, transaction id
// and timestamp), appended by the thread that committed it and written to segment files by one
// writer thread, with group commit. See docs/adr/0009-command-log.md.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "types/value.h"

namespace surge::durability {

/// The partition of a multi-partition record.
inline constexpr uint32_t kMultiPartition = 0xffffffffu;

enum class LogMode : uint8_t {
    kOff,    ///< no log: nothing survives a restart
    kAsync,  ///< answers do not wait; fsync every interval
    kSync,   ///< answers wait for the fsync that covers them (group commit)
};
std::string_view LogModeName(LogMode m);

/// One transaction as appended (views into the caller's data).
struct LogRecord {
    uint64_t txn_id = 0;
    int64_t timestamp = 0;  ///< the transaction's NOW(), microseconds since the epoch
    uint32_t partition = kMultiPartition;
    std::string_view procedure;
    std::span<const Value> params;
};

/// One transaction as read back.
struct ReadRecord {
    uint64_t lsn = 0;
    uint64_t txn_id = 0;
    int64_t timestamp = 0;
    uint32_t partition = kMultiPartition;
    std::string procedure;
    std::vector<Value> params;
};

struct CommandLogOptions {
    std::string dir;  ///< the segment directory (created if missing)
    LogMode mode = LogMode::kAsync;
    /// Async: how often the writer fsyncs. Sync: the least time between the starts of two fsyncs
    /// (the group commit window).
    std::chrono::microseconds interval{200'000};
    uint64_t segment_bytes = uint64_t{64} << 20;      ///< a new segment starts past this size
    uint64_t max_pending_bytes = uint64_t{64} << 20;  ///< Saturated() above this many unwritten bytes
    uint32_t partition_count = 1;                     ///< recorded in each segment's header
    /// Called once, on the writer thread, when a write or fsync fails (the log is then stopped).
    std::function<void(const Status&)> on_failure;
};

/// What waits for the log to be durable up to an LSN: a call's answer in synchronous mode.
class DurableWaiter {
  public:
    virtual ~DurableWaiter() = default;
    /// log_status is OK when the awaited records are durable, else the log's failure.
    virtual void Durable(const Status& log_status) = 0;
};

class CommandLog {
  public:
    /// Opens the log for appending: a new segment in options.dir whose first LSN is next_lsn, and
    /// the writer thread.
    static Result<std::unique_ptr<CommandLog>> Open(CommandLogOptions options, uint64_t next_lsn);
    ~CommandLog();  ///< Close()s
    CommandLog(const CommandLog&) = delete;
    CommandLog& operator=(const CommandLog&) = delete;

    /// Appends a record and returns its LSN, or the log's failure. Never waits for I/O.
    Result<uint64_t> Append(const LogRecord& record) { return AppendAll({&record, 1}); }
    /// Appends records in order under one lock, with consecutive LSNs; returns the first one (0 for
    /// none), or the log's failure (then none is appended).
    Result<uint64_t> AppendAll(std::span<const LogRecord> records);
    /// Calls waiter->Durable once everything up to lsn is durable (at once if it is already), or
    /// with the failure if the log fails first.
    void WhenDurable(uint64_t lsn, std::shared_ptr<DurableWaiter> waiter);

    LogMode mode() const { return options_.mode; }
    /// The LSN of the newest appended record (0: none yet).
    uint64_t last_lsn() const;
    uint64_t durable_lsn() const;
    /// Bytes appended and not yet written to the file.
    uint64_t unwritten_bytes() const { return unwritten_.load(std::memory_order_relaxed); }
    /// True when unwritten bytes exceed max_pending_bytes: new calls should be refused.
    bool Saturated() const { return unwritten_bytes() > options_.max_pending_bytes; }
    /// OK, or the write/fsync failure that stopped the log (sticky).
    Status status() const;
    /// Counters for statistics.
    struct Counters {
        uint64_t records = 0, bytes = 0, writes = 0, fsyncs = 0, segments = 0;
    };
    Counters counters() const;

    /// Writes and fsyncs everything appended, then stops the writer; later appends fail.
    Status Close();

  private:
    explicit CommandLog(CommandLogOptions options);
    Status OpenSegment(uint64_t first_lsn);
    void WriterLoop();
    /// Writes `bytes` (whole records, the first with LSN first_lsn) to the current segment,
    /// starting a new one first if the current is full.
    Status WriteBatch(const std::string& bytes, uint64_t first_lsn);
    Status Sync();
    void Fail(const Status& s, std::unique_lock<std::mutex>& lock);

    const CommandLogOptions options_;
    int fd_ = -1;
    std::string segment_path_;
    uint64_t segment_size_ = 0;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string pending_;  ///< appended, not yet taken by the writer
    std::string writing_;  ///< the writer's batch (swapped with pending_)
    uint64_t last_lsn_ = 0;
    uint64_t written_lsn_ = 0;
    uint64_t durable_lsn_ = 0;
    std::atomic<uint64_t> durable_atomic_{0};
    std::atomic<uint64_t> appended_atomic_{0};
    std::atomic<uint64_t> unwritten_{0};
    Status failure_;
    bool failed_ = false;
    bool stop_ = false;
    bool closed_ = false;
    std::vector<std::pair<uint64_t, std::shared_ptr<DurableWaiter>>> waiters_;
    Counters counters_;
    std::thread writer_;
};

/// What ReadLog found.
struct LogScanInfo {
    size_t segments = 0;
    uint64_t records = 0;                  ///< records passed to the callback
    uint64_t first_lsn = 0, last_lsn = 0;  ///< of every record in the log (0 when empty)
    uint32_t partition_count = 0;          ///< from the segment headers (0 when none)
    /// A torn write at the end of the last segment, dropped and truncated away (empty if none).
    std::string torn_tail;
};

/// Reads the log in `dir` in LSN order and calls fn for each record with LSN > after_lsn; a
/// failing fn stops the read with its status. A torn or damaged record at the end of the last
/// segment is dropped and the file truncated there (reported in info->torn_tail); damage anywhere
/// else, a gap in the LSNs, or segments written with another partition count than
/// expected_partitions is an error that says where. A missing directory is an empty log.
Status ReadLog(const std::string& dir, uint64_t after_lsn, uint32_t expected_partitions,
               const std::function<Status(ReadRecord&&)>& fn, LogScanInfo* info);

/// Deletes the segments whose records all have LSNs <= lsn (after a snapshot covers them).
Status TruncateLog(const std::string& dir, uint64_t lsn);

}  // namespace surge::durability
