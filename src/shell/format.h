// Printing result tables: aligned text for people, CSV/TSV/JSON for programs.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "surge/client.h"

namespace surge::shell {

enum class OutputFormat { kTable, kCsv, kTsv, kJson };

/// "table", "csv", "tsv" or "json" (any case).
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);
const char* OutputFormatName(OutputFormat f);

/// Columns a terminal gives `utf8`: wide East Asian characters take two, combining marks none.
/// Invalid UTF-8 bytes count one each.
size_t DisplayWidth(std::string_view utf8);

/// `utf8` cut to at most `width` display columns, ending in "…" when cut.
std::string Clip(std::string_view utf8, size_t width);

/// A cell as the table format shows it: NULL as NULL, control characters escaped (\n, \t, \r,
/// \xNN) so that every row is one line.
std::string CellText(const client::Value& v);

/// True for the numeric SQL types (right-aligned in tables).
bool IsNumericType(std::string_view type);

/// Aligned table: header, rule, rows. Cells wider than `max_width` columns are clipped (0: never).
void WriteAligned(const client::Table& t, size_t max_width, std::ostream& out);
/// CSV with a header line, quoted as RFC 4180 says, lines ending in \n. NULL is an empty field; an empty string is "".
void WriteCsv(const client::Table& t, std::ostream& out);
/// Tab-separated with a header line; NULL is \N; tab, newline, carriage return and backslash are
/// escaped as \t, \n, \r, \\ (PostgreSQL COPY's text format).
void WriteTsv(const client::Table& t, std::ostream& out);
/// A JSON array with one object per row (one row per line). Numbers (decimals too, exactly) are
/// JSON numbers, booleans true/false, NULL null; strings, timestamps and hex bytes are strings.
void WriteJson(const client::Table& t, std::ostream& out);

}  // namespace surge::shell
