// The two engines under comparison behind one interface, and the rules for judging their answers.
// Results come back as surge::Value rows on both sides (SQLite's integers as BIGINT, reals as
// FLOAT, text as VARCHAR), so one comparison covers both.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "types/value.h"

struct sqlite3;

namespace surge::exec {
class Engine;
}

namespace surge::difftest {

/// What one engine made of one statement.
struct Outcome {
    bool ok = false;
    std::string sqlstate;  ///< SurgeDB's five-character class; "SQLITE" for SQLite errors
    std::string error;     ///< the full error text
    size_t columns = 0;
    std::vector<std::vector<Value>> rows;
    int64_t changes = -1;  ///< rows an INSERT/UPDATE/DELETE changed
};

class SurgeBackend {
  public:
    SurgeBackend();
    ~SurgeBackend();
    /// Drops every table: a new, empty engine.
    void Reset();
    Outcome Run(const std::string& sql);

  private:
    std::unique_ptr<exec::Engine> engine_;
};

class SqliteBackend {
  public:
    SqliteBackend();
    ~SqliteBackend();
    SqliteBackend(const SqliteBackend&) = delete;
    SqliteBackend& operator=(const SqliteBackend&) = delete;
    void Reset();
    Outcome Run(const std::string& sql);
    /// True when the linked SQLite runs RIGHT and FULL OUTER JOIN (3.39.0 and later).
    static bool HasOuterJoins();
    static std::string Version();
    /// Statements running longer than this are interrupted (an "interrupted" error); 0: no limit.
    /// The parent process sets it when it reruns a case that hung SurgeDB, since SQLite may hang
    /// on the same query (the child's alarm bounds its own runs).
    static void SetTimeLimit(unsigned seconds) { time_limit_seconds_ = seconds; }

  private:
    static int Progress(void* self);

    sqlite3* db_ = nullptr;
    static inline unsigned time_limit_seconds_ = 0;
    std::chrono::steady_clock::time_point deadline_;
};

enum class Verdict : uint8_t {
    kMatch,
    kSkip,    ///< SurgeDB gave an error that is a documented dialect difference, or both failed
    kFailed,  ///< results differ, or exactly one engine failed
};

struct Judgement {
    Verdict verdict = Verdict::kMatch;
    /// kSkip: the dialect rule ("division-by-zero", ...); kFailed: the failure's class
    /// ("wrong result", "SurgeDB error 42601", "SQLite error") — the reducer keeps it fixed.
    std::string reason;
    std::string detail;  ///< what differs, for the report
};

/// The dialect rule a SurgeDB error falls under (docs/sql-compatibility.md), or "" for none.
std::string DialectRule(const std::string& sqlstate);

/// Judges one statement. ordered: rows must come in the same order (the query's ORDER BY is
/// total); otherwise they compare as multisets. Integers compare exactly, an integer and a float
/// or two floats with a relative tolerance of 1e-9, strings bytewise, NULL equal to NULL.
/// Both engines failing is a skip ("both-failed"): the generator built something neither accepts.
Judgement Judge(const Outcome& surge, const Outcome& sqlite, bool ordered);

/// The rows of an outcome as text, one line per row (at most max_rows), or the error.
std::string FormatOutcome(const Outcome& o, size_t max_rows);

}  // namespace surge::difftest
