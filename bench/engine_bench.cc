// Single-partition engine benchmarks: prepared statements on one Engine, one thread, the way a
// partition executor runs them. Each benchmark reports items_per_second (statements per second).
//
//   build-release/bench/engine_bench --benchmark_min_time=1s
//
// Figures and the machine they were measured on are in docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "exec/engine.h"
#include "storage/index.h"

namespace {

using surge::Value;
using surge::exec::Engine;
using surge::exec::PreparedStatement;
using surge::exec::ResultSet;

constexpr int64_t kRows = 1'000'000;

void Check(const surge::Status& s, const char* what) {
    if (!s.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
        std::abort();
    }
}

std::shared_ptr<PreparedStatement> Prepare(Engine& e, const std::string& sql) {
    auto r = e.Prepare(sql);
    if (!r.ok()) {
        std::fprintf(stderr, "prepare %s: %s\n", sql.c_str(), r.status().ToString().c_str());
        std::abort();
    }
    return std::move(r).value();
}

void Exec(Engine& e, const std::string& sql) {
    ResultSet rs;
    Check(e.Execute(sql, &rs), sql.c_str());
}

// kv(k BIGINT PRIMARY KEY, v BIGINT, s VARCHAR(32)) with `rows` rows; the primary key is hash
// or ordered.
void LoadKv(Engine& e, bool hash_pk, int64_t rows) {
    Exec(e, "CREATE TABLE kv (k BIGINT NOT NULL, v BIGINT NOT NULL, s VARCHAR(32), g INTEGER NOT NULL)");
    Exec(e, hash_pk ? "CREATE UNIQUE INDEX kv_pk ON kv (k) USING HASH" : "CREATE UNIQUE INDEX kv_pk ON kv (k)");
    auto ins = Prepare(e, "INSERT INTO kv VALUES (?, ?, ?, ?)");
    ResultSet rs;
    Value params[4];
    for (int64_t i = 0; i < rows; ++i) {
        params[0].SetInt(surge::TypeId::kBigInt, i);
        params[1].SetInt(surge::TypeId::kBigInt, i * 7);
        params[2].SetString(surge::TypeId::kVarchar, "value-" + std::to_string(i));
        params[3].SetInt(surge::TypeId::kInteger, i % 1000);
        Check(e.Execute(*ins, params, &rs), "load");
    }
}

// A cheap, deterministic key sequence that defeats the branch predictor and the caches.
struct KeyGen {
    uint64_t x = 88172645463325252ull;
    int64_t Next(int64_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return static_cast<int64_t>(x % static_cast<uint64_t>(n));
    }
};

// state.range(0) rows: 10k fit in the caches (executor cost); 1M do not (memory latency).
void PointSelect(benchmark::State& state, bool hash_pk) {
    const int64_t rows = state.range(0);
    Engine e;
    LoadKv(e, hash_pk, rows);
    auto sel = Prepare(e, "SELECT v, s FROM kv WHERE k = ?");
    ResultSet rs;
    Value key;
    KeyGen gen;
    for (auto _ : state) {
        key.SetInt(surge::TypeId::kBigInt, gen.Next(rows));
        Check(e.Execute(*sel, {&key, 1}, &rs), "select");
        benchmark::DoNotOptimize(rs.values.data());
    }
    if (rs.row_count() != 1) std::abort();
    state.SetItemsProcessed(state.iterations());
}

void BM_PointSelectHashPk(benchmark::State& state) { PointSelect(state, true); }
void BM_PointSelectOrderedPk(benchmark::State& state) { PointSelect(state, false); }
BENCHMARK(BM_PointSelectHashPk)->Arg(10'000)->Arg(kRows);
BENCHMARK(BM_PointSelectOrderedPk)->Arg(10'000)->Arg(kRows);

// Inserts fresh keys into a table with 1 (primary key) or 3 indexes. The table grows through the
// run; every `kBatch` inserts it is truncated (outside the timing) so memory stays bounded.
void BM_Insert(benchmark::State& state) {
    const int indexes = static_cast<int>(state.range(0));
    Engine e;
    Exec(e,
         "CREATE TABLE ev (id BIGINT NOT NULL PRIMARY KEY, dev INTEGER NOT NULL, ts TIMESTAMP NOT NULL, "
         "val FLOAT, tag VARCHAR(16))");
    if (indexes >= 2) Exec(e, "CREATE INDEX ev_dev ON ev (dev, ts)");
    if (indexes >= 3) Exec(e, "CREATE INDEX ev_tag ON ev (tag) USING HASH");
    auto ins = Prepare(e, "INSERT INTO ev VALUES (?, ?, ?, ?, ?)");
    ResultSet rs;
    Value p[5];
    int64_t id = 0;
    constexpr int64_t kBatch = 2'000'000;
    for (auto _ : state) {
        p[0].SetInt(surge::TypeId::kBigInt, id);
        p[1].SetInt(surge::TypeId::kInteger, id % 10007);
        p[2].SetInt(surge::TypeId::kTimestamp, 1'700'000'000'000'000 + id);
        p[3].SetDouble(static_cast<double>(id) * 0.5);
        p[4].SetString(surge::TypeId::kVarchar, (id & 1) ? "alpha" : "beta");
        Check(e.Execute(*ins, p, &rs), "insert");
        if (++id % kBatch == 0) {
            state.PauseTiming();
            Exec(e, "TRUNCATE TABLE ev");
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Insert)->Arg(1)->Arg(3);

// The slowest single inserts into a table whose hash primary key grows from empty to 8 M keys:
// with the index grown in one step (arg 0) a doubling moves every entry inside one insert; grown
// incrementally (arg 1, the default) it moves a few per insert. Reports the largest and the
// 99.99th-percentile insert time; items are inserts.
void BM_HashPkGrowthStall(benchmark::State& state) {
    surge::storage::Index::SetIncrementalGrowthMinimum(state.range(0) ? 0 : SIZE_MAX);
    constexpr int64_t kRows = 8'000'000;
    std::vector<uint32_t> nanos;
    nanos.reserve(kRows);
    for (auto _ : state) {
        Engine e;
        Exec(e, "CREATE TABLE g (id BIGINT NOT NULL, v INTEGER)");
        Exec(e, "CREATE UNIQUE INDEX g_pk ON g (id) USING HASH");
        auto ins = Prepare(e, "INSERT INTO g VALUES (?, ?)");
        ResultSet rs;
        Value p[2];
        KeyGen gen;
        nanos.clear();
        for (int64_t i = 0; i < kRows; ++i) {
            p[0].SetInt(surge::TypeId::kBigInt, static_cast<int64_t>(gen.Next(UINT32_MAX)) << 24 | i);
            p[1].SetInt(surge::TypeId::kInteger, 1);
            const auto t0 = std::chrono::steady_clock::now();
            Check(e.Execute(*ins, p, &rs), "insert");
            nanos.push_back(static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
        }
    }
    std::sort(nanos.begin(), nanos.end());
    state.counters["max_ms"] = nanos.back() / 1e6;
    state.counters["p9999_us"] = nanos[nanos.size() * 9999 / 10000] / 1e3;
    state.SetItemsProcessed(state.iterations() * kRows);
    surge::storage::Index::SetIncrementalGrowthMinimum(0);
}
BENCHMARK(BM_HashPkGrowthStall)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_UpdateByKey(benchmark::State& state) {
    Engine e;
    LoadKv(e, true, kRows);
    auto upd = Prepare(e, "UPDATE kv SET v = v + 1 WHERE k = ?");
    ResultSet rs;
    Value key;
    KeyGen gen;
    for (auto _ : state) {
        key.SetInt(surge::TypeId::kBigInt, gen.Next(kRows));
        Check(e.Execute(*upd, {&key, 1}, &rs), "update");
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UpdateByKey);

// SELECT over a key range of state.range(0) rows through the ordered primary key; items are rows.
void BM_RangeScan(benchmark::State& state) {
    const int64_t width = state.range(0);
    Engine e;
    LoadKv(e, false, kRows);
    auto sel = Prepare(e, "SELECT k, v FROM kv WHERE k >= ? AND k < ?");
    ResultSet rs;
    Value p[2];
    KeyGen gen;
    for (auto _ : state) {
        int64_t lo = gen.Next(kRows - width);
        p[0].SetInt(surge::TypeId::kBigInt, lo);
        p[1].SetInt(surge::TypeId::kBigInt, lo + width);
        Check(e.Execute(*sel, p, &rs), "range");
        benchmark::DoNotOptimize(rs.values.data());
    }
    if (static_cast<int64_t>(rs.row_count()) != width) std::abort();
    state.SetItemsProcessed(state.iterations() * width);
}
BENCHMARK(BM_RangeScan)->Arg(10)->Arg(1000);

// Insert cost with a materialized view on the table (state.range(0) = 1) or without (0).
void BM_InsertWithView(benchmark::State& state) {
    Engine e;
    Exec(e, "CREATE TABLE rd (id BIGINT NOT NULL PRIMARY KEY, meter INTEGER NOT NULL, kwh BIGINT NOT NULL)");
    if (state.range(0)) {
        Exec(e,
             "CREATE VIEW usage (meter, n, total, lo, hi) AS SELECT meter, COUNT(*), SUM(kwh), MIN(kwh), "
             "MAX(kwh) FROM rd GROUP BY meter");
    }
    auto ins = Prepare(e, "INSERT INTO rd VALUES (?, ?, ?)");
    ResultSet rs;
    Value p[3];
    int64_t id = 0;
    constexpr int64_t kBatch = 2'000'000;
    for (auto _ : state) {
        p[0].SetInt(surge::TypeId::kBigInt, id);
        p[1].SetInt(surge::TypeId::kInteger, id % 10000);
        p[2].SetInt(surge::TypeId::kBigInt, id % 97);
        Check(e.Execute(*ins, p, &rs), "insert");
        if (++id % kBatch == 0) {
            state.PauseTiming();
            Exec(e, "TRUNCATE TABLE rd");
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InsertWithView)->Arg(0)->Arg(1);

// A transaction of state.range(0) single-row updates that is rolled back; items are rolled-back
// writes. Measures undo capture plus undo application.
void BM_Rollback(benchmark::State& state) {
    const int64_t writes = state.range(0);
    Engine e;
    LoadKv(e, true, kRows);
    auto upd = Prepare(e, "UPDATE kv SET v = v + 1, s = 'changed' WHERE k = ?");
    ResultSet rs;
    Value key;
    KeyGen gen;
    uint64_t token = 1;
    for (auto _ : state) {
        Check(e.Begin(token), "begin");
        for (int64_t i = 0; i < writes; ++i) {
            key.SetInt(surge::TypeId::kBigInt, gen.Next(kRows));
            Check(e.Execute(*upd, {&key, 1}, &rs), "update");
        }
        Check(e.Rollback(token), "rollback");
        ++token;
    }
    state.SetItemsProcessed(state.iterations() * writes);
}
BENCHMARK(BM_Rollback)->Arg(1)->Arg(100);

// VoltDB's Voter transaction as a partition runs it (bench/workloads/voter: the native Vote
// procedure's statements): three checks — the contestant, the caller's count in the per-phone
// view, the area code's state — then the insert, which maintains both views; one transaction
// each. Phone numbers are random (nearly every vote is a new caller), so the per-phone view grows
// by one row per vote as in `surge-bench voter`. Items are votes.
void BM_VoterVote(benchmark::State& state) {
    Engine e;
    Exec(e,
         "CREATE TABLE contestants (contestant_number INTEGER NOT NULL PRIMARY KEY, contestant_name VARCHAR(50) NOT "
         "NULL)");
    Exec(e, "CREATE TABLE area_code_state (area_code SMALLINT NOT NULL PRIMARY KEY, state VARCHAR(2) NOT NULL)");
    Exec(e,
         "CREATE TABLE votes (phone_number BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant_number INTEGER NOT "
         "NULL)");
    Exec(e,
         "CREATE VIEW v_votes_by_phone_number (phone_number, num_votes) AS "
         "SELECT phone_number, COUNT(*) FROM votes GROUP BY phone_number");
    Exec(e,
         "CREATE VIEW v_votes_by_contestant_number_state (contestant_number, state, num_votes) AS "
         "SELECT contestant_number, state, COUNT(*) FROM votes GROUP BY contestant_number, state");
    for (int c = 1; c <= 6; ++c) Exec(e, "INSERT INTO contestants VALUES (" + std::to_string(c) + ", 'c')");
    for (int a = 200; a < 1000; a += 3) Exec(e, "INSERT INTO area_code_state VALUES (" + std::to_string(a) + ", 'NY')");
    auto contestant = Prepare(e, "SELECT contestant_number FROM contestants WHERE contestant_number = ?");
    auto voter = Prepare(e, "SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?");
    auto area = Prepare(e, "SELECT state FROM area_code_state WHERE area_code = ?");
    auto insert = Prepare(e, "INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)");
    ResultSet rs[4];
    Value p[3];
    KeyGen gen;
    uint64_t token = 1;
    for (auto _ : state) {
        const int64_t phone = (200 + 3 * gen.Next(266)) * 10'000'000 + gen.Next(10'000'000);
        const int64_t c = gen.Next(6) + 1;
        Check(e.Begin(token), "begin");
        p[0].SetInt(surge::TypeId::kInteger, c);
        Check(e.Execute(*contestant, {p, 1}, &rs[0]), "contestant");
        p[0].SetInt(surge::TypeId::kBigInt, phone);
        Check(e.Execute(*voter, {p, 1}, &rs[1]), "voter");
        p[0].SetInt(surge::TypeId::kBigInt, phone / 10'000'000);
        Check(e.Execute(*area, {p, 1}, &rs[2]), "area");
        if (rs[0].row_count() != 1 || rs[2].row_count() != 1) std::abort();
        p[0].SetInt(surge::TypeId::kBigInt, phone);
        p[1] = rs[2].at(0, 0);
        p[2].SetInt(surge::TypeId::kInteger, c);
        Check(e.Execute(*insert, {p, 3}, &rs[3]), "insert");
        Check(e.Commit(token), "commit");
        ++token;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VoterVote)->Iterations(2'000'000);

}  // namespace
