// Database: the running set of partitions behind the API. It resolves each invocation against the
// current catalog, routes it — single-partition procedures to their partition's queue,
// everything else (multi-partition procedures, ad-hoc SQL, schema changes) to the coordinator —
// and answers through a completion callback, on whichever thread finished the call.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "durability/command_log.h"
#include "durability/dir_lock.h"
#include "durability/snapshot.h"
#include "exec/export_capture.h"
#include "export/manager.h"
#include "proc/native.h"
#include "proc/procedures.h"
#include "server/stats.h"
#include "surge/v1/surge.pb.h"
#include "txn/coordinator.h"
#include "txn/partition.h"
#include "txn/router.h"

namespace surge::server {

struct DatabaseOptions {
    uint32_t partitions = 1;
    size_t queue_capacity = 10000;    ///< per partition
    size_t mp_queue_capacity = 1000;  ///< multi-partition transactions waiting
    /// Where the command log lives (DATA/cmdlog); empty: nothing is logged or recovered.
    std::string data_dir;
    durability::LogMode log_mode = durability::LogMode::kAsync;
    std::chrono::microseconds log_interval{0};  ///< 0: 200 ms (async) or 2 ms (sync)
    uint64_t log_segment_bytes = uint64_t{64} << 20;
    uint64_t log_max_pending_bytes = uint64_t{64} << 20;
    // Snapshots (docs/adr/0010-snapshots.md), in DATA/snapshots.
    std::chrono::seconds snapshot_interval{1800};         ///< automatic snapshot this long after the last; 0: never
    uint64_t snapshot_log_bytes = uint64_t{1} << 30;      ///< ... or when the log has grown this much; 0: never
    uint32_t snapshot_retain = 2;                         ///< complete snapshots kept (the log after the oldest too)
    size_t snapshot_max_queued_bytes = size_t{64} << 20;  ///< scanned bytes waiting for the disk before scans pause
    /// How often tables with a TTL delete what expired (0: never).
    std::chrono::milliseconds ttl_interval{1000};
    // Export (docs/streams.md), spooled in DATA/export; needs a data directory.
    std::vector<exports::TargetConfig> export_targets;
    uint64_t export_disk_budget_bytes = uint64_t{10} << 30;
};

/// What Start found in the data directory.
struct RecoveryInfo {
    std::string snapshot;                        ///< the snapshot loaded (its directory; empty if none)
    uint64_t snapshot_rows = 0;                  ///< rows it held
    uint64_t snapshot_lsn = 0;                   ///< its cut: replay started after this LSN
    std::vector<std::string> skipped_snapshots;  ///< newer snapshots that were damaged or incomplete, and why
    uint64_t replayed = 0;                       ///< transactions replayed from the command log
    uint64_t last_lsn = 0;                       ///< the log's last LSN after recovery
    size_t segments = 0;
    std::string torn_tail;  ///< a torn write dropped from the log's end (empty if none)
    double seconds = 0;
};

/// Receives the answers of a stream's calls (Database::InvokeBatch), many at a time.
class ResponseSink {
  public:
    virtual ~ResponseSink() = default;
    /// `responses` answers of calls that finished together, as a serialized v1::ResponseBatch,
    /// on the thread that finished the last of them (a partition, the coordinator, the command
    /// log's writer or the caller's).
    virtual void Deliver(std::string wire, size_t responses) = 0;
};

class Database {
  public:
    explicit Database(DatabaseOptions options);
    ~Database();  ///< Stop()s

    /// Starts the threads, recovers the data directory (replays its command log: every logged
    /// transaction with its logged id and timestamp), opens the log for new transactions, then
    /// accepts calls. Any recovery problem fails the start with a message that says what and where.
    Status Start(RecoveryInfo* info = nullptr);
    /// After Start: runs a schema script (DDL and DML), each statement as its own @AdHoc call
    /// (logged like any other); the first failure stops it, naming its line.
    Status LoadSchema(const std::string& sql_text);
    /// Stops accepting calls (they get SHUTTING_DOWN), finishes what was accepted, stops threads.
    void Stop();
    bool accepting() const { return accepting_.load(); }

    /// Runs one invocation. `response` must stay valid until `done` is called (exactly once, on
    /// any thread).
    void Invoke(const v1::Invocation& invocation, v1::Response* response, std::function<void()> done);
    /// Runs a stream's batch of invocations, each answered exactly once through `sink` (which
    /// must stay valid until then). Single-partition calls go to their partition as one task per
    /// partition (each call still its own transaction) and are answered together; every other
    /// call goes alone, as Invoke, after the calls before it were handed over (so calls keep
    /// their order on each partition).
    void InvokeBatch(const v1::InvocationBatch& batch, ResponseSink* sink);

    /// Called (once) when a client asks for @Shutdown.
    void set_shutdown_handler(std::function<void()> f) { shutdown_handler_ = std::move(f); }

    uint32_t partition_count() const { return static_cast<uint32_t>(partitions_.size()); }
    catalog::CatalogPtr catalog() const;

  private:
    struct Call;
    /// What a transaction body answers: its status and, when it is not the one the status's
    /// error code implies, the client's status code.
    struct Outcome {
        Status status;
        v1::StatusCode code = v1::OK;
    };
    class CallTask;
    class BatchTask;
    struct ResponseGroup;
    /// Invoke for a stream's call that answers into `group`.
    void InvokeInto(const v1::Invocation& invocation, ResponseGroup* group);
    struct LogDeferral;
    /// Hands a batch task to its partition (urgent: past the queue's bound, for recovery); if
    /// refused, every call in it is answered why.
    void SubmitBatch(uint32_t partition, std::unique_ptr<BatchTask> batch, bool urgent);
    /// Checks and resolves an invocation for `call` (its parameters decoded into call.params);
    /// answers the call and returns null when it cannot run.
    std::shared_ptr<const proc::CallPlan> Admit(const v1::Invocation& invocation, Call& call);
    /// Admit, then Dispatch what was admitted (Invoke and InvokeInto).
    void AdmitAndDispatch(const v1::Invocation& invocation, std::shared_ptr<Call> call);
    // Snapshots (database_snapshot.cc).
    struct SnapshotRun;
    using SnapshotDone = std::function<void(const Status&, const durability::SnapshotManifest&)>;
    /// Takes a snapshot into root/<id> (root empty: DATA/snapshots, kept by retention and used by
    /// recovery); done is called once, on any thread, when it is complete (MANIFEST durable) or
    /// failed.
    void StartSnapshot(std::string root, bool csv, bool automatic, SnapshotDone done);
    /// The cut, on the coordinator with every partition parked: marks every table's rows and
    /// schedules the scans.
    void BeginSnapshotCut(txn::MpContext& ctx, const std::shared_ptr<SnapshotRun>& run);
    /// One slice of partition p's scan (on its thread), then it re-queues itself.
    void RunSnapshotSlice(const std::shared_ptr<SnapshotRun>& run, uint32_t p);
    void QueueSnapshotSlice(const std::shared_ptr<SnapshotRun>& run, uint32_t p);
    /// Scans up to max_bytes of partition p's tables (its thread, or the coordinator while
    /// parked); the last partition to finish hands the files to FinishSnapshotFiles.
    void ScanSnapshotPart(const std::shared_ptr<SnapshotRun>& run, uint32_t p, size_t max_bytes);
    /// Once the log is durable up to the cut: catalog.sql, fsyncs, MANIFEST.
    void FinishSnapshotFiles(const std::shared_ptr<SnapshotRun>& run);
    /// Before a schema change: the running snapshot's scans finish now (coordinator, parked).
    void CompleteSnapshotScans();
    void FailSnapshot(const std::shared_ptr<SnapshotRun>& run, const Status& why);
    /// On the writer thread when the MANIFEST is written (or the snapshot failed).
    void OnSnapshotWritten(const std::shared_ptr<SnapshotRun>& run, const Status& s,
                           const durability::SnapshotManifest& m);
    /// Keeps the newest snapshot_retain complete snapshots in DATA/snapshots and the log after
    /// the oldest of them.
    void ApplySnapshotRetention();
    /// Rebuilds a verified snapshot's schema (every DDL batch) on parked partitions.
    Status ApplySnapshotSchema(txn::MpContext& ctx, const std::string& dir, const durability::SnapshotManifest& m);
    /// Loads a verified snapshot's rows of partition p into `engine` (on its thread, or the
    /// coordinator's while parked), in transactions of a few thousand rows. keep_marks: rows keep
    /// their migration marks (recovery) or are migrated again (@SnapshotRestore).
    Status LoadSnapshotRows(exec::Engine& engine, uint32_t p, const std::string& dir,
                            const durability::SnapshotManifest& m, bool keep_marks);
    /// Recovery: a verified snapshot's schema, then its rows on every partition in parallel.
    Status LoadSnapshot(const std::string& dir, const durability::SnapshotManifest& m);
    /// Recovery's choice: the newest snapshot in DATA/snapshots that verifies (loaded), or none.
    Status RecoverSnapshot(RecoveryInfo* info, uint64_t* after_lsn);
    void SnapshotTimerLoop();
    /// USING TTL: every ttl_interval, one @TtlDelete per partition of each TTL table (while none is
    /// still running); a full batch queues the next at once.
    void TtlTimerLoop();
    void StartTtlDelete(const std::string& table, int32_t partition);
    /// @TtlDelete(table, partition): a logged transaction on the partition (or, for a replicated
    /// table, on every copy), so the deletes replay exactly.
    void RunTtlDelete(std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call);
    /// Runs fn on a thread of its own (file work of system procedures), joined by Stop.
    void RunAdmin(std::function<void()> fn);
    /// @SnapshotSave, @SnapshotScan, @SnapshotDelete, @SnapshotRestore.
    void RunSnapshotProcedure(const proc::CallPlan& plan, std::shared_ptr<Call> call);
    exec::ResultSet SnapshotStatistics() const;
    std::string snapshot_root() const { return options_.data_dir + "/snapshots"; }
    /// Recovery: hands each partition's batched replayed calls to it as one task.
    void FlushReplayBatches();
    /// A call that answers into `response` (null: one of its own) and then calls `done`.
    std::shared_ptr<Call> NewCall(std::string procedure, v1::Response* response, std::function<void()> done);
    /// A stream's call that answers into `group`.
    std::shared_ptr<Call> NewCall(std::string procedure, ResponseGroup* group);
    /// What the two above share: statistics, start time (a batch's calls share the time it
    /// arrived), command log and export captures.
    std::shared_ptr<Call> NewCall(std::string procedure,
                                  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());
    /// Runs a resolved call: system procedures here, others on their partition or the coordinator.
    void Dispatch(std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call);
    Status Recover(RecoveryInfo* info);
    /// Opens the command log for new transactions, continuing at next_lsn.
    Status OpenCommandLog(const std::string& log_dir, uint64_t next_lsn);
    /// Runs an internal call (schema script) and waits for its status.
    Status CallAndWait(const std::string& procedure, std::vector<Value> params);
    void RunSystem(const proc::CallPlan& plan, std::shared_ptr<Call> call);
    /// Runs `plan` (a SQL, CRUD or native procedure, or pinned ad-hoc SQL) as one
    /// single-partition transaction on `partition` (commit on success).
    void SubmitSingle(uint32_t partition, std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call);
    /// The command log's state as a result table (@Statistics COMMANDLOG).
    exec::ResultSet LogStatistics() const;
    /// Export per stream and partition (@Statistics EXPORT).
    exec::ResultSet ExportStatistics() const;
    /// Recovery: opens the export spools and starts spooling (before anything commits).
    Status OpenExport();
    /// Recovery, after the snapshot: each stream's sequence per partition. When the command log
    /// will be replayed, spooled rows past the snapshot's cut are dropped (the replay regenerates
    /// them, and drops those of transactions the log lost); otherwise sequences continue after
    /// the newest spooled or acknowledged row.
    Status RestoreExportSequences(bool replaying);
    /// What a procedure name means under the current schema (cached per thread and schema
    /// version: most calls repeat a few names).
    Result<std::shared_ptr<const proc::CallPlan>> Resolve(std::string_view name);
    /// A native procedure's call on `target` (in an open transaction), answered into `c`.
    Outcome RunNative(const proc::NativeProcedures& set, const std::string& name, proc::NativeTarget target, Call& c);
    void SubmitMulti(std::function<void(txn::MpContext&, Call&)> body, std::shared_ptr<Call> call);
    /// Applies DDL to every partition as one change (all or none), then publishes the catalog.
    Status ApplyDdl(txn::MpContext& ctx, const std::string& text);
    int64_t NextTimestamp() { return NextTimestamps(1); }
    /// The first of n consecutive transaction timestamps (microseconds, never behind the clock,
    /// each later than any given before).
    int64_t NextTimestamps(size_t n);

    DatabaseOptions options_;
    txn::Router router_;
    std::vector<std::unique_ptr<txn::Partition>> partitions_;
    std::unique_ptr<txn::Coordinator> coordinator_;
    /// Native procedure instances: one set per partition (used on its thread), then the
    /// coordinator's (multi-partition procedures). Changed only by DDL, with partitions parked.
    std::vector<std::unique_ptr<proc::NativeProcedures>> natives_;
    std::atomic<bool> accepting_{false};
    std::atomic<bool> started_{false};
    std::atomic<uint64_t> next_txn_id_{1};
    std::atomic<uint64_t> next_replicated_read_{0};
    std::atomic<int64_t> last_timestamp_{0};
    mutable std::mutex catalog_mu_;
    catalog::CatalogPtr catalog_;                             ///< partition 0's catalog, as last published by DDL
    std::atomic<uint64_t> catalog_version_{0};                ///< bumped after each publication of catalog_
    std::vector<std::unique_ptr<BatchTask>> replay_batches_;  ///< recovery only, per partition (null: none)
    std::unique_ptr<durability::DirLock> dir_lock_;
    std::unique_ptr<durability::CommandLog> log_;            ///< null when off (or not yet open)
    std::atomic<durability::CommandLog*> log_ptr_{nullptr};  ///< log_, for the export threads
    /// Each partition's export capture (used on its thread, or the coordinator's while parked).
    std::vector<std::unique_ptr<exec::ExportCapture>> captures_;
    std::unique_ptr<exports::ExportManager> exports_;  ///< null without a data directory
    /// The export sequences of the snapshot recovery loaded.
    std::vector<durability::SnapshotManifest::ExportSequence> snapshot_export_sequences_;
    std::atomic<bool> log_failed_{false};
    std::function<void()> shutdown_handler_;
    std::once_flag shutdown_once_;
    Stats stats_;  ///< shards: one per partition, then the coordinator, then everything else

    /// Every schema change applied, in order (the coordinator's, or recovery's before serving):
    /// a snapshot's catalog.sql.
    std::vector<std::string> ddl_history_;
    std::atomic<bool> snapshot_running_{false};
    mutable std::mutex snapshot_mu_;
    std::shared_ptr<SnapshotRun> snapshot_run_;  ///< the newest snapshot (running or done)
    struct SnapshotCounters {
        uint64_t completed = 0, failed = 0;
        std::string last_id, last_error;
        uint64_t last_rows = 0, last_bytes = 0, last_cut_lsn = 0;
        double last_seconds = 0, last_pause_ms = 0;
    } snapshot_counters_;                           ///< guarded by snapshot_mu_
    std::atomic<int64_t> last_snapshot_micros_{0};  ///< steady clock: when the last snapshot began
    std::atomic<uint64_t> log_bytes_at_snapshot_{0};
    std::atomic<uint64_t> snapshot_rows_loaded_{0};  ///< recovery's progress through a snapshot
    std::mutex timer_mu_;
    std::condition_variable timer_cv_;
    bool timer_stop_ = false;
    std::thread snapshot_timer_;
    std::thread ttl_timer_;
    std::atomic<int> ttl_in_flight_{0};
    std::mutex admin_mu_;
    std::vector<std::thread> admin_threads_;
    std::vector<std::shared_ptr<std::atomic<bool>>> admin_done_;
};

}  // namespace surge::server
