// The procedure runtime: what a procedure name means against a catalog version, and how its
// parameters route it. Three families:
//   - SQL procedures from DDL (CREATE PROCEDURE name [PARTITION ON TABLE t COLUMN c [PARAMETER n]]
//     AS <statement>);
//   - default CRUD procedures of every table with a primary key: t.insert, t.select, t.update,
//     t.upsert, t.delete (VoltDB's; parameters in docs/procedures.md);
//   - system procedures, whose names start with '@' (@AdHoc, @Ping, @SystemCatalog, @Explain,
//     @ExplainProc, @Statistics, @Shutdown); the server runs them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "exec/engine.h"
#include "types/value.h"

namespace surge::proc {

/// A resolved call.
struct CallPlan {
    enum class Kind {
        kStatement,  ///< a SQL or CRUD procedure: run `sql` with the call's parameters
        kSystem,     ///< a system procedure: the server runs `name`
        kNative,     ///< a native (C++) procedure: the server runs `name`'s instance (proc/native.h)
    };
    Kind kind = Kind::kStatement;
    std::string name;  ///< as the catalog spells it (system procedures: as listed above)
    std::string sql;
    /// Single-partition calls: the parameter whose value picks the partition, and the partition
    /// column's type (the value is converted to it before routing). Absent: multi-partition.
    std::optional<size_t> partition_param;
    SqlType partition_type;
    /// The partitioned table the statement works on (for the mispartitioned-row check).
    std::string partition_table;
    bool read_only = false;
    /// A procedure from CREATE PROCEDURE (not CRUD or system): the executor checks, when the call
    /// runs, that its definition is still the one resolved here.
    bool defined = false;
};

/// True when `cat` still defines `plan`'s procedure as it was resolved (not dropped, not
/// replaced by another definition in the meantime). Always true for CRUD and system calls.
bool StillDefined(const catalog::Catalog& cat, const CallPlan& plan);

/// Resolves a procedure name (system procedure names are case-insensitive; others fold like
/// identifiers). kUndefinedFunction when there is no such procedure.
Result<CallPlan> ResolveCall(const catalog::Catalog& cat, std::string_view name);

/// The routing value of a single-partition call: its partition parameter converted to the
/// partition column's type. kInvalidParameter when the parameter is missing or does not convert.
Result<Value> PartitionValue(const CallPlan& plan, std::span<const Value> params);

/// @SystemCatalog selectors: TABLES, COLUMNS, INDEXES, PROCEDURES, VIEWS. kInvalidParameter for
/// another selector.
Status SystemCatalog(const catalog::Catalog& cat, std::string_view selector, exec::ResultSet* out);

/// The system procedures, for error messages and the shell's completion.
const std::vector<std::string>& SystemProcedureNames();

}  // namespace surge::proc
