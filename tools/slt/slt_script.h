// The engine-free half of surge-slt: reading sqllogictest scripts into records, formatting result
// values the way the reference runner (SQLite's sqllogictest) prints them, sorting and hashing
// them, and comparing them with a record's expected block. Nothing here needs an Engine, so the
// unit tests cover it without linking the executor; slt_runner.h drives an Engine with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "types/value.h"

namespace surge::slt {

enum class RecordKind : uint8_t {
    kStatement,      ///< statement ok | statement error [pattern]
    kQuery,          ///< query <types> [sort] [label]
    kHashThreshold,  ///< hash-threshold N
    kHalt,           ///< halt: stop the file here
    kUnknown,        ///< any other first word; the runner skips it with a note
};

enum class SortMode : uint8_t { kNoSort, kRowSort, kValueSort };

/// A `skipif <engine>` or `onlyif <engine>` line in front of a record.
struct Condition {
    bool skip_if = false;  ///< true for skipif, false for onlyif
    std::string engine;
};

/// One record of a script. Fields not used by a kind stay at their defaults.
struct Record {
    RecordKind kind = RecordKind::kUnknown;
    int line = 0;         ///< 1-based line of the record's command (after its conditions)
    std::string command;  ///< the command line's first word, for notes on unknown records
    std::vector<Condition> conditions;
    std::string sql;  ///< statement/query text, lines joined by '\n'
    bool expect_error = false;
    std::string error_pattern;  ///< statement error: required message substring or regex (may be empty)
    std::string types;          ///< query: one of 'I', 'R', 'T' per column
    SortMode sort = SortMode::kNoSort;
    std::string label;
    bool has_expected = false;          ///< the query had a "----" line
    std::vector<std::string> expected;  ///< lines after "----" (comments and '\r' removed)
    int hash_threshold = 0;             ///< hash-threshold value
    std::string parse_error;            ///< non-empty: the record is malformed and counts as failed
};

/// Reads records one at a time so a multi-megabyte script never has to be held as records at once.
/// Follows the reference reader: records are separated by blank (or all-space) lines, lines that
/// start with '#' are comments wherever they appear, and a trailing '\r' is dropped.
class ScriptParser {
  public:
    /// text must outlive the parser.
    explicit ScriptParser(std::string_view text) : text_(text) {}

    /// Fills *out with the next record; false at the end of the script.
    bool Next(Record* out);

  private:
    /// Next non-comment line, or nullopt at the end. Blank lines come back as "".
    std::optional<std::string_view> NextLine();
    void ParseCommand(const std::vector<std::string_view>& tokens, std::string_view line, Record* out);
    /// Reads SQL lines up to a blank line or "----"; consumes the "----" and returns whether it was seen.
    bool ReadSql(Record* out);
    void ReadExpected(std::vector<std::string>* out);

    std::string_view text_;
    size_t pos_ = 0;
    int line_no_ = 0;
};

/// Convenience for tests and small scripts: every record of text.
std::vector<Record> ParseScript(std::string_view text);

/// Splits on ASCII whitespace.
std::vector<std::string_view> SplitWords(std::string_view line);

/// Whether a record's skipif/onlyif lines let it run on the engine called engine_name
/// (names compare case-insensitively, as in the reference).
bool ShouldRun(const Record& record, std::string_view engine_name);

/// Formats one value for a column of type letter 'I', 'R' or 'T', as the reference's SQLite
/// driver does: NULL is "NULL"; I is the integer (reals truncate toward zero, text converts by its
/// leading integer prefix); R is "%.3f"; T is the text, "(empty)" when empty, with every byte
/// outside 0x20..0x7e printed as '@'. Booleans print as 1/0 everywhere since SQLite, which produced
/// the expected results, has no boolean type. Unknown letters format as 'T'.
std::string FormatValue(const Value& value, char type);

/// Replaces bytes outside 0x20..0x7e by '@' and the empty string by "(empty)".
std::string SanitizeText(std::string_view text);

/// Sorts formatted values in place: rowsort orders rows of `columns` values by comparing their
/// values in column order (strcmp each, as the reference's rowCompare); valuesort orders every
/// value on its own; nosort leaves them.
void SortValues(SortMode mode, size_t columns, std::vector<std::string>* values);

/// Lower-case hex MD5 of the values, each followed by "\n" (the reference's result hash).
std::string HashValues(const std::vector<std::string>& values);

/// "<n> values hashing to <md5>" for the values.
std::string HashLine(const std::vector<std::string>& values);

/// Parses "<n> values hashing to <md5>" (also "1 value hashing to"); false if line is not one.
bool ParseHashLine(std::string_view line, size_t* count, std::string* hash);

/// Outcome of comparing a query's result with its expected block.
struct Comparison {
    bool match = false;
    std::string expected;  ///< the expected block as text, for failure reports
    std::string actual;    ///< the result in the same shape, for failure reports
};

/// Compares formatted, already sorted values (row-major, `columns` per row) with expected lines.
/// A single "N values hashing to H" line compares count and hash whatever the hash threshold, so
/// a script's expected block, not the threshold, decides the form. Otherwise the lines must
/// equal the values one per line, or, when there are as many lines as rows, each row's values
/// joined by single spaces (the older one-row-per-line layout). A failed hash comparison's
/// actual text is the hash line followed by the rows, one per line.
Comparison CompareResult(const std::vector<std::string>& expected, const std::vector<std::string>& values,
                         size_t columns);

/// Keeps the first max_lines lines of text and says how many were dropped, so a failure report
/// of a large result stays readable.
std::string TruncateLines(const std::string& text, size_t max_lines);

}  // namespace surge::slt
