// Database: the running set of partitions behind the API. It resolves each invocation against the
// current catalog, routes it — single-partition procedures to their partition's queue,
// everything else (multi-partition procedures, ad-hoc SQL, schema changes) to the coordinator —
// and answers through a completion callback, on whichever thread finished the call.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
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
};

class Database {
  public:
    explicit Database(DatabaseOptions options);
    ~Database();  ///< Stop()s

    /// Runs a schema script (DDL and DML) before serving, as one ad-hoc batch per statement.
    Status LoadSchema(const std::string& sql_text);
    void Start();
    /// Stops accepting calls (they get SHUTTING_DOWN), finishes what was accepted, stops threads.
    void Stop();
    bool accepting() const { return accepting_.load(); }

    /// Runs one invocation. `response` must stay valid until `done` is called (exactly once, on
    /// any thread).
    void Invoke(const v1::Invocation& invocation, v1::Response* response, std::function<void()> done);

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
    void RunSystem(const proc::CallPlan& plan, std::shared_ptr<Call> call);
    /// Runs `plan` (a SQL, CRUD or native procedure, or pinned ad-hoc SQL) as one
    /// single-partition transaction on `partition` (commit on success).
    void SubmitSingle(uint32_t partition, std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call);
    /// What a procedure name means under the current schema (cached per thread and schema
    /// version: most calls repeat a few names).
    Result<std::shared_ptr<const proc::CallPlan>> Resolve(std::string_view name);
    /// A native procedure's call on `target` (in an open transaction), answered into `c`.
    Outcome RunNative(const proc::NativeProcedures& set, const std::string& name, proc::NativeTarget target, Call& c);
    void SubmitMulti(std::function<void(txn::MpContext&, Call&)> body, std::shared_ptr<Call> call);
    /// Applies DDL to every partition as one change (all or none), then publishes the catalog.
    Status ApplyDdl(txn::MpContext& ctx, const std::string& text);
    int64_t NextTimestamp();

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
    catalog::CatalogPtr catalog_;               ///< partition 0's catalog, as last published by DDL
    std::atomic<uint64_t> catalog_version_{0};  ///< bumped after each publication of catalog_
    std::function<void()> shutdown_handler_;
    std::once_flag shutdown_once_;
    Stats stats_;  ///< shards: one per partition, then the coordinator, then everything else
};

}  // namespace surge::server
