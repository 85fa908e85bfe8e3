// Multi-partition coordinator (see coordinator.h).
#include "txn/coordinator.h"

namespace surge::txn {
namespace {

// The handshake between the coordinator and the partitions' park tasks. Shared, because a park
// task may still be returning from its wait after the coordinator has moved on.
struct ParkState {
    std::mutex mu;
    std::condition_variable cv;
    size_t parked = 0;
    size_t refused = 0;
    bool released = false;
};

class ParkTask : public Task {
  public:
    explicit ParkTask(std::shared_ptr<ParkState> s) : s_(std::move(s)) {}
    void Run(exec::Engine&, uint64_t) override {
        std::unique_lock<std::mutex> lock(s_->mu);
        ++s_->parked;
        s_->cv.notify_all();
        s_->cv.wait(lock, [&] { return s_->released; });
    }
    void Reject(const Status&) override {
        std::lock_guard<std::mutex> lock(s_->mu);
        ++s_->refused;
        s_->cv.notify_all();
    }

  private:
    std::shared_ptr<ParkState> s_;
};

}  // namespace

void MpContext::BeginAll(int64_t timestamp_micros) {
    if (open_) ThrowSqlError(ErrorCode::kTransactionState, "multi-partition transaction already open");
    tokens_.clear();
    committed_writes_ = false;
    for (Partition* p : partitions_) {
        uint64_t token = p->NextUndoToken();
        p->engine().SetTimestamp(timestamp_micros);
        Status s = p->engine().Begin(token);
        if (!s.ok()) {
            for (size_t i = 0; i < tokens_.size(); ++i) (void)partitions_[i]->engine().Rollback(tokens_[i]);
            tokens_.clear();
            ThrowSqlError(ErrorCode::kInternal, "partition " + std::to_string(p->id()) + ": " + s.ToString());
        }
        tokens_.push_back(token);
    }
    open_ = true;
}

void MpContext::CommitAll() {
    if (!open_) return;
    committed_writes_ = false;
    for (Partition* p : partitions_) committed_writes_ = committed_writes_ || p->engine().transaction_wrote();
    for (size_t i = 0; i < partitions_.size(); ++i) (void)partitions_[i]->engine().Commit(tokens_[i]);
    open_ = false;
}

void MpContext::RollbackAll() {
    if (!open_) return;
    for (size_t i = 0; i < partitions_.size(); ++i) (void)partitions_[i]->engine().Rollback(tokens_[i]);
    open_ = false;
}

Status MpContext::ExecuteTransaction(int64_t timestamp_micros, std::string_view sql, std::span<const Value> params,
                                     exec::ResultSet* out) {
    BeginAll(timestamp_micros);
    Status st = span_->Execute(sql, out, params);
    if (st.ok()) {
        CommitAll();
    } else {
        RollbackAll();
    }
    return st;
}

Coordinator::Coordinator(std::vector<Partition*> partitions, const exec::PartitionRouter* router, size_t queue_capacity)
    : partitions_(std::move(partitions)), worker_("the coordinator", "multi-partition transactions", queue_capacity) {
    std::vector<exec::Engine*> engines;
    for (Partition* p : partitions_) engines.push_back(&p->engine());
    span_ = std::make_unique<exec::SpanningExecutor>(engines, router);
}

Coordinator::~Coordinator() { Stop(); }

void Coordinator::Start() {
    worker_.Start([this](MpTask& task) { RunOne(task); });
}

void Coordinator::Stop() { worker_.Stop(); }

Status Coordinator::Submit(std::unique_ptr<MpTask> task, bool urgent) {
    return worker_.Submit(std::move(task), urgent);
}

void Coordinator::RunOne(MpTask& task) {
    auto state = std::make_shared<ParkState>();
    size_t submitted = 0;
    Status failure;
    for (Partition* p : partitions_) {
        Status s = p->SubmitUrgent(std::make_unique<ParkTask>(state));
        if (!s.ok()) {
            failure = s;
            break;
        }
        ++submitted;
    }
    {
        std::unique_lock<std::mutex> lock(state->mu);
        state->cv.wait(lock, [&] { return state->parked + state->refused == submitted; });
        if (failure.ok() && state->refused > 0) {
            failure = Status(ErrorCode::kTransactionState, "a partition stopped before the transaction could run");
        }
    }
    if (failure.ok()) {
        MpContext ctx(partitions_, span_.get());
        try {
            task.Run(ctx);
        } catch (const SqlError& e) {
            // MpTask implementations report their own errors; this is a last line of defence so a
            // bug cannot leave partitions parked or a transaction open.
            ctx.RollbackAll();
            task.Reject(e.status());
        }
        ctx.RollbackAll();  // no-op unless Run left it open
    } else {
        task.Reject(failure);
    }
    {
        std::lock_guard<std::mutex> lock(state->mu);
        state->released = true;
    }
    state->cv.notify_all();
}

}  // namespace surge::txn
