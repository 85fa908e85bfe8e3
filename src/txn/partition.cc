// Partition executor loop (see partition.h).
#include "txn/partition.h"

namespace surge::txn {

Partition::Partition(uint32_t id, size_t queue_capacity)
    : id_(id), capacity_(queue_capacity == 0 ? 1 : queue_capacity) {}

Partition::~Partition() { Stop(); }

void Partition::Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return;
    accepting_ = true;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
}

void Partition::Stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        accepting_ = false;
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    // Nothing runs any more: anything still queued (only if the thread never started) is refused.
    std::deque<std::unique_ptr<Task>> left;
    {
        std::lock_guard<std::mutex> lock(mu_);
        left.swap(queue_);
    }
    for (auto& t : left)
        t->Reject(Status(ErrorCode::kTransactionState, "partition " + std::to_string(id_) + " stopped"));
}

Status Partition::Submit(std::unique_ptr<Task> task) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!accepting_) {
            return Status(ErrorCode::kTransactionState, "partition " + std::to_string(id_) + " is not running");
        }
        if (queue_.size() >= capacity_) {
            return Status(ErrorCode::kLimitExceeded, "overloaded: partition " + std::to_string(id_) + " has " +
                                                         std::to_string(queue_.size()) + " calls queued");
        }
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return Status::Ok();
}

Status Partition::SubmitUrgent(std::unique_ptr<Task> task) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!thread_.joinable() || stop_) {
            return Status(ErrorCode::kTransactionState, "partition " + std::to_string(id_) + " is not running");
        }
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return Status::Ok();
}

size_t Partition::queue_depth() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
}

void Partition::Loop() {
    while (true) {
        std::unique_ptr<Task> task;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued has run
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task->Run(engine_, NextUndoToken());
    }
}

}  // namespace surge::txn
