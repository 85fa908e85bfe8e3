// Running statements on SurgeDB and SQLite, and judging the two answers against each other.
#include "difftest/backends.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "common/status.h"
#include "exec/engine.h"

namespace surge::difftest {

// ---- SurgeDB ----------------------------------------------------------------------------------

SurgeBackend::SurgeBackend() : engine_(std::make_unique<exec::Engine>()) {}
SurgeBackend::~SurgeBackend() = default;

void SurgeBackend::Reset() { engine_ = std::make_unique<exec::Engine>(); }

Outcome SurgeBackend::Run(const std::string& sql) {
    Outcome out;
    exec::ResultSet rs;
    Status st;
    // An exception escaping Execute is an engine bug; report it like an error so the run goes on.
    try {
        st = engine_->Execute(sql, &rs);
    } catch (const std::exception& e) {
        st = Status(ErrorCode::kInternal, std::string("exception escaped Engine::Execute: ") + e.what());
    }
    if (!st.ok()) {
        out.sqlstate = std::string(SqlState(st.code()));
        out.error = st.ToString();
        return out;
    }
    out.ok = true;
    out.changes = rs.modified_tuples();
    out.columns = rs.column_count();
    for (size_t r = 0; r < rs.row_count(); r++) {
        std::vector<Value> row;
        row.reserve(out.columns);
        for (size_t c = 0; c < out.columns; c++) row.push_back(rs.at(r, c));
        out.rows.push_back(std::move(row));
    }
    return out;
}

// ---- SQLite -----------------------------------------------------------------------------------

SqliteBackend::SqliteBackend() { Reset(); }

SqliteBackend::~SqliteBackend() { sqlite3_close(db_); }

void SqliteBackend::Reset() {
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK)
        throw std::runtime_error("cannot open an in-memory SQLite database");
    // SurgeDB's LIKE compares bytes; SQLite's folds ASCII case unless told otherwise.
    Outcome o = Run("PRAGMA case_sensitive_like = ON");
    if (!o.ok) throw std::runtime_error("SQLite: " + o.error);
    sqlite3_progress_handler(db_, 100000, &SqliteBackend::Progress, this);
}

int SqliteBackend::Progress(void* self) {
    const auto* b = static_cast<const SqliteBackend*>(self);
    return time_limit_seconds_ > 0 && std::chrono::steady_clock::now() > b->deadline_ ? 1 : 0;
}

Outcome SqliteBackend::Run(const std::string& sql) {
    Outcome out;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(time_limit_seconds_);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
        out.sqlstate = "SQLITE";
        out.error = sqlite3_errmsg(db_);
        return out;
    }
    out.columns = static_cast<size_t>(sqlite3_column_count(stmt));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        std::vector<Value> row;
        row.reserve(out.columns);
        for (int c = 0; c < static_cast<int>(out.columns); c++) {
            switch (sqlite3_column_type(stmt, c)) {
                case SQLITE_INTEGER:
                    row.push_back(Value::BigInt(sqlite3_column_int64(stmt, c)));
                    break;
                case SQLITE_FLOAT:
                    row.push_back(Value::Float(sqlite3_column_double(stmt, c)));
                    break;
                case SQLITE_NULL:
                    row.push_back(Value());
                    break;
                default: {
                    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                    row.push_back(
                        Value::Varchar(std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c)))));
                }
            }
        }
        out.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
        out.sqlstate = "SQLITE";
        out.error = sqlite3_errmsg(db_);
        out.rows.clear();
    } else {
        out.ok = true;
        if (!sqlite3_stmt_readonly(stmt)) out.changes = sqlite3_changes64(db_);
    }
    sqlite3_finalize(stmt);
    return out;
}

bool SqliteBackend::HasOuterJoins() { return sqlite3_libversion_number() >= 3039000; }

std::string SqliteBackend::Version() { return sqlite3_libversion(); }

// ---- judging ----------------------------------------------------------------------------------

namespace {

enum class Class : uint8_t { kNull, kInt, kReal, kText };

Class ClassOf(const Value& v) {
    if (v.is_null()) return Class::kNull;
    switch (v.type()) {
        case TypeId::kFloat:
        case TypeId::kDecimal:
            return Class::kReal;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            return Class::kText;
        default:
            return Class::kInt;  // integral, BOOLEAN (SQLite's 0/1), TIMESTAMP
    }
}

bool IsNumber(Class c) { return c == Class::kInt || c == Class::kReal; }

// A total order for sorting rows before a multiset comparison: NULL, numbers, text.
int Order(const Value& a, const Value& b) {
    Class ca = ClassOf(a), cb = ClassOf(b);
    int ra = ca == Class::kNull ? 0 : IsNumber(ca) ? 1 : 2;
    int rb = cb == Class::kNull ? 0 : IsNumber(cb) ? 1 : 2;
    if (ra != rb) return ra < rb ? -1 : 1;
    if (ra == 0) return 0;
    if (ra == 2) return a.AsString().compare(b.AsString()) < 0 ? -1 : a.AsString() == b.AsString() ? 0 : 1;
    if (ca == Class::kInt && cb == Class::kInt) return a.AsInt() < b.AsInt() ? -1 : a.AsInt() > b.AsInt() ? 1 : 0;
    double x = a.ToDouble(), y = b.ToDouble();
    return x < y ? -1 : x > y ? 1 : 0;
}

bool Same(const Value& a, const Value& b) {
    Class ca = ClassOf(a), cb = ClassOf(b);
    if (ca == Class::kNull || cb == Class::kNull) return ca == cb;
    if (ca == Class::kText || cb == Class::kText) return ca == cb && a.AsString() == b.AsString();
    if (ca == Class::kInt && cb == Class::kInt) return a.AsInt() == b.AsInt();
    double x = a.ToDouble(), y = b.ToDouble();
    double scale = std::max({std::fabs(x), std::fabs(y), 1e-3});
    return std::fabs(x - y) <= 1e-9 * scale;
}

bool RowLess(const std::vector<Value>& a, const std::vector<Value>& b) {
    for (size_t c = 0; c < a.size() && c < b.size(); c++) {
        int o = Order(a[c], b[c]);
        if (o != 0) return o < 0;
    }
    return a.size() < b.size();
}

bool SameRow(const std::vector<Value>& a, const std::vector<Value>& b) {
    if (a.size() != b.size()) return false;
    for (size_t c = 0; c < a.size(); c++) {
        if (!Same(a[c], b[c])) return false;
    }
    return true;
}

// Pairs every row of a with an equal row of b, greedily (quadratic, so only after the sorted
// comparison failed, and only when floats are involved).
bool MatchWithTolerance(const std::vector<std::vector<Value>>& a, const std::vector<std::vector<Value>>& b) {
    bool floats = false;
    for (const auto& row : a) {
        for (const Value& v : row) floats = floats || ClassOf(v) == Class::kReal;
    }
    if (!floats) return false;
    std::vector<bool> used(b.size());
    for (const auto& row : a) {
        size_t k = 0;
        while (k < b.size() && (used[k] || !SameRow(row, b[k]))) k++;
        if (k == b.size()) return false;
        used[k] = true;
    }
    return true;
}

}  // namespace

std::string DialectRule(const std::string& sqlstate) {
    if (sqlstate == "22012") return "division-by-zero";
    if (sqlstate == "42804") return "type-mismatch";
    if (sqlstate == "42803") return "grouping";
    if (sqlstate == "22001") return "string-too-long";
    if (sqlstate == "22003") return "numeric-overflow";
    return "";
}

Judgement Judge(const Outcome& surge, const Outcome& sqlite, bool ordered) {
    Judgement j;
    if (!surge.ok) {
        std::string rule = DialectRule(surge.sqlstate);
        if (!rule.empty()) return Judgement{Verdict::kSkip, rule, surge.error};
        if (!sqlite.ok) return Judgement{Verdict::kSkip, "both-failed", surge.error + " / SQLite: " + sqlite.error};
        return Judgement{Verdict::kFailed, "SurgeDB error " + surge.sqlstate, surge.error};
    }
    if (!sqlite.ok) return Judgement{Verdict::kFailed, "SQLite error", sqlite.error};
    if (sqlite.changes >= 0 || surge.changes >= 0) {
        if (sqlite.changes == surge.changes) return j;
        return Judgement{
            Verdict::kFailed, "wrong row count",
            "SurgeDB changed " + std::to_string(surge.changes) + " rows, SQLite " + std::to_string(sqlite.changes)};
    }
    if (surge.columns != sqlite.columns) {
        return Judgement{Verdict::kFailed, "wrong result",
                         std::to_string(surge.columns) + " columns vs " + std::to_string(sqlite.columns)};
    }
    if (surge.rows.size() != sqlite.rows.size()) {
        return Judgement{Verdict::kFailed, "wrong result",
                         std::to_string(surge.rows.size()) + " rows vs " + std::to_string(sqlite.rows.size())};
    }
    std::vector<std::vector<Value>> a = surge.rows, b = sqlite.rows;
    if (!ordered) {
        std::sort(a.begin(), a.end(), RowLess);
        std::sort(b.begin(), b.end(), RowLess);
    }
    for (size_t r = 0; r < a.size(); r++) {
        for (size_t c = 0; c < a[r].size(); c++) {
            if (Same(a[r][c], b[r][c])) continue;
            // Floats equal within the tolerance can still sort apart and pair the wrong rows
            // (-66 and -65.999999999997 around a -66 of another row): match rows one by one.
            if (!ordered && MatchWithTolerance(a, b)) return j;
            return Judgement{Verdict::kFailed, "wrong result",
                             std::string(ordered ? "" : "sorted ") + "row " + std::to_string(r + 1) + " column " +
                                 std::to_string(c + 1) + ": " + a[r][c].ToString() + " vs " + b[r][c].ToString()};
        }
    }
    return j;
}

std::string FormatOutcome(const Outcome& o, size_t max_rows) {
    if (!o.ok) return o.error + "\n";
    if (o.changes >= 0) return std::to_string(o.changes) + " rows changed\n";
    std::string out;
    for (size_t r = 0; r < o.rows.size() && r < max_rows; r++) {
        for (size_t c = 0; c < o.rows[r].size(); c++) {
            if (c > 0) out += " | ";
            const Value& v = o.rows[r][c];
            out += v.is_null()                  ? "NULL"
                   : ClassOf(v) == Class::kText ? "'" + std::string(v.AsString()) + "'"
                                                : v.ToString();
        }
        out += '\n';
    }
    if (o.rows.size() > max_rows) out += "... " + std::to_string(o.rows.size() - max_rows) + " more rows\n";
    if (o.rows.empty()) out += "(no rows)\n";
    return out;
}

}  // namespace surge::difftest
