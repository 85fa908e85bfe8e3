// Invocation routing and the system procedures (see database.h).
#include "server/database.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>

#include <absl/container/flat_hash_map.h>

#include "server/adhoc_route.h"
#include "server/convert.h"
#include "server/database_call.h"
#include "sql/parser.h"
#include "storage/table.h"

namespace surge::server {

namespace {

Status Dropped(const std::string& procedure) {
    return Status(ErrorCode::kUndefinedFunction,
                  "procedure \"" + procedure + "\" was dropped or redefined before this call ran; call it again");
}

// Whether a call runs a transaction (and so meets the command log): every procedure but the
// system ones, of which only @AdHoc (SQL) and @SnapshotRestore (loads rows) change the data.
bool IsTransaction(const proc::CallPlan& plan) {
    return plan.kind != proc::CallPlan::Kind::kSystem || plan.name == "@AdHoc" || plan.name == "@SnapshotRestore" ||
           plan.name == "@TtlDelete";
}

// @TtlDelete's answer: how many rows it deleted and how many it sent to a MIGRATE target.
exec::ResultSet ExpiredRows(const exec::Engine::Expired& e) {
    exec::ResultSet rs;
    rs.columns.push_back({"deleted", SqlType::Of(TypeId::kBigInt)});
    rs.columns.push_back({"migrated", SqlType::Of(TypeId::kBigInt)});
    rs.values.push_back(Value::BigInt(static_cast<int64_t>(e.deleted)));
    rs.values.push_back(Value::BigInt(static_cast<int64_t>(e.migrated)));
    return rs;
}

// @TtlDelete's optional third parameter: the newest migrated row its target acknowledged.
uint64_t MigratedAcked(const std::vector<Value>& params) {
    return params.size() > 2 ? static_cast<uint64_t>(params[2].AsInt()) : 0;
}

// @TtlDelete's fourth parameter: the rows a first run chose (exec::Engine::DeleteExpired), which a
// replay applies. Absent or empty: choose now, and add the choice to the call's parameters, so
// that the command log records it.
std::string TtlDecision(const std::vector<Value>& params) {
    return params.size() > 3 ? std::string(params[3].AsString()) : std::string();
}
void RecordTtlDecision(std::vector<Value>* params, const std::string& decision) {
    if (params->size() > 3) return;
    if (params->size() < 3) params->push_back(Value::BigInt(0));
    params->push_back(Value::Varbinary(decision));
}

// A queue refusal (full or stopping) as the client sees it.
// Calls of one partition handed over as one task, at most: recovery's replayed calls, a stream
// read's calls (more go as further tasks).
constexpr size_t kBatchCalls = 256;

v1::StatusCode RefusalCode(const Status& s) {
    return s.code() == ErrorCode::kLimitExceeded ? v1::OVERLOADED : v1::SHUTTING_DOWN;
}

exec::ResultSet PlanTable(const std::string& text) {
    exec::ResultSet rs;
    rs.columns.push_back({"plan", SqlType{TypeId::kVarchar, kDefaultVarLength}});
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        rs.values.push_back(Value::Varchar(std::string_view(text).substr(start, nl - start)));
        start = nl + 1;
    }
    return rs;
}

}  // namespace

// One single-partition call: runs its procedure in a transaction of its own on the partition.
class Database::CallTask final : public txn::Task {
  public:
    /// A task that owns its plan.
    CallTask(Database* db, uint32_t partition, std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call)
        : db_(db), partition_(partition), plan_(plan.get()), owner_(std::move(plan)), call_(std::move(call)) {}
    /// A task whose plan its holder keeps alive (a BatchTask holds its calls' plans).
    CallTask(Database* db, uint32_t partition, const proc::CallPlan* plan, std::shared_ptr<Call> call)
        : db_(db), partition_(partition), plan_(plan), call_(std::move(call)) {}

    void Run(exec::Engine& engine, uint64_t token) override {
        Call& c = *call_;
        if (c.Expired()) return;
        engine.SetTimestamp(c.timestamp);
        engine.SetTransactionId(c.txn_id);
        Outcome o{engine.Begin(token)};
        if (o.status.ok()) o = Body(engine);
        if (o.status.ok()) {
            c.wrote = engine.transaction_wrote();
            o.status = engine.Commit(token);
        } else if (engine.in_transaction()) {
            (void)engine.Rollback(token);
        }
        c.Finish(o.status, o.code);
    }
    void Reject(const Status& why) override { call_->Finish(why, v1::SHUTTING_DOWN); }
    Call& call() { return *call_; }

  private:
    Outcome Body(exec::Engine& engine) {
        const proc::CallPlan& plan = *plan_;
        Call& c = *call_;
        if (plan.name == "@TtlDelete") {
            std::string decision = TtlDecision(c.params);
            auto n = engine.DeleteExpired(c.params[0].AsString(), MigratedAcked(c.params), &decision);
            if (!n.ok())
                return {n.status(), n.status().code() == ErrorCode::kInvalidParameter ? v1::INVALID_PARAMETER : v1::OK};
            RecordTtlDecision(&c.params, decision);
            c.AddResult(ExpiredRows(*n));
            return {Status::Ok()};
        }
        if (plan.kind == proc::CallPlan::Kind::kNative) {
            return db_->RunNative(*db_->natives_[partition_], plan.name, proc::NativeTarget{&engine, nullptr}, c);
        }
        if (plan.defined && !proc::StillDefined(*engine.catalog(), plan)) {
            return {Dropped(plan.name), v1::UNKNOWN_PROCEDURE};
        }
        exec::ResultSet rs;
        Status st = engine.Execute(plan.sql, &rs, c.args());
        if (st.ok()) c.AddResult(rs);
        return {st};
    }

    Database* db_;
    uint32_t partition_;
    const proc::CallPlan* plan_;
    std::shared_ptr<const proc::CallPlan> owner_;  // empty when the holder keeps the plan
    std::shared_ptr<Call> call_;
};

// Many calls of one partition as one task (one queue handoff and wakeup for the lot): a
// stream's read, or recovery's replayed calls. Each call is still its own transaction with its
// own undo token.
class Database::BatchTask final : public txn::Task {
  public:
    explicit BatchTask(txn::Partition* partition, size_t expected) : partition_(partition) { calls_.reserve(expected); }
    /// Adds a call of `plan`. The task holds one reference per distinct plan, not one per call:
    /// calls are added on a gRPC thread and destroyed on the partition's, and a per-call count
    /// on a plan shared by every call would move its cache line between the two each time.
    void Add(Database* db, uint32_t partition, const std::shared_ptr<const proc::CallPlan>& plan,
             std::shared_ptr<Call> call) {
        if (plans_.empty() || plans_.back() != plan) plans_.push_back(plan);
        calls_.emplace_back(db, partition, plan.get(), std::move(call));
    }
    size_t size() const { return calls_.size(); }
    /// Transaction ids and timestamps from the given first ones, in order.
    void Stamp(uint64_t txn_id, int64_t timestamp) {
        for (auto& c : calls_) {
            c.call().txn_id = txn_id++;
            c.call().timestamp = timestamp++;
        }
    }
    void Run(exec::Engine& engine, uint64_t token) override {
        // The calls' command-log records are appended together after the last has run; their
        // exports are published and their answers given after that.
        thread_local LogDeferral deferral;
        deferral.calls.clear();
        deferral.records.clear();
        for (size_t i = 0; i < calls_.size(); ++i) {
            Call& c = calls_[i].call();
            if (c.log) c.deferral = &deferral;
            calls_[i].Run(engine, i == 0 ? token : partition_->NextUndoToken());
            c.deferral = nullptr;
        }
        if (deferral.calls.empty()) return;
        const Result<uint64_t> first = deferral.calls[0]->log->AppendAll(deferral.records);
        uint64_t next = first.ok() ? *first : 0;
        bool published = false;
        for (Call* c : deferral.calls) {
            if (!c->Committed()) {
                c->Logged(uint64_t{0});
                continue;
            }
            if (!published) {
                c->PublishExports();  // the partition's rows of every committed call
                published = true;
            }
            c->Logged(first.ok() ? Result<uint64_t>(next++) : Result<uint64_t>(first.status()));
        }
    }
    void Reject(const Status& why) override {
        for (auto& c : calls_) c.Reject(why);
    }
    /// The partition's queue refused the task: every call answers why.
    void Refuse(const Status& why) {
        for (auto& c : calls_) c.call().Finish(why, RefusalCode(why));
    }

  private:
    txn::Partition* partition_;
    std::vector<std::shared_ptr<const proc::CallPlan>> plans_;  // the calls' plans (before them: outlive them)
    std::vector<CallTask> calls_;
};

Database::Database(DatabaseOptions options)
    : options_(options),
      router_(options.partitions == 0 ? 1 : options.partitions),
      stats_(router_.partition_count() + 2) {
    const uint32_t n = router_.partition_count();
    std::vector<txn::Partition*> ptrs;
    for (uint32_t i = 0; i < n; ++i) {
        partitions_.push_back(std::make_unique<txn::Partition>(i, options_.queue_capacity));
        partitions_.back()->engine().SetPartition(i, &router_);
        captures_.push_back(std::make_unique<exec::ExportCapture>(i));
        // Export needs a data directory to spool in; without one nothing is captured, and
        // EXPORT TO TARGET is refused (no target is configured).
        if (!options_.data_dir.empty()) partitions_.back()->engine().SetExportCapture(captures_.back().get());
        ptrs.push_back(partitions_.back().get());
    }
    coordinator_ = std::make_unique<txn::Coordinator>(ptrs, &router_, options_.mp_queue_capacity);
    for (uint32_t i = 0; i <= n; ++i) natives_.push_back(std::make_unique<proc::NativeProcedures>());
    catalog_ = partitions_[0]->engine().catalog();
}

Database::~Database() { Stop(); }

catalog::CatalogPtr Database::catalog() const {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    return catalog_;
}

Status Database::Start(RecoveryInfo* info) {
    if (started_.exchange(true)) return Status::Ok();
    for (auto& p : partitions_) p->Start();
    coordinator_->Start();
    RecoveryInfo local;
    Status s = Recover(info ? info : &local);
    if (!s.ok()) {
        Stop();
        return s;
    }
    // Export: recovery is done, so from now on the disk budget holds, CREATE ... EXPORT TO TARGET
    // must name a configured target, and the targets deliver.
    auto targets = std::make_shared<std::vector<std::string>>();
    if (exports_) *targets = exports_->TargetNames();
    for (auto& p : partitions_) p->engine().SetExportTargets(targets);
    for (auto& c : captures_) c->EnforceBudget(true);
    if (exports_) exports_->StartTargets();
    accepting_ = true;
    last_snapshot_micros_ =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    timer_stop_ = false;
    if (!options_.data_dir.empty() &&
        (options_.snapshot_interval.count() > 0 || (log_ && options_.snapshot_log_bytes > 0))) {
        snapshot_timer_ = std::thread([this] { SnapshotTimerLoop(); });
    }
    if (options_.ttl_interval.count() > 0) ttl_timer_ = std::thread([this] { TtlTimerLoop(); });
    return Status::Ok();
}

void Database::Stop() {
    accepting_ = false;
    if (!started_.exchange(false)) return;
    {
        std::lock_guard<std::mutex> lock(timer_mu_);
        timer_stop_ = true;
    }
    timer_cv_.notify_all();
    if (snapshot_timer_.joinable()) snapshot_timer_.join();
    if (ttl_timer_.joinable()) ttl_timer_.join();
    coordinator_->Stop();
    for (auto& p : partitions_) p->Stop();
    // Every accepted call has run and appended its record: write, fsync, answer the waiters.
    if (log_) {
        Status s = log_->Close();
        if (s.ok()) spdlog::info("command log closed at LSN {}", log_->last_lsn());
    }
    // Spools what the partitions published; each target acknowledges what it delivered.
    if (exports_) exports_->Stop();
    // A snapshot whose MANIFEST is being written completes; one still scanning is abandoned.
    std::shared_ptr<SnapshotRun> run;
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        run = snapshot_run_;
    }
    if (run)
        FailSnapshot(run, Status(ErrorCode::kTransactionState, "the server stopped before the snapshot was complete"));
    std::vector<std::thread> admin;
    {
        std::lock_guard<std::mutex> lock(admin_mu_);
        admin.swap(admin_threads_);
        admin_done_.clear();
    }
    for (auto& t : admin) t.join();
}

int64_t Database::NextTimestamps(size_t n) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    int64_t last = last_timestamp_.load();
    int64_t next;
    do {
        next = std::max(now, last + 1);
    } while (!last_timestamp_.compare_exchange_weak(last, next + static_cast<int64_t>(n) - 1));
    return next;
}

std::shared_ptr<Database::Call> Database::NewCall(std::string procedure, std::chrono::steady_clock::time_point start) {
    auto call = std::make_shared<Call>();
    call->stats = &stats_;
    call->procedure = std::move(procedure);
    call->shard = call->late_shard = partitions_.size() + 1;
    call->start = start;
    call->log = log_.get();
    call->captures = exports_ ? &captures_ : nullptr;
    return call;
}

std::shared_ptr<Database::Call> Database::NewCall(std::string procedure, v1::Response* response,
                                                  std::function<void()> done) {
    auto call = NewCall(std::move(procedure));
    if (!response) {
        call->own_response = std::make_unique<v1::Response>();
        response = call->own_response.get();
    }
    call->response = response;
    call->done = std::move(done);
    return call;
}

std::shared_ptr<Database::Call> Database::NewCall(std::string procedure, ResponseGroup* group) {
    auto call = NewCall(std::move(procedure));
    call->group = group;
    group->Add();
    return call;
}

Status Database::CallAndWait(const std::string& procedure, std::vector<Value> params) {
    std::promise<void> finished;
    auto call = NewCall(procedure, nullptr, [&finished] { finished.set_value(); });
    call->params = std::move(params);
    auto plan = Resolve(procedure);
    if (!plan.ok()) return plan.status();
    Dispatch(std::move(*plan), call);
    finished.get_future().wait();
    const v1::Status& st = call->response->status();
    if (st.code() == v1::OK) return Status::Ok();
    return call->status.ok() ? Status(ErrorCode::kInternal, st.message()) : call->status;
}

Status Database::LoadSchema(const std::string& sql_text) {
    sql::ParseResult parsed;
    try {
        parsed = sql::Parse(sql_text);
    } catch (const SqlError& e) {
        return e.status();
    }
    for (const sql::Statement* stmt : parsed.statements) {
        std::vector<Value> params{Value::Varchar(stmt->text)};
        Status s = CallAndWait("@AdHoc", std::move(params));
        if (!s.ok()) {
            return Status(s.code(), "schema statement at line " + std::to_string(stmt->pos.line) + ": " + s.message());
        }
    }
    return Status::Ok();
}

Status Database::Recover(RecoveryInfo* info) {
    *info = RecoveryInfo{};
    if (options_.data_dir.empty()) return Status::Ok();
    auto lock = durability::DirLock::Acquire(options_.data_dir);
    if (!lock.ok()) return lock.status();
    dir_lock_ = std::move(*lock);
    const std::string log_dir = options_.data_dir + "/cmdlog";
    const auto t0 = std::chrono::steady_clock::now();
    Status exported = OpenExport();
    if (!exported.ok()) return exported;
    if (options_.log_mode == durability::LogMode::kOff) {
        std::error_code ec;
        if (std::filesystem::exists(log_dir, ec) && !std::filesystem::is_empty(log_dir, ec)) {
            return Status(ErrorCode::kInvalidParameter,
                          "the data directory " + options_.data_dir +
                              " holds a command log; with the command log off it would be neither replayed "
                              "nor kept current. Start with --command-log async or sync, or use another "
                              "--data-dir");
        }
        spdlog::warn("command log off: only what snapshots hold survives a restart");
        uint64_t after_lsn = 0;
        Status loaded = RecoverSnapshot(info, &after_lsn);
        if (!loaded.ok()) return loaded;
        return RestoreExportSequences(false);
    }
    // The newest valid snapshot first, then the log after its cut.
    uint64_t after_lsn = 0;
    Status loaded = RecoverSnapshot(info, &after_lsn);
    if (!loaded.ok()) return loaded;
    {
        std::error_code ec;
        const bool replaying = std::filesystem::exists(log_dir, ec) && !std::filesystem::is_empty(log_dir, ec);
        Status seqs = RestoreExportSequences(replaying);
        if (!seqs.ok()) return seqs;
    }

    // Replay. Single-partition records go to their partition's queue (partitions replay in
    // parallel); a multi-partition record is a barrier: everything before it finishes first, and
    // it finishes before anything after it starts.
    struct Replay {
        std::mutex mu;  ///< guards failure, and the waits on cv
        std::condition_variable cv;
        std::atomic<size_t> in_flight{0};  ///< no lock per call: the partitions finish them concurrently
        Status failure;
    } replay;
    constexpr size_t kMaxInFlight = 16384;
    replay_batches_.clear();
    replay_batches_.resize(partitions_.size());
    // Waits (after handing every batched call to its partition) until fewer than n calls are in
    // flight; above the in-flight bound it waits for half of them, not for one.
    auto wait_below = [&](size_t n) {
        FlushReplayBatches();
        std::unique_lock<std::mutex> lock(replay.mu);
        if (replay.in_flight >= n) {
            const size_t target = n == 1 ? 1 : n / 2;
            replay.cv.wait(lock, [&] { return replay.in_flight < target || !replay.failure.ok(); });
        }
        return replay.failure;
    };
    size_t dispatched = 0;  // since the last look at the in-flight count (no lock per record)
    uint64_t max_txn = 0;
    int64_t max_ts = 0;
    uint64_t replayed = 0;
    auto last_report = t0;
    durability::LogScanInfo scan;
    Status s = durability::ReadLog(
        log_dir, after_lsn, partition_count(),
        [&](durability::ReadRecord&& rec) -> Status {
            const bool multi = rec.partition == durability::kMultiPartition;
            if (multi || ++dispatched >= kMaxInFlight / 4) {
                dispatched = 0;
                Status w = wait_below(multi ? 1 : kMaxInFlight);
                if (!w.ok()) return w;
            }
            if (!multi && rec.partition >= partition_count()) {
                return Status(ErrorCode::kIoError, "recovery: LSN " + std::to_string(rec.lsn) + " ran on partition " +
                                                       std::to_string(rec.partition) + ", which does not exist");
            }
            max_txn = std::max(max_txn, rec.txn_id);
            max_ts = std::max(max_ts, rec.timestamp);
            auto plan = Resolve(rec.procedure);
            if (!plan.ok()) {
                return Status(plan.status().code(),
                              "recovery: LSN " + std::to_string(rec.lsn) + " calls " + rec.procedure +
                                  ", which the replayed schema lacks: " + plan.status().message());
            }
            auto call = NewCall(rec.procedure, nullptr, nullptr);
            Call* raw = call.get();
            call->done = [&replay, raw, lsn = rec.lsn] {
                const v1::Status& st = raw->response->status();
                const bool failed = st.code() != v1::OK;
                if (failed) {
                    std::lock_guard<std::mutex> lock(replay.mu);
                    if (replay.failure.ok()) {
                        replay.failure =
                            Status(ErrorCode::kInternal,
                                   "recovery: LSN " + std::to_string(lsn) + " (transaction " +
                                       std::to_string(raw->txn_id) + ", " + raw->procedure +
                                       ") committed before the restart but fails on replay (" + st.message() +
                                       "); the command log does not reproduce the database, so the "
                                       "start stops here");
                    }
                }
                // Wake the replay thread only at the levels it waits for (under the lock, so that a
                // waiter between its check and its wait cannot miss it).
                const size_t left = replay.in_flight.fetch_sub(1, std::memory_order_acq_rel) - 1;
                if (left == 0 || left % 1024 == 0 || failed) {
                    std::lock_guard<std::mutex> lock(replay.mu);
                    replay.cv.notify_all();
                }
            };
            call->discard_results = true;  // nobody reads a replayed call's rows
            call->replayed = true;
            call->txn_id = rec.txn_id;
            call->timestamp = rec.timestamp;
            call->params = std::move(rec.params);
            if (!multi) call->replay_partition = rec.partition;
            replay.in_flight.fetch_add(1, std::memory_order_relaxed);
            Dispatch(std::move(*plan), std::move(call));
            ++replayed;
            if (multi) {
                Status w = wait_below(1);
                if (!w.ok()) return w;
            } else if (replay_batches_[rec.partition] && replay_batches_[rec.partition]->size() >= kBatchCalls) {
                FlushReplayBatches();
            }
            const auto now = std::chrono::steady_clock::now();
            if (now - last_report >= std::chrono::seconds(1)) {
                last_report = now;
                spdlog::info("recovery: {} transactions replayed (LSN {})", replayed, rec.lsn);
            }
            return Status::Ok();
        },
        &scan);
    FlushReplayBatches();
    {
        // Every replayed call has finished (even after a failure: they refer to `replay`).
        std::unique_lock<std::mutex> lock(replay.mu);
        replay.cv.wait(lock, [&] { return replay.in_flight == 0; });
        if (s.ok()) s = replay.failure;
    }
    if (!s.ok()) {
        if (info->skipped_snapshots.empty()) return s;
        std::string skipped;
        for (const auto& k : info->skipped_snapshots) skipped += (skipped.empty() ? "" : "; ") + k;
        return Status(s.code(), s.message() + " (snapshots that could not be used: " + skipped + ")");
    }
    if (max_txn >= next_txn_id_.load()) next_txn_id_ = max_txn + 1;
    if (max_ts > last_timestamp_.load()) last_timestamp_ = max_ts;
    info->replayed = replayed;
    // A snapshot's cut may be past the log's last record (the segments before it were removed).
    const uint64_t last_lsn = std::max(scan.last_lsn, after_lsn);
    info->last_lsn = last_lsn;
    info->segments = scan.segments;
    info->torn_tail = scan.torn_tail;
    if (!scan.torn_tail.empty()) spdlog::warn("recovery: {}", scan.torn_tail);
    Status opened = OpenCommandLog(log_dir, last_lsn + 1);
    if (!opened.ok()) return opened;
    info->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return Status::Ok();
}

Status Database::OpenCommandLog(const std::string& log_dir, uint64_t next_lsn) {
    durability::CommandLogOptions lo;
    lo.dir = log_dir;
    lo.mode = options_.log_mode;
    lo.interval = options_.log_interval.count() > 0                 ? options_.log_interval
                  : options_.log_mode == durability::LogMode::kSync ? std::chrono::microseconds(2000)
                                                                    : std::chrono::microseconds(200'000);
    lo.segment_bytes = options_.log_segment_bytes;
    lo.max_pending_bytes = options_.log_max_pending_bytes;
    lo.partition_count = partition_count();
    lo.on_failure = [this](const Status& why) {
        log_failed_ = true;
        spdlog::critical(
            "{} -- every transaction is refused from now on; fix the disk and restart surged "
            "(recovery replays what the log holds)",
            why.message());
    };
    auto log = durability::CommandLog::Open(std::move(lo), next_lsn);
    if (!log.ok()) return log.status();
    log_ = std::move(*log);
    log_ptr_.store(log_.get(), std::memory_order_release);
    return Status::Ok();
}

Status Database::OpenExport() {
    exports::ExportOptions eo;
    eo.dir = options_.data_dir + "/export";
    eo.partitions = partition_count();
    eo.targets = options_.export_targets;
    eo.disk_budget_bytes = options_.export_disk_budget_bytes;
    // A segment is released only once all its rows are acknowledged: keep segments small beside
    // the budget, so that acknowledged rows free their space soon.
    eo.segment_bytes =
        std::clamp<uint64_t>(options_.export_disk_budget_bytes / 8, uint64_t{1} << 20, uint64_t{64} << 20);
    // Without a log (off, or recovery's replay before it opens) every row is as durable as it
    // gets at once.
    eo.last_lsn = [this] {
        durability::CommandLog* log = log_ptr_.load(std::memory_order_acquire);
        return log ? log->last_lsn() : 0;
    };
    eo.durable_lsn = [this] {
        durability::CommandLog* log = log_ptr_.load(std::memory_order_acquire);
        return log ? log->durable_lsn() : UINT64_MAX;
    };
    std::vector<exec::ExportCapture*> captures;
    for (auto& c : captures_) captures.push_back(c.get());
    auto m = exports::ExportManager::Open(std::move(eo), std::move(captures));
    if (!m.ok()) return m.status();
    exports_ = std::move(*m);
    exports_->StartWriter();
    return Status::Ok();
}

Status Database::RestoreExportSequences(bool replaying) {
    if (!exports_) return Status::Ok();
    std::map<std::string, std::vector<uint64_t>> cut;
    for (const auto& e : snapshot_export_sequences_) {
        auto& v = cut[e.stream];
        v.resize(partition_count());
        if (e.partition < v.size()) v[e.partition] = e.seq;
    }
    auto positions = exports_->Positions();
    for (const auto& [stream, parts] : positions) cut[stream].resize(partition_count());
    for (auto& [stream, seqs] : cut) {
        auto pos = positions.find(stream);
        for (uint32_t p = 0; p < partition_count(); ++p) {
            uint64_t seq = seqs[p];
            if (replaying) {
                Status s = exports_->TruncateAfter(stream, p, seq);
                if (!s.ok()) return s;
            } else if (pos != positions.end() && p < pos->second.size()) {
                seq = std::max({seq, pos->second[p].spooled, pos->second[p].acked});
            }
            // Before any task runs on the partition (its queue hands this over).
            if (seq > 0) captures_[p]->SetSequence(stream, seq);
        }
    }
    return Status::Ok();
}

Status Database::ApplyDdl(txn::MpContext& ctx, const std::string& text) {
    // A running snapshot's scans finish first: the tables they read may be dropped or replaced.
    CompleteSnapshotScans();
    const size_t n = ctx.partition_count();
    if (n > 1) {
        // A replicated table's rows are on every partition; partitioning it would have to move
        // them. Only empty tables may be partitioned.
        try {
            sql::ParseResult parsed = sql::Parse(text);
            for (const sql::Statement* stmt : parsed.statements) {
                if (stmt->kind != sql::StmtKind::kPartitionTable) continue;
                const auto& ps = static_cast<const sql::PartitionTableStatement&>(*stmt);
                storage::Table* t = ctx.engine(0).FindTable(ps.table);
                if (t && t->row_count() > 0) {
                    return Status(ErrorCode::kInvalidDefinition, "PARTITION TABLE " + ps.table + ": the table holds " +
                                                                     std::to_string(t->row_count()) +
                                                                     " rows; only an empty table can be partitioned");
                }
            }
        } catch (const SqlError& e) {
            return e.status();
        }
    }
    for (size_t i = 0; i < n; ++i) ctx.engine(i).BeginHeldDdl();
    Status failure;
    for (size_t i = 0; i < n && failure.ok(); ++i) {
        exec::ResultSet rs;
        failure = ctx.engine(i).Execute(text, &rs);
        if (!failure.ok() && n > 1) {
            failure = Status(failure.code(), failure.message() + " (on partition " + std::to_string(i) + ")");
        }
    }
    // Native procedures the new schema calls for: loaded, initialized and planned on every
    // partition and the coordinator before the change is kept.
    std::vector<proc::NativeProcedures::Set> staged;
    for (size_t i = 0; i <= n && failure.ok(); ++i) {
        const bool coordinator = i == n;
        proc::NativeTarget target;
        if (coordinator) {
            target.span = &ctx.span();
        } else {
            target.engine = &ctx.engine(i);
        }
        auto set = natives_[i]->Stage(*ctx.engine(coordinator ? 0 : i).catalog(), target);
        if (set.ok()) {
            staged.push_back(std::move(*set));
        } else {
            failure = set.status();
        }
    }
    if (failure.ok()) {
        for (size_t i = 0; i <= n; ++i) natives_[i]->Commit(std::move(staged[i]));
        for (size_t i = 0; i < n; ++i) ctx.engine(i).EndHeldDdl();
        ddl_history_.push_back(text);
    } else {
        uint64_t version = 0;
        for (size_t i = 0; i < n; ++i) version = std::max(version, ctx.engine(i).catalog()->version());
        for (size_t i = 0; i < n; ++i) ctx.engine(i).RevertHeldDdl(version + 1);
    }
    {
        std::lock_guard<std::mutex> lock(catalog_mu_);
        catalog_ = ctx.engine(0).catalog();
    }
    catalog_version_.fetch_add(1, std::memory_order_release);
    return failure;
}

void Database::Invoke(const v1::Invocation& invocation, v1::Response* response, std::function<void()> done) {
    AdmitAndDispatch(invocation, NewCall(invocation.procedure(), response, std::move(done)));
}

void Database::InvokeInto(const v1::Invocation& invocation, ResponseGroup* group) {
    AdmitAndDispatch(invocation, NewCall(invocation.procedure(), group));
}

void Database::AdmitAndDispatch(const v1::Invocation& invocation, std::shared_ptr<Call> call) {
    auto plan = Admit(invocation, *call);
    if (plan) Dispatch(std::move(plan), std::move(call));
}

std::shared_ptr<const proc::CallPlan> Database::Admit(const v1::Invocation& invocation, Call& call) {
    call.Tag(invocation);
    if (!accepting_) {
        call.Finish(Status(ErrorCode::kTransactionState, "the server is shutting down"), v1::SHUTTING_DOWN);
        return nullptr;
    }
    Status s = DecodeParams(invocation.params(), &call.params);
    if (!s.ok()) {
        call.Finish(s, v1::INVALID_PARAMETER);
        return nullptr;
    }
    auto resolved = Resolve(invocation.procedure());
    if (!resolved.ok()) {
        call.Finish(resolved.status(),
                    resolved.status().code() == ErrorCode::kUndefinedFunction ? v1::UNKNOWN_PROCEDURE : v1::SQL_ERROR);
        return nullptr;
    }
    const proc::CallPlan& plan = **resolved;
    if (log_ && IsTransaction(plan)) {
        if (log_failed_.load(std::memory_order_relaxed)) {
            call.Finish(Status(ErrorCode::kIoError, log_->status().message()), v1::UNAVAILABLE);
            return nullptr;
        }
        if (log_->Saturated()) {
            call.Finish(Status(ErrorCode::kLimitExceeded, "overloaded: the command log has " +
                                                              std::to_string(log_->unwritten_bytes() >> 20) +
                                                              " MiB not yet written to disk; retry later"),
                        v1::OVERLOADED);
            return nullptr;
        }
    }
    return std::move(*resolved);
}

void Database::Dispatch(std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call) {
    call->procedure = plan->name;
    // Only transactions meet the command log: @Ping, @Statistics, @SystemCatalog, @Explain and
    // @Shutdown neither append nor wait for it, and still answer after it failed.
    if (!IsTransaction(*plan)) call->log = nullptr;
    if (plan->name == "@TtlDelete") return RunTtlDelete(std::move(plan), std::move(call));
    if (plan->kind == proc::CallPlan::Kind::kSystem) {
        RunSystem(*plan, call);
        return;
    }
    if (plan->partition_param) {
        auto value = proc::PartitionValue(*plan, call->params);
        if (!value.ok()) {
            call->Finish(value.status(), v1::INVALID_PARAMETER);
            return;
        }
        SubmitSingle(router_.Partition(*value), std::move(plan), std::move(call));
        return;
    }
    if (plan->kind == proc::CallPlan::Kind::kNative) {
        SubmitMulti(
            [this, name = plan->name](txn::MpContext& ctx, Call& c) {
                ctx.BeginAll(c.timestamp);
                Outcome o = RunNative(*natives_.back(), name, proc::NativeTarget{nullptr, &ctx.span()}, c);
                if (o.status.ok()) {
                    ctx.CommitAll();
                } else {
                    ctx.RollbackAll();
                }
                c.Finish(o.status, o.code);
            },
            call);
        return;
    }
    SubmitMulti(
        [plan](txn::MpContext& ctx, Call& c) {
            if (plan->defined && !proc::StillDefined(*ctx.engine(0).catalog(), *plan))
                return c.Finish(Dropped(plan->name), v1::UNKNOWN_PROCEDURE);
            exec::ResultSet rs;
            Status st = ctx.ExecuteTransaction(c.timestamp, plan->sql, c.args(), &rs);
            if (st.ok()) c.AddResult(rs);
            c.Finish(st);
        },
        call);
}

void Database::RunTtlDelete(std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call) {
    const auto& params = call->params;
    if (params.size() < 2 || params.size() > 4 || params[0].is_null() || params[0].type() != TypeId::kVarchar ||
        params[1].is_null() || !IsIntegral(params[1].type()) ||
        (params.size() >= 3 && (params[2].is_null() || !IsIntegral(params[2].type()) || params[2].AsInt() < 0)) ||
        (params.size() == 4 && (params[3].is_null() || params[3].type() != TypeId::kVarbinary))) {
        return call->Finish(Status(ErrorCode::kInvalidParameter,
                                   "@TtlDelete takes a table name (VARCHAR), a partition (INTEGER; -1 for a "
                                   "replicated table), for a table that migrates the newest migrated row its "
                                   "target acknowledged (BIGINT sequence number >= 0; default 0), and the rows a "
                                   "logged run chose (VARBINARY; the command log's, for replay)"),
                            v1::INVALID_PARAMETER);
    }
    const std::string table(params[0].AsString());
    auto def = catalog()->FindTable(table);
    if (!def || !def->ttl) {
        return call->Finish(
            Status(ErrorCode::kUndefinedTable, "@TtlDelete: \"" + table + "\" is not a table with a TTL"),
            v1::INVALID_PARAMETER);
    }
    const int64_t partition = params[1].AsInt();
    if (def->partition_column) {
        if (partition < 0 || partition >= static_cast<int64_t>(partition_count())) {
            return call->Finish(Status(ErrorCode::kInvalidParameter,
                                       "@TtlDelete: partition " + std::to_string(partition) + " does not exist (0.." +
                                           std::to_string(partition_count() - 1) + ")"),
                                v1::INVALID_PARAMETER);
        }
        // Rows of a migrating table leave only once their target has them: a caller cannot say
        // it has more than it has (a replay repeats what was true then).
        if (params.size() >= 3 && !call->replayed && !def->ttl->migrate_target.empty()) {
            const uint64_t acked = exports_ ? exports_->AckedSequence(table, static_cast<uint32_t>(partition)) : 0;
            if (static_cast<uint64_t>(params[2].AsInt()) > acked) {
                return call->Finish(Status(ErrorCode::kInvalidParameter,
                                           "@TtlDelete: target \"" + def->ttl->migrate_target + "\" has acknowledged " +
                                               table + "'s rows of partition " + std::to_string(partition) + " up to " +
                                               std::to_string(acked) + ", not " + std::to_string(params[2].AsInt())),
                                    v1::INVALID_PARAMETER);
            }
        }
        return SubmitSingle(static_cast<uint32_t>(partition), std::move(plan), std::move(call));
    }
    if (partition != -1) {
        return call->Finish(Status(ErrorCode::kInvalidParameter,
                                   "@TtlDelete: \"" + table + "\" is replicated; its partition is -1 (every copy)"),
                            v1::INVALID_PARAMETER);
    }
    // A replicated table: every copy deletes the same rows, in one multi-partition transaction.
    SubmitMulti(
        [table](txn::MpContext& ctx, Call& c) {
            ctx.BeginAll(c.timestamp);
            // Partition 0's copy chooses the rows (unless the log's decision is given); every copy
            // deletes the same ones.
            exec::Engine::Expired expired;
            std::string decision = TtlDecision(c.params);
            Status st;
            for (size_t i = 0; i < ctx.partition_count() && st.ok(); ++i) {
                auto n = ctx.engine(i).DeleteExpired(table, 0, &decision);
                if (n.ok()) {
                    expired = *n;
                } else {
                    st = n.status();
                }
            }
            if (st.ok()) {
                RecordTtlDecision(&c.params, decision);
                ctx.CommitAll();
                c.AddResult(ExpiredRows(expired));
            } else {
                ctx.RollbackAll();
            }
            c.Finish(st);
        },
        std::move(call));
}

void Database::TtlTimerLoop() {
    while (true) {
        {
            std::unique_lock<std::mutex> lock(timer_mu_);
            timer_cv_.wait_for(lock, options_.ttl_interval, [&] { return timer_stop_; });
            if (timer_stop_) return;
        }
        if (!accepting_.load() || ttl_in_flight_.load() > 0) continue;
        auto cat = catalog();
        for (const auto& [name, def] : cat->tables()) {
            if (!def->ttl) continue;
            if (def->partition_column) {
                for (uint32_t p = 0; p < partition_count(); ++p) StartTtlDelete(name, static_cast<int32_t>(p));
            } else {
                StartTtlDelete(name, -1);
            }
        }
    }
}

void Database::StartTtlDelete(const std::string& table, int32_t partition) {
    ttl_in_flight_.fetch_add(1);
    auto plan = Resolve("@TtlDelete");
    if (!plan.ok()) {
        ttl_in_flight_.fetch_sub(1);
        return;
    }
    auto call = NewCall("@TtlDelete", nullptr, nullptr);
    Call* raw = call.get();
    call->done = [this, raw, table, partition] {
        // A full batch means more rows are due: the next batch is queued behind what the
        // partition has waiting, so the deletes never stall it.
        const v1::Response& r = *raw->response;
        bool more = false;
        if (r.status().code() == v1::OK && r.results_size() == 1 && r.results(0).data_size() == 2) {
            auto def = catalog()->FindTable(table);
            for (int c = 0; c < 2; ++c) {
                const auto& ints = r.results(0).data(c).ints();
                more = more || (def && def->ttl && ints.size() == 1 &&
                                static_cast<uint64_t>(ints.Get(0)) >= def->ttl->batch_size);
            }
        } else if (r.status().code() != v1::OK && r.status().code() != v1::SHUTTING_DOWN) {
            spdlog::warn("TTL of {} (partition {}): {}", table, partition, r.status().message());
        }
        if (more && accepting_.load()) {
            StartTtlDelete(table, partition);
        }
        ttl_in_flight_.fetch_sub(1);
    };
    call->params = {Value::Varchar(table), Value::Integer(partition)};
    // A table that migrates: its target's acknowledgement lets the rows it has go.
    auto def = catalog()->FindTable(table);
    if (def && def->ttl && !def->ttl->migrate_target.empty() && exports_ && partition >= 0) {
        call->params.push_back(
            Value::BigInt(static_cast<int64_t>(exports_->AckedSequence(table, static_cast<uint32_t>(partition)))));
    }
    Dispatch(std::move(*plan), std::move(call));
}

Database::Outcome Database::RunNative(const proc::NativeProcedures& set, const std::string& name,
                                      proc::NativeTarget target, Call& c) {
    proc::NativeProcedure* p = set.Find(name);
    if (!p) return {Dropped(name), v1::UNKNOWN_PROCEDURE};
    std::span<const exec::ResultSet> answer;
    proc::NativeOutcome o = p->Run(target, c.params, c.timestamp, c.txn_id, &answer);
    switch (o.kind) {
        case proc::NativeOutcome::Kind::kOk:
            for (const auto& rs : answer) c.AddResult(rs);
            return {Status::Ok()};
        case proc::NativeOutcome::Kind::kAbort:
            return {o.status, v1::USER_ABORT};
        case proc::NativeOutcome::Kind::kSqlError:
            return {o.status};
        case proc::NativeOutcome::Kind::kError:
            return {o.status, o.invalid_parameter ? v1::INVALID_PARAMETER : v1::USER_ABORT};
    }
    return {Status(ErrorCode::kInternal, "unknown outcome"), v1::INTERNAL};
}

void Database::FlushReplayBatches() {
    for (size_t p = 0; p < replay_batches_.size(); ++p) {
        if (!replay_batches_[p]) continue;
        // Urgent: the replay bounds what it has in flight; the queue's bound is for clients.
        SubmitBatch(p, std::move(replay_batches_[p]), true);
    }
}

void Database::SubmitSingle(uint32_t partition, std::shared_ptr<const proc::CallPlan> plan,
                            std::shared_ptr<Call> call) {
    call->shard = partition;
    call->partition = partition;
    if (call->replay_partition) {
        // Recovery: the logged id and timestamp; the queue's bound does not apply (the replay
        // bounds what it has in flight), and the call must route where it ran.
        if (*call->replay_partition != partition) {
            return call->Finish(Status(ErrorCode::kInternal, "routes to partition " + std::to_string(partition) +
                                                                 " on replay but ran on partition " +
                                                                 std::to_string(*call->replay_partition)));
        }
        auto& batch = replay_batches_[partition];
        if (!batch) batch = std::make_unique<BatchTask>(partitions_[partition].get(), kBatchCalls);
        batch->Add(this, partition, plan, std::move(call));
        return;
    }
    call->txn_id = next_txn_id_.fetch_add(1);
    call->timestamp = NextTimestamp();
    Status s = partitions_[partition]->Submit(std::make_unique<CallTask>(this, partition, std::move(plan), call));
    if (!s.ok()) call->Finish(s, RefusalCode(s));  // the task was destroyed unrun
}

void Database::SubmitBatch(uint32_t partition, std::unique_ptr<BatchTask> batch, bool urgent) {
    BatchTask* raw = batch.get();
    const size_t calls = raw->size();
    std::unique_ptr<txn::Task> task = std::move(batch);
    Status s = urgent ? partitions_[partition]->SubmitUrgent(std::move(task))
                      : partitions_[partition]->Submit(std::move(task), calls);
    if (!s.ok()) raw->Refuse(s);  // still owned by `task`: answers every call (queue full, or stopping)
}

void Database::InvokeBatch(const v1::InvocationBatch& batch, ResponseSink* sink) {
    // Per partition: the task being filled and the group its calls answer in.
    struct Pending {
        std::unique_ptr<BatchTask> task;
        ResponseGroup* group = nullptr;
    };
    thread_local std::vector<Pending> pending;
    pending.resize(partitions_.size());
    auto flush = [&](uint32_t p) {
        Pending& b = pending[p];
        if (!b.task) return;
        const size_t n = b.task->size();
        b.group->Add(n);  // its calls, counted once (before any of them can answer)
        b.task->Stamp(next_txn_id_.fetch_add(n), NextTimestamps(n));
        SubmitBatch(p, std::move(b.task), false);
        b.group->Release();  // the builder's hold
        b.group = nullptr;
    };
    auto flush_all = [&] {
        for (uint32_t p = 0; p < pending.size(); ++p) flush(p);
    };
    const auto start = std::chrono::steady_clock::now();
    // The plan of the previous call's procedure: a batch usually calls one or a few procedures,
    // so it is resolved again only when the name changes.
    std::shared_ptr<const proc::CallPlan> plan;
    std::string_view plan_name;
    for (const v1::Invocation& inv : batch.invocations()) {
        // A single-partition procedure whose parameters decode and route joins its partition's
        // task; anything else (refusals included) is answered alone through Invoke.
        std::vector<Value> params;
        uint32_t p = 0;
        bool routed = false;
        if (accepting_.load(std::memory_order_relaxed) &&
            !(log_ && (log_failed_.load(std::memory_order_relaxed) || log_->Saturated()))) {
            if (!plan || inv.procedure() != plan_name) {
                auto resolved = Resolve(inv.procedure());
                plan = resolved.ok() ? std::move(*resolved) : nullptr;
                plan_name = inv.procedure();
            }
            if (plan && plan->partition_param && plan->kind != proc::CallPlan::Kind::kSystem &&
                plan->name != "@TtlDelete" && DecodeParams(inv.params(), &params).ok()) {
                auto value = proc::PartitionValue(*plan, params);
                if (value.ok()) {
                    p = router_.Partition(*value);
                    routed = true;
                }
            }
        }
        if (!routed) {
            flush_all();  // what came before is handed over first
            auto* group = new ResponseGroup(sink, 1);
            InvokeInto(inv, group);
            group->Release();
            continue;
        }
        Pending& b = pending[p];
        if (!b.task) {
            b.task = std::make_unique<BatchTask>(partitions_[p].get(), kBatchCalls);
            b.group = new ResponseGroup(sink, std::min<size_t>(kBatchCalls, batch.invocations_size()));
        }
        auto call = NewCall(plan->name, start);
        call->group = b.group;  // counted in the group when the task is handed over
        call->Tag(inv);
        call->params = std::move(params);
        call->shard = p;
        call->partition = p;
        b.task->Add(this, p, plan, std::move(call));
        if (b.task->size() == kBatchCalls) flush(p);
    }
    flush_all();
}

Result<std::shared_ptr<const proc::CallPlan>> Database::Resolve(std::string_view name) {
    // Per gRPC thread: the plans of the procedure names it has seen under the current schema.
    struct Cache {
        const Database* db = nullptr;
        uint64_t version = 0;
        absl::flat_hash_map<std::string, std::shared_ptr<const proc::CallPlan>> plans;
    };
    thread_local Cache cache;
    const uint64_t version = catalog_version_.load(std::memory_order_acquire);
    if (cache.db != this || cache.version != version) {
        cache.plans.clear();
        cache.db = this;
        cache.version = version;
    }
    const absl::string_view key(name.data(), name.size());  // Debian Abseil: not std::string_view
    if (auto it = cache.plans.find(key); it != cache.plans.end()) return it->second;
    auto plan = proc::ResolveCall(*catalog(), name);
    if (!plan.ok()) return plan.status();
    auto shared = std::make_shared<const proc::CallPlan>(std::move(*plan));
    if (cache.plans.size() >= 1024) cache.plans.clear();  // names clients made up
    cache.plans.emplace(std::string(name), shared);
    return shared;
}

void Database::SubmitMulti(std::function<void(txn::MpContext&, Call&)> body, std::shared_ptr<Call> call) {
    call->shard = partitions_.size();
    call->partition = durability::kMultiPartition;
    const bool replay = call->txn_id != 0;  // recovery: the logged id and timestamp
    if (!replay) {
        call->txn_id = next_txn_id_.fetch_add(1);
        call->timestamp = NextTimestamp();
    }
    auto task = std::make_unique<txn::MpFunctionTask>(
        [call, body = std::move(body)](txn::MpContext& ctx) {
            call->mp = &ctx;
            for (size_t i = 0; i < ctx.partition_count(); ++i) ctx.engine(i).SetTransactionId(call->txn_id);
            if (!call->Expired()) body(ctx, *call);
        },
        [call](const Status& why) { call->Finish(why, v1::SHUTTING_DOWN); });
    Status s = coordinator_->Submit(std::move(task), replay);
    if (!s.ok()) call->Finish(s, RefusalCode(s));
}

exec::ResultSet Database::ExportStatistics() const {
    exec::ResultSet rs;
    const SqlType text{TypeId::kVarchar, 1024};
    const SqlType big = SqlType::Of(TypeId::kBigInt);
    rs.columns = {{"stream", text},     {"partition_id", SqlType::Of(TypeId::kInteger)},
                  {"target", text},     {"status", text},
                  {"last_seq", big},    {"delivered_seq", big},
                  {"acked_seq", big},   {"pending_rows", big},
                  {"spool_bytes", big}, {"lag_ms", big},
                  {"last_error", text}};
    if (!exports_) return rs;
    auto n = [](uint64_t v) { return Value::BigInt(static_cast<int64_t>(v)); };
    for (const auto& c : exports_->Statistics()) {
        rs.values.insert(rs.values.end(), {Value::Varchar(c.stream), Value::Integer(static_cast<int32_t>(c.partition)),
                                           Value::Varchar(c.target), Value::Varchar(c.status), n(c.last_seq),
                                           n(c.delivered_seq), n(c.acked_seq), n(c.pending_rows), n(c.spool_bytes),
                                           Value::BigInt(c.lag_ms), Value::Varchar(c.last_error)});
    }
    return rs;
}

exec::ResultSet Database::LogStatistics() const {
    exec::ResultSet rs;
    const SqlType text{TypeId::kVarchar, 1024};
    const SqlType big = SqlType::Of(TypeId::kBigInt);
    rs.columns = {{"mode", text},   {"status", text}, {"last_lsn", big}, {"durable_lsn", big}, {"unwritten_bytes", big},
                  {"records", big}, {"bytes", big},   {"writes", big},   {"fsyncs", big},      {"segments", big}};
    if (!log_) {
        rs.values = {Value::Varchar("off"), Value::Varchar("off"), Value::BigInt(0), Value::BigInt(0),
                     Value::BigInt(0),      Value::BigInt(0),      Value::BigInt(0), Value::BigInt(0),
                     Value::BigInt(0),      Value::BigInt(0)};
        return rs;
    }
    const auto c = log_->counters();
    const Status st = log_->status();
    auto n = [](uint64_t v) { return Value::BigInt(static_cast<int64_t>(v)); };
    rs.values = {Value::Varchar(durability::LogModeName(log_->mode())),
                 Value::Varchar(st.ok() ? "ok" : st.message()),
                 n(log_->last_lsn()),
                 n(log_->durable_lsn()),
                 n(log_->unwritten_bytes()),
                 n(c.records),
                 n(c.bytes),
                 n(c.writes),
                 n(c.fsyncs),
                 n(c.segments)};
    return rs;
}

void Database::RunSystem(const proc::CallPlan& plan, std::shared_ptr<Call> call) {
    const auto& params = call->params;
    auto text_param = [&](size_t i, const char* what) -> Result<std::string> {
        if (i >= params.size() || params[i].is_null() || params[i].type() != TypeId::kVarchar) {
            return Status(ErrorCode::kInvalidParameter,
                          plan.name + " takes " + what + " as parameter " + std::to_string(i + 1) + " (VARCHAR)");
        }
        return std::string(params[i].AsString());
    };
    if (plan.name.rfind("@Snapshot", 0) == 0) return RunSnapshotProcedure(plan, call);
    if (plan.name == "@Ping") {
        call->Finish(Status::Ok());
        return;
    }
    if (plan.name == "@Shutdown") {
        call->Finish(Status::Ok());
        std::call_once(shutdown_once_, [&] {
            if (shutdown_handler_) shutdown_handler_();
        });
        return;
    }
    if (plan.name == "@SystemCatalog") {
        auto sel = text_param(0, "a selector (TABLES, VIEWS, STREAMS, COLUMNS, INDEXES, PROCEDURES)");
        if (!sel.ok()) return call->Finish(sel.status(), v1::INVALID_PARAMETER);
        exec::ResultSet rs;
        Status s = proc::SystemCatalog(*catalog(), *sel, &rs);
        if (s.ok()) call->AddResult(rs);
        call->Finish(s);
        return;
    }
    if (plan.name == "@Statistics") {
        auto sel = text_param(0, "a selector (PARTITIONCOUNT, PROCEDURE, TABLE, COMMANDLOG, SNAPSHOT, EXPORT)");
        if (!sel.ok()) return call->Finish(sel.status(), v1::INVALID_PARAMETER);
        std::string upper = *sel;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (upper == "PARTITIONCOUNT") {
            exec::ResultSet rs;
            rs.columns.push_back({"partition_count", SqlType::Of(TypeId::kInteger)});
            rs.values.push_back(Value::Integer(static_cast<int32_t>(partitions_.size())));
            call->AddResult(rs);
            call->Finish(Status::Ok());
            return;
        }
        if (upper == "SNAPSHOT") {
            call->AddResult(SnapshotStatistics());
            call->Finish(Status::Ok());
            return;
        }
        if (upper == "COMMANDLOG") {
            call->AddResult(LogStatistics());
            call->Finish(Status::Ok());
            return;
        }
        if (upper == "EXPORT") {
            call->AddResult(ExportStatistics());
            call->Finish(Status::Ok());
            return;
        }
        if (upper == "PROCEDURE") {
            call->AddResult(stats_.Procedures());
            call->Finish(Status::Ok());
            return;
        }
        if (upper == "TABLE") {
            SubmitMulti(
                [](txn::MpContext& ctx, Call& c) {
                    exec::ResultSet rs;
                    const SqlType text{TypeId::kVarchar, 1024};
                    rs.columns = {{"partition_id", SqlType::Of(TypeId::kInteger)},
                                  {"table_name", text},
                                  {"table_type", text},
                                  {"tuple_count", SqlType::Of(TypeId::kBigInt)},
                                  {"memory_bytes", SqlType::Of(TypeId::kBigInt)}};
                    for (size_t i = 0; i < ctx.partition_count(); ++i) {
                        auto cat = ctx.engine(i).catalog();
                        for (const auto& [name, def] : cat->tables()) {
                            storage::Table* t = ctx.engine(i).FindTable(name);
                            if (!t) continue;
                            rs.values.push_back(Value::Integer(static_cast<int32_t>(i)));
                            rs.values.push_back(Value::Varchar(def->name));
                            rs.values.push_back(Value::Varchar(catalog::TableType(*def)));
                            rs.values.push_back(Value::BigInt(static_cast<int64_t>(t->row_count())));
                            rs.values.push_back(Value::BigInt(static_cast<int64_t>(t->memory_bytes())));
                        }
                    }
                    c.AddResult(rs);
                    c.Finish(Status::Ok());
                },
                call);
            return;
        }
        call->Finish(Status(ErrorCode::kInvalidParameter,
                            "@Statistics selector \"" + *sel +
                                "\" is not one of PARTITIONCOUNT, PROCEDURE, TABLE, COMMANDLOG, SNAPSHOT, EXPORT"),
                     v1::INVALID_PARAMETER);
        return;
    }
    if (plan.name == "@Explain" || plan.name == "@ExplainProc") {
        const bool proc_call = plan.name == "@ExplainProc";
        auto arg = text_param(0, proc_call ? "a procedure name" : "a SQL statement");
        if (!arg.ok()) return call->Finish(arg.status(), v1::INVALID_PARAMETER);
        std::string sql = *arg;
        bool single = false;
        std::string native;  // a native procedure's name: explain each of its statements
        if (proc_call) {
            auto target = proc::ResolveCall(*catalog(), sql);
            if (!target.ok() || target->kind == proc::CallPlan::Kind::kSystem) {
                return call->Finish(target.ok() ? Status(ErrorCode::kInvalidParameter, sql + " is a system procedure")
                                                : target.status(),
                                    target.ok() ? v1::INVALID_PARAMETER : v1::UNKNOWN_PROCEDURE);
            }
            sql = target->sql;
            single = target->partition_param.has_value();
            if (target->kind == proc::CallPlan::Kind::kNative) native = target->name;
        }
        SubmitMulti(
            [this, sql, single, native](txn::MpContext& ctx, Call& c) {
                auto explain = [&](const std::string& text) -> Result<std::string> {
                    if (!single) return ctx.span().Explain(text);
                    auto prepared = ctx.engine(0).Prepare(text);
                    if (!prepared.ok()) return prepared.status();
                    return (*prepared)->Explain();
                };
                if (native.empty()) {
                    auto text = explain(sql);
                    if (text.ok()) c.AddResult(PlanTable(*text));
                    c.Finish(text.status());
                    return;
                }
                const proc::NativeProcedure* p = (single ? natives_[0] : natives_.back())->Find(native);
                if (!p) return c.Finish(Dropped(native), v1::UNKNOWN_PROCEDURE);
                std::string all;
                for (size_t i = 0; i < p->statements().size(); ++i) {
                    auto text = explain(p->statements()[i]);
                    if (!text.ok()) return c.Finish(text.status());
                    all +=
                        (i ? "\n" : "") + ("statement " + std::to_string(i) + ": " + p->statements()[i] + "\n") + *text;
                }
                c.AddResult(PlanTable(all));
                c.Finish(Status::Ok());
            },
            call);
        return;
    }
    if (plan.name == "@AdHoc") {
        auto sql = text_param(0, "the SQL text");
        if (!sql.ok()) return call->Finish(sql.status(), v1::INVALID_PARAMETER);
        call->first_param = 1;
        bool ddl = false, other = false;
        std::optional<Value> pinned;   // one statement pinned to one partition's rows
        bool replicated_read = false;  // one query of replicated tables only: any partition
        try {
            sql::ParseResult parsed = sql::Parse(*sql);
            for (const sql::Statement* stmt : parsed.statements) (sql::IsSchemaChange(stmt->kind) ? ddl : other) = true;
            if (parsed.statements.size() == 1 && !ddl) {
                auto cat = catalog();
                pinned = SinglePartitionValue(*cat, *parsed.statements[0], call->args());
                replicated_read = !pinned && ReadsOnlyReplicated(*cat, *parsed.statements[0]);
            }
        } catch (const SqlError& e) {
            return call->Finish(e.status());
        }
        if (pinned || replicated_read) {
            auto adhoc = std::make_shared<proc::CallPlan>();
            adhoc->name = "@AdHoc";
            adhoc->sql = std::move(*sql);
            // Replicated reads spread over the partitions (each has every row).
            const uint32_t partition =
                pinned ? router_.Partition(*pinned)
                       : static_cast<uint32_t>(next_replicated_read_.fetch_add(1, std::memory_order_relaxed) %
                                               partitions_.size());
            SubmitSingle(partition, std::move(adhoc), call);
            return;
        }
        if (ddl && other) {
            return call->Finish(Status(ErrorCode::kInvalidParameter,
                                       "an @AdHoc batch mixes schema changes with other statements; send them "
                                       "separately"),
                                v1::INVALID_PARAMETER);
        }
        if (ddl && !call->args().empty()) {
            return call->Finish(Status(ErrorCode::kInvalidParameter, "schema changes take no parameters"),
                                v1::INVALID_PARAMETER);
        }
        std::string text = std::move(*sql);
        SubmitMulti(
            [this, text, ddl](txn::MpContext& ctx, Call& c) {
                if (ddl) {
                    Status st = ApplyDdl(ctx, text);
                    if (st.ok()) {
                        exec::ResultSet rs;
                        c.AddResult(rs);
                        c.ddl = true;
                    }
                    c.Finish(st);
                    return;
                }
                exec::ResultSet rs;
                Status st = ctx.ExecuteTransaction(c.timestamp, text, c.args(), &rs);
                if (st.ok()) c.AddResult(rs);
                c.Finish(st);
            },
            call);
        return;
    }
    call->Finish(Status(ErrorCode::kInternal, "system procedure " + plan.name + " has no handler"), v1::INTERNAL);
}

}  // namespace surge::server
