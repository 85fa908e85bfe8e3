// Drives an exec::Engine through a sqllogictest script. One Engine per file keeps files
// independent (each starts with an empty catalog) and returns the file's memory when it ends.
#include "slt/slt_runner.h"

#include <exception>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>

#include "common/status.h"
#include "exec/engine.h"

namespace surge::slt {
namespace {

// Engine::Execute reports errors as a Status; an exception escaping it is an engine bug, but one
// bug must not end the whole run, so it becomes a failed record.
Status RunSql(exec::Engine& engine, const std::string& sql, exec::ResultSet* out) {
    out->Clear();
    try {
        return engine.Execute(sql, out);
    } catch (const std::exception& e) {
        return Status(ErrorCode::kInternal, std::string("exception escaped Engine::Execute: ") + e.what());
    }
}

// The pattern after "statement error" is first tried as plain text (most patterns are message
// fragments with regex metacharacters such as parentheses), then as a regular expression.
bool ErrorMatches(const Status& status, const std::string& pattern) {
    if (pattern.empty()) return true;
    std::string text = status.ToString();
    if (text.find(pattern) != std::string::npos || status.message().find(pattern) != std::string::npos) return true;
    try {
        return std::regex_search(text, std::regex(pattern));
    } catch (const std::regex_error&) {
        return false;
    }
}

class FileRun {
  public:
    FileRun(std::string path, const RunOptions& options) : options_(options) { result_.path = std::move(path); }

    void Run(std::string_view text) {
        exec::Engine engine;
        ScriptParser parser(text);
        Record record;
        while (parser.Next(&record)) {
            if (!ShouldRun(record, options_.engine_name)) {
                // Only statements and queries are tests; a guarded halt or hash-threshold is not.
                if (record.kind == RecordKind::kStatement || record.kind == RecordKind::kQuery) result_.skipped++;
                continue;
            }
            switch (record.kind) {
                case RecordKind::kStatement:
                    RunStatement(engine, record);
                    break;
                case RecordKind::kQuery:
                    RunQuery(engine, record);
                    break;
                case RecordKind::kHashThreshold:
                    // The expected block's own form ("N values hashing to H" or the values)
                    // decides how a query is compared, so the threshold needs no state here.
                    if (!record.parse_error.empty()) Fail(record, record.parse_error);
                    break;
                case RecordKind::kHalt:
                    Note(record, "halt");
                    return;
                case RecordKind::kUnknown:
                    result_.skipped++;
                    Note(record, "unknown record type '" + record.command + "' skipped");
                    break;
            }
        }
    }

    FileResult Take() { return std::move(result_); }

    void Fail(const Record& record, std::string message, std::string expected = {}, std::string actual = {}) {
        result_.failed++;
        if (result_.failures.size() >= options_.max_failures_kept) return;
        Failure f;
        f.line = record.line;
        f.sql = record.sql;
        f.message = std::move(message);
        f.expected = TruncateLines(expected, options_.max_block_lines);
        f.actual = TruncateLines(actual, options_.max_block_lines);
        result_.failures.push_back(std::move(f));
    }

  private:
    void Note(const Record& record, const std::string& text) {
        if (result_.notes.size() < options_.max_notes_kept) {
            result_.notes.push_back("line " + std::to_string(record.line) + ": " + text);
        }
    }

    void RunStatement(exec::Engine& engine, const Record& record) {
        if (!record.parse_error.empty()) return Fail(record, record.parse_error);
        Status status = RunSql(engine, record.sql, &rs_);
        if (!record.expect_error) {
            if (status.ok()) {
                result_.passed++;
            } else {
                Fail(record, "statement failed: " + status.ToString());
            }
            return;
        }
        if (status.ok()) return Fail(record, "statement succeeded but an error was expected", record.error_pattern);
        if (!ErrorMatches(status, record.error_pattern)) {
            return Fail(record, "statement failed with another error", record.error_pattern, status.ToString());
        }
        result_.passed++;
    }

    void RunQuery(exec::Engine& engine, const Record& record) {
        if (!record.parse_error.empty()) return Fail(record, record.parse_error);
        Status status = RunSql(engine, record.sql, &rs_);
        if (!status.ok()) return Fail(record, "query failed: " + status.ToString());
        size_t columns = rs_.column_count();
        if (columns != record.types.size()) {
            return Fail(record, "query returned " + std::to_string(columns) + " columns, type string '" + record.types +
                                    "' has " + std::to_string(record.types.size()));
        }
        values_.clear();
        values_.reserve(rs_.values.size());
        for (size_t r = 0; r < rs_.row_count(); r++) {
            for (size_t c = 0; c < columns; c++) values_.push_back(FormatValue(rs_.at(r, c), record.types[c]));
        }
        SortValues(record.sort, columns, &values_);
        // A query without "----" only has to run, as in the reference's verify mode.
        if (!record.has_expected) {
            result_.passed++;
            return;
        }
        Comparison cmp = CompareResult(record.expected, values_, columns);
        if (cmp.match) {
            result_.passed++;
        } else {
            // An empty block would vanish from the report; say that it was empty.
            if (cmp.expected.empty()) cmp.expected = "(no rows)";
            if (cmp.actual.empty()) cmp.actual = "(no rows)";
            Fail(record, "wrong result", std::move(cmp.expected), std::move(cmp.actual));
        }
    }

    const RunOptions& options_;
    FileResult result_;
    exec::ResultSet rs_;               // reused across records to keep its buffers
    std::vector<std::string> values_;  // likewise
};

}  // namespace

FileResult RunScript(std::string_view text, std::string path, const RunOptions& options) {
    FileRun run(std::move(path), options);
    try {
        run.Run(text);
    } catch (const std::exception& e) {
        // Engine construction or teardown threw: report it against the file, keep the counts so far.
        Record whole_file;
        run.Fail(whole_file, std::string("exception while running the file: ") + e.what());
    }
    return run.Take();
}

FileResult RunFile(const std::string& path, const RunOptions& options) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) {
        FileResult result;
        result.path = path;
        result.failed = 1;
        result.failures.push_back(Failure{0, "", "cannot read file", "", ""});
        return result;
    }
    return RunScript(text.str(), path, options);
}

}  // namespace surge::slt
