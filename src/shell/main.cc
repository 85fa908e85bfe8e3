// surgesql: SurgeDB's interactive SQL shell (VoltDB's sqlcmd, psql's manners). See
// docs/surgesql.md and `surgesql --help`.
#include <fcntl.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "shell/shell.h"

namespace {

using surge::shell::Shell;

constexpr const char* kUsage = R"(usage: surgesql [options]

Connects to a running surged and reads statements: interactively at a terminal, or as a script
from -f/-e or standard input. Statements end with ';'; type help at the prompt for commands.

  --servers H:P[,H:P...]   the server(s) to try, in order (default 127.0.0.1:21212)
  -f, --file PATH          run the script PATH (may repeat; with -e, in the order given)
  -e, --execute SQL        run SQL, e.g. -e "SELECT COUNT(*) FROM votes;" (may repeat)
  --output FORMAT          table (default), csv, tsv or json
  --continue-on-error      in a script, report a failing statement and go on (exit 0);
                           without it the first failure stops the script with exit status 1
  --timing                 print each statement's time (default: on at the prompt, off in scripts)
  --maxwidth N             clip table cells to N columns (default: 60 at the prompt, 0 = never
                           in scripts)
  --call-timeout S         give up on an answer after S seconds (default 600)
  --history PATH           history file (default $SURGESQL_HISTORY or ~/.surgesql_history)
  --help, --version

Exit status: 0 success, 1 a statement failed, 2 bad options or no server.
)";

struct Options {
    std::vector<std::string> servers = {"127.0.0.1:21212"};
    struct Source {
        bool file;
        std::string text;  ///< a path or SQL
    };
    std::vector<Source> sources;
    std::optional<surge::shell::OutputFormat> format;
    bool continue_on_error = false;
    std::optional<bool> timing;
    std::optional<size_t> max_width;
    int call_timeout_s = 600;
    std::string history;
};

[[noreturn]] void UsageError(const std::string& why) {
    std::cerr << "surgesql: " << why << "\n(surgesql --help lists the options)\n";
    std::exit(2);
}

std::vector<std::string> SplitComma(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string part; std::getline(ss, part, ',');) {
        if (!part.empty()) out.push_back(part);
    }
    return out;
}

size_t ParseCount(const std::string& flag, const std::string& v, size_t max) {
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || v[0] == '-' || n > max) {
        UsageError(flag + " takes a number from 0 to " + std::to_string(max) + ", not \"" + v + "\"");
    }
    return n;
}

Options ParseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i], value;
        const bool has_inline = a.rfind("--", 0) == 0 && a.find('=') != std::string::npos;
        if (has_inline) {
            value = a.substr(a.find('=') + 1);
            a = a.substr(0, a.find('='));
        }
        auto next = [&]() -> std::string {
            if (has_inline) return value;
            if (i + 1 >= argc) UsageError(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else if (a == "--version") {
            std::cout << "surgesql " << SURGE_VERSION << "\n";
            std::exit(0);
        } else if (a == "--servers" || a == "--server") {
            o.servers = SplitComma(next());
            if (o.servers.empty()) UsageError("--servers needs host:port");
        } else if (a == "-f" || a == "--file") {
            o.sources.push_back({true, next()});
        } else if (a == "-e" || a == "--execute") {
            o.sources.push_back({false, next()});
        } else if (a == "--output") {
            const std::string v = next();
            o.format = surge::shell::ParseOutputFormat(v);
            if (!o.format) UsageError("--output is table, csv, tsv or json, not \"" + v + "\"");
        } else if (a == "--continue-on-error") {
            o.continue_on_error = true;
        } else if (a == "--timing") {
            o.timing = true;
        } else if (a == "--maxwidth") {
            o.max_width = ParseCount(a, next(), 1000000);
        } else if (a == "--call-timeout") {
            o.call_timeout_s = static_cast<int>(ParseCount(a, next(), 86400));
            if (o.call_timeout_s == 0) UsageError("--call-timeout must be at least 1 second");
        } else if (a == "--history") {
            o.history = next();
        } else if (a == "--user" || a == "-u" || a == "--password") {
            UsageError(a +
                       ": surged has no users or authentication yet (every client may do everything); "
                       "leave it out");
        } else {
            UsageError("unknown option \"" + a + "\"");
        }
    }
    return o;
}

std::unique_ptr<surge::client::Client> ConnectAny(const Options& o) {
    surge::client::Client::Options copts;
    copts.connect_timeout_ms = 3000;
    copts.call_timeout_ms = o.call_timeout_s * 1000;
    std::string errors;
    for (const auto& address : o.servers) {
        std::string error;
        auto c = surge::client::Client::Connect(address, &error, copts);
        if (c) return c;
        errors += "\n  " + address + ": " + error;
    }
    std::cerr << "surgesql: cannot connect to a SurgeDB server:" << errors
              << "\nStart one with `surged`, or point --servers at a running one.\n";
    std::exit(2);
}

// ---- the interactive prompt ----

constexpr const char* kPrompt = "surgesql> ";
constexpr const char* kContinuation = "     ...> ";

Shell* g_shell = nullptr;
surge::shell::Splitter* g_splitter = nullptr;
volatile sig_atomic_t g_in_readline = 0;
volatile sig_atomic_t g_interrupted = 0;

// Ctrl-C at the prompt drops the statement being typed; during a call it leaves the shell (the
// server finishes the statement on its own).
void OnInterrupt(int) {
    if (!g_in_readline) {
        const char msg[] = "\ninterrupted (the server finishes the statement on its own)\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(130);
    }
    g_interrupted = 1;
    (void)!write(STDOUT_FILENO, "\r\n", 2);  // readline has echoed ^C and returned to column 0
    rl_replace_line("", 0);
    rl_set_prompt(kPrompt);
    rl_on_new_line();
    rl_redisplay();
}

std::vector<std::string> g_matches;

char* NextMatch(const char*, int state) {
    static size_t i;
    if (state == 0) i = 0;
    return i < g_matches.size() ? strdup(g_matches[i++].c_str()) : nullptr;
}

char** AttemptCompletion(const char* text, int start, int) {
    std::string before = g_interrupted ? "" : g_splitter->pending();
    before.append(rl_line_buffer, static_cast<size_t>(start));
    auto c = surge::shell::Complete(g_shell->names(), before, text);
    if (c.filenames && c.words.empty()) return nullptr;  // readline completes file names
    rl_attempted_completion_over = 1;
    g_matches = std::move(c.words);
    return rl_completion_matches(text, NextMatch);
}

int Interactive(Shell& shell, const Options& o, const std::string& address, surge::client::Client& client) {
    std::string history = o.history;
    if (history.empty()) {
        if (const char* env = std::getenv("SURGESQL_HISTORY")) history = env;
    }
    if (history.empty()) {
        if (const char* home = std::getenv("HOME")) history = std::string(home) + "/.surgesql_history";
    }
    using_history();
    stifle_history(2000);
    if (!history.empty()) {
        // Created private (statements may hold secrets), so that append_history can add to it.
        int fd = ::open(history.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            ::close(fd);
            read_history(history.c_str());
        } else {
            std::cerr << "surgesql: history not kept: cannot open " << history << ": " << std::strerror(errno) << "\n";
            history.clear();
        }
    }

    surge::shell::Splitter splitter;
    g_shell = &shell;
    g_splitter = &splitter;
    rl_readline_name = "surgesql";
    rl_attempted_completion_function = AttemptCompletion;
    static char kBreaks[] = " \t\n\"'`><=;|&(),+-*/%";
    rl_completer_word_break_characters = kBreaks;
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);

    std::string partitions;
    auto pc = client.Call("@Statistics", {surge::client::Value("PARTITIONCOUNT")});
    if (pc.ok() && !pc.tables.empty() && pc.tables[0].row_count() == 1) {
        partitions = ", " + pc.tables[0].at(0, 0).ToString() + " partitions";
    }
    std::cout << "surgesql " << SURGE_VERSION << " connected to " << address << partitions
              << ".\nType help for commands; statements end with ';'.\n";
    shell.set_track_names(true);
    shell.RefreshNames();

    std::string entry;  // the input lines of the statement(s) being typed, for history
    while (true) {
        g_in_readline = 1;
        char* raw = readline(splitter.has_pending() ? kContinuation : kPrompt);
        g_in_readline = 0;
        if (g_interrupted) {
            g_interrupted = 0;
            splitter.Reset();
            entry.clear();
        }
        if (!raw) {
            std::cout << "\n";
            break;
        }
        std::string line(raw);
        std::free(raw);
        if (!entry.empty()) entry += '\n';
        entry += line;
        auto statements = splitter.AddLine(line);
        if (!statements.empty() || !splitter.has_pending()) {
            if (!surge::shell::IsBlank(entry)) {
                add_history(entry.c_str());
                if (!history.empty()) append_history(1, history.c_str());
            }
            entry.clear();
        }
        for (const auto& st : statements) {
            if (shell.Run(st, "") == Shell::Outcome::kQuit) {
                if (!history.empty()) history_truncate_file(history.c_str(), 2000);
                return 0;
            }
        }
    }
    if (!history.empty()) history_truncate_file(history.c_str(), 2000);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setlocale(LC_ALL, "");
    Options o = ParseOptions(argc, argv);
    const bool interactive = o.sources.empty() && isatty(STDIN_FILENO);
    auto client = ConnectAny(o);

    surge::shell::Settings settings;
    settings.format = o.format.value_or(surge::shell::OutputFormat::kTable);
    settings.timing = o.timing.value_or(interactive);
    settings.max_width = o.max_width.value_or(interactive ? 60 : 0);
    Shell shell(*client, settings, std::cout, std::cerr);

    if (interactive) return Interactive(shell, o, client->address(), *client);

    Shell::Outcome outcome = Shell::Outcome::kOk;
    bool failed = false;
    auto run = [&](std::istream& in, const std::string& name) {
        outcome = shell.RunScript(in, name, o.continue_on_error);
        if (outcome == Shell::Outcome::kFailed) failed = true;
    };
    if (o.sources.empty()) {
        run(std::cin, "stdin");
    } else {
        for (const auto& src : o.sources) {
            if (src.file) {
                std::ifstream in(src.text);
                if (!in) {
                    std::cerr << "surgesql: cannot open " << src.text << ": " << std::strerror(errno) << "\n";
                    return 2;
                }
                run(in, src.text);
            } else {
                std::istringstream in(src.text);
                run(in, "-e");
            }
            if (outcome == Shell::Outcome::kQuit || (failed && !o.continue_on_error)) break;
        }
    }
    return failed && !o.continue_on_error ? 1 : 0;
}
