// Partition executor (see partition.h).
#include "txn/partition.h"

namespace surge::txn {

Partition::Partition(uint32_t id, size_t queue_capacity)
    : id_(id), worker_("partition " + std::to_string(id), "calls", queue_capacity) {}

Partition::~Partition() { Stop(); }

void Partition::Start() {
    worker_.Start([this](Task& task) { task.Run(engine_, NextUndoToken()); });
}

void Partition::Stop() { worker_.Stop(); }

Status Partition::Submit(std::unique_ptr<Task>&& task, size_t calls) {
    return worker_.Submit(std::move(task), false, calls);
}

Status Partition::SubmitUrgent(std::unique_ptr<Task>&& task) { return worker_.Submit(std::move(task), true); }

}  // namespace surge::txn
