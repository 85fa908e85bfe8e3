// Engine: one partition's SQL engine. It owns the catalog version, the partition's tables, the
// plan cache and the open transaction's undo log, and runs statements on the calling thread.
//
// Every statement is atomic: if it fails, its writes are undone and nothing else changes. Outside
// an explicit transaction each statement commits on success (auto-commit). Inside Begin(token) ..
// Commit(token) / Rollback(token), statements accumulate undo that the commit releases or the
// rollback reverts (VoltDB's undo tokens). Only one thread may use an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "sql/plan.h"
#include "types/value.h"

namespace surge::storage {
class Table;
}

namespace surge::exec {

struct ResultColumn {
    std::string name;
    SqlType type;
};

/// A statement's result: a table of values (row-major). DML returns one row with the number of
/// modified tuples in column "modified_tuples"; DDL returns no columns.
class ResultSet {
  public:
    std::vector<ResultColumn> columns;
    std::vector<Value> values;

    size_t column_count() const { return columns.size(); }
    size_t row_count() const { return columns.empty() ? 0 : values.size() / columns.size(); }
    const Value& at(size_t row, size_t col) const { return values[row * columns.size() + col]; }
    /// Tuples changed by a DML statement, or -1 for other statements.
    int64_t modified_tuples() const;
    void Clear() {
        columns.clear();
        values.clear();
    }
};

class PreparedStatement;
class EngineState;
class ExportCapture;
class PartitionRouter;

class Engine {
  public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Parses, plans (through the plan cache) and runs one or more `;`-separated statements;
    /// out receives the last statement's result. Stops at the first error (earlier statements
    /// of the text stay applied, as separate statements).
    Status Execute(std::string_view sql, ResultSet* out, std::span<const Value> params = {});

    /// Plans one statement for repeated execution. Re-plans by itself after a schema change.
    Result<std::shared_ptr<PreparedStatement>> Prepare(std::string_view sql);
    Status Execute(PreparedStatement& stmt, std::span<const Value> params, ResultSet* out);

    /// Runs a procedure defined by CREATE PROCEDURE.
    Status ExecuteProcedure(std::string_view name, std::span<const Value> params, ResultSet* out);

    /// Explicit transactions. Tokens must increase; Commit/Rollback name the open one.
    Status Begin(uint64_t undo_token);
    Status Commit(uint64_t undo_token);
    Status Rollback(uint64_t undo_token);
    bool in_transaction() const;
    /// True when the open transaction has changed a row so far (its undo log is not empty): a
    /// transaction that commits with this false changed nothing and is not command-logged.
    bool transaction_wrote() const;

    /// Makes this the engine of partition `partition` under `router`: an insert or update of a
    /// partitioned table whose row belongs to another partition fails (kConstraintViolation).
    void SetPartition(uint32_t partition, const PartitionRouter* router);

    /// The transaction timestamp NOW/CURRENT_TIMESTAMP return (microseconds since the epoch).
    /// Set by the layer above per transaction; never read from the wall clock here.
    void SetTimestamp(int64_t micros);
    /// The transaction id the rows it exports carry (set per transaction by the layer above).
    void SetTransactionId(uint64_t txn_id);
    /// Where this partition's exported changes go (null: nowhere). Rewires the listeners.
    void SetExportCapture(ExportCapture* capture);
    /// The targets CREATE STREAM/TABLE ... EXPORT TO TARGET may name; null accepts any name.
    void SetExportTargets(std::shared_ptr<const std::vector<std::string>> targets);

    catalog::CatalogPtr catalog() const;

    /// Schema changes applied to every partition (by the coordinator): between BeginHeldDdl and
    /// EndHeldDdl, DDL keeps the storage and catalog it replaces, so that RevertHeldDdl can put
    /// this partition back exactly as it was at BeginHeldDdl (publishing that schema as
    /// `catalog_version`, which must exceed every version used so far) when DDL failed on another
    /// partition.
    void BeginHeldDdl();
    void EndHeldDdl();
    void RevertHeldDdl(uint64_t catalog_version);
    /// The partition's storage for a table or view, or nullptr.
    storage::Table* FindTable(std::string_view name);
    /// Inserts one row (values already of the column types) into a table of this partition in the
    /// open transaction, maintaining its indexes and views: loading a snapshot. mark: the row's
    /// migration mark (tables USING TTL ... MIGRATE TO TARGET).
    Status InsertRow(storage::Table& table, const Value* values, uint64_t mark = 0);
    /// Deletes every row of a table of this partition in the open transaction (a view's rows
    /// before a snapshot's are loaded into it).
    Status ClearTable(storage::Table& table);
    /// USING TTL: deletes up to the table's batch size of rows whose TTL column is older than its
    /// TTL before the transaction's timestamp (oldest first when an ordered index leads with the
    /// column), in the open transaction, maintaining indexes, views and export.
    ///
    /// With MIGRATE TO TARGET, expired rows are not deleted at once: up to a batch of them without
    /// a migration mark are exported (op MIGRATE) and marked with their export sequence number,
    /// and up to a batch of marked rows whose mark is at most migrated_acked (the target
    /// acknowledged them) are deleted. When the export backlog is over its disk budget, only the
    /// deletes happen. Through an ordered index, a pass steps over at most max(65536, 32 x batch)
    /// rows that wait for their target (the bound on rows in flight per partition).
    ///
    /// decision: which rows a pass takes depends on the order indexes keep equal TTL values in,
    /// which differs between processes and between replicated copies. Given an empty string, the
    /// pass chooses and writes its choice there (for the command log); given a choice, the pass
    /// applies it instead (replay, the other copies of a replicated table), failing if a row it
    /// names is missing or not due.
    struct Expired {
        uint64_t deleted = 0;
        uint64_t migrated = 0;
    };
    Result<Expired> DeleteExpired(std::string_view table, uint64_t migrated_acked = 0, std::string* decision = nullptr);
    /// Bytes used by all tables (rows, var data, indexes).
    size_t memory_bytes() const;

  private:
    friend class SpanningExecutor;
    std::unique_ptr<EngineState> state_;
};

/// Which partition owns a row of a partitioned table, from its partition column's value (already
/// of the column's type). Implemented by the transaction layer's routing ring.
class PartitionRouter {
  public:
    virtual ~PartitionRouter() = default;
    virtual uint32_t PartitionOf(const Value& partition_value) const = 0;
};

/// Multi-partition execution: runs statements over several partitions' engines as if they were
/// one database. Reads see the union of the partitions' rows of a partitioned table (one copy of
/// a replicated table); inserted rows go to the partition the router names; updates and deletes
/// change each row where it lives (an update may not move a row to another partition); a write
/// to a replicated table runs on every copy and may not read partitioned tables. Each statement
/// is atomic across all partitions.
///
/// Every engine must have an open transaction (Begin) when a statement runs; the caller commits
/// or rolls back each of them. Only one thread may use the engines meanwhile: the caller owns
/// them (the coordinator, while their partition threads are parked). Schema changes go to each
/// engine directly, not through here.
class SpanningExecutor {
  public:
    /// partitions[i] is partition i; router maps partition values to indexes into partitions.
    SpanningExecutor(std::vector<Engine*> partitions, const PartitionRouter* router);
    ~SpanningExecutor();
    SpanningExecutor(const SpanningExecutor&) = delete;
    SpanningExecutor& operator=(const SpanningExecutor&) = delete;

    /// One or more `;`-separated DML or query statements; out receives the last one's result.
    Status Execute(std::string_view sql, ResultSet* out, std::span<const Value> params = {});
    /// The plan of a statement as multi-partition execution runs it.
    Result<std::string> Explain(std::string_view sql);

  private:
    std::unique_ptr<EngineState> state_;
};

/// A planned statement. Holds its operator tree so repeated executions allocate nothing once warm.
class PreparedStatement {
  public:
    ~PreparedStatement();
    const std::string& sql() const { return sql_; }
    int param_count() const;
    const std::vector<SqlType>& param_types() const;
    const std::vector<ResultColumn>& columns() const;
    bool read_only() const;
    /// EXPLAIN text of the plan (empty for DDL).
    std::string Explain() const;

  private:
    friend class EngineState;
    PreparedStatement() = default;
    struct Impl;
    std::string sql_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace surge::exec
