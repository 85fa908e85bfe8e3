// Partition executors: each partition is one thread that owns one exec::Engine and runs tasks from
// a bounded queue, one at a time, to completion. Only that thread touches the engine — except
// while it is parked for a multi-partition transaction (coordinator.h), when the coordinator does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "common/status.h"
#include "exec/engine.h"
#include "txn/worker.h"

namespace surge::txn {

/// Work for a partition thread. Exactly one of Run or Reject is called, once.
class Task {
  public:
    virtual ~Task() = default;
    /// Runs on the partition thread. undo_token is the next token for engine.Begin.
    virtual void Run(exec::Engine& engine, uint64_t undo_token) = 0;
    /// The task will not run (the partition is stopping).
    virtual void Reject(const Status& why) = 0;
};

/// A Task from two functions.
class FunctionTask : public Task {
  public:
    FunctionTask(std::function<void(exec::Engine&, uint64_t)> run, std::function<void(const Status&)> reject)
        : run_(std::move(run)), reject_(std::move(reject)) {}
    void Run(exec::Engine& engine, uint64_t token) override { run_(engine, token); }
    void Reject(const Status& why) override { reject_(why); }

  private:
    std::function<void(exec::Engine&, uint64_t)> run_;
    std::function<void(const Status&)> reject_;
};

class Partition {
  public:
    Partition(uint32_t id, size_t queue_capacity);
    ~Partition();  ///< Stop()s if still running
    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;

    uint32_t id() const { return id_; }
    void Start();
    /// Stops accepting tasks, runs those already queued, and joins the thread.
    void Stop();

    /// Queues a task that runs `calls` calls (the queue's capacity counts calls).
    /// kLimitExceeded ("overloaded") when the queue is full, kTransactionState when the partition
    /// is not running; the task is then not queued and not called (and stays with the caller).
    Status Submit(std::unique_ptr<Task>&& task, size_t calls = 1);
    /// Queues a task even when the queue is full (for the coordinator's park tasks, which must not
    /// be refused once a multi-partition transaction has begun). Fails only when stopped.
    Status SubmitUrgent(std::unique_ptr<Task>&& task);

    size_t queue_depth() const { return worker_.depth(); }
    size_t queue_capacity() const { return worker_.capacity(); }
    /// The engine, for the partition thread, for the coordinator while parked, and for setup
    /// before Start().
    exec::Engine& engine() { return engine_; }
    /// The next undo token (the partition thread's, or the coordinator's while parked).
    uint64_t NextUndoToken() { return ++last_token_; }

  private:
    const uint32_t id_;
    exec::Engine engine_;
    uint64_t last_token_ = 0;
    Worker<Task> worker_;  ///< last: its thread stops before the engine goes away
};

}  // namespace surge::txn
