// The shell's statements and commands, run against a server through the C++ client. Everything
// but the terminal (readline, prompts, history) lives here, so that scripts and tests drive
// exactly what a person at the prompt drives.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "shell/completion.h"
#include "shell/format.h"
#include "shell/script.h"
#include "surge/client.h"

namespace surge::shell {

struct Settings {
    OutputFormat format = OutputFormat::kTable;
    bool timing = false;
    size_t max_width = 0;  ///< table cells clipped to this many columns (0: never)
};

class Shell {
  public:
    enum class Outcome { kOk, kFailed, kQuit };

    Shell(client::Client& client, Settings settings, std::ostream& out, std::ostream& err);

    /// Runs one statement or command. Results go to `out`; an error goes to `err` as
    /// "<where>ERROR: STATUS SQLSTATE: message" (`where`: "file.sql:12: " in scripts, "" at the
    /// prompt).
    Outcome Run(const Statement& st, const std::string& where);

    /// Runs every statement of `in` (named `name` in errors). Stops at the first failure unless
    /// `continue_on_error`; returns kFailed if any statement failed, kQuit on quit/exit.
    Outcome RunScript(std::istream& in, const std::string& name, bool continue_on_error);

    /// The schema's names for completion; RefreshNames re-reads them (after DDL the shell does it
    /// itself when `track_names` is on).
    const CatalogNames& names() const { return names_; }
    void RefreshNames();
    void set_track_names(bool on) { track_names_ = on; }

    const Settings& settings() const { return settings_; }

  private:
    Outcome Sql(const std::string& text, const std::string& where);
    Outcome Exec(const std::string& rest, const std::string& where);
    Outcome Explain(const std::string& sql, const std::string& where);
    Outcome ExplainProc(const std::string& rest, const std::string& where);
    Outcome Plan(const std::string& procedure, const std::string& arg, const std::string& where);
    Outcome Show(const std::string& rest, const std::string& where);
    Outcome Describe(const std::string& rest, const std::string& where);
    Outcome Set(const std::string& rest, const std::string& where);
    Outcome File(const std::string& rest, const std::string& where);
    Outcome Help(const std::string& rest);

    /// Calls the server; on failure prints the error and returns false.
    bool Call(const std::string& procedure, const std::vector<client::Value>& params, const std::string& where,
              client::Response* response);
    Outcome Fail(const std::string& where, const std::string& message);
    void PrintTable(const client::Table& t, bool count_rows);
    void PrintResponse(const client::Response& r);
    void PrintTiming();

    client::Client& client_;
    Settings settings_;
    std::ostream& out_;
    std::ostream& err_;
    CatalogNames names_;
    bool track_names_ = false;
    int file_depth_ = 0;
    double last_elapsed_ms_ = 0;
    uint64_t last_server_micros_ = 0;
};

}  // namespace surge::shell
