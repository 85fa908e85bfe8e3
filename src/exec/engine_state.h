// EngineState: the engine's private state and the statement runners shared by engine.cc (DML,
// transactions, plan cache) and ddl.cc (schema changes).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "exec/engine.h"
#include "exec/eval.h"
#include "exec/export_capture.h"
#include "exec/operators.h"
#include "sql/parser.h"
#include "sql/planner.h"
#include "storage/table.h"

namespace surge::exec {

class ViewMaintainer;

struct PreparedStatement::Impl {
    uint64_t catalog_version = 0;
    sql::StmtKind kind;
    bool is_ddl = false;
    sql::ParseResult ddl;  ///< DDL keeps its AST and runs it each time
    sql::PlannedStatement planned;
    std::vector<ResultColumn> columns;
    std::unique_ptr<Operator> root;  ///< query operators (SELECT / INSERT ... SELECT source / DML scan)
    std::unordered_map<const sql::PlanNode*, ExecContext::SubqueryState> subqueries;
    uint64_t executions = 0;
    std::vector<Value> row;
    std::string explain;
    // Scratch reused by every execution of a DML statement, so a warm statement does not allocate.
    std::vector<Value> values;                     ///< the row being written
    std::vector<Value> merged;                     ///< upsert: the existing row merged with the new values
    std::vector<uint8_t> targeted;                 ///< per column: set by the statement (vs default)
    std::string key;                               ///< upsert: encoded primary key
    std::vector<storage::TuplePtr> change_tuples;  ///< UPDATE: rows to change ...
    std::vector<Value> change_values;              ///< ... and their new values, row-major
    std::vector<uint32_t> change_parts;            ///< ... and the table-set index of each
    std::vector<std::shared_ptr<const catalog::TableDef>> merged_views;  ///< to refresh before running
};

/// One table's storage and its view maintainers.
struct TableEntry {
    std::unique_ptr<storage::Table> table;
    storage::Table* raw = nullptr;                             ///< table.get(), addressable as a one-table TableSet
    std::vector<std::unique_ptr<ViewMaintainer>> maintainers;  ///< views whose source this is
    std::unique_ptr<ExportListener> exporter;                  ///< its exported changes
};

class EngineState : public TableResolver {
  public:
    EngineState();
    ~EngineState() override;

    TableSet Resolve(const catalog::TableDef& def) override;
    /// This partition's own storage for def.
    storage::Table* ResolveOne(const catalog::TableDef& def);
    storage::Table* FindTable(std::string_view name);

    Status ExecuteText(std::string_view sql, ResultSet* out, std::span<const Value> params);
    Result<std::shared_ptr<PreparedStatement>> Prepare(std::string_view sql);
    Status ExecutePrepared(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out);
    Status ExecuteProcedure(std::string_view name, std::span<const Value> params, ResultSet* out);

    Status Begin(uint64_t token);
    Status Commit(uint64_t token);
    Status Rollback(uint64_t token);

    catalog::CatalogPtr catalog_;
    std::unordered_map<uint64_t, TableEntry> tables_;  ///< by TableDef id
    storage::UndoLog undo_;
    bool in_txn_ = false;
    uint64_t txn_token_ = 0;
    uint64_t last_token_ = 0;
    int64_t now_micros_ = 0;
    uint64_t txn_id_ = 0;  ///< the transaction id exported rows carry
    ExportCapture* capture_ = nullptr;
    /// The export targets CREATE may name (null: any, as while recovery replays the schema).
    std::shared_ptr<const std::vector<std::string>> export_targets_;
    uint64_t executions_ = 0;

    // Plan cache of ad-hoc statements (text -> prepared), cleared when it grows past its cap.
    struct TextHash {
        using is_transparent = void;  // find(std::string_view) without building a std::string
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::shared_ptr<PreparedStatement>, TextHash, std::equal_to<>> plan_cache_;
    static constexpr size_t kPlanCacheCap = 1000;
    std::unordered_map<std::string, std::shared_ptr<PreparedStatement>> procedure_cache_;

    // Held DDL (a schema change applied to every partition): what this partition's statements
    // replaced, so RevertHeldDdl can restore it exactly if another partition fails.
    struct HeldDdl {
        catalog::CatalogPtr catalog;                                                   ///< before
        std::vector<std::pair<uint64_t, std::unique_ptr<storage::Table>>> old_tables;  ///< replaced or dropped
        std::vector<uint64_t> new_tables;                                              ///< created
    };
    std::optional<HeldDdl> held_;
    /// Installs `storage` as table id's storage, keeping the storage it replaces when held (else
    /// destroying it). A null storage drops the table.
    void SetStorage(uint64_t id, std::unique_ptr<storage::Table> storage);
    void RevertHeldDdl(uint64_t version);

    // Multi-partition execution (SpanningExecutor): this state owns no tables; it plans against
    // partition 0's catalog and reaches every partition's storage and undo log through parts_.
    std::vector<EngineState*> parts_;
    const PartitionRouter* router_ = nullptr;
    /// A partition's own engine (SetPartition): rows it writes to partitioned tables must route
    /// here; a write that belongs elsewhere fails instead of hiding in the wrong partition.
    std::optional<uint32_t> own_partition_;
    std::unordered_map<uint64_t, std::vector<storage::Table*>> span_sets_;  ///< by table id
    uint64_t span_sets_version_ = UINT64_MAX;
    std::vector<size_t> span_marks_;
    /// Views over a partitioned table that do not group by its partition column: each
    /// partition's view holds partial groups. Multi-partition reads see a merged copy, rebuilt
    /// before each statement that reads it (by table id; the copy's address stays stable).
    std::unordered_map<uint64_t, std::unique_ptr<storage::Table>> merged_views_;
    std::vector<std::shared_ptr<const catalog::TableDef>> resolved_merged_;  ///< since the last Adopt
    bool running_ = false;  ///< a statement is executing (not being planned)
    void RefreshMergedView(const catalog::TableDef& def);
    /// Resolve found a merged view: remember it for the statement, refreshing it if running.
    void NoteMergedView(const catalog::TableDef& def);
    /// Moves the merged views resolved so far into the statement's refresh list.
    void AdoptMergedViews(PreparedStatement::Impl& p);
    bool spanning() const { return !parts_.empty(); }
    /// The undo log of the table-set index `part` of a statement's target.
    storage::UndoLog& UndoFor(size_t part) { return spanning() ? parts_[part]->undo_ : undo_; }
    /// Checks the partitions are in step (same catalog version, all in a transaction) and adopts
    /// partition 0's catalog.
    void SyncSpanning();
    /// A write to a replicated table in multi-partition execution: the statement runs on every
    /// partition's copy.
    void RunOnEveryCopy(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out);

  private:
    friend class Engine;
    friend class SpanningExecutor;
    /// Builds a prepared statement from one parsed statement.
    std::shared_ptr<PreparedStatement> Build(std::string sql, sql::ParseResult parsed, size_t index);
    void Replan(PreparedStatement& stmt);
    void Run(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out);
    void RunQuery(PreparedStatement::Impl& p, ExecContext& ctx, ResultSet* out);
    /// After a run: the statement's operators (and its subqueries') give back large buffers.
    void TrimOperators(PreparedStatement::Impl& p);
    int64_t RunInsert(PreparedStatement::Impl& p, ExecContext& ctx);
    int64_t RunUpdate(PreparedStatement::Impl& p, ExecContext& ctx);
    int64_t RunDelete(PreparedStatement::Impl& p, ExecContext& ctx);

  public:
    // ddl.cc
    void RunDdl(const sql::Statement& stmt, ResultSet* out);
    void CreateTable(const sql::CreateTableStatement& s);
    void DropTable(const sql::DropTableStatement& s);
    void CreateIndex(const sql::CreateIndexStatement& s);
    void DropIndex(const sql::DropIndexStatement& s);
    void AlterTable(const sql::AlterTableStatement& s);
    void PartitionTable(const sql::PartitionTableStatement& s);
    void CreateView(const sql::CreateViewStatement& s);
    void CreateMaterializedView(const sql::CreateViewStatement& s);
    void CreateQueryView(const sql::CreateViewStatement& s);
    void CreateProcedure(const sql::CreateProcedureStatement& s);
    void CreateNativeProcedure(const sql::CreateProcedureStatement& s);
    void SetProcedurePartition(const sql::CreateProcedureStatement& s, catalog::ProcedureDef* def);
    void DropProcedure(const sql::DropProcedureStatement& s);
    /// Creates storage for a table definition with its indexes, copying rows from `from` (which
    /// may have other columns: column_map[i] = source column of new column i, or -1 for default).
    std::unique_ptr<storage::Table> BuildStorage(const catalog::Catalog& cat, const catalog::TableDef& def,
                                                 storage::Table* from, const std::vector<int>& column_map);
    /// Publishes `next` after rebuilding table `name`'s storage from its current rows
    /// (column_map as for BuildStorage; empty = same columns).
    void RebuildTable(catalog::CatalogPtr next, const std::string& name, std::vector<int> column_map);
    /// Re-creates view maintainers for every source table (after any DDL).
    void RewireViews();
    void Publish(catalog::CatalogPtr next);
};

}  // namespace surge::exec
