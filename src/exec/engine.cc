// Engine: statement preparation, the plan cache, DML execution and transactions.
#include "exec/engine.h"

#include <absl/container/flat_hash_map.h>

#include <absl/container/flat_hash_set.h>

#include "common/bytes.h"
#include "exec/engine_state.h"
#include "exec/view_maintainer.h"
#include "storage/key_encoding.h"
#include "storage/row_codec.h"
#include "types/value_ops.h"

namespace surge::exec {

namespace {

/// Largest result a statement may return, in values.
constexpr size_t kMaxResultValues = 10'000'000;

template <typename F>
Status Guard(F&& f) {
    try {
        f();
        return Status::Ok();
    } catch (const SqlError& e) {
        return e.status();
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::kLimitExceeded, "out of memory while executing the statement");
    } catch (const std::exception& e) {
        return Status(ErrorCode::kInternal, std::string("unexpected error: ") + e.what());
    }
}

}  // namespace

int64_t ResultSet::modified_tuples() const {
    if (columns.size() == 1 && columns[0].name == "modified_tuples" && values.size() == 1) return values[0].AsInt();
    return -1;
}

PreparedStatement::~PreparedStatement() = default;
int PreparedStatement::param_count() const { return impl_->planned.param_count; }
const std::vector<SqlType>& PreparedStatement::param_types() const { return impl_->planned.param_types; }
const std::vector<ResultColumn>& PreparedStatement::columns() const { return impl_->columns; }
bool PreparedStatement::read_only() const { return !impl_->is_ddl && impl_->planned.read_only; }
std::string PreparedStatement::Explain() const { return impl_->explain; }

// ---------------------------------------------------------------- EngineState

EngineState::EngineState() : catalog_(catalog::Catalog::Empty()) {}
EngineState::~EngineState() {
    // Release pending undo before tables go away (the log points into them).
    undo_.UndoAll();
    plan_cache_.clear();
    procedure_cache_.clear();
    tables_.clear();
}

storage::Table* EngineState::ResolveOne(const catalog::TableDef& def) {
    auto it = tables_.find(def.id);
    if (it == tables_.end()) {
        ThrowSqlError(ErrorCode::kInternal,
                      "no storage for table \"" + def.name + "\" (id " + std::to_string(def.id) + ")");
    }
    it->second.raw = it->second.table.get();
    return it->second.raw;
}

namespace {

// The partition column of the table whose rows a table or view holds, if partitioned.
std::optional<int> SourcePartitionColumn(const catalog::Catalog& cat, const catalog::TableDef& def) {
    if (!def.view) return def.partition_column;
    auto src = cat.FindTable(def.view->source_table);
    return src ? src->partition_column : std::nullopt;
}

}  // namespace

TableSet EngineState::Resolve(const catalog::TableDef& def) {
    if (!spanning()) {
        ResolveOne(def);
        return TableSet(&tables_.find(def.id)->second.raw, 1);
    }
    if (span_sets_version_ != catalog_->version()) {
        span_sets_.clear();
        merged_views_.clear();
        span_sets_version_ = catalog_->version();
    }
    auto& set = span_sets_[def.id];
    if (!set.empty() && merged_views_.count(def.id)) NoteMergedView(def);
    if (set.empty()) {
        std::optional<int> pc = SourcePartitionColumn(*catalog_, def);
        if (pc && def.view) {
            // Each partition's view holds the groups of its own rows: their union is the view only
            // when the partition column is a group key (so no group spans partitions). Otherwise
            // reads see a copy with each group merged across partitions.
            const auto& g = def.view->group_by;
            if (std::find(g.begin(), g.end(), *pc) == g.end()) {
                auto& merged = merged_views_[def.id];
                if (!merged) merged = BuildStorage(*catalog_, def, nullptr, {});
                set.push_back(merged.get());
                NoteMergedView(def);
                return set;
            }
        }
        if (pc) {
            for (EngineState* part : parts_) set.push_back(part->ResolveOne(def));
        } else {
            set.push_back(parts_[0]->ResolveOne(def));  // replicated: every copy is the same
        }
    }
    return set;
}

storage::Table* EngineState::FindTable(std::string_view name) {
    auto def = catalog_->FindTable(name);
    if (!def) return nullptr;
    auto it = tables_.find(def->id);
    return it == tables_.end() ? nullptr : it->second.table.get();
}

std::shared_ptr<PreparedStatement> EngineState::Build(std::string sql, sql::ParseResult parsed, size_t index) {
    std::shared_ptr<PreparedStatement> stmt(new PreparedStatement());
    stmt->sql_ = std::move(sql);
    stmt->impl_ = std::make_unique<PreparedStatement::Impl>();
    auto& p = *stmt->impl_;
    const sql::Statement& s = *parsed.statements[index];
    p.catalog_version = catalog_->version();
    p.kind = s.kind;
    if (sql::IsSchemaChange(s.kind)) {
        p.is_ddl = true;
        p.planned.kind = s.kind;
        p.planned.read_only = false;
        p.ddl = std::move(parsed);
        p.ddl.statements = {p.ddl.statements[index]};
        return stmt;
    }
    sql::Planner planner(*catalog_);
    planner.set_multi_partition(spanning());
    if (s.kind == sql::StmtKind::kExplain) {
        const auto* inner = static_cast<const sql::ExplainStatement&>(s).statement;
        if (sql::IsSchemaChange(inner->kind)) {
            p.explain = "DDL: " + inner->text + "\n";
        } else {
            auto planned = planner.Plan(*inner);
            p.explain = sql::ExplainPlan(*planned.plan);
            p.planned.param_count = planned.param_count;
            p.planned.param_types = planned.param_types;
        }
        p.planned.kind = s.kind;
        p.columns = {{"plan", SqlType{TypeId::kVarchar, kDefaultVarLength}}};
        return stmt;
    }
    p.planned = planner.Plan(s);
    for (const auto& c : p.planned.columns) p.columns.push_back({c.name, c.type});
    resolved_merged_.clear();
    const sql::PlanNode& plan = *p.planned.plan;
    switch (s.kind) {
        case sql::StmtKind::kSelect:
            p.root = BuildOperator(plan, *this);
            break;
        case sql::StmtKind::kInsert:
        case sql::StmtKind::kUpdate:
        case sql::StmtKind::kDelete:
            if (!plan.children.empty()) p.root = BuildOperator(*plan.children[0], *this);
            break;
        default:
            break;
    }
    p.explain = sql::ExplainPlan(plan);
    AdoptMergedViews(p);
    return stmt;
}

void EngineState::Replan(PreparedStatement& stmt) {
    sql::ParseResult parsed = sql::Parse(stmt.sql_);
    if (parsed.statements.size() != 1) {
        ThrowSqlError(ErrorCode::kInternal,
                      "re-planning found " + std::to_string(parsed.statements.size()) + " statements in prepared text");
    }
    auto fresh = Build(stmt.sql_, std::move(parsed), 0);
    stmt.impl_ = std::move(fresh->impl_);
}

Result<std::shared_ptr<PreparedStatement>> EngineState::Prepare(std::string_view sql) {
    std::shared_ptr<PreparedStatement> out;
    Status st = Guard([&] {
        sql::ParseResult parsed = sql::Parse(sql);
        if (parsed.statements.size() != 1) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          "Prepare takes exactly one statement, got " + std::to_string(parsed.statements.size()));
        }
        std::string text = parsed.statements[0]->text;
        out = Build(std::move(text), std::move(parsed), 0);
    });
    if (!st.ok()) return st;
    return out;
}

Status EngineState::ExecuteText(std::string_view sql, ResultSet* out, std::span<const Value> params) {
    return Guard([&] {
        if (spanning()) SyncSpanning();
        // A text run before (one statement; procedures and CRUD calls are) runs from the plan cache
        // without being parsed again.
        if (auto it = plan_cache_.find(sql);
            it != plan_cache_.end() && it->second->impl_->catalog_version == catalog_->version()) {
            Run(*it->second, params, out);
            return;
        }
        sql::ParseResult parsed = sql::Parse(sql);
        const size_t n = parsed.statements.size();
        if (n == 0) {
            out->Clear();
            return;
        }
        if (n > 1 && !params.empty()) {
            ThrowSqlError(ErrorCode::kInvalidParameter, "parameters are only allowed with a single statement");
        }
        for (size_t i = 0; i < n; ++i) {
            std::string text = parsed.statements[i]->text;
            std::shared_ptr<PreparedStatement> stmt;
            auto it = plan_cache_.find(text);
            if (it != plan_cache_.end() && it->second->impl_->catalog_version == catalog_->version()) {
                stmt = it->second;
            } else {
                // One statement keeps the parse it came with; a statement of several is parsed on
                // its own (a prepared statement owns its AST).
                stmt = n == 1 ? Build(text, std::move(parsed), 0) : Build(text, sql::Parse(text), 0);
                if (!stmt->impl_->is_ddl) {
                    if (plan_cache_.size() + 2 > kPlanCacheCap) plan_cache_.clear();
                    plan_cache_[text] = stmt;
                    if (n == 1 && text != sql) plan_cache_[std::string(sql)] = stmt;  // as the caller spells it
                }
            }
            Run(*stmt, params, out);
        }
    });
}

Status EngineState::ExecutePrepared(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out) {
    return Guard([&] { Run(stmt, params, out); });
}

Status EngineState::ExecuteProcedure(std::string_view name, std::span<const Value> params, ResultSet* out) {
    return Guard([&] {
        auto def = catalog_->FindProcedure(name);
        if (!def)
            ThrowSqlError(ErrorCode::kUndefinedFunction, "procedure \"" + std::string(name) + "\" does not exist");
        if (def->is_native()) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          "procedure \"" + def->name + "\" is native (" + def->library +
                              "); the server runs native procedures, the engine alone cannot");
        }
        auto& cached = procedure_cache_[def->name];
        if (!cached || cached->sql_ != def->sql) {
            sql::ParseResult parsed = sql::Parse(def->sql);
            cached = Build(def->sql, std::move(parsed), 0);
        }
        Run(*cached, params, out);
    });
}

void EngineState::Run(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out) {
    if (stmt.impl_->catalog_version != catalog_->version()) Replan(stmt);
    auto& p = *stmt.impl_;
    if (p.is_ddl) {
        if (spanning()) {
            ThrowSqlError(
                ErrorCode::kInternal,
                "schema changes are applied to each partition's engine, not through multi-partition execution");
        }
        if (in_txn_) {
            ThrowSqlError(ErrorCode::kTransactionState, "schema changes cannot run inside transaction " +
                                                            std::to_string(txn_token_) + "; commit or roll back first");
        }
        if (!params.empty()) ThrowSqlError(ErrorCode::kInvalidParameter, "DDL statements take no parameters");
        RunDdl(*p.ddl.statements[0], out);
        return;
    }
    if (p.kind == sql::StmtKind::kExplain) {  // plans only: parameters may be absent
        out->columns = p.columns;
        out->values.clear();
        size_t start = 0;
        while (start < p.explain.size()) {
            size_t nl = p.explain.find('\n', start);
            if (nl == std::string::npos) nl = p.explain.size();
            out->values.push_back(Value::Varchar(std::string_view(p.explain).substr(start, nl - start)));
            start = nl + 1;
        }
        return;
    }
    if (params.size() != static_cast<size_t>(p.planned.param_count)) {
        ThrowSqlError(ErrorCode::kInvalidParameter, "statement expects " + std::to_string(p.planned.param_count) +
                                                        " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
        if (params[i].type() == TypeId::kBoolean) {
            ThrowSqlError(ErrorCode::kInvalidParameter, "parameter " + std::to_string(i + 1) +
                                                            " is BOOLEAN; "
                                                            "SurgeDB parameters are column types");
        }
    }
    if (spanning() && p.planned.plan && p.planned.plan->table && !p.planned.read_only &&
        !SourcePartitionColumn(*catalog_, *p.planned.plan->table)) {
        RunOnEveryCopy(stmt, params, out);
        return;
    }
    for (const auto& def : p.merged_views) RefreshMergedView(*def);
    running_ = true;  // merged views that subqueries resolve from here on are refreshed as resolved
    ExecContext ctx;
    ctx.params = params;
    ctx.undo = spanning() ? nullptr : &undo_;
    ctx.tables = this;
    ctx.now_micros = now_micros_;
    ctx.execution = ++executions_;
    ctx.subqueries = &p.subqueries;
    const size_t mark = undo_.Mark();
    if (spanning()) {
        span_marks_.clear();
        for (EngineState* part : parts_) span_marks_.push_back(part->undo_.Mark());
    }
    try {
        int64_t modified = -1;
        switch (p.kind) {
            case sql::StmtKind::kSelect:
                RunQuery(p, ctx, out);
                break;
            case sql::StmtKind::kInsert:
                modified = RunInsert(p, ctx);
                break;
            case sql::StmtKind::kUpdate:
                modified = RunUpdate(p, ctx);
                break;
            case sql::StmtKind::kDelete:
                modified = RunDelete(p, ctx);
                break;
            case sql::StmtKind::kTruncate: {
                TableSet set = Resolve(*p.planned.plan->table);
                modified = 0;
                for (size_t i = 0; i < set.size(); ++i) {
                    modified += static_cast<int64_t>(set[i]->row_count());
                    set[i]->Truncate(UndoFor(i));
                }
                break;
            }
            default:
                ThrowSqlError(ErrorCode::kInternal, "unexpected statement kind");
        }
        if (modified >= 0) {
            if (out->columns.size() != 1 || out->columns[0].name != "modified_tuples") out->columns = p.columns;
            out->values.resize(1);  // a result set reused for the same statement keeps its one value
            out->values[0].SetInt(TypeId::kBigInt, modified);
        }
    } catch (...) {
        running_ = false;
        resolved_merged_.clear();
        TrimOperators(p);
        if (spanning()) {
            for (size_t i = 0; i < parts_.size(); ++i) parts_[i]->undo_.UndoTo(span_marks_[i]);
        } else {
            undo_.UndoTo(mark);
        }
        throw;
    }
    running_ = false;
    TrimOperators(p);
    AdoptMergedViews(p);
    if (!in_txn_ && !spanning()) undo_.Release();
}

void EngineState::TrimOperators(PreparedStatement::Impl& p) {
    if (p.root) p.root->Trim();
    for (auto& [node, sub] : p.subqueries) {
        if (sub.op) sub.op->Trim();
        TrimVector(sub.cached);  // an uncorrelated result is cached for one execution only
    }
}

void EngineState::RunOnEveryCopy(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out) {
    const auto& p = *stmt.impl_;
    // Every copy must end up the same: the statement may read replicated tables only.
    std::vector<const sql::PlanNode*> todo{p.planned.plan.get()};
    while (!todo.empty()) {
        const sql::PlanNode* n = todo.back();
        todo.pop_back();
        if (n->table && n != p.planned.plan.get() && SourcePartitionColumn(*catalog_, *n->table)) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported, "a statement that writes replicated table \"" +
                                                               p.planned.plan->table->name +
                                                               "\" cannot read partitioned table \"" + n->table->name +
                                                               "\": every copy must get the same rows");
        }
        for (const auto& c : n->children) todo.push_back(c.get());
    }
    span_marks_.clear();
    for (EngineState* part : parts_) span_marks_.push_back(part->undo_.Mark());
    size_t done = 0;
    try {
        for (; done < parts_.size(); ++done) {
            EngineState* part = parts_[done];
            auto& cached = part->plan_cache_[stmt.sql_];
            if (!cached || cached->impl_->catalog_version != part->catalog_->version()) {
                cached = part->Build(stmt.sql_, sql::Parse(stmt.sql_), 0);
            }
            part->Run(*cached, params, out);
        }
    } catch (...) {
        for (size_t i = 0; i < parts_.size(); ++i) parts_[i]->undo_.UndoTo(span_marks_[i]);
        throw;
    }
}

void EngineState::RunQuery(PreparedStatement::Impl& p, ExecContext& ctx, ResultSet* out) {
    bool same = out->columns.size() == p.columns.size();
    for (size_t i = 0; same && i < p.columns.size(); ++i) same = out->columns[i].name == p.columns[i].name;
    if (!same) out->columns = p.columns;
    out->values.clear();
    const size_t visible = p.columns.size();
    p.root->Open(ctx, EvalRow{});
    while (p.root->Next(ctx, &p.row)) {
        if (out->values.size() + visible > kMaxResultValues) {
            ThrowSqlError(ErrorCode::kLimitExceeded, "result exceeds " + std::to_string(kMaxResultValues) +
                                                         " values; add a LIMIT or narrow the query");
        }
        for (size_t i = 0; i < visible; ++i) out->values.push_back(p.row[i]);
    }
}

int64_t EngineState::RunInsert(PreparedStatement::Impl& p, ExecContext& ctx) {
    const sql::PlanNode& plan = *p.planned.plan;
    TableSet set = Resolve(*plan.table);
    const std::optional<int> pc = spanning() || own_partition_ ? plan.table->partition_column : std::nullopt;
    const auto& cols = plan.table->columns;
    std::vector<Value>& values = p.values;
    values.resize(cols.size());
    p.targeted.assign(cols.size(), 0);
    for (int c : plan.target_columns) p.targeted[c] = 1;
    auto defaults = [&] {
        for (size_t c = 0; c < cols.size(); ++c) {
            if (p.targeted[c]) continue;
            if (cols[c].default_value) {
                values[c] = *cols[c].default_value;
            } else {
                values[c].SetNull(cols[c].type.id);
            }
        }
    };
    auto write = [&] {
        size_t part = 0;
        if (pc && !spanning()) {
            const uint32_t owner = router_->PartitionOf(values[*pc]);
            if (owner != *own_partition_) {
                ThrowSqlError(ErrorCode::kConstraintViolation,
                              "mispartitioned row: " + cols[*pc].name + " = " + values[*pc].ToString() + " of \"" +
                                  plan.table->name + "\" belongs to partition " + std::to_string(owner) +
                                  ", and this single-partition transaction runs on partition " +
                                  std::to_string(*own_partition_));
            }
        } else if (pc) {
            part = router_->PartitionOf(values[*pc]);
            if (part >= set.size()) {
                ThrowSqlError(ErrorCode::kInternal,
                              "router named partition " + std::to_string(part) + " of " + std::to_string(set.size()));
            }
        }
        storage::Table* table = set[part];
        storage::UndoLog& undo = UndoFor(part);
        storage::Index* pk = plan.upsert ? table->primary_key() : nullptr;
        if (pk) {
            p.key.clear();
            bool has_null = false;
            for (const auto& part : pk->def().key) {
                if (values[part.column].is_null()) has_null = true;
                storage::EncodeKeyPart(values[part.column], part.type.id, &p.key);
            }
            storage::TuplePtr existing = has_null ? nullptr : pk->FindUnique(p.key);
            if (existing) {
                p.merged.resize(cols.size());
                for (size_t c = 0; c < cols.size(); ++c) {
                    if (p.targeted[c]) {
                        p.merged[c] = values[c];
                    } else {
                        table->Read(existing, static_cast<int>(c), &p.merged[c]);
                    }
                }
                table->Update(existing, p.merged.data(), undo);
                return;
            }
        }
        table->Insert(values.data(), undo);
    };
    auto store = [&](size_t i, Value v) {
        const int c = plan.target_columns[i];
        values[c] = std::move(v);
        CoerceForColumnInPlace(&values[c], cols[c].type, cols[c].name);
    };
    int64_t n = 0;
    if (!plan.children.empty()) {
        // Read the whole source first: INSERT INTO t SELECT ... FROM t must not see its own rows.
        std::vector<std::vector<Value>> rows;
        p.root->Open(ctx, EvalRow{});
        while (p.root->Next(ctx, &p.row)) rows.push_back(p.row);
        for (auto& row : rows) {
            defaults();
            for (size_t i = 0; i < plan.target_columns.size(); ++i) store(i, std::move(row[i]));
            write();
            ++n;
        }
        return n;
    }
    EvalRow none;
    for (const auto& row : plan.rows) {
        defaults();
        for (size_t i = 0; i < row.size(); ++i) store(i, Eval(*row[i], none, ctx));
        write();
        ++n;
    }
    return n;
}

int64_t EngineState::RunUpdate(PreparedStatement::Impl& p, ExecContext& ctx) {
    const sql::PlanNode& plan = *p.planned.plan;
    TableSet set = Resolve(*plan.table);
    const std::optional<int> pc = spanning() || own_partition_ ? plan.table->partition_column : std::nullopt;
    const auto& cols = plan.table->columns;
    const size_t width = cols.size();
    // Collect first, then apply: an index scan must not see rows it already moved.
    p.change_tuples.clear();
    p.change_parts.clear();
    size_t n = 0;
    p.root->Open(ctx, EvalRow{});
    while (p.root->Next(ctx, &p.row)) {
        if (p.change_values.size() < (n + 1) * width) p.change_values.resize((n + 1) * width);
        Value* next = p.change_values.data() + n * width;
        for (size_t c = 0; c < width; ++c) next[c] = p.row[c];
        EvalRow r{p.row.data(), nullptr};
        for (size_t i = 0; i < plan.target_columns.size(); ++i) {
            const int c = plan.target_columns[i];
            next[c] = Eval(*plan.exprs[i], r, ctx);
            CoerceForColumnInPlace(&next[c], cols[c].type, cols[c].name);
        }
        const size_t part = p.root->current_part();
        if (pc && router_->PartitionOf(next[*pc]) != (spanning() ? part : *own_partition_)) {
            ThrowSqlError(ErrorCode::kConstraintViolation,
                          "UPDATE would move a row of \"" + plan.table->name + "\" to another partition (" +
                              cols[*pc].name + " = " + next[*pc].ToString() +
                              "); change a row's partition column only to a value of the same partition, or "
                              "delete and insert it");
        }
        p.change_tuples.push_back(p.root->current_tuple());
        p.change_parts.push_back(static_cast<uint32_t>(part));
        ++n;
    }
    for (size_t i = 0; i < n; ++i) {
        const size_t part = p.change_parts[i];
        set[part]->Update(p.change_tuples[i], p.change_values.data() + i * width, UndoFor(part));
    }
    // Keep the scratch of small updates; give back what a bulk update grew.
    constexpr size_t kRetainedRows = 1024;
    if (n > kRetainedRows) {
        p.change_values.resize(kRetainedRows * width);
        p.change_values.shrink_to_fit();
        p.change_tuples.resize(kRetainedRows);
        p.change_tuples.shrink_to_fit();
        p.change_parts.resize(kRetainedRows);
        p.change_parts.shrink_to_fit();
    }
    return static_cast<int64_t>(n);
}

int64_t EngineState::RunDelete(PreparedStatement::Impl& p, ExecContext& ctx) {
    TableSet set = Resolve(*p.planned.plan->table);
    p.change_tuples.clear();
    p.change_parts.clear();
    p.root->Open(ctx, EvalRow{});
    while (p.root->Next(ctx, &p.row)) {
        p.change_tuples.push_back(p.root->current_tuple());
        p.change_parts.push_back(static_cast<uint32_t>(p.root->current_part()));
    }
    const size_t n = p.change_tuples.size();
    for (size_t i = 0; i < n; ++i) set[p.change_parts[i]]->Delete(p.change_tuples[i], UndoFor(p.change_parts[i]));
    return static_cast<int64_t>(n);
}

Status EngineState::Begin(uint64_t token) {
    if (in_txn_) {
        return Status(ErrorCode::kTransactionState, "transaction " + std::to_string(txn_token_) + " is already open");
    }
    if (token <= last_token_) {
        return Status(ErrorCode::kTransactionState, "undo token " + std::to_string(token) +
                                                        " must be greater than the last one (" +
                                                        std::to_string(last_token_) + ")");
    }
    in_txn_ = true;
    txn_token_ = last_token_ = token;
    return Status::Ok();
}

Status EngineState::Commit(uint64_t token) {
    if (!in_txn_ || token != txn_token_) {
        return Status(ErrorCode::kTransactionState, "no open transaction with undo token " + std::to_string(token));
    }
    undo_.Release();
    in_txn_ = false;
    return Status::Ok();
}

Status EngineState::Rollback(uint64_t token) {
    if (!in_txn_ || token != txn_token_) {
        return Status(ErrorCode::kTransactionState, "no open transaction with undo token " + std::to_string(token));
    }
    undo_.UndoAll();
    in_txn_ = false;
    return Status::Ok();
}

void EngineState::NoteMergedView(const catalog::TableDef& def) {
    // While planning, the statement refreshes it before each run (AdoptMergedViews); a subquery
    // that first resolves it while running needs it current now.
    if (running_) RefreshMergedView(def);
    resolved_merged_.push_back(catalog_->FindTable(def.name));
}

void EngineState::AdoptMergedViews(PreparedStatement::Impl& p) {
    for (auto& def : resolved_merged_) {
        if (std::find(p.merged_views.begin(), p.merged_views.end(), def) == p.merged_views.end()) {
            p.merged_views.push_back(std::move(def));
        }
    }
    resolved_merged_.clear();
}

void EngineState::RefreshMergedView(const catalog::TableDef& def) {
    storage::Table* merged = merged_views_.at(def.id).get();
    storage::UndoLog scratch;
    merged->Truncate(scratch);
    scratch.Release();
    const catalog::ViewDef& v = *def.view;
    const size_t g = v.group_by.size();
    const size_t width = def.columns.size();
    // Merge every partition's rows by group key: COUNTs and SUMs add, MIN and MAX combine.
    absl::flat_hash_map<std::string, std::vector<Value>> groups;
    std::vector<std::string> order;  // first-seen order, for a deterministic insert order
    std::string key;
    std::vector<Value> row(width);
    for (EngineState* part : parts_) {
        storage::Table* t = part->ResolveOne(def);
        storage::ScanCursor cursor;
        while (storage::TuplePtr tuple = t->NextLive(&cursor)) {
            for (size_t c = 0; c < width; ++c) t->Read(tuple, static_cast<int>(c), &row[c]);
            key.clear();
            for (size_t i = 0; i < g; ++i) storage::EncodeKeyPart(row[i], def.columns[i].type.id, &key);
            auto [it, fresh] = groups.try_emplace(key);
            if (fresh) {
                it->second = row;
                order.push_back(key);
                continue;
            }
            std::vector<Value>& acc = it->second;
            for (size_t a = 0; a < v.aggregates.size(); ++a) {
                Value& cur = acc[g + a];
                const Value& x = row[g + a];
                const auto& col = def.columns[g + a];
                switch (v.aggregates[a].kind) {
                    case catalog::ViewAggKind::kCountStar:
                    case catalog::ViewAggKind::kCount:
                    case catalog::ViewAggKind::kSum:
                        if (x.is_null()) break;
                        cur = cur.is_null() ? x : CoerceForColumn(Add(cur, x), col.type, col.name);
                        break;
                    case catalog::ViewAggKind::kMin:
                        if (!x.is_null() && (cur.is_null() || CompareValues(x, cur) < 0)) cur = x;
                        break;
                    case catalog::ViewAggKind::kMax:
                        if (!x.is_null() && (cur.is_null() || CompareValues(x, cur) > 0)) cur = x;
                        break;
                }
            }
        }
    }
    storage::UndoLog load;
    for (const auto& k : order) merged->Insert(groups[k].data(), load);
    load.Release();
}

void EngineState::SyncSpanning() {
    for (size_t i = 0; i < parts_.size(); ++i) {
        if (parts_[i]->catalog_->version() != parts_[0]->catalog_->version()) {
            ThrowSqlError(ErrorCode::kInternal, "partition " + std::to_string(i) + " has catalog version " +
                                                    std::to_string(parts_[i]->catalog_->version()) + ", partition 0 " +
                                                    std::to_string(parts_[0]->catalog_->version()));
        }
        if (!parts_[i]->in_txn_) {
            ThrowSqlError(ErrorCode::kTransactionState,
                          "multi-partition execution needs an open transaction on every partition; partition " +
                              std::to_string(i) + " has none");
        }
    }
    catalog_ = parts_[0]->catalog_;
    now_micros_ = parts_[0]->now_micros_;
}

// ---------------------------------------------------------------- SpanningExecutor

SpanningExecutor::SpanningExecutor(std::vector<Engine*> partitions, const PartitionRouter* router)
    : state_(std::make_unique<EngineState>()) {
    for (Engine* e : partitions) state_->parts_.push_back(e->state_.get());
    state_->router_ = router;
    if (state_->parts_.empty()) state_->parts_.push_back(nullptr);  // rejected below
}

SpanningExecutor::~SpanningExecutor() = default;

Status SpanningExecutor::Execute(std::string_view sql, ResultSet* out, std::span<const Value> params) {
    if (state_->parts_[0] == nullptr || state_->router_ == nullptr) {
        return Status(ErrorCode::kInternal, "SpanningExecutor needs at least one partition and a router");
    }
    return state_->ExecuteText(sql, out, params);
}

Result<std::string> SpanningExecutor::Explain(std::string_view sql) {
    if (state_->parts_[0] == nullptr) return Status(ErrorCode::kInternal, "SpanningExecutor has no partitions");
    std::string text;
    Status st = Guard([&] {
        state_->catalog_ = state_->parts_[0]->catalog_;
        sql::ParseResult parsed = sql::Parse(sql);
        if (parsed.statements.size() != 1) {
            ThrowSqlError(ErrorCode::kSyntaxError, "EXPLAIN takes exactly one statement");
        }
        std::string own = parsed.statements[0]->text;
        text = state_->Build(std::move(own), std::move(parsed), 0)->Explain();
    });
    if (!st.ok()) return st;
    return text;
}

// ---------------------------------------------------------------- Engine

Engine::Engine() : state_(std::make_unique<EngineState>()) {}
Engine::~Engine() = default;

Status Engine::Execute(std::string_view sql, ResultSet* out, std::span<const Value> params) {
    return state_->ExecuteText(sql, out, params);
}
Result<std::shared_ptr<PreparedStatement>> Engine::Prepare(std::string_view sql) { return state_->Prepare(sql); }
Status Engine::Execute(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out) {
    return state_->ExecutePrepared(stmt, params, out);
}
Status Engine::ExecuteProcedure(std::string_view name, std::span<const Value> params, ResultSet* out) {
    return state_->ExecuteProcedure(name, params, out);
}
Status Engine::Begin(uint64_t t) { return state_->Begin(t); }
Status Engine::Commit(uint64_t t) { return state_->Commit(t); }
Status Engine::Rollback(uint64_t t) { return state_->Rollback(t); }
bool Engine::in_transaction() const { return state_->in_txn_; }
bool Engine::transaction_wrote() const { return state_->in_txn_ && !state_->undo_.empty(); }
void Engine::SetPartition(uint32_t partition, const PartitionRouter* router) {
    state_->own_partition_ = partition;
    state_->router_ = router;
}
void Engine::SetTimestamp(int64_t micros) { state_->now_micros_ = micros; }

void Engine::SetTransactionId(uint64_t txn_id) { state_->txn_id_ = txn_id; }

namespace {

// See DeleteExpired: the fewest rows a migrating table's pass steps over.
constexpr size_t kMaxWaitingSteps = 65'536;

// A TTL decision (see Engine::DeleteExpired): u32 rows to delete, u32 rows to migrate, then each
// row's identity as u32 length + bytes: its primary key (the index's key encoding) or, in a table
// without one, its values (storage/row_codec.h).
bool ParseDecision(std::string_view d, std::vector<std::string_view>* victims, std::vector<std::string_view>* leaving) {
    if (d.size() < 8) return false;
    const uint32_t n[2] = {GetRaw<uint32_t>(d.data()), GetRaw<uint32_t>(d.data() + 4)};
    size_t pos = 8;
    for (int k = 0; k < 2; ++k) {
        auto* out = k == 0 ? victims : leaving;
        for (uint32_t i = 0; i < n[k]; ++i) {
            if (d.size() - pos < 4) return false;
            const uint32_t len = GetRaw<uint32_t>(d.data() + pos);
            pos += 4;
            if (d.size() - pos < len) return false;
            out->emplace_back(d.data() + pos, len);
            pos += len;
        }
    }
    return pos == d.size();
}

}  // namespace

Result<Engine::Expired> Engine::DeleteExpired(std::string_view name, uint64_t migrated_acked, std::string* decision) {
    EngineState& st = *state_;
    auto def = st.catalog_->FindTable(name);
    if (!def || !def->ttl) {
        return Status(ErrorCode::kUndefinedTable, "\"" + std::string(name) + "\" is not a table with a TTL");
    }
    if (!st.in_txn_) return Status(ErrorCode::kTransactionState, "DeleteExpired needs an open transaction");
    storage::Table* table = st.FindTable(name);
    const int col = def->FindColumn(def->ttl->column);
    if (!table || col < 0)
        return Status(ErrorCode::kInternal, "TTL table \"" + std::string(name) + "\" has no storage");
    const bool migrate = !def->ttl->migrate_target.empty();
    if (migrate && !def->partition_column) {
        return Status(ErrorCode::kFeatureNotSupported,
                      "table \"" + def->name +
                          "\" is replicated; MIGRATE TO TARGET needs a partitioned table (PARTITION "
                          "TABLE " +
                          def->name + " ON COLUMN ...)");
    }
    if (migrate && (!st.capture_ || !table->has_marks())) {
        return Status(ErrorCode::kFeatureNotSupported, "table \"" + def->name + "\" migrates to target \"" +
                                                           def->ttl->migrate_target +
                                                           "\", but this server exports nothing (it runs without a "
                                                           "data directory)");
    }
    const int64_t cutoff = st.now_micros_ - def->ttl->micros;
    const size_t limit = def->ttl->batch_size;
    std::vector<storage::TuplePtr> victims;  // to delete
    std::vector<storage::TuplePtr> leaving;  // to migrate
    Value v;
    auto expired = [&](storage::TuplePtr t) {
        table->Read(t, col, &v);
        return !v.is_null() && v.AsInt() < cutoff;
    };
    storage::Index* ordered = nullptr;
    for (size_t i = 0; i < table->index_count() && !ordered; ++i) {
        storage::Index& idx = table->index(i);
        if (idx.ordered() && idx.def().key[0].column == col) ordered = &idx;
    }
    // The rows with TTL value `at` (all expired ones when `at` is null), oldest first through the
    // ordered index, else in storage order; visit returns false to stop.
    auto walk = [&](const Value* at, auto&& visit) {
        if (ordered) {
            storage::KeyRange range;
            range.has_lower = range.has_upper = true;
            storage::EncodeKeyPart(at ? *at : Value::Timestamp(INT64_MIN), TypeId::kTimestamp, &range.lower);
            storage::EncodeKeyPart(at ? *at : Value::Timestamp(cutoff), TypeId::kTimestamp, &range.upper);
            range.upper_inclusive = at != nullptr;
            storage::IndexCursor cursor;
            ordered->ScanRange(range, false, &cursor);
            while (storage::TuplePtr t = cursor.Next()) {
                if (!visit(t)) return;
            }
            return;
        }
        storage::ScanCursor cursor;
        while (storage::TuplePtr t = table->NextLive(&cursor)) {
            const bool match = at ? (table->Read(t, col, &v), !v.is_null() && v.AsInt() == at->AsInt()) : expired(t);
            if (match && !visit(t)) return;
        }
    };
    // A row's identity in a decision: its primary key, or its values.
    storage::Index* pk = table->primary_key();
    auto identity = [&](storage::TuplePtr t, std::string* out) {
        out->clear();
        if (pk) {
            bool has_null;
            pk->BuildKey(t, out, &has_null);
        } else {
            storage::EncodeRow(table->layout(), t, out);
        }
    };
    const bool replaying = decision && !decision->empty();
    if (replaying) {
        // Apply the decision a first run made (and logged): the same rows, whatever order the
        // indexes hold equal TTL values in here. Each must still be due.
        std::vector<std::string_view> ids[2];
        if (!ParseDecision(*decision, &ids[0], &ids[1]) || (!migrate && !ids[1].empty())) {
            return Status(ErrorCode::kInvalidParameter, "@TtlDelete: the decision parameter is malformed");
        }
        absl::flat_hash_set<storage::TuplePtr> chosen;
        std::string scratch;
        std::vector<Value> values(def->columns.size());
        for (int k = 0; k < 2; ++k) {
            for (std::string_view id : ids[k]) {
                storage::TuplePtr found = nullptr;
                if (pk) {
                    found = pk->FindUnique(id);
                    if (found && chosen.contains(found)) found = nullptr;
                } else {
                    size_t pos = 0;
                    if (storage::DecodeRow(table->layout(), id, &pos, values.data()) && pos == id.size() &&
                        !values[static_cast<size_t>(col)].is_null()) {
                        walk(&values[static_cast<size_t>(col)], [&](storage::TuplePtr t) {
                            if (chosen.contains(t)) return true;
                            identity(t, &scratch);
                            if (scratch == id) found = t;
                            return found == nullptr;
                        });
                    }
                }
                const uint64_t mark = found ? table->Mark(found) : 0;
                const bool due = found && expired(found) &&
                                 (k == 0 ? (!migrate || (mark != 0 && mark <= migrated_acked)) : mark == 0);
                if (!due) {
                    return Status(ErrorCode::kInvalidParameter, "@TtlDelete: a row its decision names to " +
                                                                    std::string(k == 0 ? "delete" : "migrate") +
                                                                    " is not in \"" + def->name + "\" or not due");
                }
                chosen.insert(found);
                (k == 0 ? victims : leaving).push_back(found);
            }
        }
    } else {
        // Oldest first, from the first non-NULL value (NULL never expires) up to the cutoff. A
        // marked row has not changed since it expired (an update clears the mark), so none lies
        // past the cutoff. Rows still waiting for their target are stepped over; a pass steps
        // over at most max(kMaxWaitingSteps, 32 x batch) rows, which bounds its time and how many
        // rows of the table wait for the target at once on this partition.
        size_t steps = 0;
        const size_t max_steps = std::max<size_t>(kMaxWaitingSteps, 32 * limit);
        walk(nullptr, [&](storage::TuplePtr t) {
            if (!migrate) {
                victims.push_back(t);
                return victims.size() < limit;
            }
            if (steps++ == max_steps) return false;
            const uint64_t mark = table->Mark(t);
            if (mark == 0) {
                if (leaving.size() < limit) leaving.push_back(t);
            } else if (mark <= migrated_acked && victims.size() < limit) {
                victims.push_back(t);  // its target has it
            }
            return victims.size() < limit || leaving.size() < limit;
        });
    }
    Expired out;
    const size_t mark = st.undo_.Mark();
    try {
        for (storage::TuplePtr t : victims) table->Delete(t, st.undo_);
    } catch (const SqlError& e) {
        st.undo_.UndoTo(mark);
        return e.status();
    }
    out.deleted = victims.size();
    const size_t deleted_mark = st.undo_.Mark();
    try {
        if (!leaving.empty()) {
            const uint32_t channel = st.capture_->ChannelFor(def);
            for (storage::TuplePtr t : leaving) {
                const uint64_t seq = st.capture_->Capture(channel, ExportOp::kMigrate, table->layout(), t, st.txn_id_,
                                                          st.now_micros_, st.undo_);
                table->SetMark(t, seq, st.undo_);
            }
            out.migrated = leaving.size();
        }
    } catch (const SqlError& e) {
        st.undo_.UndoTo(deleted_mark);
        // Over the export budget: the deletes stand, the rows wait for room.
        if (e.status().code() != ErrorCode::kResourceExhausted || replaying) {
            st.undo_.UndoTo(mark);
            return e.status();
        }
    }
    if (decision && !replaying) {
        // The decision, for the command log. Deleted rows stay readable until the commit.
        decision->clear();
        PutRaw<uint32_t>(decision, static_cast<uint32_t>(out.deleted));
        PutRaw<uint32_t>(decision, static_cast<uint32_t>(out.migrated));
        std::string one;
        for (size_t i = 0; i < out.deleted + out.migrated; ++i) {
            identity(i < out.deleted ? victims[i] : leaving[i - out.deleted], &one);
            PutRaw<uint32_t>(decision, static_cast<uint32_t>(one.size()));
            *decision += one;
        }
    }
    return out;
}

void Engine::SetExportCapture(ExportCapture* capture) {
    state_->capture_ = capture;
    state_->RewireViews();
}

void Engine::SetExportTargets(std::shared_ptr<const std::vector<std::string>> targets) {
    state_->export_targets_ = std::move(targets);
}

namespace {

// A direct write to a table (loading a snapshot) in the engine's open transaction.
template <class F>
Status WriteInTransaction(EngineState& st, const char* what, F&& write) {
    if (!st.in_txn_) return Status(ErrorCode::kTransactionState, std::string(what) + " needs an open transaction");
    try {
        write(st.undo_);
    } catch (const SqlError& e) {
        return e.status();
    }
    return Status::Ok();
}

}  // namespace

Status Engine::ClearTable(storage::Table& table) {
    return WriteInTransaction(*state_, "ClearTable", [&](storage::UndoLog& undo) { table.Truncate(undo); });
}

Status Engine::InsertRow(storage::Table& table, const Value* values, uint64_t mark) {
    return WriteInTransaction(*state_, "InsertRow", [&](storage::UndoLog& undo) {
        storage::TuplePtr t = table.Insert(values, undo);
        if (mark != 0 && table.has_marks()) table.LoadMark(t, mark);
    });
}
catalog::CatalogPtr Engine::catalog() const { return state_->catalog_; }
void Engine::BeginHeldDdl() { state_->held_ = EngineState::HeldDdl{state_->catalog_, {}, {}}; }
void Engine::EndHeldDdl() { state_->held_.reset(); }
void Engine::RevertHeldDdl(uint64_t catalog_version) { state_->RevertHeldDdl(catalog_version); }
storage::Table* Engine::FindTable(std::string_view name) { return state_->FindTable(name); }
size_t Engine::memory_bytes() const {
    size_t n = 0;
    for (const auto& [id, e] : state_->tables_) n += e.table->memory_bytes();
    return n;
}

}  // namespace surge::exec
