// The catalog: definitions of tables, columns, indexes, materialized views and procedures.
//
// A Catalog is immutable. A DDL statement copies the current version, changes the copy and
// publishes it with version + 1; readers keep the shared_ptr they started with, so a plan always
// sees one consistent schema. Definitions are shared between versions (shared_ptr<const ...>), so
// a new version costs one map copy, not a deep copy. Names are stored as written after case
// folding (unquoted identifiers fold to lower case); lookups use the folded name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "types/types.h"
#include "types/value.h"

namespace surge::catalog {

struct ColumnDef {
    std::string name;
    SqlType type;
    bool nullable = true;
    /// DEFAULT value, already coerced to the column type; absent = NULL default.
    std::optional<Value> default_value;
};

enum class IndexKind : uint8_t { kOrdered, kHash };
enum class Uniqueness : uint8_t { kNone, kUnique, kAssumeUnique, kPrimaryKey };

/// One part of an index key: a column, or an expression over the table's columns kept as SQL
/// text (the engine parses and binds it when it builds the index).
struct IndexKeyPart {
    int column = -1;         ///< >= 0 for a column key part
    std::string expression;  ///< SQL text when column < 0
    SqlType type;            ///< type of the key part
    /// Declared DESC. Recorded for the catalog's description only: ordered indexes are stored
    /// ascending and scanned in either direction, so direction changes no lookup or range.
    bool descending = false;
};

struct IndexDef {
    std::string name;
    std::string table;
    IndexKind kind = IndexKind::kOrdered;
    Uniqueness uniqueness = Uniqueness::kNone;
    std::vector<IndexKeyPart> key;

    bool unique() const { return uniqueness != Uniqueness::kNone; }
    bool is_primary_key() const { return uniqueness == Uniqueness::kPrimaryKey; }
    bool columns_only() const;
};

/// Aggregates a materialized view may maintain.
enum class ViewAggKind : uint8_t { kCountStar, kCount, kSum, kMin, kMax };

/// A materialized view: SELECT g1.., agg.. FROM source [WHERE ...] GROUP BY g1..
/// Its rows live in a table of the same name whose first group_by.size() columns are the group
/// keys (with a unique index on them) and whose remaining columns are the aggregates.
struct ViewDef {
    std::string source_table;
    std::string sql;            ///< the full CREATE VIEW text, for describe and re-planning
    std::string where_sql;      ///< WHERE predicate text over source columns, empty if none
    std::vector<int> group_by;  ///< source column of each group key
    struct Agg {
        ViewAggKind kind;
        int column = -1;  ///< source column (-1 for COUNT(*))
    };
    std::vector<Agg> aggregates;
};

inline constexpr uint8_t kExportInsert = 1, kExportDelete = 2, kExportUpdate = 4;

struct TableDef {
    std::string name;
    std::vector<ColumnDef> columns;
    std::vector<std::string> indexes;     ///< names of its indexes, primary key first if any
    std::optional<int> partition_column;  ///< set by PARTITION TABLE; absent = replicated
    std::shared_ptr<const ViewDef> view;  ///< set when this table holds a materialized view
    /// A stream (CREATE STREAM): insert-only, keeps no rows; its inserts reach its views and, with
    /// export_target set, its export target (docs/adr/0011-streams-and-export.md).
    bool stream = false;
    std::string export_target;  ///< empty: exports nothing
    /// Which changes go to export_target (bits of kExportInsert...): a stream exports its inserts;
    /// a table those its EXPORT clause names.
    uint8_t export_ops = 0;
    /// USING TTL: rows whose `column` is older than `micros` before the transaction's NOW() are
    /// deleted in batches of batch_size (docs/streams.md, "Time to live").
    struct Ttl {
        int64_t micros = 0;
        std::string column;  ///< by name: ALTER TABLE may move it
        uint32_t batch_size = 1000;
        /// MIGRATE TO TARGET: expired rows are exported (op MIGRATE) to this target and deleted
        /// once it acknowledged them; empty: deleted at once. Rows carry a migration mark
        /// (storage/tuple.h). The table's export_target is this target too.
        std::string migrate_target;
    };
    std::optional<Ttl> ttl;
    uint64_t id = 0;  ///< unique per table incarnation (a dropped and re-created table differs)

    int FindColumn(std::string_view folded_name) const;  ///< -1 if absent
    bool is_view() const { return view != nullptr; }
    bool is_stream() const { return stream; }
};

/// "MATERIALIZED VIEW", "PARTITIONED", "REPLICATED", "PARTITIONED STREAM" or "REPLICATED STREAM"
/// (catalog and statistics listings).
const char* TableType(const TableDef& t);

/// A view that is not materialized: its query is planned in place of its name, like a derived
/// table, whenever a statement that reads it is planned. Nothing is stored; the tables it reads
/// are looked up then, so a view whose tables were dropped or changed fails when it is used.
struct QueryViewDef {
    std::string name;
    std::string sql;                        ///< the full CREATE VIEW text (parsed when planned)
    std::vector<std::string> column_names;  ///< the view's column list, empty if none was given
};

struct ProcedureDef {
    std::string name;
    std::string sql;  ///< the statement a SQL procedure runs (empty for a native procedure)
    /// A native procedure: the shared library and the class in it (see include/surge/procedure.h).
    std::string library;
    std::string class_name;
    std::optional<std::string> partition_table;
    std::optional<std::string> partition_column;
    int partition_parameter = 0;  ///< which ? parameter carries the partition key

    bool is_native() const { return !library.empty(); }
};

class Catalog;
using CatalogPtr = std::shared_ptr<const Catalog>;

class Catalog {
  public:
    /// Version 1: the empty catalog.
    static CatalogPtr Empty();

    uint64_t version() const { return version_; }
    std::shared_ptr<const TableDef> FindTable(std::string_view name) const;
    std::shared_ptr<const IndexDef> FindIndex(std::string_view name) const;
    std::shared_ptr<const ProcedureDef> FindProcedure(std::string_view name) const;
    std::shared_ptr<const QueryViewDef> FindQueryView(std::string_view name) const;
    const std::map<std::string, std::shared_ptr<const TableDef>, std::less<>>& tables() const { return tables_; }
    const std::map<std::string, std::shared_ptr<const IndexDef>, std::less<>>& indexes() const { return indexes_; }
    const std::map<std::string, std::shared_ptr<const ProcedureDef>, std::less<>>& procedures() const {
        return procedures_;
    }
    const std::map<std::string, std::shared_ptr<const QueryViewDef>, std::less<>>& query_views() const {
        return query_views_;
    }
    /// Whether a table, materialized view or query view has this name (they share one namespace).
    bool HasRelation(std::string_view name) const { return tables_.count(name) || query_views_.count(name); }
    /// Materialized views whose source is the given table.
    std::vector<std::shared_ptr<const TableDef>> ViewsOn(std::string_view table) const;
    std::vector<std::shared_ptr<const IndexDef>> IndexesOf(const TableDef& table) const;

    /// Starts the next version from this one.
    class Builder;
    Builder Edit() const;

  private:
    uint64_t version_ = 1;
    uint64_t next_table_id_ = 1;
    std::map<std::string, std::shared_ptr<const TableDef>, std::less<>> tables_;
    std::map<std::string, std::shared_ptr<const IndexDef>, std::less<>> indexes_;
    std::map<std::string, std::shared_ptr<const ProcedureDef>, std::less<>> procedures_;
    std::map<std::string, std::shared_ptr<const QueryViewDef>, std::less<>> query_views_;
};

/// Mutable copy of a catalog; Build() publishes it as version + 1. Methods throw SqlError with
/// kDuplicateObject / kUndefinedTable when a name is taken or missing.
class Catalog::Builder {
  public:
    explicit Builder(const Catalog& base);

    /// Adds a table (id assigned here). Index names listed in def.indexes must be added too.
    void AddTable(TableDef def);
    void ReplaceTable(TableDef def);        ///< same name, keeps id unless def.id is 0
    void DropTable(std::string_view name);  ///< also drops its indexes
    void AddIndex(IndexDef def);            ///< appends to its table's index list
    void DropIndex(std::string_view name);
    void AddProcedure(ProcedureDef def);
    void DropProcedure(std::string_view name);
    void AddQueryView(QueryViewDef def);
    void DropQueryView(std::string_view name);

    const Catalog& current() const { return next_; }
    /// Publishes with this version instead of base + 1 (restoring an earlier schema under a new
    /// version number, so nothing planned against a discarded version looks current).
    void set_version(uint64_t v) { next_.version_ = v; }
    CatalogPtr Build();

  private:
    Catalog next_;
};

}  // namespace surge::catalog
