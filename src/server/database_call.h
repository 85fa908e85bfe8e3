// The state of one invocation inside Database (internal to the server module): its parameters,
// where it ran, its command-log bookkeeping and its answer. Shared by database.cc and
// database_snapshot.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "durability/command_log.h"
#include "server/convert.h"
#include "server/database.h"
#include "server/stats.h"

namespace surge::server {

/// Calls answered together to a ResponseSink: each answer is serialized (on the thread that
/// finishes the call) into one buffer, delivered when the last of them is answered; then the
/// group deletes itself.
struct Database::ResponseGroup {
    ResponseGroup(ResponseSink* s, size_t expected) : sink(s) { wire.reserve(expected * 48); }

    /// n more calls answer here (before the builder's Release, and before any of them can).
    void Add(size_t n = 1) { remaining.fetch_add(n, std::memory_order_relaxed); }
    /// A call's answer (the calls of a group may finish on different threads: a partition and
    /// the command log's writer).
    void Answer(const ResponseHead& head, std::string_view results) {
        {
            std::lock_guard<std::mutex> lock(mu);
            AppendResponseWire(head, results, &wire);
            ++answers;
        }
        Release();
    }
    /// Once per Answer, and once by the builder when it has added them all.
    void Release() {
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        sink->Deliver(std::move(wire), answers);
        delete this;
    }

    ResponseSink* sink;
    std::mutex mu;
    std::string wire;  ///< a serialized v1::ResponseBatch
    size_t answers = 0;
    std::atomic<size_t> remaining{1};  ///< the builder's hold, and one per call not yet answered
};

/// The command-log records of a batch task's calls, appended together when the task has run them
/// (one lock on the log instead of one per call); their answers wait until then.
struct Database::LogDeferral {
    std::vector<Call*> calls;  ///< finished calls, in the order they ran
    std::vector<durability::LogRecord> records;
};

struct Database::Call final : durability::DurableWaiter, std::enable_shared_from_this<Call> {
    Stats* stats = nullptr;
    std::string procedure;  ///< for statistics and the log: as resolved, or as the client sent it
    size_t shard = 0;       ///< statistics shard: the thread that finishes the call
    size_t late_shard = 0;  ///< the shard of answers completed by the command log's writer
    /// Where the answer goes: a stream's group (serialized there), or a response message.
    ResponseGroup* group = nullptr;
    v1::Response* response = nullptr;
    /// The answer of an internal call (recovery, schema scripts); client calls answer into the
    /// caller's response or group and do not pay for one.
    std::unique_ptr<v1::Response> own_response;
    uint64_t client_handle = 0;
    std::string results;  ///< a group's call: its result tables, serialized (AppendResultWire)
    std::function<void()> done;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::vector<Value> params;
    size_t first_param = 0;  ///< @AdHoc: parameters after the SQL text
    uint64_t txn_id = 0;
    int64_t timestamp = 0;
    // The command log: the call's record is appended when it commits a change.
    durability::CommandLog* log = nullptr;
    uint32_t partition = durability::kMultiPartition;  ///< where it ran
    bool wrote = false;                                ///< a single-partition transaction changed rows
    bool ddl = false;                                  ///< a schema change was applied
    txn::MpContext* mp = nullptr;                      ///< the multi-partition context it ran in
    LogDeferral* deferral = nullptr;                   ///< set while a batch task runs the call
    /// Recovery: the partition the logged call ran on (a replay must route there too).
    std::optional<uint32_t> replay_partition;
    bool discard_results = false;  ///< recovery: the rows a replayed call returns go nowhere
    bool replayed = false;         ///< recovery: a call from the command log
    /// The partitions' export captures: rows the call committed are published after its log
    /// record is appended (a row must never be delivered before its transaction is logged).
    std::vector<std::unique_ptr<exec::ExportCapture>>* captures = nullptr;
    // The answer, kept while it waits for the log.
    Status status;
    v1::StatusCode code = v1::OK;

    /// The client's handle and deadline from its invocation.
    void Tag(const v1::Invocation& invocation) {
        client_handle = invocation.client_handle();
        if (response) response->set_client_handle(client_handle);
        if (invocation.timeout_ms() > 0) deadline = start + std::chrono::milliseconds(invocation.timeout_ms());
    }

    std::span<const Value> args() const { return std::span<const Value>(params).subspan(first_param); }

    /// True (and answered TIMEOUT) when the call waited in a queue past its deadline: it does not run.
    bool Expired() {
        if (deadline == std::chrono::steady_clock::time_point::max()) return false;
        if (std::chrono::steady_clock::now() <= deadline) return false;
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        Finish(Status(ErrorCode::kLimitExceeded,
                      "timed out after " + std::to_string(waited) + " ms in the queue; the call did not run"),
               v1::TIMEOUT);
        return true;
    }

    void AddResult(const exec::ResultSet& rs) {
        if (discard_results) return;
        if (group) return AppendResultWire(rs, &results);
        EncodeResult(rs, response->add_results());
    }

    /// The call's outcome. A committed change is appended to the command log first (on the
    /// thread that committed it, so the log keeps the execution order); in synchronous mode the
    /// answer then waits until the log is durable up to everything the call may have seen.
    void Finish(const Status& s, v1::StatusCode c = v1::OK) {
        status = s;
        code = c;
        const bool committed = Committed();
        if (!log) {
            if (committed) PublishExports();
            return Complete();
        }
        if (deferral) {  // the batch task appends, publishes and answers once it has run its calls
            deferral->calls.push_back(this);
            if (committed) deferral->records.push_back(Record());
            return;
        }
        Result<uint64_t> appended = uint64_t{0};
        if (committed) {
            appended = log->Append(Record());
            PublishExports();
        }
        Logged(appended);
    }

    bool Committed() const { return status.ok() && code == v1::OK && (wrote || ddl || (mp && mp->committed_writes())); }
    durability::LogRecord Record() const { return {txn_id, timestamp, partition, procedure, params}; }

    /// After the call's record (if it committed a change) was appended at `appended` (its LSN, or
    /// the log's failure): answers now, or once the log is durable (synchronous mode).
    void Logged(const Result<uint64_t>& appended) {
        uint64_t lsn = 0;
        if (Committed()) {
            if (!appended.ok()) {
                status = Status(ErrorCode::kIoError,
                                "the transaction ran but could not be logged, so it may not "
                                "survive a restart: " +
                                    appended.status().message());
                code = v1::OUTCOME_UNKNOWN;
                return Complete();
            }
            lsn = *appended;
        }
        const v1::StatusCode c = code;
        const bool refused = c == v1::OVERLOADED || c == v1::SHUTTING_DOWN || c == v1::TIMEOUT ||
                             c == v1::INVALID_PARAMETER || c == v1::UNKNOWN_PROCEDURE || c == v1::UNAVAILABLE;
        if (log->mode() != durability::LogMode::kSync || refused) return Complete();
        shard = late_shard;
        log->WhenDurable(std::max(lsn, log->last_lsn()), shared_from_this());
    }

    /// Hands the rows this call's transaction exported to the export thread (on the thread that
    /// committed it, right after the commit).
    void PublishExports() {
        if (!captures) return;
        if (partition != durability::kMultiPartition) {
            (*captures)[partition]->Publish();
        } else if (mp) {
            for (auto& c : *captures) c->Publish();
        }
    }

    void Durable(const Status& log_status) override {
        if (!log_status.ok()) {
            status =
                Status(ErrorCode::kIoError, log_status.message() + " (this call ran, but may not survive a restart)");
            code = v1::OUTCOME_UNKNOWN;
        }
        Complete();
    }

    void Complete() {
        const auto micros = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
        stats->Record(shard, procedure, status.ok() && code == v1::OK, micros);
        const uint64_t id = status.ok() ? txn_id : 0;
        if (group) return group->Answer({client_handle, &status, code, id, micros}, results);
        EncodeStatus(status, response->mutable_status());
        if (code != v1::OK) response->mutable_status()->set_code(code);
        if (!status.ok()) response->clear_results();
        response->set_txn_id(id);
        response->set_server_micros(micros);
        if (done) done();
    }
};

}  // namespace surge::server
