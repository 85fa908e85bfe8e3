// How exported rows look at a sink: CSV (RFC 4180) and JSON Lines, each row with its export
// metadata. See docs/streams.md ("Export formats").
//
// CSV columns: txn_id, timestamp, partition, seq, op, then the row's columns (a header line names
// them). JSON: one object per line,
//   {"stream":"s","partition":0,"seq":1,"txn_id":5,"timestamp":"2026-12-01 10:00:00.000000",
//    "op":"INSERT","row":{"col":value,...}}
// NULL is an empty CSV field and JSON null; VARBINARY is hex; TIMESTAMP is UTC text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "exec/export_capture.h"
#include "types/value.h"

namespace surge::exports {

/// One exported row with its metadata, its values decoded.
struct RowView {
    std::string_view stream;
    uint32_t partition = 0;
    uint64_t seq = 0;
    uint64_t txn_id = 0;
    int64_t timestamp = 0;
    exec::ExportOp op = exec::ExportOp::kInsert;
    const std::vector<catalog::ColumnDef>* columns = nullptr;
    const Value* values = nullptr;
};

/// A name as a file name: anything but letters, digits, '_' and '-' becomes '_'.
std::string SafeFileName(std::string_view name);
/// One CSV field: NULL is empty, the empty string is "", fields with , " CR LF are quoted.
void AppendCsvField(const Value& v, std::string* out);
/// The header line of an export CSV file: the metadata columns, then the row's.
std::string ExportCsvHeader(const std::vector<catalog::ColumnDef>& columns);
/// The row as one CSV line (with its newline).
void AppendCsvRow(const RowView& row, std::string* out);
/// A JSON string literal (quotes included; control characters and invalid UTF-8 escaped).
void AppendJsonString(std::string_view s, std::string* out);
/// A value as JSON: numbers as numbers (non-finite floats as strings), NULL as null.
void AppendJsonValue(const Value& v, std::string* out);
/// The row as one JSON Lines object (with its newline).
void AppendJsonRow(const RowView& row, std::string* out);

}  // namespace surge::exports
