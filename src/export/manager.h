// Export: takes the rows partitions commit to exporting streams and tables, spools them to disk
// per (stream, partition), and runs one thread per configured target that delivers them in
// sequence order, acknowledging what its sink durably took. See docs/streams.md and
// docs/adr/0011-streams-and-export.md.
//
// Layout: DATA/export/<stream dir>/STREAM ("stream NAME" and "target NAME" lines), and per
// partition p<N>/ with the spool's segments and ACK (the newest acknowledged seq).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "exec/export_capture.h"
#include "export/sink.h"
#include "export/spool.h"

namespace surge::exports {

struct ExportOptions {
    std::string dir;  ///< DATA/export
    uint32_t partitions = 1;
    std::vector<TargetConfig> targets;
    uint64_t disk_budget_bytes = uint64_t{10} << 30;
    uint64_t segment_bytes = uint64_t{64} << 20;
    /// The command log's newest appended LSN and its durable LSN (without a log: 0 and
    /// UINT64_MAX). A row is delivered only once the log is durable up to the LSN that was the
    /// newest when the row was taken from its partition.
    std::function<uint64_t()> last_lsn;
    std::function<uint64_t()> durable_lsn;
};

/// One (stream, partition) as @Statistics EXPORT shows it.
struct ChannelStats {
    std::string stream;
    uint32_t partition = 0;
    std::string target;
    std::string status;          ///< ok, retrying, no target
    uint64_t last_seq = 0;       ///< newest row spooled
    uint64_t delivered_seq = 0;  ///< newest row handed to the sink
    uint64_t acked_seq = 0;      ///< newest row the sink durably took
    uint64_t pending_rows = 0;   ///< last_seq - acked_seq
    uint64_t spool_bytes = 0;
    int64_t lag_ms = 0;  ///< age (by commit timestamp) of the oldest row delivered but not acknowledged
    std::string last_error;
};

class ExportManager {
  public:
    /// Opens the spools and acknowledgements under options.dir and creates each target's sink
    /// (a target whose settings are wrong fails here, naming the setting). captures[p] is
    /// partition p's capture; the manager installs its backpressure in them.
    static Result<std::unique_ptr<ExportManager>> Open(ExportOptions options,
                                                       std::vector<exec::ExportCapture*> captures);
    ~ExportManager();  ///< Stop()s
    ExportManager(const ExportManager&) = delete;
    ExportManager& operator=(const ExportManager&) = delete;

    // ---- recovery, before StartWriter ----

    struct Position {
        uint64_t spooled = 0;  ///< newest seq in the spool (0: none)
        uint64_t acked = 0;
    };
    /// Per stream name: per partition (index) its spool and acknowledgement positions.
    std::map<std::string, std::vector<Position>> Positions() const;
    /// Drops spooled rows of a stream's partition with seq > seq (recovery regenerates them).
    Status TruncateAfter(const std::string& stream, uint32_t partition, uint64_t seq);

    /// Starts taking rows from the partitions (before the command log is replayed).
    void StartWriter();
    /// Starts delivery (once recovery is done).
    void StartTargets();
    /// Calls done (on the writer thread) once every row published so far is spooled and durable.
    void Sync(std::function<void(const Status&)> done);
    /// Spools what the partitions published (they must be stopped), syncs, lets each target
    /// finish and acknowledge what it delivered, and stops the threads.
    void Stop();

    std::vector<ChannelStats> Statistics() const;
    /// The newest row of a stream's partition its target durably took (0: none). Rows of a table
    /// that migrates are deleted up to it.
    uint64_t AckedSequence(const std::string& stream, uint32_t partition) const;
    std::vector<std::string> TargetNames() const;
    /// Spooled bytes not yet acknowledged (what the disk budget bounds), as of the writer's last round.
    uint64_t pending_bytes() const;
    /// True while new exported rows are refused (backlog over budget, or spooling failed).
    bool refusing() const { return refusing_.load(std::memory_order_relaxed); }
    std::string RefusalMessage() const;

  private:
    struct Part;
    struct Stream;
    struct Target;
    struct Route {
        Stream* stream = nullptr;
        std::shared_ptr<const SpoolSchema> schema;
    };
    explicit ExportManager(ExportOptions options);
    Status LoadStreams();
    Result<Stream*> StreamFor(const exec::ExportChannel& channel);
    Result<Part*> PartFor(Stream* stream, uint32_t partition);
    Status Drain();
    Status SyncAll();
    void WriterLoop();
    void TargetLoop(Target* target);
    /// Writes a part's ACK file when its acknowledged seq moved, then releases spooled rows.
    Status PersistAck(Part* part);

    const ExportOptions options_;
    std::vector<exec::ExportCapture*> captures_;
    std::vector<std::vector<Route>> routes_;  ///< per capture, per channel (writer thread)

    mutable std::mutex mu_;  // guards streams_, each Stream's target, targets' error text
    std::map<std::string, std::unique_ptr<Stream>> streams_;
    std::vector<std::unique_ptr<Target>> targets_;

    std::mutex writer_mu_;
    std::condition_variable writer_cv_;
    std::vector<std::function<void(const Status&)>> sync_waiters_;
    bool writer_stop_ = false;
    bool writer_running_ = false;
    std::thread writer_;
    Status failure_;  ///< sticky spool failure (writer thread; copied under mu_ for messages)
    std::string failure_text_;

    std::mutex target_mu_;
    std::condition_variable target_cv_;
    bool targets_stop_ = false;
    bool targets_running_ = false;

    std::atomic<bool> refusing_{false};
    std::atomic<uint64_t> pending_bytes_{0};
};

}  // namespace surge::exports
