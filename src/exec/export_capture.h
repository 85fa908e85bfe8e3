// Export capture: the rows a partition's committed transactions export, sequenced per stream.
//
// A table listener (ExportListener) encodes each exported change into the partition's capture
// inside the writing transaction, with an undo-log hook: a statement or transaction that rolls
// back takes its rows back out, and the commit gives each row the next sequence number of its
// stream on this partition. Between transactions, Publish hands the committed rows to the export
// thread (one short lock). See docs/adr/0011-streams-and-export.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "storage/table.h"
#include "storage/undo_log.h"

namespace surge::exec {

/// What an exported row records. The values are the wire and file encoding: do not renumber.
/// kMigrate: a row USING TTL ... MIGRATE TO TARGET expired; it is deleted once acknowledged.
enum class ExportOp : uint8_t { kInsert = 1, kDelete = 2, kUpdateBefore = 3, kUpdateAfter = 4, kMigrate = 5 };
std::string_view ExportOpName(ExportOp op);

/// One definition of an exporting stream or table as a partition captured it. A table altered or
/// re-created gets a new channel; the sequence continues under the same stream name.
struct ExportChannel {
    std::string stream;  ///< the stream's or table's name
    std::string target;
    std::shared_ptr<const catalog::TableDef> def;
};

/// A captured row as the capture hands it over (little-endian, back to back):
///   u32 record bytes (all of it), u32 channel, u64 seq, u64 txn id, i64 timestamp, u8 op,
///   then the row (storage/row_codec.h).
struct CapturedRow {
    static constexpr size_t kHeaderBytes = 33;
    uint32_t channel = 0;
    uint64_t seq = 0;
    uint64_t txn_id = 0;
    int64_t timestamp = 0;
    ExportOp op = ExportOp::kInsert;
    std::string_view row;
    /// Parses the record at bytes[*pos] and advances *pos past it; false if it is cut short.
    bool Parse(std::string_view bytes, size_t* pos);
};

class ExportCapture final : public storage::UndoHook {
  public:
    explicit ExportCapture(uint32_t partition) : partition_(partition) {}
    uint32_t partition() const { return partition_; }

    // ---- the partition's thread (or the coordinator while the partition is parked) ----

    /// The channel of an exporting definition (added the first time it is seen).
    uint32_t ChannelFor(const std::shared_ptr<const catalog::TableDef>& def);
    /// Records a change of the open transaction. Fails the statement (kResourceExhausted) while
    /// the export backlog is over its disk budget and the budget is enforced. Returns the
    /// sequence number the row gets if the transaction commits (0 while paused).
    uint64_t Capture(uint32_t channel, ExportOp op, const storage::TupleLayout& layout, const char* tuple,
                     uint64_t txn_id, int64_t timestamp, storage::UndoLog& undo);
    /// Hands the committed rows to the export thread. Between transactions only.
    void Publish();
    /// True when committed rows wait for Publish.
    bool has_unpublished() const { return committed_ > 0; }

    /// The last sequence number given to each stream's rows on this partition (by stream name).
    std::vector<std::pair<std::string, uint64_t>> Sequences() const;
    uint64_t Sequence(std::string_view stream) const;
    /// Recovery: the stream's next row gets seq + 1.
    void SetSequence(const std::string& stream, uint64_t seq);

    /// Backpressure: while *refusing is true and enforce is on, Capture fails the statement with
    /// why() as the message.
    void SetRefusal(const std::atomic<bool>* refusing, std::function<std::string()> why) {
        refusing_ = refusing;
        why_ = std::move(why);
    }
    void EnforceBudget(bool on) { enforce_ = on; }
    /// While paused, changes are not captured (loading a snapshot's rows is not new events).
    void Pause(bool on) { paused_ = on; }

    // ---- the export thread ----

    /// Appends the published rows to *bytes, and the channels this capture defined beyond the
    /// first `known` to *channels.
    void Take(std::string* bytes, size_t known, std::vector<ExportChannel>* channels);

  private:
    void Undo(uint64_t offset) override;
    void Commit(uint64_t offset) override;
    // A stream's counter on this partition: the last sequence number given, and how many rows of
    // the open transaction wait for theirs.
    struct Counter {
        uint64_t seq = 0;
        uint64_t open = 0;
    };
    Counter& CounterOf(const std::string& stream);

    const uint32_t partition_;
    // The open transaction's rows follow the committed ones (committed_ bytes) in pending_.
    std::string pending_;
    size_t committed_ = 0;
    std::vector<Counter*> channel_counters_;  ///< per channel: its stream's counter
    std::unordered_map<std::string, std::unique_ptr<Counter>> counters_;
    const std::atomic<bool>* refusing_ = nullptr;
    std::function<std::string()> why_;
    bool enforce_ = false;
    bool paused_ = false;

    std::mutex mu_;  // guards outbox_ and channels_ (appended here, read by the export thread)
    std::string outbox_;
    std::vector<ExportChannel> channels_;
};

/// Captures a table's exported changes into a partition's capture.
class ExportListener final : public storage::TableListener {
  public:
    /// ops: bits of ExportOps. txn_id and timestamp point at the engine's current values.
    ExportListener(ExportCapture* capture, uint32_t channel, uint8_t ops, const uint64_t* txn_id,
                   const int64_t* timestamp)
        : capture_(capture), channel_(channel), ops_(ops), txn_id_(txn_id), timestamp_(timestamp) {}
    void OnInsert(storage::Table& table, const char* tuple, storage::UndoLog& undo) override;
    void OnDelete(storage::Table& table, const char* tuple, storage::UndoLog& undo) override;
    void OnUpdate(storage::Table& table, const char* before, const char* after, storage::UndoLog& undo) override;

  private:
    ExportCapture* capture_;
    uint32_t channel_;
    uint8_t ops_;
    const uint64_t* txn_id_;
    const int64_t* timestamp_;
};

}  // namespace surge::exec
