// Single-partition inference for ad-hoc SQL. An @AdHoc statement runs on one partition, instead
// of parking every partition, when that provably gives the same answer: one statement, on one
// partitioned table (no joins, subqueries or set operations), pinned to one partition value —
// `INSERT ... VALUES` of one row, or a WHERE whose top-level AND has `partition_column = literal
// or ?`. Anything else is multi-partition, which is always correct.
#pragma once

#include <optional>
#include <span>

#include "catalog/catalog.h"
#include "sql/ast.h"
#include "types/value.h"

namespace surge::server {

/// The partition value (converted to the partition column's type) that pins `stmt` to one
/// partition, or nothing when the statement must run multi-partition.
std::optional<Value> SinglePartitionValue(const catalog::Catalog& cat, const sql::Statement& stmt,
                                          std::span<const Value> params);

/// True when `stmt` is a query that reads only replicated tables (through any joins, derived
/// tables, subqueries and set operations): every partition holds all it reads, so any one
/// partition can answer it without stopping the others. Views count as not replicated.
bool ReadsOnlyReplicated(const catalog::Catalog& cat, const sql::Statement& stmt);

}  // namespace surge::server
