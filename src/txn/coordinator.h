// The multi-partition coordinator: runs multi-partition (MP) transactions one at a time. For each,
// it parks every partition (a park task in each queue; the partition thread blocks in it), then
// runs the transaction on its own thread directly against the partitions' engines, then releases
// them. See docs/adr/0005-partitioned-transactions.md.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "exec/engine.h"
#include "txn/partition.h"
#include "txn/worker.h"

namespace surge::txn {

/// What an MP transaction sees while every partition is parked.
class MpContext {
  public:
    MpContext(std::vector<Partition*> partitions, exec::SpanningExecutor* span)
        : partitions_(std::move(partitions)), span_(span) {}

    size_t partition_count() const { return partitions_.size(); }
    exec::Engine& engine(size_t i) { return partitions_[i]->engine(); }
    /// Multi-partition statements (needs BeginAll first).
    exec::SpanningExecutor& span() { return *span_; }

    /// Opens a transaction on every partition (each with its own next undo token), with the
    /// transaction's timestamp.
    void BeginAll(int64_t timestamp_micros);
    void CommitAll();
    void RollbackAll();
    bool in_transaction() const { return open_; }
    /// True when the last CommitAll committed a change on some partition (for the command log).
    bool committed_writes() const { return committed_writes_; }
    /// One multi-partition transaction of `sql` (one or more statements): BeginAll, run, then
    /// CommitAll on success or RollbackAll on failure. out receives the last statement's result.
    Status ExecuteTransaction(int64_t timestamp_micros, std::string_view sql, std::span<const Value> params,
                              exec::ResultSet* out);

  private:
    std::vector<Partition*> partitions_;
    exec::SpanningExecutor* span_;
    std::vector<uint64_t> tokens_;
    bool open_ = false;
    bool committed_writes_ = false;
};

/// An MP transaction. Exactly one of Run or Reject is called, once. If Run leaves a transaction
/// open (BeginAll without CommitAll/RollbackAll), the coordinator rolls it back.
class MpTask {
  public:
    virtual ~MpTask() = default;
    virtual void Run(MpContext& ctx) = 0;
    virtual void Reject(const Status& why) = 0;
};

class MpFunctionTask : public MpTask {
  public:
    MpFunctionTask(std::function<void(MpContext&)> run, std::function<void(const Status&)> reject)
        : run_(std::move(run)), reject_(std::move(reject)) {}
    void Run(MpContext& ctx) override { run_(ctx); }
    void Reject(const Status& why) override { reject_(why); }

  private:
    std::function<void(MpContext&)> run_;
    std::function<void(const Status&)> reject_;
};

class Coordinator {
  public:
    Coordinator(std::vector<Partition*> partitions, const exec::PartitionRouter* router, size_t queue_capacity);
    ~Coordinator();
    Coordinator(const Coordinator&) = delete;
    Coordinator& operator=(const Coordinator&) = delete;

    void Start();
    /// Stops accepting, runs what is queued, joins. Call before stopping the partitions.
    void Stop();
    /// kLimitExceeded ("overloaded") when the queue is full; kTransactionState when stopped. An
    /// urgent task skips the capacity check (recovery, which bounds what it has in flight).
    Status Submit(std::unique_ptr<MpTask> task, bool urgent = false);
    size_t queue_depth() const { return worker_.depth(); }

  private:
    void RunOne(MpTask& task);

    std::vector<Partition*> partitions_;
    std::unique_ptr<exec::SpanningExecutor> span_;
    Worker<MpTask> worker_;  ///< last: its thread stops before the executor goes away
};

}  // namespace surge::txn
