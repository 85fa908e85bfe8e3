// Drives an exec::Engine through a sqllogictest script. One Engine per file keeps files
// independent (each starts with an empty catalog) and returns the file's memory when it ends.
#include "slt/slt_runner.h"

#include <cctype>
#include <exception>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
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

// The table an INSERT/REPLACE/UPSERT/UPDATE/DELETE statement writes, lower case; empty otherwise.
std::string WrittenTable(const std::string& sql) {
    static const std::regex kWrite(
        R"(^\s*(?:(?:INSERT(?:\s+OR\s+\w+)?|REPLACE|UPSERT)\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+))", std::regex::icase);
    std::smatch m;
    if (!std::regex_search(sql, m, kWrite)) return {};
    std::string t = m[1].str();
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
}

bool MentionsWord(const std::string& sql, const std::string& word) {
    std::string lower = sql;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (size_t at = lower.find(word); at != std::string::npos; at = lower.find(word, at + 1)) {
        bool starts = at == 0 || !is_word(lower[at - 1]);
        bool ends = at + word.size() == lower.size() || !is_word(lower[at + word.size()]);
        if (starts && ends) return true;
    }
    return false;
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
            if (record.kind == RecordKind::kStatement || record.kind == RecordKind::kQuery) {
                if (const DialectRule* rule = SqlRule(record)) {
                    DialectSkip(record, *rule);
                    continue;
                }
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
    const DialectRule* SqlRule(const Record& record) const {
        for (const DialectRule& r : options_.dialect) {
            if (r.has_sql && std::regex_search(record.sql, r.sql)) return &r;
        }
        return nullptr;
    }

    // The rule covering an error the engine gave a record that expected success.
    const DialectRule* ErrorRule(const Status& status) const {
        const std::string text = status.ToString();
        for (const DialectRule& r : options_.dialect) {
            if (r.has_sql || text.find("ERROR " + r.sqlstate + " ") != 0) continue;
            if (r.message.empty() || status.message().find(r.message) != std::string::npos) return &r;
        }
        return nullptr;
    }

    void DialectSkip(const Record& record, const DialectRule& rule) {
        result_.skipped++;
        result_.dialect_skips[rule.name]++;
        if (record.kind == RecordKind::kStatement) {
            std::string table = WrittenTable(record.sql);
            if (!table.empty()) changed_by_skipped_[table] = rule.name;
        }
    }

    // A failed query reading a table that a dialect-skipped statement would have changed.
    bool FollowOn(const Record& record) {
        for (const auto& [table, rule] : changed_by_skipped_) {
            if (MentionsWord(record.sql, table)) {
                result_.skipped++;
                result_.dialect_skips[rule + " (follow-on)"]++;
                return true;
            }
        }
        return false;
    }

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
            } else if (const DialectRule* rule = ErrorRule(status)) {
                DialectSkip(record, *rule);
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
        if (!status.ok()) {
            if (const DialectRule* rule = ErrorRule(status)) return DialectSkip(record, *rule);
            if (FollowOn(record)) return;
            return Fail(record, "query failed: " + status.ToString());
        }
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
        } else if (!FollowOn(record)) {
            // An empty block would vanish from the report; say that it was empty.
            if (cmp.expected.empty()) cmp.expected = "(no rows)";
            if (cmp.actual.empty()) cmp.actual = "(no rows)";
            Fail(record, "wrong result", std::move(cmp.expected), std::move(cmp.actual));
        }
    }

    const RunOptions& options_;
    FileResult result_;
    std::map<std::string, std::string> changed_by_skipped_;  // table -> rule that skipped a write to it
    exec::ResultSet rs_;                                     // reused across records to keep its buffers
    std::vector<std::string> values_;                        // likewise
};

}  // namespace

std::vector<DialectRule> ReadDialectRules(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read dialect rules " + path);
    std::vector<DialectRule> rules;
    std::string line;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
        auto trim = [](std::string t) {
            size_t a = t.find_first_not_of(" \t\r");
            size_t b = t.find_last_not_of(" \t\r");
            return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
        };
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto bad = [&](const std::string& why) {
            throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + why);
        };
        size_t p1 = line.find(" | ");
        size_t p2 = p1 == std::string::npos ? p1 : line.rfind(" | ");
        if (p1 == std::string::npos || p2 == p1) bad("expected 'name | sql <regex> | reason' or 'name | error ...'");
        DialectRule r;
        r.name = trim(line.substr(0, p1));
        std::string match = trim(line.substr(p1 + 3, p2 - p1 - 3));
        r.reason = trim(line.substr(p2 + 3));
        if (r.name.empty() || r.reason.empty()) bad("a rule needs a name and a reason");
        if (match.rfind("sql ", 0) == 0) {
            r.has_sql = true;
            try {
                r.sql = std::regex(trim(match.substr(4)), std::regex::icase);
            } catch (const std::regex_error& e) {
                bad(std::string("bad regex: ") + e.what());
            }
        } else if (match.rfind("error ", 0) == 0) {
            std::string rest = trim(match.substr(6));
            size_t sp = rest.find(' ');
            r.sqlstate = rest.substr(0, sp);
            if (sp != std::string::npos) r.message = trim(rest.substr(sp + 1));
            if (r.sqlstate.size() != 5) bad("expected a five-character SQLSTATE after 'error'");
        } else {
            bad("the match must start with 'sql ' or 'error '");
        }
        rules.push_back(std::move(r));
    }
    return rules;
}

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
