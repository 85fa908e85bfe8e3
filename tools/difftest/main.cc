// surge-difftest: differential testing of SurgeDB's SQL engine against SQLite.
//
//   surge-difftest [--seed S] [--queries N | --duration SECONDS] [--queries-per-db N]
//                  [--database N] [--exclude FEATURE,...] [--timeout SECONDS] [--max-reports N]
//                  [--reduce-runs N] [--print-statements] [--verbose] [--list-features]
//
// Generates random databases (tables, rows, indexes, UPDATE/DELETE) and random queries over them,
// runs every statement on both engines and compares the answers (docs/testing-sql.md). A failure
// prints the seed, the query number, the schema and data, both answers, and a reduced
// reproduction as a sqllogictest script. The last line is always
// "N queries: N matched, N skipped (...), N failed"; the exit status is 0 when nothing failed.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "difftest/backends.h"
#include "difftest/generator.h"
#include "difftest/repro.h"

namespace {

using namespace surge::difftest;

struct Options {
    uint64_t seed = 0;
    bool seed_set = false;
    int64_t queries = 1000;
    double duration = 0;  ///< seconds; 0: run --queries queries
    int queries_per_db = 40;
    int64_t only_database = -1;  ///< run just this database of the seed
    int max_reports = 5;
    int reduce_runs = 5000;
    bool print_statements = false;
    bool verbose = false;
    FeatureSet features;
};

void Usage() {
    std::cerr << "usage: surge-difftest [--seed S] [--queries N | --duration SECONDS] [--queries-per-db N]\n"
                 "                      [--database N] [--exclude FEATURE,...] [--timeout SECONDS] [--max-reports N]\n"
                 "                      [--reduce-runs N] [--print-statements] [--verbose] [--list-features]\n";
}

bool ParseInt(const std::string& text, int64_t lo, int64_t* out) {
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < lo) return false;
    *out = v;
    return true;
}

bool ParseArgs(int argc, char** argv, Options* opts) {
    std::vector<Feature> features = AllFeatures();
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        std::string value;
        auto next = [&]() {
            if (i + 1 >= argc) {
                std::cerr << "surge-difftest: " << arg << " needs a value\n";
                return false;
            }
            value = argv[++i];
            return true;
        };
        auto number = [&](int64_t lo, int64_t* out) {
            if (!next()) return false;
            if (ParseInt(value, lo, out)) return true;
            std::cerr << "surge-difftest: " << arg << " needs an integer >= " << lo << "\n";
            return false;
        };
        int64_t n = 0;
        if (arg == "--seed") {
            if (!number(0, &n)) return false;
            opts->seed = static_cast<uint64_t>(n);
            opts->seed_set = true;
        } else if (arg == "--queries") {
            if (!number(1, &opts->queries)) return false;
        } else if (arg == "--duration") {
            if (!number(1, &n)) return false;
            opts->duration = static_cast<double>(n);
        } else if (arg == "--queries-per-db") {
            if (!number(1, &n)) return false;
            opts->queries_per_db = static_cast<int>(n);
        } else if (arg == "--database") {
            if (!number(0, &opts->only_database)) return false;
        } else if (arg == "--timeout") {
            if (!number(1, &n)) return false;
            SetTimeoutSeconds(static_cast<unsigned>(n));
        } else if (arg == "--max-reports") {
            if (!number(0, &n)) return false;
            opts->max_reports = static_cast<int>(n);
        } else if (arg == "--reduce-runs") {
            if (!number(0, &n)) return false;
            opts->reduce_runs = static_cast<int>(n);
        } else if (arg == "--exclude") {
            if (!next()) return false;
            std::stringstream list(value);
            std::string name;
            while (std::getline(list, name, ',')) {
                bool known = false;
                for (const Feature& f : features) known = known || f.name == name;
                if (!known) {
                    std::cerr << "surge-difftest: unknown feature '" << name << "' (see --list-features)\n";
                    return false;
                }
                opts->features.Exclude(name);
            }
        } else if (arg == "--print-statements") {
            opts->print_statements = true;
        } else if (arg == "--verbose" || arg == "-v") {
            opts->verbose = true;
        } else if (arg == "--list-features") {
            for (const Feature& f : features) std::printf("%-20s %s\n", f.name.c_str(), f.summary.c_str());
            std::exit(0);
        } else if (arg == "--help" || arg == "-h") {
            Usage();
            std::exit(0);
        } else {
            std::cerr << "surge-difftest: unknown argument " << arg << "\n";
            return false;
        }
    }
    return true;
}

// Each database gets its own seed, so a failure's database and queries depend only on
// (--seed, database number), not on how long the run was.
uint64_t DatabaseSeed(uint64_t seed, uint64_t db) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ULL + db + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// Counts of one kind of check (queries, or UPDATE/DELETE statements).
struct Tally {
    int64_t total = 0;
    int64_t matched = 0;
    int64_t failed = 0;
    int64_t with_rows = 0;  ///< matched queries that returned rows (a measure of the data's reach)
    std::map<std::string, int64_t> skipped;

    int64_t skipped_total() const {
        int64_t n = 0;
        for (const auto& [reason, count] : skipped) n += count;
        return n;
    }
    std::string Line(const char* what) const {
        std::string s = std::to_string(total) + " " + what + ": " + std::to_string(matched) + " matched, " +
                        std::to_string(skipped_total()) + " skipped";
        if (!skipped.empty()) {
            s += " (";
            bool first = true;
            for (const auto& [reason, count] : skipped) {
                s += (first ? "" : ", ") + reason + " " + std::to_string(count);
                first = false;
            }
            s += ")";
        }
        return s + ", " + std::to_string(failed) + " failed";
    }
};

// Runs the databases one after another, each in a child process: a crash or hang of SurgeDB ends
// the child, and the parent, which knows what the child was running (the child reports each
// statement before running it), rebuilds that case from the seed, reduces it and carries on.
class Run {
  public:
    explicit Run(const Options& opts) : opts_(opts), outer_joins_(SqliteBackend::HasOuterJoins()) {}

    int Main() {
        start_ = std::chrono::steady_clock::now();
        std::printf("surge-difftest: seed %llu, SQLite %s%s", static_cast<unsigned long long>(opts_.seed),
                    SqliteBackend::Version().c_str(), outer_joins_ ? "" : " (no RIGHT/FULL JOIN)");
        if (!opts_.features.excluded().empty()) {
            std::printf(", excluding");
            for (const std::string& f : opts_.features.excluded()) std::printf(" %s", f.c_str());
        }
        std::printf("\n");
        if (opts_.only_database >= 0) {
            RunIsolated(static_cast<uint64_t>(opts_.only_database));
        } else {
            for (uint64_t db = 0; !Done(); db++) RunIsolated(db);
        }
        double secs = Elapsed();
        std::printf("%s\n", statements_.Line("statements").c_str());
        std::printf("%.1f s, %.0f queries/s, %.0f%% of the matched ones returned rows\n", secs,
                    secs > 0 ? static_cast<double>(queries_.total) / secs : 0.0,
                    queries_.matched > 0 ? 100.0 * static_cast<double>(queries_.with_rows) / queries_.matched : 0.0);
        std::printf("%s\n", queries_.Line("queries").c_str());
        return queries_.failed + statements_.failed == 0 ? 0 : 1;
    }

  private:
    double Elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

    bool Done() const {
        if (opts_.duration <= 0) return queries_.total >= opts_.queries;
        return Elapsed() >= opts_.duration;
    }

    // ---- parent side ----

    void RunIsolated(uint64_t db_number) {
        int fds[2];
        if (pipe(fds) != 0) {
            std::perror("surge-difftest: pipe");
            std::exit(2);
        }
        std::fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("surge-difftest: fork");
            std::exit(2);
        }
        if (pid == 0) {
            close(fds[0]);
            report_fd_ = fds[1];
            RunDatabase(db_number);
            std::fflush(stdout);
            _exit(0);
        }
        close(fds[1]);
        std::string messages;
        char buf[4096];
        for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) messages.append(buf, static_cast<size_t>(n));
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);

        // "run <dml|query> <index> <mask>" before a statement, "done" after it, and
        // "tally <queries|statements> <match|skip|fail> <reason>" for each judged one.
        std::istringstream lines(messages);
        std::string line, running;
        while (std::getline(lines, line)) {
            std::istringstream words(line);
            std::string verb;
            words >> verb;
            if (verb == "run") {
                running = line;
            } else if (verb == "done") {
                running.clear();
            } else if (verb == "tally") {
                std::string which, verdict, reason;
                words >> which >> verdict;
                std::getline(words >> std::ws, reason);
                Tally& t = which == "queries" ? queries_ : statements_;
                t.total++;
                if (verdict == "match") t.matched++;
                if (verdict == "match" && reason == "rows") t.with_rows++;
                if (verdict == "skip") t.skipped[reason]++;
                if (verdict == "fail") t.failed++;
                if (verdict == "fail") reports_++;
            }
        }
        if (WIFSIGNALED(status) && !running.empty()) return HandleCrash(db_number, running, WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            // Outside any checked statement: while loading the data. --print-statements shows where.
            std::printf(
                "==== FAILURE database %llu (seed %llu): %s while loading; rerun with --database %llu "
                "--print-statements\n",
                static_cast<unsigned long long>(db_number), static_cast<unsigned long long>(opts_.seed),
                WIFSIGNALED(status) ? CrashReason(WTERMSIG(status)).c_str() : "child failed",
                static_cast<unsigned long long>(db_number));
            statements_.total++;
            statements_.failed++;
        }
    }

    // Rebuilds what the child ran up to `running` from the seed: the same generator calls, the
    // UPDATE/DELETE statements it kept (the mask), and the statement that crashed.
    Case Regenerate(uint64_t db_number, bool dml, int index, unsigned mask) const {
        Generator gen(DatabaseSeed(opts_.seed, db_number), opts_.features, outer_joins_);
        Database db = gen.GenDatabase();
        int ndml = opts_.features.On("dml") ? static_cast<int>(gen.rng().Uniform(0, 3)) : 0;
        for (int i = 0; i < ndml; i++) {
            Dml stmt = gen.GenDml(db);
            if (dml && i == index) {
                db.dml.push_back(stmt);
                return Case{db, nullptr};
            }
            if (mask & (1u << i)) db.dml.push_back(stmt);
        }
        for (int q = 0;; q++) {
            SelectPtr query = gen.GenQuery(db);
            if (q == index) return Case{db, query};
        }
    }

    void HandleCrash(uint64_t db_number, const std::string& running, int sig) {
        std::istringstream words(running);
        std::string verb, what;
        int index = 0;
        unsigned mask = 0;
        words >> verb >> what >> index >> mask;
        Tally& t = what == "dml" ? statements_ : queries_;
        t.total++;
        t.failed++;
        Case c = Regenerate(db_number, what == "dml", index, mask);
        SqliteBackend::SetTimeLimit(TimeoutSeconds());  // a query that hung SurgeDB may hang SQLite
        std::string label = (what == "dml" ? "statement " + std::to_string(statements_.total)
                                           : "query " + std::to_string(queries_.total)) +
                            " (database " + std::to_string(db_number) + ")";
        Outcome none;
        Outcome sqlite;
        RunCase(c, false, &none, &sqlite);
        none.error = CrashReason(sig);
        Report(c, Judgement{Verdict::kFailed, CrashReason(sig), "SurgeDB did not answer"}, none, sqlite, label);
        SqliteBackend::SetTimeLimit(0);  // children forked later have their own alarm
    }

    // ---- child side ----

    void Send(const std::string& line) {
        std::string l = line + "\n";
        for (size_t off = 0; off < l.size();) {
            ssize_t n = write(report_fd_, l.data() + off, l.size() - off);
            if (n <= 0) return;
            off += static_cast<size_t>(n);
        }
    }

    void Tell(const char* which, const Judgement& j) {
        const char* verdict = j.verdict == Verdict::kMatch ? "match" : j.verdict == Verdict::kSkip ? "skip" : "fail";
        Send(std::string("tally ") + which + " " + verdict + " " + j.reason);
    }

    void RunDatabase(uint64_t db_number) {
        Generator gen(DatabaseSeed(opts_.seed, db_number), opts_.features, outer_joins_);
        Database db = gen.GenDatabase();
        SurgeBackend surge;
        SqliteBackend sqlite;
        for (const std::string& sql : db.LoadScript()) {
            Print(sql);
            Outcome a = surge.Run(sql);
            Outcome b = sqlite.Run(sql);
            if (a.ok && b.ok) continue;
            Tell("statements", Judgement{Verdict::kFailed, "load", ""});
            std::printf("==== FAILURE loading database %llu (seed %llu): %s\n%s\n",
                        static_cast<unsigned long long>(db_number), static_cast<unsigned long long>(opts_.seed),
                        sql.c_str(), (!a.ok ? "SurgeDB: " + a.error : "SQLite: " + b.error).c_str());
            return;
        }
        unsigned mask = 0;
        int ndml = opts_.features.On("dml") ? static_cast<int>(gen.rng().Uniform(0, 3)) : 0;
        for (int i = 0; i < ndml; i++) {
            Dml stmt = gen.GenDml(db);
            Print(Render(stmt, Dialect::kSurge));
            Send("run dml " + std::to_string(i) + " " + std::to_string(mask));
            statements_.total++;
            alarm(TimeoutSeconds());
            Outcome a = surge.Run(Render(stmt, Dialect::kSurge));
            // A statement SurgeDB rejects for a dialect reason changed nothing there (statements are
            // atomic); leave it out on SQLite too so both keep the same data.
            bool dialect_error = !a.ok && !DialectRule(a.sqlstate).empty();
            Outcome b = dialect_error ? Outcome{} : sqlite.Run(Render(stmt, Dialect::kSqlite));
            alarm(0);
            Send("done");
            Judgement j = Judge(a, b, false);
            Tell("statements", j);
            if (j.verdict == Verdict::kSkip) {
                NoteSkip(j, Render(stmt, Dialect::kSurge));
                continue;
            }
            Database with = db;
            with.dml.push_back(stmt);
            if (j.verdict == Verdict::kFailed) {
                Report(
                    Case{with, nullptr}, j, a, b,
                    "statement " + std::to_string(statements_.total) + " (database " + std::to_string(db_number) + ")");
                return;  // the engines' data may differ from here on
            }
            db = std::move(with);
            mask |= 1u << i;
        }
        for (int q = 0; q < opts_.queries_per_db && !Done(); q++) {
            SelectPtr query = gen.GenQuery(db);
            std::string surge_sql = Render(*query, Dialect::kSurge);
            Print(surge_sql);
            Send("run query " + std::to_string(q) + " " + std::to_string(mask));
            queries_.total++;
            alarm(TimeoutSeconds());  // a hang is reported like a crash
            Outcome a = surge.Run(surge_sql);
            Outcome b = sqlite.Run(Render(*query, Dialect::kSqlite));
            alarm(0);
            Send("done");
            Judgement j = Judge(a, b, query->TotallyOrdered());
            if (j.verdict == Verdict::kMatch && !b.rows.empty()) j.reason = "rows";
            Tell("queries", j);
            if (j.verdict == Verdict::kSkip) NoteSkip(j, surge_sql);
            if (j.verdict == Verdict::kFailed) {
                Report(Case{db, query}, j, a, b,
                       "query " + std::to_string(queries_.total) + " (database " + std::to_string(db_number) + ")");
            }
        }
    }

    void Print(const std::string& sql) {
        if (!opts_.print_statements) return;
        std::printf("-- %s;\n", sql.c_str());
        std::fflush(stdout);
    }

    // --verbose shows one example of each skip reason, to check the skips are what they claim.
    void NoteSkip(const Judgement& j, const std::string& sql) {
        if (!opts_.verbose || !skip_examples_.insert(j.reason).second) return;
        std::printf("skip example (%s): %s\n  %s\n", j.reason.c_str(), sql.c_str(), j.detail.c_str());
    }

    // ---- both ----

    void Report(const Case& c, const Judgement& j, const Outcome& a, const Outcome& b, const std::string& what) {
        reports_++;
        std::printf("==== FAILURE %s (seed %llu): %s\n", what.c_str(), static_cast<unsigned long long>(opts_.seed),
                    j.reason.c_str());
        if (reports_ > opts_.max_reports) {
            std::printf("(details not shown: --max-reports %d)\n", opts_.max_reports);
            std::fflush(stdout);
            return;
        }
        std::printf("%s\n", j.detail.c_str());
        std::vector<std::string> surge_script = CaseScript(c, Dialect::kSurge);
        std::vector<std::string> sqlite_script = CaseScript(c, Dialect::kSqlite);
        std::printf("-- schema and data:\n");
        for (size_t i = 0; i + 1 < surge_script.size(); i++) std::printf("%s;\n", surge_script[i].c_str());
        std::printf("-- checked statement (SurgeDB):\n%s;\n", surge_script.back().c_str());
        if (sqlite_script.back() != surge_script.back()) {
            std::printf("-- checked statement (SQLite):\n%s;\n", sqlite_script.back().c_str());
        }
        std::printf("-- SurgeDB:\n%s-- SQLite:\n%s", FormatOutcome(a, 40).c_str(), FormatOutcome(b, 40).c_str());
        std::fflush(stdout);
        // Every try of a hang takes the whole timeout: such a case is shown as it is.
        bool hang = j.reason.rfind("timeout", 0) == 0;
        int runs = 0;
        Case reduced = Reduce(c, j.reason, hang ? 0 : opts_.reduce_runs, &runs);
        std::printf("-- reduced reproduction (%d runs), as a sqllogictest script:\n%s", runs,
                    SltScript(reduced, j.reason).c_str());
        Outcome ra, rb;
        bool crashed = j.reason.rfind("SurgeDB crash", 0) == 0 || j.reason.rfind("timeout", 0) == 0;
        // A reduced case that crashes SurgeDB must not run in this process.
        RunCase(reduced, !crashed, &ra, &rb);
        std::printf("-- reduced, SurgeDB:\n%s-- reduced, SQLite:\n%s",
                    crashed ? (j.reason + "\n").c_str() : FormatOutcome(ra, 20).c_str(), FormatOutcome(rb, 20).c_str());
        if (reduced.query) {
            std::string sqlite_sql = Render(*reduced.query, Dialect::kSqlite);
            if (sqlite_sql != Render(*reduced.query, Dialect::kSurge)) {
                std::printf("-- reduced, as SQLite runs it:\n%s;\n", sqlite_sql.c_str());
            }
        }
        std::printf("====\n");
        std::fflush(stdout);
    }

    const Options& opts_;
    const bool outer_joins_;
    std::chrono::steady_clock::time_point start_;
    Tally queries_;
    Tally statements_;
    int reports_ = 0;  ///< failures seen: only the first --max-reports are shown in full
    int report_fd_ = -1;
    std::set<std::string> skip_examples_;
};

}  // namespace

int main(int argc, char** argv) {
    Options opts;
    if (!ParseArgs(argc, argv, &opts)) {
        Usage();
        return 2;
    }
    if (!opts.seed_set) {
        opts.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000000;
    }
    return Run(opts).Main();
}
