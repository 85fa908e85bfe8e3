// Runs sqllogictest scripts against SurgeDB: each file gets a fresh exec::Engine, its records run
// in order, and the outcome is counted per record (passed, failed, skipped) with the details of
// the first failures kept for the report. Parsing and formatting live in slt_script.h.
#pragma once

#include <cstddef>
#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "slt/slt_script.h"

namespace surge::slt {

/// The engine name skipif/onlyif lines refer to.
inline constexpr std::string_view kEngineName = "surgedb";

/// A documented dialect difference (docs/sql-compatibility.md): records it covers are counted as
/// skipped under its name instead of failed. A rule matches either the record's SQL before it
/// runs (the record is not run) or the error the engine gave a record that expected success.
/// Queries that fail later in the same file and read a table that a rule-skipped statement would
/// have changed are counted under "<name> (follow-on)": their expected results assume the change.
struct DialectRule {
    std::string name;
    std::regex sql;  ///< when has_sql: searched in the record's SQL (case-insensitive)
    bool has_sql = false;
    std::string sqlstate;  ///< otherwise: the engine error's SQLSTATE ...
    std::string message;   ///< ... and a fragment of its message (may be empty)
    std::string reason;
};

/// Reads rules, one per line: `name | sql <regex> | reason` or
/// `name | error <SQLSTATE> [message fragment] | reason`; blank lines and # comments are ignored.
/// Throws std::runtime_error naming the line on a malformed rule.
std::vector<DialectRule> ReadDialectRules(const std::string& path);

struct RunOptions {
    std::string engine_name{kEngineName};
    /// Failures kept with details per file; the rest are only counted. Bounds memory when a
    /// large file fails almost everywhere.
    size_t max_failures_kept = 100;
    /// Longest expected/actual block kept in a failure, in lines.
    size_t max_block_lines = 40;
    /// Notes (skipped unknown records, halt) kept per file.
    size_t max_notes_kept = 20;
    std::vector<DialectRule> dialect;
};

struct Failure {
    int line = 0;  ///< line of the record's command
    std::string sql;
    std::string message;   ///< what went wrong, including the engine's error text if any
    std::string expected;  ///< expected block (or error pattern), may be empty
    std::string actual;    ///< result in the expected block's shape, may be empty
};

struct FileResult {
    std::string path;
    int passed = 0;
    int failed = 0;
    int skipped = 0;                           ///< includes dialect_skips
    std::map<std::string, int> dialect_skips;  ///< records skipped per dialect rule name
    std::vector<Failure> failures;             ///< the first RunOptions::max_failures_kept failures
    std::vector<std::string> notes;
};

/// Runs a script's text; path only labels the result.
FileResult RunScript(std::string_view text, std::string path, const RunOptions& options = {});

/// Reads and runs a file. An unreadable file counts as one failure.
FileResult RunFile(const std::string& path, const RunOptions& options = {});

}  // namespace surge::slt
