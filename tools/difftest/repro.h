// Reproducing a failure on its own: a Case is a database plus the statement that failed, runnable
// on fresh engines; Reduce shrinks it (rows, tables, columns, statements, parts of the query)
// while it keeps failing the same way; SltScript prints it as a sqllogictest file for tests/sql.
#pragma once

#include <string>
#include <vector>

#include "difftest/backends.h"
#include "difftest/database.h"
#include "difftest/sql_tree.h"

namespace surge::difftest {

/// A database and the statement checked on it: the query, or when query is null, the last of
/// db.dml (the earlier ones are setup).
struct Case {
    Database db;
    SelectPtr query;
};

Case CloneCase(const Case& c);

/// The statements of a case in one engine's spelling, setup first, the checked one last.
std::vector<std::string> CaseScript(const Case& c, Dialect d);

/// Runs a case on fresh engines and judges its checked statement. Setup that fails on either
/// engine (other than a dialect error on SurgeDB, which both then skip) is a failure whose
/// reason starts with "setup:". The outcomes of the checked statement go to *surge and *sqlite.
/// Without run_surge only SQLite runs (for a case known to crash SurgeDB).
Judgement RunCase(const Case& c, bool run_surge, Outcome* surge, Outcome* sqlite);

/// Seconds a statement may take before it counts as hung (default 10: the data is tiny, so a
/// query that runs this long has hit a performance cliff, or loops).
unsigned TimeoutSeconds();
void SetTimeoutSeconds(unsigned seconds);

/// The reason a process died of signal sig: "SurgeDB crash (signal N)", or a timeout.
std::string CrashReason(int sig);

/// Runs RunCase in a child process, so that a crash or hang of SurgeDB ends the child, not the
/// tester. Returns the failure's reason, CrashReason() when the child died, "" when the case passes.
std::string IsolatedFailure(const Case& c);

/// Shrinks c while it keeps failing with the same reason (each try runs isolated), using at most
/// max_runs runs; *runs receives the number used.
Case Reduce(const Case& c, const std::string& reason, int max_runs, int* runs);

/// The case as a sqllogictest script for surge-slt: setup as "statement ok" records, the query
/// with SQLite's answer as the expected result (sorted unless its ORDER BY is total). Only SQLite
/// runs here; reason goes into a comment.
std::string SltScript(const Case& c, const std::string& reason);

}  // namespace surge::difftest
