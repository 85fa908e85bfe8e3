// Analytic query benchmarks, SurgeDB against SQLite's in-memory engine on the same data and the
// same query: a filtered scan, GROUP BY over 1k groups, an equi-join, ORDER BY ... LIMIT 10 and a
// windowed rank. One thread, one Engine (a partition's view). Each benchmark reports
// items_per_second = input rows per second; compare a Surge/ and a Sqlite/ pair for the ratio.
//
//   build-rel/bench/sql_bench --benchmark_min_time=2s
//
// SURGE_SQL_BENCH_ROWS sets the big table's size (default 10,000,000); the join reads tables of
// rows/10 and rows/100 rows and the windowed rank the rows/10 table. Loading happens once, before
// the first benchmark, and the two engines' answers are checked against each other then.
// Figures and the machine they were measured on are in docs/performance.md.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "exec/engine.h"

namespace {

using surge::Value;
using surge::exec::Engine;
using surge::exec::PreparedStatement;
using surge::exec::ResultSet;

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "sql_bench: %s\n", what.c_str());
    std::abort();
}

int64_t RowsFromEnv() {
    const char* env = std::getenv("SURGE_SQL_BENCH_ROWS");
    if (!env) return 10'000'000;
    char* end = nullptr;
    long long n = std::strtoll(env, &end, 10);
    if (*end != '\0' || n < 1000) Die("SURGE_SQL_BENCH_ROWS must be an integer >= 1000");
    return n;
}

struct Query {
    const char* name;
    const char* sql;  // the same text runs on both engines
    int table;        // which table's size counts as the rows processed: 0 = t, 1 = a, 2 = a + b
};

const Query kQueries[] = {
    {"FilteredScan", "SELECT COUNT(*) FROM t WHERE v < 100000", 0},
    {"GroupBy1k", "SELECT g, COUNT(*), SUM(v) FROM t GROUP BY g", 0},
    {"EquiJoin", "SELECT COUNT(*) FROM a JOIN b ON a.k = b.k", 2},
    {"OrderByLimit10", "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 10", 0},
    {"WindowRank", "SELECT COUNT(*) FROM (SELECT RANK() OVER (PARTITION BY g ORDER BY x) AS r FROM a) AS w WHERE r = 1",
     1},
};

class Data {
  public:
    Data() : rows_(RowsFromEnv()) {
        if (sqlite3_open(":memory:", &lite_) != SQLITE_OK) Die("sqlite3_open failed");
        Both("CREATE TABLE t (id BIGINT NOT NULL, g INTEGER NOT NULL, v INTEGER NOT NULL, f FLOAT NOT NULL)");
        Both("CREATE TABLE a (k INTEGER NOT NULL, x INTEGER NOT NULL, g INTEGER NOT NULL)");
        Both("CREATE TABLE b (k INTEGER NOT NULL, y INTEGER NOT NULL)");
        std::mt19937_64 rng(42);
        const int64_t nb = rows_ / 100, na = rows_ / 10;
        Load("t", 4, rows_, [&](int64_t i, int64_t* v) {
            v[0] = i;
            v[1] = static_cast<int64_t>(rng() % 1000);
            v[2] = static_cast<int64_t>(rng() % 1'000'000);
            v[3] = static_cast<int64_t>(rng() % 1000);  // stored as FLOAT
        });
        Load("a", 3, na, [&](int64_t, int64_t* v) {
            v[0] = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * nb));  // about half find a partner
            v[1] = static_cast<int64_t>(rng() % 1'000'000);
            v[2] = static_cast<int64_t>(rng() % 1000);
        });
        Load("b", 2, nb, [&](int64_t i, int64_t* v) {
            v[0] = i;
            v[1] = static_cast<int64_t>(rng() % 1000);
        });
        for (const Query& q : kQueries) {
            std::string s = SurgeAnswer(q.sql), l = SqliteAnswer(q.sql);
            if (s != l) Die(std::string(q.name) + ": SurgeDB and SQLite disagree:\n" + s + "\nvs\n" + l);
        }
    }
    ~Data() { sqlite3_close(lite_); }

    int64_t RowsRead(const Query& q) const {
        return q.table == 0 ? rows_ : q.table == 1 ? rows_ / 10 : rows_ / 10 + rows_ / 100;
    }
    Engine& surge() { return surge_; }
    sqlite3* lite() { return lite_; }

    std::shared_ptr<PreparedStatement> Prepare(const char* sql) {
        auto r = surge_.Prepare(sql);
        if (!r.ok()) Die(std::string("prepare ") + sql + ": " + r.status().ToString());
        return std::move(r).value();
    }

    // Runs the query on SQLite and returns the number of result rows.
    int64_t SqliteRun(sqlite3_stmt* st) {
        int64_t n = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) ++n;
        if (rc != SQLITE_DONE) Die(std::string("sqlite: ") + sqlite3_errmsg(lite_));
        sqlite3_reset(st);
        return n;
    }

  private:
    void Both(const std::string& sql) {
        ResultSet rs;
        surge::Status s = surge_.Execute(sql, &rs);
        if (!s.ok()) Die(sql + ": " + s.ToString());
        char* err = nullptr;
        if (sqlite3_exec(lite_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) Die(sql + ": " + err);
    }

    template <typename Fill>
    void Load(const std::string& table, int width, int64_t rows, Fill fill) {
        std::string marks;
        for (int c = 0; c < width; ++c) marks += c ? ", ?" : "?";
        const std::string sql = "INSERT INTO " + table + " VALUES (" + marks + ")";
        auto ins = Prepare(sql.c_str());
        sqlite3_stmt* lst = nullptr;
        if (sqlite3_prepare_v2(lite_, sql.c_str(), -1, &lst, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(lite_));
        sqlite3_exec(lite_, "BEGIN", nullptr, nullptr, nullptr);
        ResultSet rs;
        std::vector<Value> params(static_cast<size_t>(width));
        int64_t v[4];
        for (int64_t i = 0; i < rows; ++i) {
            fill(i, v);
            for (int c = 0; c < width; ++c) {
                const bool is_float = table == "t" && c == 3;
                if (is_float) {
                    params[c] = Value::Float(static_cast<double>(v[c]));
                    sqlite3_bind_double(lst, c + 1, static_cast<double>(v[c]));
                } else {
                    params[c].SetInt(surge::TypeId::kBigInt, v[c]);
                    sqlite3_bind_int64(lst, c + 1, v[c]);
                }
            }
            surge::Status s = surge_.Execute(*ins, params, &rs);
            if (!s.ok()) Die("load " + table + ": " + s.ToString());
            if (sqlite3_step(lst) != SQLITE_DONE) Die(sqlite3_errmsg(lite_));
            sqlite3_reset(lst);
        }
        sqlite3_exec(lite_, "COMMIT", nullptr, nullptr, nullptr);
        sqlite3_finalize(lst);
    }

    // A query's rows as text, one line each, sorted: the two engines' answers must be equal.
    std::string SurgeAnswer(const char* sql) {
        ResultSet rs;
        surge::Status s = surge_.Execute(sql, &rs);
        if (!s.ok()) Die(std::string(sql) + ": " + s.ToString());
        std::vector<std::string> lines;
        for (size_t r = 0; r < rs.row_count(); ++r) {
            std::string line;
            for (size_t c = 0; c < rs.column_count(); ++c) line += (c ? "|" : "") + rs.at(r, c).ToString();
            lines.push_back(line);
        }
        return Joined(lines);
    }
    std::string SqliteAnswer(const char* sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(lite_, sql, -1, &st, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(lite_));
        std::vector<std::string> lines;
        while (sqlite3_step(st) == SQLITE_ROW) {
            std::string line;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const unsigned char* text = sqlite3_column_text(st, c);
                line += (c ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
            }
            lines.push_back(line);
        }
        sqlite3_finalize(st);
        return Joined(lines);
    }
    static std::string Joined(std::vector<std::string> lines) {
        std::sort(lines.begin(), lines.end());
        std::string out;
        for (const auto& l : lines) out += l + "\n";
        return out;
    }

    int64_t rows_;
    Engine surge_;
    sqlite3* lite_ = nullptr;
};

Data& GetData() {
    static Data data;
    return data;
}

void BM_Surge(benchmark::State& state, const Query& q) {
    Data& d = GetData();
    auto stmt = d.Prepare(q.sql);
    ResultSet rs;
    for (auto _ : state) {
        surge::Status s = d.surge().Execute(*stmt, {}, &rs);
        if (!s.ok()) Die(std::string(q.name) + ": " + s.ToString());
        benchmark::DoNotOptimize(rs.values.data());
    }
    state.SetItemsProcessed(state.iterations() * d.RowsRead(q));
}

void BM_Sqlite(benchmark::State& state, const Query& q) {
    Data& d = GetData();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(d.lite(), q.sql, -1, &st, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(d.lite()));
    for (auto _ : state) benchmark::DoNotOptimize(d.SqliteRun(st));
    sqlite3_finalize(st);
    state.SetItemsProcessed(state.iterations() * d.RowsRead(q));
}

int Register() {
    for (const Query& q : kQueries) {
        benchmark::RegisterBenchmark((std::string("Surge/") + q.name).c_str(), BM_Surge, q)
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((std::string("Sqlite/") + q.name).c_str(), BM_Sqlite, q)
            ->Unit(benchmark::kMillisecond);
    }
    return 0;
}
const int kRegistered = Register();

}  // namespace
