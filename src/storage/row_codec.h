// Row encoding for snapshots: a table row as bytes that do not depend on the tuple layout (slot
// order, alignment), so a snapshot stays readable when the layout code changes.
//
//   [null bitmap: ceil(columns/8) bytes, bit c set = column c is NULL]
//   then, for each non-NULL column in column order, its value in little-endian byte order:
//   TINYINT 1 byte, SMALLINT 2, INTEGER 4, BIGINT/TIMESTAMP 8, FLOAT 8 (IEEE 754 bits),
//   DECIMAL 16 (the raw 128-bit scaled integer), VARCHAR/VARBINARY u32 length + bytes.
//
// Rows are self-delimiting given the column types; a snapshot file stores them back to back in
// checksummed chunks (durability/snapshot.h).
#pragma once

#include <string>
#include <string_view>

#include "storage/tuple.h"
#include "types/value.h"

namespace surge::storage {

/// Appends the encoding of a tuple's values to *out.
void EncodeRow(const TupleLayout& layout, const char* tuple, std::string* out);

/// Decodes one row starting at bytes[*pos] into values[0 .. column_count), advancing *pos past
/// it. False (values unspecified) when the bytes end early or hold an impossible length.
bool DecodeRow(const TupleLayout& layout, std::string_view bytes, size_t* pos, Value* values);

/// A snapshot's row: EncodeRow's bytes, then, in a layout with a migration mark (tuple.h), the
/// mark as 8 little-endian bytes.
void EncodeSnapshotRow(const TupleLayout& layout, const char* tuple, std::string* out);
/// Decodes what EncodeSnapshotRow wrote; *mark is 0 in a layout without a mark.
bool DecodeSnapshotRow(const TupleLayout& layout, std::string_view bytes, size_t* pos, Value* values, uint64_t* mark);

}  // namespace surge::storage
