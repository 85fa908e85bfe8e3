// Invocation routing and the system procedures (see database.h).
#include "server/database.h"

#include <chrono>

#include <absl/container/flat_hash_map.h>

#include "server/adhoc_route.h"
#include "server/convert.h"
#include "sql/parser.h"
#include "storage/table.h"

namespace surge::server {

struct Database::Call {
    Stats* stats = nullptr;
    std::string procedure;  ///< for statistics: as resolved, or as the client sent it
    size_t shard = 0;       ///< statistics shard: the thread that finishes the call
    v1::Response* response = nullptr;
    std::function<void()> done;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::vector<Value> params;

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
    uint64_t txn_id = 0;
    int64_t timestamp = 0;

    void AddResult(const exec::ResultSet& rs) { EncodeResult(rs, response->add_results()); }
    void Finish(const Status& s, v1::StatusCode code = v1::OK) {
        EncodeStatus(s, response->mutable_status());
        if (code != v1::OK) response->mutable_status()->set_code(code);
        if (!s.ok()) response->clear_results();
        response->set_txn_id(s.ok() ? txn_id : 0);
        const auto micros = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
        response->set_server_micros(micros);
        stats->Record(shard, procedure, s.ok() && code == v1::OK, micros);
        done();
    }
};

namespace {

Status Dropped(const std::string& procedure) {
    return Status(ErrorCode::kUndefinedFunction,
                  "procedure \"" + procedure + "\" was dropped or redefined before this call ran; call it again");
}

// A queue refusal (full or stopping) as the client sees it.
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

Database::Database(DatabaseOptions options)
    : options_(options),
      router_(options.partitions == 0 ? 1 : options.partitions),
      stats_(router_.partition_count() + 2) {
    const uint32_t n = router_.partition_count();
    std::vector<txn::Partition*> ptrs;
    for (uint32_t i = 0; i < n; ++i) {
        partitions_.push_back(std::make_unique<txn::Partition>(i, options_.queue_capacity));
        partitions_.back()->engine().SetPartition(i, &router_);
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

void Database::Start() {
    if (started_.exchange(true)) return;
    for (auto& p : partitions_) p->Start();
    coordinator_->Start();
    accepting_ = true;
}

void Database::Stop() {
    accepting_ = false;
    if (!started_.exchange(false)) return;
    coordinator_->Stop();
    for (auto& p : partitions_) p->Stop();
}

int64_t Database::NextTimestamp() {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    int64_t last = last_timestamp_.load();
    int64_t next;
    do {
        next = std::max(now, last + 1);
    } while (!last_timestamp_.compare_exchange_weak(last, next));
    return next;
}

Status Database::LoadSchema(const std::string& sql_text) {
    // Before Start(): run statement by statement, DDL on every partition, DML as multi-partition.
    sql::ParseResult parsed;
    try {
        parsed = sql::Parse(sql_text);
    } catch (const SqlError& e) {
        return e.status();
    }
    std::vector<txn::Partition*> ptrs;
    for (auto& p : partitions_) ptrs.push_back(p.get());
    std::vector<exec::Engine*> engines;
    for (auto& p : partitions_) engines.push_back(&p->engine());
    exec::SpanningExecutor span(engines, &router_);
    txn::MpContext ctx(ptrs, &span);
    for (const sql::Statement* stmt : parsed.statements) {
        Status s;
        if (sql::IsSchemaChange(stmt->kind)) {
            s = ApplyDdl(ctx, stmt->text);
        } else {
            exec::ResultSet rs;
            s = ctx.ExecuteTransaction(NextTimestamp(), stmt->text, {}, &rs);
        }
        if (!s.ok()) {
            return Status(s.code(), "schema statement at line " + std::to_string(stmt->pos.line) + ": " + s.message());
        }
    }
    return Status::Ok();
}

Status Database::ApplyDdl(txn::MpContext& ctx, const std::string& text) {
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
    auto call = std::make_shared<Call>();
    call->stats = &stats_;
    call->procedure = invocation.procedure();
    call->shard = partitions_.size() + 1;
    call->response = response;
    call->done = std::move(done);
    call->start = std::chrono::steady_clock::now();
    response->set_client_handle(invocation.client_handle());
    if (invocation.timeout_ms() > 0) call->deadline = call->start + std::chrono::milliseconds(invocation.timeout_ms());
    if (!accepting_) {
        call->Finish(Status(ErrorCode::kTransactionState, "the server is shutting down"), v1::SHUTTING_DOWN);
        return;
    }
    Status s = DecodeParams(invocation.params(), &call->params);
    if (!s.ok()) {
        call->Finish(s, v1::INVALID_PARAMETER);
        return;
    }
    auto resolved = Resolve(invocation.procedure());
    if (!resolved.ok()) {
        call->Finish(resolved.status(),
                     resolved.status().code() == ErrorCode::kUndefinedFunction ? v1::UNKNOWN_PROCEDURE : v1::SQL_ERROR);
        return;
    }
    std::shared_ptr<const proc::CallPlan> plan = std::move(*resolved);
    call->procedure = plan->name;
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
            Status st = ctx.ExecuteTransaction(c.timestamp, plan->sql, c.params, &rs);
            if (st.ok()) c.AddResult(rs);
            c.Finish(st);
        },
        call);
}

Database::Outcome Database::RunNative(const proc::NativeProcedures& set, const std::string& name,
                                      proc::NativeTarget target, Call& c) {
    proc::NativeProcedure* p = set.Find(name);
    if (!p) return {Dropped(name), v1::UNKNOWN_PROCEDURE};
    std::vector<exec::ResultSet> results;
    proc::NativeOutcome o = p->Run(target, c.params, c.timestamp, c.txn_id, &results);
    switch (o.kind) {
        case proc::NativeOutcome::Kind::kOk:
            for (const auto& rs : results) c.AddResult(rs);
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

// One single-partition call: runs its procedure in a transaction of its own on the partition.
class Database::CallTask final : public txn::Task {
  public:
    CallTask(Database* db, uint32_t partition, std::shared_ptr<const proc::CallPlan> plan, std::shared_ptr<Call> call)
        : db_(db), partition_(partition), plan_(std::move(plan)), call_(std::move(call)) {}

    void Run(exec::Engine& engine, uint64_t token) override {
        Call& c = *call_;
        if (c.Expired()) return;
        engine.SetTimestamp(c.timestamp);
        Outcome o{engine.Begin(token)};
        if (o.status.ok()) o = Body(engine);
        if (o.status.ok()) {
            o.status = engine.Commit(token);
        } else if (engine.in_transaction()) {
            (void)engine.Rollback(token);
        }
        c.Finish(o.status, o.code);
    }
    void Reject(const Status& why) override { call_->Finish(why, v1::SHUTTING_DOWN); }

  private:
    Outcome Body(exec::Engine& engine) {
        const proc::CallPlan& plan = *plan_;
        Call& c = *call_;
        if (plan.kind == proc::CallPlan::Kind::kNative) {
            return db_->RunNative(*db_->natives_[partition_], plan.name, proc::NativeTarget{&engine, nullptr}, c);
        }
        if (plan.defined && !proc::StillDefined(*engine.catalog(), plan)) {
            return {Dropped(plan.name), v1::UNKNOWN_PROCEDURE};
        }
        exec::ResultSet rs;
        Status st = engine.Execute(plan.sql, &rs, c.params);
        if (st.ok()) c.AddResult(rs);
        return {st};
    }

    Database* db_;
    uint32_t partition_;
    std::shared_ptr<const proc::CallPlan> plan_;
    std::shared_ptr<Call> call_;
};

void Database::SubmitSingle(uint32_t partition, std::shared_ptr<const proc::CallPlan> plan,
                            std::shared_ptr<Call> call) {
    call->shard = partition;
    call->txn_id = next_txn_id_.fetch_add(1);
    call->timestamp = NextTimestamp();
    Status s = partitions_[partition]->Submit(std::make_unique<CallTask>(this, partition, std::move(plan), call));
    if (!s.ok()) call->Finish(s, RefusalCode(s));  // the task was destroyed unrun
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
    call->txn_id = next_txn_id_.fetch_add(1);
    call->timestamp = NextTimestamp();
    auto task = std::make_unique<txn::MpFunctionTask>(
        [call, body = std::move(body)](txn::MpContext& ctx) {
            if (!call->Expired()) body(ctx, *call);
        },
        [call](const Status& why) { call->Finish(why, v1::SHUTTING_DOWN); });
    Status s = coordinator_->Submit(std::move(task));
    if (!s.ok()) call->Finish(s, RefusalCode(s));
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
        auto sel = text_param(0, "a selector (TABLES, VIEWS, COLUMNS, INDEXES, PROCEDURES)");
        if (!sel.ok()) return call->Finish(sel.status(), v1::INVALID_PARAMETER);
        exec::ResultSet rs;
        Status s = proc::SystemCatalog(*catalog(), *sel, &rs);
        if (s.ok()) call->AddResult(rs);
        call->Finish(s);
        return;
    }
    if (plan.name == "@Statistics") {
        auto sel = text_param(0, "a selector (PARTITIONCOUNT, PROCEDURE, TABLE)");
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
                            "@Statistics selector \"" + *sel + "\" is not one of PARTITIONCOUNT, PROCEDURE, TABLE"),
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
        call->params.erase(call->params.begin());
        bool ddl = false, other = false;
        std::optional<Value> pinned;   // one statement pinned to one partition's rows
        bool replicated_read = false;  // one query of replicated tables only: any partition
        try {
            sql::ParseResult parsed = sql::Parse(*sql);
            for (const sql::Statement* stmt : parsed.statements) (sql::IsSchemaChange(stmt->kind) ? ddl : other) = true;
            if (parsed.statements.size() == 1 && !ddl) {
                auto cat = catalog();
                pinned = SinglePartitionValue(*cat, *parsed.statements[0], call->params);
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
        if (ddl && !call->params.empty()) {
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
                    }
                    c.Finish(st);
                    return;
                }
                exec::ResultSet rs;
                Status st = ctx.ExecuteTransaction(c.timestamp, text, c.params, &rs);
                if (st.ok()) c.AddResult(rs);
                c.Finish(st);
            },
            call);
        return;
    }
    call->Finish(Status(ErrorCode::kInternal, "system procedure " + plan.name + " has no handler"), v1::INTERNAL);
}

}  // namespace surge::server
