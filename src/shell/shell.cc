#include "shell/shell.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "shell/args.h"

namespace surge::shell {
namespace {

constexpr int kMaxFileDepth = 16;

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Splits "word rest" at the first blank.
std::pair<std::string, std::string> Head(std::string_view text) {
    text = Trim(text);
    size_t i = 0;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    return {std::string(text.substr(0, i)), std::string(Trim(text.substr(i)))};
}

int ColumnIndex(const client::Table& t, std::string_view name) {
    for (size_t c = 0; c < t.column_names.size(); ++c) {
        if (t.column_names[c] == name) return static_cast<int>(c);
    }
    return -1;
}

// A table of the given columns from rows of `t` that `keep` accepts.
template <typename Keep>
client::Table Project(const client::Table& t, const std::vector<std::string>& columns, Keep keep) {
    client::Table out;
    std::vector<int> index;
    for (const auto& name : columns) {
        int c = ColumnIndex(t, name);
        if (c < 0) continue;
        index.push_back(c);
        out.column_names.push_back(name);
        out.column_types.push_back(t.column_types[c]);
    }
    for (size_t r = 0; r < t.row_count(); ++r) {
        if (!keep(r)) continue;
        for (int c : index) out.cells.push_back(t.at(r, c));
    }
    return out;
}

const char* kHelp = R"(Statements end with ';' and may span lines. Commands:

  <SQL statement>;              any DDL, DML or query (sent as @AdHoc)
  exec PROC [arg ...];          call a procedure; arguments: 'text', 12, -1.5 (exact
                                decimal), 1e3 (float), NULL, TRUE/FALSE,
                                TIMESTAMP '2026-01-31 12:00:00', X'CAFE'
  explain SQL;                  the plan of a statement
  explainproc PROC              the plan of a procedure's statements
  describe NAME                 columns, partitioning and indexes of a table or view
  show tables|views|streams|procedures|partitions
  file [-batch] PATH            run a script; -batch sends its statements as one batch
                                (all DDL: one atomic schema change)
  set output table|csv|tsv|json
  set timing on|off             print each statement's time (client and server)
  set maxwidth N                clip table cells to N columns (0: never)
  help                          this text
  quit, exit                    leave (Ctrl-D too)

Commands other than exec and explain end at the end of their line.
Tab completes keywords, commands, and table, view, column and procedure names.
)";

}  // namespace

Shell::Shell(client::Client& client, Settings settings, std::ostream& out, std::ostream& err)
    : client_(client), settings_(settings), out_(out), err_(err) {}

Shell::Outcome Shell::Fail(const std::string& where, const std::string& message) {
    out_.flush();
    err_ << where << "ERROR: " << message << '\n';
    err_.flush();
    return Outcome::kFailed;
}

bool Shell::Call(const std::string& procedure, const std::vector<client::Value>& params, const std::string& where,
                 client::Response* response) {
    auto start = std::chrono::steady_clock::now();
    *response = client_.Call(procedure, params);
    last_elapsed_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    last_server_micros_ = response->server_micros;
    if (response->ok()) return true;
    std::string what = response->status;
    if (!response->sqlstate.empty()) what += " " + response->sqlstate;
    Fail(where, what + ": " + response->message);
    return false;
}

Shell::Outcome Shell::Run(const Statement& st, const std::string& where) {
    const std::string word = Lower(FirstWord(st.text));
    const std::string rest = AfterFirstWord(st.text);
    Outcome result;
    if (word == "quit" || word == "exit") return Outcome::kQuit;
    if (word == "help") {
        result = Help(rest);
    } else if (word == "exec" || word == "execute") {
        result = Exec(rest, where);
    } else if (word == "explain") {
        result = Explain(rest, where);
    } else if (word == "explainproc") {
        result = ExplainProc(rest, where);
    } else if (word == "show") {
        result = Show(rest, where);
    } else if (word == "describe" || word == "desc") {
        result = Describe(rest, where);
    } else if (word == "set") {
        result = Set(rest, where);
    } else if (word == "file") {
        result = File(rest, where);
    } else {
        result = Sql(st.text, where);
        if (track_names_ && (word == "create" || word == "drop" || word == "alter" || word == "partition")) {
            RefreshNames();
        }
    }
    out_.flush();
    return result;
}

Shell::Outcome Shell::RunScript(std::istream& in, const std::string& name, bool continue_on_error) {
    bool failed = false, quit = false;
    ForEachStatement(in, [&](const Statement& st) {
        Outcome o = Run(st, name + ":" + std::to_string(st.line) + ": ");
        failed |= o == Outcome::kFailed;
        quit = o == Outcome::kQuit;
        return !quit && (o != Outcome::kFailed || continue_on_error);
    });
    return failed ? Outcome::kFailed : quit ? Outcome::kQuit : Outcome::kOk;
}

Shell::Outcome Shell::Sql(const std::string& text, const std::string& where) {
    client::Response r;
    if (!Call("@AdHoc", {client::Value(text)}, where, &r)) return Outcome::kFailed;
    PrintResponse(r);
    return Outcome::kOk;
}

Shell::Outcome Shell::Exec(const std::string& rest, const std::string& where) {
    auto [proc, arg_text] = SplitProcedureName(rest);
    if (proc.empty()) return Fail(where, "exec needs a procedure name: exec PROC [arg ...]");
    std::string error;
    auto args = ParseArguments(arg_text, &error);
    if (!args) return Fail(where, "exec " + proc + ": " + error);
    client::Response r;
    if (!Call(proc, *args, where, &r)) return Outcome::kFailed;
    PrintResponse(r);
    return Outcome::kOk;
}

Shell::Outcome Shell::Explain(const std::string& sql, const std::string& where) {
    if (sql.empty()) return Fail(where, "explain needs a statement: explain SELECT ...;");
    return Plan("@Explain", sql, where);
}

Shell::Outcome Shell::ExplainProc(const std::string& rest, const std::string& where) {
    auto [proc, extra] = Head(rest);
    if (proc.empty() || !extra.empty()) return Fail(where, "usage: explainproc PROC");
    return Plan("@ExplainProc", proc, where);
}

Shell::Outcome Shell::Plan(const std::string& procedure, const std::string& arg, const std::string& where) {
    client::Response r;
    if (!Call(procedure, {client::Value(arg)}, where, &r)) return Outcome::kFailed;
    if (settings_.format != OutputFormat::kTable) {
        PrintResponse(r);
        return Outcome::kOk;
    }
    for (const auto& t : r.tables) {  // one line of the plan per row
        for (size_t row = 0; row < t.row_count(); ++row) out_ << t.at(row, 0).ToString() << '\n';
    }
    PrintTiming();
    return Outcome::kOk;
}

Shell::Outcome Shell::Show(const std::string& rest, const std::string& where) {
    auto [what_raw, extra] = Head(rest);
    const std::string what = Lower(what_raw);
    if (!extra.empty() || what.empty()) return Fail(where, "usage: show tables|views|streams|procedures|partitions");
    client::Response r;
    if (what == "tables" || what == "views" || what == "procedures") {
        if (!Call("@SystemCatalog", {client::Value(what)}, where, &r)) return Outcome::kFailed;
        if (what == "tables" && !r.tables.empty()) {
            const auto& t = r.tables[0];
            PrintTable(Project(t, {"table_name", "table_type", "partition_column"}, [](size_t) { return true; }), true);
        } else {
            PrintResponse(r);
        }
        return Outcome::kOk;
    }
    if (what == "streams") {
        r = client_.Call("@SystemCatalog", {client::Value("STREAMS")});
        if (r.status == "INVALID_PARAMETER") {
            return Fail(where, "show streams: this server has no streams (it does not know @SystemCatalog STREAMS)");
        }
        if (!r.ok()) return Fail(where, r.status + ": " + r.message);
        PrintResponse(r);
        return Outcome::kOk;
    }
    if (what == "partitions") {
        client::Response count, tables;
        if (!Call("@Statistics", {client::Value("PARTITIONCOUNT")}, where, &count)) return Outcome::kFailed;
        if (!Call("@Statistics", {client::Value("TABLE")}, where, &tables)) return Outcome::kFailed;
        if (count.tables.empty() || count.tables[0].row_count() != 1 || tables.tables.empty()) {
            return Fail(where, "show partitions: unexpected answer from @Statistics");
        }
        const int64_t n = count.tables[0].at(0, 0).as_int();
        struct Totals {
            int64_t tables = 0, tuples = 0, bytes = 0;
        };
        std::map<int64_t, Totals> per;
        for (int64_t p = 0; p < n; ++p) per[p];
        const auto& t = tables.tables[0];
        const int pc = ColumnIndex(t, "partition_id"), tc = ColumnIndex(t, "tuple_count"),
                  mc = ColumnIndex(t, "memory_bytes");
        if (pc < 0 || tc < 0 || mc < 0) return Fail(where, "show partitions: unexpected answer from @Statistics");
        for (size_t row = 0; row < t.row_count(); ++row) {
            Totals& tot = per[t.at(row, pc).as_int()];
            ++tot.tables;
            tot.tuples += t.at(row, tc).as_int();
            tot.bytes += t.at(row, mc).as_int();
        }
        client::Table out;
        out.column_names = {"partition_id", "tables", "tuples", "memory_bytes"};
        out.column_types = {"INTEGER", "INTEGER", "BIGINT", "BIGINT"};
        for (const auto& [p, tot] : per) {
            for (int64_t v : {p, tot.tables, tot.tuples, tot.bytes}) out.cells.emplace_back(v);
        }
        last_elapsed_ms_ = 0;
        PrintTable(out, true);
        return Outcome::kOk;
    }
    return Fail(where, "show " + what_raw + ": show tables, views, streams, procedures or partitions");
}

Shell::Outcome Shell::Describe(const std::string& rest, const std::string& where) {
    auto [name, extra] = Head(rest);
    if (name.empty() || !extra.empty()) return Fail(where, "usage: describe TABLE_OR_VIEW");
    client::Response tables, views, columns, indexes;
    if (!Call("@SystemCatalog", {client::Value("TABLES")}, where, &tables) ||
        !Call("@SystemCatalog", {client::Value("VIEWS")}, where, &views) ||
        !Call("@SystemCatalog", {client::Value("COLUMNS")}, where, &columns) ||
        !Call("@SystemCatalog", {client::Value("INDEXES")}, where, &indexes)) {
        return Outcome::kFailed;
    }
    // The relation, as the catalog spells it, and what kind it is.
    std::string relation, kind, partition_column;
    for (const auto* r : {&tables, &views}) {
        if (r->tables.empty()) continue;
        const auto& t = r->tables[0];
        const int nc = ColumnIndex(t, "table_name"), tc = ColumnIndex(t, "table_type"),
                  pc = ColumnIndex(t, "partition_column");
        for (size_t row = 0; row < t.row_count() && nc >= 0 && tc >= 0 && pc >= 0; ++row) {
            if (Lower(t.at(row, nc).as_string()) != Lower(name)) continue;
            relation = t.at(row, nc).as_string();
            kind = t.at(row, tc).as_string();
            partition_column = t.at(row, pc).is_null() ? "" : t.at(row, pc).as_string();
        }
    }
    if (relation.empty()) {
        // A stream (a server without streams answers INVALID_PARAMETER: nothing to find there).
        client::Response streams = client_.Call("@SystemCatalog", {client::Value("STREAMS")});
        if (streams.ok() && !streams.tables.empty()) {
            const auto& t = streams.tables[0];
            const int nc = ColumnIndex(t, "stream_name"), pc = ColumnIndex(t, "partition_column");
            for (size_t row = 0; row < t.row_count() && nc >= 0 && pc >= 0; ++row) {
                if (Lower(t.at(row, nc).as_string()) != Lower(name)) continue;
                relation = t.at(row, nc).as_string();
                kind = "STREAM";
                partition_column = t.at(row, pc).is_null() ? "" : t.at(row, pc).as_string();
            }
        }
    }
    if (relation.empty()) return Fail(where, "describe: no table, view or stream named \"" + name + "\"");
    if (columns.tables.empty() || indexes.tables.empty()) return Fail(where, "describe: unexpected catalog answer");
    const auto& ct = columns.tables[0];
    const int ctn = ColumnIndex(ct, "table_name");
    client::Table cols = Project(ct, {"column_name", "type", "nullable", "default"},
                                 [&](size_t r) { return ctn >= 0 && ct.at(r, ctn).as_string() == relation; });
    const auto& it = indexes.tables[0];
    const int itn = ColumnIndex(it, "table_name");
    client::Table idx = Project(it, {"index_name", "kind", "uniqueness", "key"},
                                [&](size_t r) { return itn >= 0 && it.at(r, itn).as_string() == relation; });
    if (settings_.format == OutputFormat::kTable) {
        if (kind == "PARTITIONED") {
            out_ << "Table " << relation << ", partitioned on " << partition_column << "\n";
        } else if (kind == "REPLICATED") {
            out_ << "Table " << relation << ", replicated\n";
        } else if (kind == "STREAM") {
            out_ << "Stream " << relation
                 << (partition_column.empty() ? ", replicated" : ", partitioned on " + partition_column) << "\n";
        } else {
            std::string title = Lower(kind);
            title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
            out_ << title << " " << relation << "\n";
        }
        WriteAligned(cols, settings_.max_width, out_);
        if (idx.row_count()) {
            out_ << "Indexes:\n";
            WriteAligned(idx, settings_.max_width, out_);
        }
        out_ << '\n';
    } else {
        PrintTable(cols, false);
        PrintTable(idx, false);
    }
    return Outcome::kOk;
}

Shell::Outcome Shell::Set(const std::string& rest, const std::string& where) {
    auto [what_raw, value_raw] = Head(rest);
    const std::string what = Lower(what_raw), value = Lower(value_raw);
    if (what.empty()) {
        out_ << "output " << OutputFormatName(settings_.format) << "\ntiming " << (settings_.timing ? "on" : "off")
             << "\nmaxwidth " << settings_.max_width << "\n";
        return Outcome::kOk;
    }
    if (what == "output") {
        auto f = ParseOutputFormat(value);
        if (!f) return Fail(where, "set output: \"" + value_raw + "\" is not table, csv, tsv or json");
        settings_.format = *f;
        return Outcome::kOk;
    }
    if (what == "timing") {
        if (value != "on" && value != "off") return Fail(where, "set timing: on or off, not \"" + value_raw + "\"");
        settings_.timing = value == "on";
        return Outcome::kOk;
    }
    if (what == "maxwidth") {
        size_t n = 0;
        for (char c : value) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1000000) {
                return Fail(where, "set maxwidth: a number of columns (0: never clip), not \"" + value_raw + "\"");
            }
            n = n * 10 + static_cast<size_t>(c - '0');
        }
        if (value.empty()) return Fail(where, "set maxwidth: a number of columns (0: never clip)");
        settings_.max_width = n;
        return Outcome::kOk;
    }
    return Fail(where, "set " + what_raw + ": settings are output, timing and maxwidth");
}

Shell::Outcome Shell::File(const std::string& rest, const std::string& where) {
    auto [first, tail] = Head(rest);
    const bool batch = Lower(first) == "-batch";
    std::string path = batch ? tail : std::string(Trim(rest));
    if (path.size() >= 2 && (path.front() == '\'' || path.front() == '"') && path.back() == path.front()) {
        path = path.substr(1, path.size() - 2);
    }
    if (path.empty()) return Fail(where, "usage: file [-batch] PATH");
    std::ifstream in(path);
    if (!in) return Fail(where, "file " + path + ": cannot open it");
    if (!batch) {
        if (file_depth_ >= kMaxFileDepth) {
            return Fail(where, "file " + path + ": files nest deeper than " + std::to_string(kMaxFileDepth) +
                                   " (does a file run itself?)");
        }
        ++file_depth_;
        Outcome o = RunScript(in, path, false);
        --file_depth_;
        if (track_names_) RefreshNames();
        return o == Outcome::kQuit ? Outcome::kOk : o;
    }
    // One @AdHoc batch: the server applies all-DDL batches as one atomic schema change and runs
    // other batches as one transaction. Shell commands cannot be part of it.
    std::vector<Statement> statements;
    ForEachStatement(in, [&](const Statement& st) {
        statements.push_back(st);
        return true;
    });
    std::string text;
    for (const auto& st : statements) {
        const std::string word = Lower(FirstWord(st.text));
        if (IsLineCommand(word) || word == "exec" || word == "execute" || word == "explain") {
            return Fail(path + ":" + std::to_string(st.line) + ": ",
                        "file -batch: \"" + word + "\" is a shell command; a batch holds SQL statements only");
        }
        text += st.text + ";\n";
    }
    if (text.empty()) return Fail(where, "file -batch " + path + ": no statements in it");
    client::Response r;
    const bool ok = Call("@AdHoc", {client::Value(text)}, where + path + ": ", &r);
    if (track_names_) RefreshNames();
    if (!ok) return Outcome::kFailed;
    if (settings_.format == OutputFormat::kTable) {
        out_ << "Batch of " << statements.size() << " statement" << (statements.size() == 1 ? "" : "s") << " from "
             << path << " done.\n";
        PrintTiming();
    } else {
        PrintResponse(r);
    }
    return Outcome::kOk;
}

Shell::Outcome Shell::Help(const std::string&) {
    out_ << kHelp;
    return Outcome::kOk;
}

void Shell::PrintTable(const client::Table& t, bool count_rows) {
    switch (settings_.format) {
        case OutputFormat::kTable: {
            WriteAligned(t, settings_.max_width, out_);
            if (count_rows) out_ << "(" << t.row_count() << (t.row_count() == 1 ? " row)\n\n" : " rows)\n\n");
            break;
        }
        case OutputFormat::kCsv:
            WriteCsv(t, out_);
            break;
        case OutputFormat::kTsv:
            WriteTsv(t, out_);
            break;
        case OutputFormat::kJson:
            WriteJson(t, out_);
            break;
    }
}

void Shell::PrintResponse(const client::Response& r) {
    bool first = true;
    for (const auto& t : r.tables) {
        const bool table_format = settings_.format == OutputFormat::kTable;
        if (t.column_names.empty()) {  // DDL
            if (table_format) out_ << "OK\n";
            continue;
        }
        if (!first && (settings_.format == OutputFormat::kCsv || settings_.format == OutputFormat::kTsv)) out_ << '\n';
        first = false;
        if (table_format && t.column_names.size() == 1 && t.column_names[0] == "modified_tuples" &&
            t.row_count() == 1) {
            const int64_t n = t.at(0, 0).as_int();
            out_ << "(" << n << (n == 1 ? " row" : " rows") << " affected)\n";
            continue;
        }
        PrintTable(t, true);
    }
    if (r.tables.empty() && settings_.format == OutputFormat::kTable) out_ << "OK\n";
    PrintTiming();
}

void Shell::PrintTiming() {
    if (!settings_.timing) return;
    char buf[96];
    std::snprintf(buf, sizeof buf, "Time: %.3f ms (server %.3f ms)\n", last_elapsed_ms_,
                  static_cast<double>(last_server_micros_) / 1000.0);
    (settings_.format == OutputFormat::kTable ? out_ : err_) << buf;
}

void Shell::RefreshNames() {
    CatalogNames names;
    auto rows = [&](const char* selector, auto each) {
        client::Response r = client_.Call("@SystemCatalog", {client::Value(selector)});
        if (!r.ok() || r.tables.empty()) return false;
        const auto& t = r.tables[0];
        for (size_t row = 0; row < t.row_count(); ++row) each(t, row);
        return true;
    };
    bool ok = true;
    for (const char* sel : {"TABLES", "VIEWS"}) {
        ok = ok && rows(sel, [&](const client::Table& t, size_t row) {
                 names.relations.push_back(t.at(row, 0).as_string());
             });
    }
    ok = ok && rows("COLUMNS", [&](const client::Table& t, size_t row) {
             names.columns.push_back({t.at(row, 0).as_string(), t.at(row, 1).as_string()});
         });
    ok = ok && rows("PROCEDURES",
                    [&](const client::Table& t, size_t row) { names.procedures.push_back(t.at(row, 0).as_string()); });
    if (ok) names_ = std::move(names);  // a failed read keeps the names we had
}

}  // namespace surge::shell
