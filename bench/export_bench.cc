// Export benchmarks: what capturing an exported row costs the partition thread, how many rows
// per second the whole path delivers to the file target (capture -> publish -> spool -> file), and
// what migrating expired rows (MIGRATE TO TARGET) costs the partition thread.
//
//   build-rel/bench/export_bench --benchmark_min_time=1s
//
// Figures and the machine they were measured on are in docs/performance.md.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "exec/engine.h"
#include "exec/export_capture.h"
#include "export/manager.h"

namespace {

using surge::Value;
using surge::exec::Engine;
using surge::exec::ExportCapture;
using surge::exec::ResultSet;

void Check(const surge::Status& s, const char* what) {
    if (!s.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
        std::abort();
    }
}

constexpr const char* kStream =
    "CREATE STREAM readings %s (meter BIGINT NOT NULL, ts TIMESTAMP NOT NULL, kwh INTEGER NOT NULL, "
    "quality VARCHAR(16))";

void CreateStream(Engine& e, bool exported) {
    char sql[512];
    std::snprintf(sql, sizeof sql, kStream, exported ? "EXPORT TO TARGET files" : "");
    ResultSet rs;
    Check(e.Execute(sql, &rs), "create");
}

// Inserts `rows` readings in transactions of `per_txn` rows, publishing after each commit as the
// server does.
void Insert(Engine& e, ExportCapture* cap, int64_t first, int64_t rows, int per_txn) {
    static thread_local std::shared_ptr<surge::exec::PreparedStatement> ins;
    auto prepared = e.Prepare("INSERT INTO readings VALUES (?, ?, ?, ?)");
    Check(prepared.status(), "prepare");
    ins = *prepared;
    ResultSet rs;
    Value p[4];
    uint64_t token = 1000 + static_cast<uint64_t>(first);
    for (int64_t i = first; i < first + rows;) {
        Check(e.Begin(++token), "begin");
        e.SetTransactionId(token);
        for (int k = 0; k < per_txn && i < first + rows; ++k, ++i) {
            p[0].SetInt(surge::TypeId::kBigInt, i % 100000);
            p[1].SetInt(surge::TypeId::kTimestamp, 1'780'000'000'000'000 + i);
            p[2].SetInt(surge::TypeId::kInteger, static_cast<int32_t>(i % 997));
            p[3].SetString(surge::TypeId::kVarchar, "ok");
            Check(e.Execute(*ins, p, &rs), "insert");
        }
        Check(e.Commit(token), "commit");
        if (cap) cap->Publish();
    }
}

// The partition thread's cost: inserting into a stream with and without export.
void BM_StreamInsert(benchmark::State& state) {
    const bool exported = state.range(0) != 0;
    Engine e;
    ExportCapture cap(0);
    e.SetExportCapture(&cap);
    CreateStream(e, exported);
    int64_t n = 0;
    std::string sink;
    std::vector<surge::exec::ExportChannel> channels;
    for (auto _ : state) {
        Insert(e, exported ? &cap : nullptr, n, 1000, 10);
        n += 1000;
        state.PauseTiming();
        sink.clear();
        cap.Take(&sink, channels.size(), &channels);  // what the export thread would take
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.SetLabel(exported ? "exported" : "not exported");
}
BENCHMARK(BM_StreamInsert)->Arg(0)->Arg(1);

// The whole path to finished CSV files: rows per second from the first insert until every row is
// in a finished file and acknowledged (files roll every 64 MiB) (the inserting thread, the export writer and the target
// share the machine's cores).
void BM_ExportToFiles(benchmark::State& state) {
    const int64_t rows = state.range(0);
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("surge-export-bench-" + std::to_string(::getpid()));
    for (auto _ : state) {
        fs::remove_all(dir);
        Engine e;
        ExportCapture cap(0);
        e.SetExportCapture(&cap);
        CreateStream(e, true);
        surge::exports::ExportOptions o;
        o.dir = (dir / "spool").string();
        o.partitions = 1;
        surge::exports::TargetConfig t;
        t.name = "files";
        t.type = "file";
        t.settings = {{"dir", (dir / "out").string()}, {"roll_mb", "64"}};
        o.targets = {t};
        o.last_lsn = [] { return uint64_t{0}; };
        o.durable_lsn = [] { return UINT64_MAX; };
        auto m = surge::exports::ExportManager::Open(std::move(o), {&cap});
        Check(m.status(), "open");
        (*m)->StartWriter();
        (*m)->StartTargets();
        const auto t0 = std::chrono::steady_clock::now();
        Insert(e, &cap, 0, rows, 100);
        while ((*m)->Statistics().empty() || (*m)->Statistics()[0].delivered_seq < static_cast<uint64_t>(rows)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        (*m)->Stop();  // the last file is finished (fsync, rename) and acknowledged
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(secs);
    }
    fs::remove_all(dir);
    state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_ExportToFiles)->Arg(2'000'000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

// Migration (USING TTL ... MIGRATE TO TARGET) on the partition thread, 1M expired rows, batches
// of 2000. Arg 0: the target acknowledges everything at once, so each @TtlDelete pass deletes the
// previous batch and migrates (exports and marks) the next: rows per second through both. Arg 1:
// the target acknowledges nothing: the time of a pass once the rows waiting for it reach the
// bound on what a pass steps over (65,536).
void BM_Migrate(benchmark::State& state) {
    const bool acking = state.range(0) == 0;
    constexpr int64_t kRows = 1'000'000;
    Engine e;
    ExportCapture cap(0);
    e.SetExportCapture(&cap);
    ResultSet rs;
    Check(e.Execute("CREATE TABLE intraday (meter BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL, "
                    "kwh INTEGER NOT NULL) USING TTL 1 SECONDS ON COLUMN ts BATCH_SIZE 2000 MIGRATE TO TARGET "
                    "billing; PARTITION TABLE intraday ON COLUMN meter; CREATE INDEX intraday_ts ON intraday (ts)",
                    &rs),
          "create");
    uint64_t token = 1;
    auto load = [&] {
        auto ins = e.Prepare("INSERT INTO intraday VALUES (?, ?, ?)");
        Check(ins.status(), "prepare");
        Value p[3];
        for (int64_t i = 0; i < kRows;) {
            Check(e.Begin(++token), "begin");
            for (int k = 0; k < 1000; ++k, ++i) {
                p[0].SetInt(surge::TypeId::kBigInt, i);
                p[1].SetInt(surge::TypeId::kTimestamp, 1'700'000'000'000'000 + i);
                p[2].SetInt(surge::TypeId::kInteger, static_cast<int32_t>(i % 997));
                Check(e.Execute(**ins, p, &rs), "insert");
            }
            Check(e.Commit(token), "commit");
        }
    };
    std::string sink;
    std::vector<surge::exec::ExportChannel> channels;
    // One pass, as the TTL timer runs it.
    auto pass = [&] {
        e.SetTimestamp(1'800'000'000'000'000);
        Check(e.Begin(++token), "begin");
        auto r = e.DeleteExpired("intraday", acking ? cap.Sequence("intraday") : 0);
        Check(r.status(), "migrate");
        Check(e.Commit(token), "commit");
        cap.Publish();
        sink.clear();
        cap.Take(&sink, channels.size(), &channels);
        return *r;
    };
    load();
    if (!acking) {
        while (pass().migrated > 0) {
        }
        for (auto _ : state) benchmark::DoNotOptimize(pass());
        state.SetLabel("a pass while rows wait for the target");
        return;
    }
    int64_t moved = 0;
    for (auto _ : state) {
        const auto r = pass();
        if (r.migrated == 0 && r.deleted == 0) {
            state.PauseTiming();
            load();
            state.ResumeTiming();
        }
        moved += static_cast<int64_t>(r.deleted);
    }
    state.SetItemsProcessed(moved);
    state.SetLabel("rows migrated and then deleted");
}
BENCHMARK(BM_Migrate)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
