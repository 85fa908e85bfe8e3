// Worker: one thread running tasks from a bounded queue, in order, one at a time. The partition
// executors and the multi-partition coordinator are both workers; only what a task does differs.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/status.h"

namespace surge::txn {

/// TaskT has `void Reject(const Status&)`, called instead of running it when the worker stops
/// with the task still queued.
template <class TaskT>
class Worker {
  public:
    /// name appears in messages ("partition 3", "the coordinator"); what names the queued items
    /// ("calls").
    Worker(std::string name, std::string what, size_t capacity)
        : name_(std::move(name)), what_(std::move(what)), capacity_(capacity == 0 ? 1 : capacity) {}
    ~Worker() { Stop(); }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Starts the thread; it calls run(task) for each task.
    void Start(std::function<void(TaskT&)> run) {
        std::lock_guard<std::mutex> lock(mu_);
        if (thread_.joinable()) return;
        accepting_ = true;
        stop_ = false;
        thread_ = std::thread([this, run = std::move(run)] { Loop(run); });
    }

    /// Stops accepting tasks, runs those already queued, and joins the thread.
    void Stop() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            accepting_ = false;
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        // Nothing runs any more: anything still queued (only if the thread never started) is refused.
        std::deque<Queued> left;
        {
            std::lock_guard<std::mutex> lock(mu_);
            left.swap(queue_);
            queued_ = 0;
        }
        for (auto& q : left) q.task->Reject(Status(ErrorCode::kTransactionState, name_ + " stopped"));
    }

    /// Queues a task that carries `items` of what the queue counts (a batch of calls is one task
    /// of many items). kLimitExceeded ("overloaded") when the queue would hold more than its
    /// capacity (a task larger than the capacity fits only an empty queue), kTransactionState when
    /// not running; the task is then neither queued nor called, and stays with the caller. An
    /// urgent task skips the capacity check (for work that must not be refused once started
    /// elsewhere).
    Status Submit(std::unique_ptr<TaskT>&& task, bool urgent = false, size_t items = 1) {
        bool wake = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (!accepting_ && !(urgent && thread_.joinable() && !stop_)) {
                return Status(ErrorCode::kTransactionState, name_ + " is not running");
            }
            if (!urgent && queued_ > 0 && queued_ + items > capacity_) {
                return Status(ErrorCode::kLimitExceeded,
                              "overloaded: " + name_ + " has " + std::to_string(queued_) + " " + what_ + " queued");
            }
            // The thread waits only on an empty queue: a wakeup is needed only then.
            wake = queue_.empty() && idle_;
            queue_.push_back(Queued{std::move(task), items});
            queued_ += items;
        }
        if (wake) cv_.notify_one();
        return Status::Ok();
    }

    /// Items queued (not counting the task running).
    size_t depth() const {
        std::lock_guard<std::mutex> lock(mu_);
        return queued_;
    }
    size_t capacity() const { return capacity_; }

  private:
    struct Queued {
        std::unique_ptr<TaskT> task;
        size_t items;
    };

    void Loop(const std::function<void(TaskT&)>& run) {
        while (true) {
            std::unique_ptr<TaskT> task;
            {
                std::unique_lock<std::mutex> lock(mu_);
                if (!stop_ && queue_.empty()) {
                    idle_ = true;
                    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
                    idle_ = false;
                }
                if (queue_.empty()) return;  // stopping, and everything queued has run
                task = std::move(queue_.front().task);
                queued_ -= queue_.front().items;
                queue_.pop_front();
            }
            run(*task);
        }
    }

    const std::string name_;
    const std::string what_;
    const size_t capacity_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Queued> queue_;
    size_t queued_ = 0;  ///< items in queue_
    bool idle_ = false;  ///< the thread waits (or is about to) for a task
    bool accepting_ = false;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace surge::txn
