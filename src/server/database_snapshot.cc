// Snapshots: the cut, the sliced copy-on-write scans, the files' completion and retention, loading
// one back (recovery, @SnapshotRestore), automatic snapshots, and the @Snapshot* procedures.
// See docs/adr/0010-snapshots.md and docs/durability.md.
#include <spdlog/spdlog.h>

#include <cinttypes>
#include <ctime>
#include <filesystem>
#include <future>
#include <regex>

#include "export/format.h"
#include "server/convert.h"
#include "server/database.h"
#include "server/database_call.h"
#include "storage/row_codec.h"
#include "storage/table.h"

namespace surge::server {

namespace {

constexpr size_t kChunkBytes = 256 * 1024;   // rows per chunk handed to the writer
constexpr size_t kSliceBytes = 1024 * 1024;  // scanned per slice on a partition thread
constexpr uint32_t kRowsPerLoadTransaction = 4096;

int64_t WallMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t SteadyMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A snapshot's id: its UTC start time, sortable, unique within the directory.
std::string NewSnapshotId(const std::string& root) {
    const int64_t micros = WallMicros();
    const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((micros / 1000) % 1000));
    std::string id = buf;
    std::error_code ec;
    for (int n = 2; std::filesystem::exists(root + "/" + id, ec); ++n) id = std::string(buf) + "-" + std::to_string(n);
    return id;
}

std::string CsvHeader(const catalog::TableDef& def) {
    std::string out;
    for (size_t c = 0; c < def.columns.size(); ++c) {
        if (c) out += ',';
        exports::AppendCsvField(Value::Varchar(def.columns[c].name), &out);
    }
    return out + "\n";
}

// A file name for a table's CSV: its name with anything but letters, digits, '_' and '-' as '_'.
std::string CsvFileName(const std::string& table) { return exports::SafeFileName(table) + ".csv"; }

// Which tables a snapshot holds: every table, and the materialized views over streams (their rows
// exist nowhere else); not streams (no rows) nor views over tables (rebuilt from them on load).
bool InSnapshot(const catalog::Catalog& cat, const catalog::TableDef& def) {
    if (def.is_stream()) return false;
    if (!def.is_view()) return true;
    auto source = cat.FindTable(def.view->source_table);
    return source && source->is_stream();
}

// Whether each partition's rows are written (and loaded) separately: partitioned tables, and views
// (a view over a partitioned stream holds each partition's own groups). A replicated table is the
// same everywhere: written from partition 0, loaded into every partition.
bool PerPartition(const catalog::TableDef& def) { return def.partition_column.has_value() || def.is_view(); }

Status SnapshotBusy() {
    return Status(ErrorCode::kTransactionState, "a snapshot is already being written; try again when it completes");
}

}  // namespace

struct Database::SnapshotRun {
    std::string id, dir;
    bool csv = false;
    bool automatic = false;
    bool in_data_dir = false;
    SnapshotDone done;
    std::atomic<bool> answered{false};
    std::atomic<bool> cut_taken{false};  ///< @Statistics: "starting" before, "running" after
    std::unique_ptr<durability::SnapshotWriter> writer;
    durability::SnapshotManifest manifest;  ///< the cut's fields; files are filled in by the writer
    std::string catalog_sql;
    std::chrono::steady_clock::time_point started;
    double pause_ms = 0;

    struct Job {
        storage::Table* table;
        size_t file;
        std::optional<size_t> csv_file;
    };
    /// One partition's tables. Touched by its thread, or by the coordinator while it is parked.
    struct Part {
        std::vector<Job> jobs;
        size_t next = 0;
        bool done = false;
        std::atomic<bool> paused{false};  ///< waiting for the writer to drain
    };
    std::vector<std::unique_ptr<Part>> parts;
    std::atomic<size_t> parts_left{0};
    std::atomic<bool> failed{false};

    /// Answers the requester once (success or failure).
    void Answer(const Status& s, const durability::SnapshotManifest& m) {
        if (answered.exchange(true)) return;
        if (done) done(s, m);
    }
};

// ---- taking a snapshot --------------------------------------------------------------------------

void Database::StartSnapshot(std::string root, bool csv, bool automatic, SnapshotDone done) {
    auto run = std::make_shared<SnapshotRun>();
    run->done = std::move(done);
    run->csv = csv;
    run->automatic = automatic;
    run->in_data_dir = root.empty();
    if (run->in_data_dir) {
        if (options_.data_dir.empty()) {
            run->Answer(Status(ErrorCode::kInvalidParameter,
                               "this server has no data directory; name a directory to write the snapshot to"),
                        {});
            return;
        }
        root = snapshot_root();
    }
    if (snapshot_running_.exchange(true)) {
        run->Answer(SnapshotBusy(), {});
        return;
    }
    run->id = NewSnapshotId(root);
    run->dir = root + "/" + run->id;
    run->started = std::chrono::steady_clock::now();
    {
        // The directory is this snapshot's from before it exists (@SnapshotDelete leaves it alone).
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        snapshot_run_ = run;
    }
    std::weak_ptr<SnapshotRun> weak = run;
    auto writer = durability::SnapshotWriter::Create(run->dir, options_.snapshot_max_queued_bytes, [this, weak] {
        auto r = weak.lock();
        if (!r) return;
        for (uint32_t p = 0; p < r->parts.size(); ++p) {
            if (r->parts[p]->paused.exchange(false)) QueueSnapshotSlice(r, p);
        }
    });
    if (!writer.ok()) {
        // Not FailSnapshot: the directory that could not be created may be someone else's.
        snapshot_running_ = false;
        run->Answer(writer.status(), {});
        return;
    }
    run->writer = std::move(*writer);
    auto task = std::make_unique<txn::MpFunctionTask>([this, run](txn::MpContext& ctx) { BeginSnapshotCut(ctx, run); },
                                                      [this, run](const Status& why) { FailSnapshot(run, why); });
    Status s = coordinator_->Submit(std::move(task), true);
    if (!s.ok()) FailSnapshot(run, s);
}

void Database::BeginSnapshotCut(txn::MpContext& ctx, const std::shared_ptr<SnapshotRun>& run) {
    const auto t0 = std::chrono::steady_clock::now();
    durability::SnapshotManifest& m = run->manifest;
    m.id = run->id;
    m.cut_lsn = log_ ? log_->last_lsn() : 0;
    m.partitions = partition_count();
    m.created_micros = WallMicros();
    m.next_txn_id = next_txn_id_.load();
    m.last_timestamp = last_timestamp_.load();
    run->catalog_sql = durability::FormatDdlHistory(ddl_history_);
    // Export sequences at the cut; the rows up to them go to the spool, which must be durable
    // before the MANIFEST is (recovery replays only what follows the cut).
    for (uint32_t p = 0; p < ctx.partition_count(); ++p) {
        captures_[p]->Publish();
        for (auto& [stream, seq] : captures_[p]->Sequences()) m.export_sequences.push_back({stream, p, seq});
    }
    std::map<std::string, size_t> csv_files;
    for (uint32_t p = 0; p < ctx.partition_count(); ++p) {
        auto part = std::make_unique<SnapshotRun::Part>();
        size_t k = 0;
        for (const auto& [name, def] : ctx.engine(p).catalog()->tables()) {
            if (!InSnapshot(*ctx.engine(p).catalog(), *def) || (!PerPartition(*def) && p != 0)) continue;
            storage::Table* table = ctx.engine(p).FindTable(name);
            if (!table) continue;
            table->BeginSnapshot();
            char file[64];
            std::snprintf(file, sizeof file, "p%u-t%zu.rows", p, k++);
            SnapshotRun::Job job{table, run->writer->AddFile(file, def->name, p), std::nullopt};
            // CSV is for tables: a view over a stream holds each partition's partial groups.
            if (run->csv && !def->is_view()) {
                auto it = csv_files.find(def->name);
                if (it == csv_files.end()) {
                    const size_t f = run->writer->AddFile(CsvFileName(def->name), def->name, 0, false);
                    run->writer->Write(f, CsvHeader(*def), 0);
                    it = csv_files.emplace(def->name, f).first;
                }
                job.csv_file = it->second;
            }
            part->jobs.push_back(job);
        }
        run->parts.push_back(std::move(part));
    }
    run->parts_left = run->parts.size();
    last_snapshot_micros_ = SteadyMicros();
    log_bytes_at_snapshot_ = log_ ? log_->counters().bytes : 0;
    run->pause_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // Still parked: a call made after this is visible comes after the cut.
    run->cut_taken = true;
    // The slices run once the partitions are released.
    for (uint32_t p = 0; p < run->parts.size(); ++p) QueueSnapshotSlice(run, p);
}

void Database::QueueSnapshotSlice(const std::shared_ptr<SnapshotRun>& run, uint32_t p) {
    // A slice is refused or dropped only when the partition stops.
    auto stopped = [this, run](const Status& why) {
        FailSnapshot(run, Status(why.code(), "the server stopped before snapshot " + run->id + " was complete (" +
                                                 why.message() + ")"));
    };
    Status s = partitions_[p]->SubmitUrgent(std::make_unique<txn::FunctionTask>(
        [this, run, p](exec::Engine&, uint64_t) { RunSnapshotSlice(run, p); }, stopped));
    if (!s.ok()) stopped(s);
}

void Database::RunSnapshotSlice(const std::shared_ptr<SnapshotRun>& run, uint32_t p) {
    SnapshotRun::Part& part = *run->parts[p];
    if (part.done) return;
    if (run->failed) {
        // Abandoned: stop copying on write.
        for (; part.next < part.jobs.size(); ++part.next) part.jobs[part.next].table->EndSnapshot();
        part.done = true;
        return;
    }
    if (run->writer->Behind()) {
        // The disk is behind: pause this scan (never the transactions) until the writer drains.
        part.paused = true;
        run->writer->NoteProducerPaused();
        if (run->writer->Behind() || !part.paused.exchange(false)) return;
    }
    ScanSnapshotPart(run, p, kSliceBytes);
    if (!part.done) QueueSnapshotSlice(run, p);
}

void Database::ScanSnapshotPart(const std::shared_ptr<SnapshotRun>& run, uint32_t p, size_t max_bytes) {
    SnapshotRun::Part& part = *run->parts[p];
    size_t produced = 0;
    std::vector<Value> values;
    while (part.next < part.jobs.size() && produced < max_bytes) {
        SnapshotRun::Job& job = part.jobs[part.next];
        std::string chunk;
        chunk.reserve(kChunkBytes + 4096);
        uint64_t rows = 0;
        const bool finished = job.table->SnapshotScan(&chunk, kChunkBytes, &rows);
        produced += chunk.size();
        if (rows > 0) {
            if (job.csv_file) {
                const storage::TupleLayout& layout = job.table->layout();
                values.resize(layout.column_count());
                std::string csv;
                size_t pos = 0;
                uint64_t mark;
                while (pos < chunk.size() && storage::DecodeSnapshotRow(layout, chunk, &pos, values.data(), &mark)) {
                    for (size_t c = 0; c < values.size(); ++c) {
                        if (c) csv += ',';
                        exports::AppendCsvField(values[c], &csv);
                    }
                    csv += '\n';
                }
                run->writer->Write(*job.csv_file, std::move(csv), 0);
            }
            run->writer->Write(job.file, std::move(chunk), rows);
        }
        if (finished) {
            job.table->EndSnapshot();
            ++part.next;
        }
    }
    if (part.next < part.jobs.size() || part.done) return;
    part.done = true;
    if (--run->parts_left == 0) FinishSnapshotFiles(run);
}

namespace {

// Runs a function when the command log is durable up to an LSN.
class LogWaiter final : public durability::DurableWaiter {
  public:
    explicit LogWaiter(std::function<void(const Status&)> fn) : fn_(std::move(fn)) {}
    void Durable(const Status& s) override { fn_(s); }

  private:
    std::function<void(const Status&)> fn_;
};

}  // namespace

void Database::FinishSnapshotFiles(const std::shared_ptr<SnapshotRun>& run) {
    // The MANIFEST may be written only once the log holds everything up to the cut durably:
    // recovery from this snapshot replays the log after the cut, and must find no hole before it.
    std::weak_ptr<SnapshotRun> weak = run;
    auto finish = [this, weak] {
        auto r = weak.lock();
        if (!r) return;
        r->writer->Finish(r->manifest, r->catalog_sql,
                          [this, weak](const Status& s, const durability::SnapshotManifest& m) {
                              if (auto r2 = weak.lock()) OnSnapshotWritten(r2, s, m);
                          });
    };
    const uint64_t cut = run->manifest.cut_lsn;
    auto spooled = [this, weak, finish] {
        if (!exports_) return finish();
        exports_->Sync([this, weak, finish](const Status& s) {
            if (s.ok()) return finish();
            if (auto r = weak.lock()) {
                FailSnapshot(
                    r, Status(s.code(),
                              "the export spool could not be made durable up to the snapshot's cut: " + s.message()));
            }
        });
    };
    if (!log_ || cut == 0 || log_->durable_lsn() >= cut) return spooled();
    log_->WhenDurable(cut, std::make_shared<LogWaiter>([this, run, spooled](const Status& s) {
                          if (s.ok()) return spooled();
                          FailSnapshot(run, Status(s.code(),
                                                   "the command log failed before it was durable up "
                                                   "to the snapshot's cut: " +
                                                       s.message()));
                      }));
}

void Database::FailSnapshot(const std::shared_ptr<SnapshotRun>& run, const Status& why) {
    if (run->failed.exchange(true)) return;
    if (run->writer) run->writer->Abandon();  // waits for a MANIFEST being written
    if (run->answered) return;                // it completed meanwhile
    spdlog::error("snapshot {} failed: {}", run->id, why.message());
    if (!run->dir.empty()) {
        Status r = durability::RemoveSnapshot(run->dir);
        if (!r.ok()) spdlog::warn("snapshot {}: {}", run->id, r.message());
    }
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        ++snapshot_counters_.failed;
        snapshot_counters_.last_error = why.message();
    }
    // While partitions still copy on write for it (only when the server stops), no new snapshot
    // may begin.
    if (run->parts.empty() || run->parts_left == 0) snapshot_running_ = false;
    run->Answer(why, {});
}

void Database::OnSnapshotWritten(const std::shared_ptr<SnapshotRun>& run, const Status& s,
                                 const durability::SnapshotManifest& m) {
    if (!s.ok()) return FailSnapshot(run, s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run->started).count();
    spdlog::info("snapshot {} complete: {} rows, {} bytes in {:.2f} s (cut at LSN {}; partitions paused {:.2f} ms)",
                 run->dir, m.total_rows(), m.total_bytes(), seconds, m.cut_lsn, run->pause_ms);
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        auto& c = snapshot_counters_;
        ++c.completed;
        c.last_id = m.id;
        c.last_rows = m.total_rows();
        c.last_bytes = m.total_bytes();
        c.last_cut_lsn = m.cut_lsn;
        c.last_seconds = seconds;
        c.last_pause_ms = run->pause_ms;
    }
    if (run->in_data_dir) ApplySnapshotRetention();
    snapshot_running_ = false;
    run->Answer(Status::Ok(), m);
}

void Database::CompleteSnapshotScans() {
    std::shared_ptr<SnapshotRun> run;
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        run = snapshot_run_;
    }
    if (!run || run->parts_left == 0) return;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t p = 0; p < run->parts.size(); ++p) {
        if (run->failed) {
            SnapshotRun::Part& part = *run->parts[p];
            for (; part.next < part.jobs.size(); ++part.next) part.jobs[part.next].table->EndSnapshot();
            part.done = true;
        } else {
            ScanSnapshotPart(run, p, SIZE_MAX);
        }
    }
    spdlog::info("snapshot {}: a schema change waited {:.1f} ms for its scans to finish", run->id,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

void Database::ApplySnapshotRetention() {
    auto list = durability::ListSnapshots(snapshot_root());
    if (!list.ok()) {
        spdlog::warn("snapshot retention: {}", list.status().message());
        return;
    }
    std::vector<const durability::SnapshotListing*> complete;
    for (const auto& l : *list) {
        if (l.complete) {
            complete.push_back(&l);
        } else {
            // Left by a crash or a failure mid-write (the running snapshot is the one just completed).
            Status r = durability::RemoveSnapshot(l.dir);
            if (r.ok()) {
                spdlog::info("snapshot retention: removed incomplete snapshot {}", l.dir);
            } else {
                spdlog::warn("snapshot retention: {}", r.message());
            }
        }
    }
    const size_t keep = std::max<size_t>(1, options_.snapshot_retain);
    while (complete.size() > keep) {
        Status r = durability::RemoveSnapshot(complete.front()->dir);
        if (!r.ok()) spdlog::warn("snapshot retention: {}", r.message());
        complete.erase(complete.begin());
    }
    if (!log_ || complete.empty()) return;
    Status s = durability::TruncateLog(options_.data_dir + "/cmdlog", complete.front()->manifest.cut_lsn);
    if (!s.ok()) spdlog::warn("snapshot retention: {}", s.message());
}

// ---- loading a snapshot -------------------------------------------------------------------------

Status Database::ApplySnapshotSchema(txn::MpContext& ctx, const std::string& dir,
                                     const durability::SnapshotManifest& m) {
    auto text = durability::ReadSnapshotCatalog(dir, m);
    if (!text.ok()) return text.status();
    auto batches = durability::ParseDdlHistory(*text);
    if (!batches.ok()) return batches.status();
    for (size_t i = 0; i < batches->size(); ++i) {
        Status s = ApplyDdl(ctx, (*batches)[i]);
        if (!s.ok()) {
            return Status(s.code(), "schema change " + std::to_string(i + 1) + " of snapshot " + dir +
                                        " fails: " + s.message() + " (" + (*batches)[i].substr(0, 200) + ")");
        }
    }
    return Status::Ok();
}

Status Database::LoadSnapshotRows(exec::Engine& engine, uint32_t p, const std::string& dir,
                                  const durability::SnapshotManifest& m, bool keep_marks) {
    // Loaded rows are the snapshot's, not new events: tables that export their changes do not
    // export them.
    struct PauseExport {
        exec::ExportCapture* c;
        explicit PauseExport(exec::ExportCapture* capture) : c(capture) { c->Pause(true); }
        ~PauseExport() { c->Pause(false); }
    } pause(captures_[p].get());
    auto cat = engine.catalog();
    txn::Partition& partition = *partitions_[p];
    std::vector<Value> values;
    for (const auto& f : m.files) {
        if (!f.rows_file) continue;
        auto def = cat->FindTable(f.table);
        if (!def || !InSnapshot(*cat, *def)) {
            return Status(ErrorCode::kIoError, "snapshot " + dir + ": " + f.name + " holds rows of table \"" + f.table +
                                                   "\", which the snapshot's schema lacks");
        }
        // A partitioned table's rows are in its partition's file; a replicated table's in
        // partition 0's, loaded into every partition.
        if (PerPartition(*def) ? f.partition != p : f.partition != 0) continue;
        storage::Table* table = engine.FindTable(def->name);
        if (!table) return Status(ErrorCode::kInternal, "snapshot load: no storage for table " + def->name);
        const storage::TupleLayout& layout = table->layout();
        values.resize(layout.column_count());
        if (def->is_view()) {
            // A view over a stream: its rows are the snapshot's, not what creating it left (a view
            // without GROUP BY starts with one row).
            const uint64_t token = partition.NextUndoToken();
            Status st = engine.Begin(token);
            if (st.ok()) st = engine.ClearTable(*table);
            if (st.ok()) {
                (void)engine.Commit(token);
            } else {
                (void)engine.Rollback(token);
                return st;
            }
        }
        Status s = durability::ReadSnapshotRows(dir, f, [&](std::string_view payload, uint32_t rows) -> Status {
            size_t pos = 0;
            uint32_t in_txn = 0;
            uint64_t token = 0;
            Status st;
            uint64_t mark = 0;
            for (uint32_t r = 0; r < rows && st.ok(); ++r) {
                if (!storage::DecodeSnapshotRow(layout, payload, &pos, values.data(), &mark)) {
                    st = Status(ErrorCode::kIoError, "snapshot " + dir + ": a row of " + f.name +
                                                         " does not decode as a row of " + def->name);
                    break;
                }
                if (def->partition_column && !def->is_view() &&
                    router_.Partition(values[*def->partition_column]) != p) {
                    st = Status(ErrorCode::kIoError,
                                "snapshot " + dir + ": a row of " + def->name + " in " + f.name +
                                    " belongs to partition " +
                                    std::to_string(router_.Partition(values[*def->partition_column])));
                    break;
                }
                if (in_txn == 0) {
                    token = partition.NextUndoToken();
                    st = engine.Begin(token);
                    if (!st.ok()) break;
                }
                st = engine.InsertRow(*table, values.data(), keep_marks ? mark : 0);
                if (!st.ok()) {
                    st = Status(st.code(),
                                "snapshot " + dir + ": loading a row of " + def->name + " failed: " + st.message());
                    break;
                }
                if (++in_txn == kRowsPerLoadTransaction) {
                    (void)engine.Commit(token);
                    in_txn = 0;
                }
            }
            if (in_txn > 0) (void)(st.ok() ? engine.Commit(token) : engine.Rollback(token));
            if (st.ok()) snapshot_rows_loaded_.fetch_add(rows, std::memory_order_relaxed);
            if (st.ok() && pos != payload.size()) {
                st = Status(ErrorCode::kIoError, "snapshot " + dir + ": " + f.name + " has bytes after its rows");
            }
            return st;
        });
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

Status Database::LoadSnapshot(const std::string& dir, const durability::SnapshotManifest& m) {
    std::promise<Status> schema;
    Status submitted =
        coordinator_->Submit(std::make_unique<txn::MpFunctionTask>(
                                 [&](txn::MpContext& ctx) { schema.set_value(ApplySnapshotSchema(ctx, dir, m)); },
                                 [&](const Status& why) { schema.set_value(why); }),
                             true);
    if (!submitted.ok()) return submitted;
    Status s = schema.get_future().get();
    if (!s.ok()) return s;
    // Rows: every partition loads its own in parallel.
    snapshot_rows_loaded_ = 0;
    std::vector<std::promise<Status>> loaded(partitions_.size());
    for (uint32_t p = 0; p < partitions_.size(); ++p) {
        auto task = std::make_unique<txn::FunctionTask>(
            [&, p](exec::Engine& engine, uint64_t) { loaded[p].set_value(LoadSnapshotRows(engine, p, dir, m, true)); },
            [&, p](const Status& why) { loaded[p].set_value(why); });
        Status q = partitions_[p]->SubmitUrgent(std::move(task));
        if (!q.ok()) loaded[p].set_value(q);
    }
    // Long loads report their progress every second.
    for (auto& l : loaded) {
        auto f = l.get_future();
        while (f.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
            spdlog::info(
                "recovery: {} snapshot rows loaded so far (of {}; replicated tables load on every "
                "partition)",
                snapshot_rows_loaded_.load(), m.total_rows());
        }
        Status r = f.get();
        if (s.ok() && !r.ok()) s = r;
    }
    return s;
}

Status Database::RecoverSnapshot(RecoveryInfo* info, uint64_t* after_lsn) {
    *after_lsn = 0;
    auto list = durability::ListSnapshots(snapshot_root());
    if (!list.ok()) return list.status();
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
        if (!it->complete) {
            info->skipped_snapshots.push_back(it->dir + ": " + it->problem);
            continue;
        }
        const durability::SnapshotManifest& m = it->manifest;
        if (m.partitions != partition_count()) {
            return Status(ErrorCode::kInvalidParameter,
                          "snapshot " + it->dir + " was taken with " + std::to_string(m.partitions) +
                              " partitions and this server has " + std::to_string(partition_count()) +
                              "; start with --partitions " + std::to_string(m.partitions));
        }
        const auto t0 = std::chrono::steady_clock::now();
        Status v = durability::VerifySnapshot(it->dir, m);
        if (!v.ok()) {
            spdlog::warn("recovery: skipping snapshot {}: {}; trying an older one", it->dir, v.message());
            info->skipped_snapshots.push_back(it->dir + ": " + v.message());
            continue;
        }
        spdlog::info("recovery: loading snapshot {} ({} rows, cut at LSN {})", it->dir, m.total_rows(), m.cut_lsn);
        Status l = LoadSnapshot(it->dir, m);
        if (!l.ok()) return Status(l.code(), "recovery: loading snapshot " + it->dir + " failed: " + l.message());
        spdlog::info("recovery: snapshot loaded in {:.2f} s",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        info->snapshot = it->dir;
        info->snapshot_rows = m.total_rows();
        info->snapshot_lsn = m.cut_lsn;
        *after_lsn = m.cut_lsn;
        snapshot_export_sequences_ = m.export_sequences;
        if (m.next_txn_id > next_txn_id_.load()) next_txn_id_ = m.next_txn_id;
        if (m.last_timestamp > last_timestamp_.load()) last_timestamp_ = m.last_timestamp;
        return Status::Ok();
    }
    return Status::Ok();
}

// ---- automatic snapshots ------------------------------------------------------------------------

void Database::SnapshotTimerLoop() {
    const int64_t interval = std::chrono::duration_cast<std::chrono::microseconds>(options_.snapshot_interval).count();
    while (true) {
        {
            std::unique_lock<std::mutex> lock(timer_mu_);
            timer_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return timer_stop_; });
            if (timer_stop_) return;
        }
        if (snapshot_running_.load() || !accepting_.load()) continue;
        const bool by_time = interval > 0 && SteadyMicros() - last_snapshot_micros_.load() >= interval;
        const bool by_log = log_ && options_.snapshot_log_bytes > 0 &&
                            log_->counters().bytes - log_bytes_at_snapshot_.load() >= options_.snapshot_log_bytes;
        if (!by_time && !by_log) continue;
        spdlog::info("automatic snapshot ({})", by_time ? "interval" : "log size");
        // Until this one begins, the time trigger must not fire again.
        last_snapshot_micros_ = SteadyMicros();
        StartSnapshot("", false, true, nullptr);
    }
}

void Database::RunAdmin(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(admin_mu_);
    // Join the threads that have finished (each marks itself done as its last step).
    for (size_t i = 0; i < admin_threads_.size();) {
        if (admin_done_[i]->load()) {
            admin_threads_[i].join();
            admin_threads_.erase(admin_threads_.begin() + static_cast<std::ptrdiff_t>(i));
            admin_done_.erase(admin_done_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    admin_done_.push_back(done);
    admin_threads_.emplace_back([fn = std::move(fn), done] {
        fn();
        done->store(true);
    });
}

exec::ResultSet Database::SnapshotStatistics() const {
    exec::ResultSet rs;
    const SqlType text{TypeId::kVarchar, 1024};
    const SqlType big = SqlType::Of(TypeId::kBigInt);
    const SqlType flt = SqlType::Of(TypeId::kFloat);
    rs.columns = {{"status", text},       {"completed", big},  {"failed", big},     {"last_id", text},
                  {"last_cut_lsn", big},  {"last_rows", big},  {"last_bytes", big}, {"last_seconds", flt},
                  {"last_pause_ms", flt}, {"last_error", text}};
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    const auto& c = snapshot_counters_;
    auto n = [](uint64_t v) { return Value::BigInt(static_cast<int64_t>(v)); };
    const char* status = !snapshot_running_.load()                   ? "idle"
                         : snapshot_run_ && snapshot_run_->cut_taken ? "running"
                                                                     : "starting";
    rs.values = {Value::Varchar(status),
                 n(c.completed),
                 n(c.failed),
                 c.last_id.empty() ? Value::Null(TypeId::kVarchar) : Value::Varchar(c.last_id),
                 n(c.last_cut_lsn),
                 n(c.last_rows),
                 n(c.last_bytes),
                 Value::Float(c.last_seconds),
                 Value::Float(c.last_pause_ms),
                 c.last_error.empty() ? Value::Null(TypeId::kVarchar) : Value::Varchar(c.last_error)};
    return rs;
}

// ---- the system procedures ----------------------------------------------------------------------

namespace {

exec::ResultSet ManifestRow(const durability::SnapshotManifest& m, const std::string& dir) {
    exec::ResultSet rs;
    const SqlType text{TypeId::kVarchar, 4096};
    const SqlType big = SqlType::Of(TypeId::kBigInt);
    rs.columns = {{"id", text},
                  {"path", text},
                  {"cut_lsn", big},
                  {"partitions", SqlType::Of(TypeId::kInteger)},
                  {"rows", big},
                  {"bytes", big},
                  {"created", SqlType::Of(TypeId::kTimestamp)}};
    rs.values = {Value::Varchar(m.id),
                 Value::Varchar(dir),
                 Value::BigInt(static_cast<int64_t>(m.cut_lsn)),
                 Value::Integer(static_cast<int32_t>(m.partitions)),
                 Value::BigInt(static_cast<int64_t>(m.total_rows())),
                 Value::BigInt(static_cast<int64_t>(m.total_bytes())),
                 Value::Timestamp(m.created_micros)};
    return rs;
}

std::string Absolute(const std::string& path) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
}

// True when every entry of dir is a file a snapshot writes (an empty directory too: a snapshot
// that crashed right after it began). @SnapshotDelete removes nothing else.
bool LooksLikeSnapshot(const std::string& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (!e.is_regular_file(ec)) return false;
        const bool known = name == "MANIFEST" || name == "MANIFEST.tmp" || name == "catalog.sql" ||
                           (name.size() > 4 && name.compare(name.size() - 4, 4, ".csv") == 0) ||
                           std::regex_match(name, std::regex("p[0-9]+-t[0-9]+\\.rows"));
        if (!known) return false;
    }
    return !ec;
}

// Joins the DDL batches of a snapshot into one batch (an atomic schema change).
std::string JoinBatches(const std::vector<std::string>& batches) {
    std::string all;
    for (const auto& b : batches) all += b + "\n;\n";
    return all;
}

}  // namespace

void Database::RunSnapshotProcedure(const proc::CallPlan& plan, std::shared_ptr<Call> call) {
    const auto& params = call->params;
    // Optional VARCHAR parameter i: nullopt when absent or NULL; an error for another type.
    auto text_arg = [&](size_t i, std::optional<std::string>* out) -> bool {
        out->reset();
        if (i >= params.size() || params[i].is_null()) return true;
        if (params[i].type() != TypeId::kVarchar) {
            call->Finish(Status(ErrorCode::kInvalidParameter, plan.name + ": parameter " + std::to_string(i + 1) +
                                                                  " must be VARCHAR, not " +
                                                                  std::string(TypeIdName(params[i].type()))),
                         v1::INVALID_PARAMETER);
            return false;
        }
        *out = std::string(params[i].AsString());
        return true;
    };
    auto too_many = [&](size_t n, const char* usage) {
        if (params.size() <= n) return false;
        call->Finish(Status(ErrorCode::kInvalidParameter,
                            plan.name + " takes at most " + std::to_string(n) + " parameters: " + usage),
                     v1::INVALID_PARAMETER);
        return true;
    };
    auto need_data_dir = [&] {
        if (!options_.data_dir.empty()) return false;
        call->Finish(Status(ErrorCode::kInvalidParameter,
                            plan.name + ": this server has no data directory; name a snapshot directory"),
                     v1::INVALID_PARAMETER);
        return true;
    };

    if (plan.name == "@SnapshotSave") {
        std::optional<std::string> dir, format;
        if (too_many(2, "[directory [, 'CSV']]") || !text_arg(0, &dir) || !text_arg(1, &format)) return;
        bool csv = false;
        if (format) {
            std::string upper = *format;
            for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (upper != "CSV" && upper != "NATIVE") {
                return call->Finish(Status(ErrorCode::kInvalidParameter,
                                           "@SnapshotSave format \"" + *format + "\" is not CSV or NATIVE"),
                                    v1::INVALID_PARAMETER);
            }
            csv = upper == "CSV";
        }
        if (!dir && need_data_dir()) return;
        const std::string root = dir ? Absolute(*dir) : snapshot_root();
        StartSnapshot(dir ? root : std::string(), csv, false,
                      [call, root](const Status& s, const durability::SnapshotManifest& m) {
                          if (s.ok()) call->AddResult(ManifestRow(m, root + "/" + m.id));
                          // A failed snapshot is this call's failure (its SQLSTATE says which), not
                          // the log's UNAVAILABLE.
                          call->Finish(s, s.ok() ? v1::OK : v1::SQL_ERROR);
                      });
        return;
    }

    if (plan.name == "@SnapshotScan") {
        std::optional<std::string> dir;
        if (too_many(1, "[directory]") || !text_arg(0, &dir)) return;
        if (!dir && need_data_dir()) return;
        const std::string root = dir ? Absolute(*dir) : snapshot_root();
        RunAdmin([call, root] {
            auto list = durability::ListSnapshots(root);
            if (!list.ok()) return call->Finish(list.status());
            exec::ResultSet rs;
            const SqlType text{TypeId::kVarchar, 4096};
            const SqlType big = SqlType::Of(TypeId::kBigInt);
            rs.columns = {{"id", text},
                          {"path", text},
                          {"status", text},
                          {"cut_lsn", big},
                          {"partitions", SqlType::Of(TypeId::kInteger)},
                          {"rows", big},
                          {"bytes", big},
                          {"created", SqlType::Of(TypeId::kTimestamp)},
                          {"problem", text}};
            for (const auto& l : *list) {
                Status v = l.complete ? durability::VerifySnapshot(l.dir, l.manifest) : Status::Ok();
                const std::string status = !l.complete ? "incomplete" : v.ok() ? "valid" : "damaged";
                const std::string problem = !l.complete ? l.problem : v.message();
                const auto& m = l.manifest;
                rs.values.push_back(
                    Value::Varchar(l.complete ? m.id : std::filesystem::path(l.dir).filename().string()));
                rs.values.push_back(Value::Varchar(l.dir));
                rs.values.push_back(Value::Varchar(status));
                if (l.complete) {
                    rs.values.push_back(Value::BigInt(static_cast<int64_t>(m.cut_lsn)));
                    rs.values.push_back(Value::Integer(static_cast<int32_t>(m.partitions)));
                    rs.values.push_back(Value::BigInt(static_cast<int64_t>(m.total_rows())));
                    rs.values.push_back(Value::BigInt(static_cast<int64_t>(m.total_bytes())));
                    rs.values.push_back(Value::Timestamp(m.created_micros));
                } else {
                    rs.values.push_back(Value::Null(TypeId::kBigInt));
                    rs.values.push_back(Value::Null(TypeId::kInteger));
                    rs.values.push_back(Value::Null(TypeId::kBigInt));
                    rs.values.push_back(Value::Null(TypeId::kBigInt));
                    rs.values.push_back(Value::Null(TypeId::kTimestamp));
                }
                rs.values.push_back(problem.empty() ? Value::Null(TypeId::kVarchar) : Value::Varchar(problem));
            }
            call->AddResult(rs);
            call->Finish(Status::Ok());
        });
        return;
    }

    if (plan.name == "@SnapshotDelete") {
        std::optional<std::string> target;
        if (too_many(1, "id or directory") || !text_arg(0, &target)) return;
        if (!target || target->empty()) {
            return call->Finish(Status(ErrorCode::kInvalidParameter,
                                       "@SnapshotDelete takes the snapshot's id (in this server's data directory) "
                                       "or its directory"),
                                v1::INVALID_PARAMETER);
        }
        if (target->find('/') == std::string::npos && need_data_dir()) return;
        const std::string dir =
            target->find('/') == std::string::npos ? snapshot_root() + "/" + *target : Absolute(*target);
        // At once (not on the admin thread): a snapshot being written is refused however soon
        // after it began the call comes.
        if (snapshot_running_.load()) {
            std::lock_guard<std::mutex> lock(snapshot_mu_);
            std::error_code same_ec;
            if (snapshot_run_ && !snapshot_run_->answered &&
                std::filesystem::weakly_canonical(snapshot_run_->dir, same_ec) ==
                    std::filesystem::weakly_canonical(dir, same_ec)) {
                return call->Finish(Status(ErrorCode::kTransactionState, dir + " is being written"));
            }
        }
        RunAdmin([this, call, dir] {
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec) || !LooksLikeSnapshot(dir)) {
                return call->Finish(Status(ErrorCode::kInvalidParameter,
                                           dir + " is not a snapshot directory (it holds files a snapshot does not "
                                                 "write, or does not exist)"),
                                    v1::INVALID_PARAMETER);
            }
            // Recovery starts from the newest valid snapshot of the data directory (the log before
            // it may be gone): that one stays.
            if (!options_.data_dir.empty() &&
                std::filesystem::equivalent(std::filesystem::path(dir).parent_path(), snapshot_root(), ec)) {
                auto list = durability::ListSnapshots(snapshot_root());
                if (list.ok()) {
                    for (auto it = list->rbegin(); it != list->rend(); ++it) {
                        if (!it->complete || !durability::VerifySnapshot(it->dir, it->manifest).ok()) continue;
                        if (std::filesystem::equivalent(it->dir, dir, ec)) {
                            return call->Finish(Status(ErrorCode::kInvalidParameter,
                                                       dir + " is the newest valid snapshot of this data "
                                                             "directory, which recovery starts from; take a newer "
                                                             "snapshot first"),
                                                v1::INVALID_PARAMETER);
                        }
                        break;
                    }
                }
            }
            Status r = durability::RemoveSnapshot(dir);
            if (!r.ok()) return call->Finish(r);
            exec::ResultSet rs;
            rs.columns = {{"deleted", SqlType{TypeId::kVarchar, 4096}}};
            rs.values = {Value::Varchar(dir)};
            call->AddResult(rs);
            call->Finish(Status::Ok());
        });
        return;
    }

    if (plan.name == "@SnapshotRestore") {
        std::optional<std::string> arg;
        if (too_many(1, "directory") || !text_arg(0, &arg)) return;
        if (!arg || arg->empty()) {
            return call->Finish(Status(ErrorCode::kInvalidParameter, "@SnapshotRestore takes the snapshot's directory"),
                                v1::INVALID_PARAMETER);
        }
        const std::string dir = Absolute(*arg);
        // The log records the absolute directory: a replay must find the same files.
        call->params[0] = Value::Varchar(dir);
        RunAdmin([this, call, dir] {
            auto m = durability::ReadManifest(dir);
            if (!m.ok()) return call->Finish(m.status(), v1::INVALID_PARAMETER);
            if (m->partitions != partition_count()) {
                return call->Finish(
                    Status(ErrorCode::kInvalidParameter,
                           "snapshot " + dir + " was taken with " + std::to_string(m->partitions) +
                               " partitions and this server has " + std::to_string(partition_count()) +
                               "; restore it into a server started with --partitions " + std::to_string(m->partitions)),
                    v1::INVALID_PARAMETER);
            }
            Status v = durability::VerifySnapshot(dir, *m);
            if (!v.ok()) return call->Finish(v, v1::INVALID_PARAMETER);
            auto text = durability::ReadSnapshotCatalog(dir, *m);
            auto batches =
                text.ok() ? durability::ParseDdlHistory(*text) : Result<std::vector<std::string>>(text.status());
            if (!batches.ok()) return call->Finish(batches.status(), v1::INVALID_PARAMETER);
            const bool replay = call->txn_id != 0;
            SubmitMulti(
                [this, dir, manifest = *m, schema = JoinBatches(*batches), replay](txn::MpContext& ctx, Call& c) {
                    auto cat = ctx.engine(0).catalog();
                    if (!cat->tables().empty() || !cat->procedures().empty() || !cat->query_views().empty()) {
                        size_t tables = 0, views = cat->query_views().size();
                        for (const auto& [name, def] : cat->tables()) ++(def->is_view() ? views : tables);
                        return c.Finish(
                            Status(ErrorCode::kInvalidParameter,
                                   "@SnapshotRestore loads a snapshot into an empty database, and this "
                                   "one has " +
                                       std::to_string(tables) + " tables, " + std::to_string(views) + " views and " +
                                       std::to_string(cat->procedures().size()) + " procedures"),
                            v1::INVALID_PARAMETER);
                    }
                    // One schema change: all of it or nothing.
                    Status st = manifest.catalog_bytes == 0 ? Status::Ok() : ApplyDdl(ctx, schema);
                    if (!st.ok()) {
                        return c.Finish(Status(st.code(), "@SnapshotRestore: the snapshot's schema fails here (" +
                                                              st.message() + "); nothing was restored"));
                    }
                    for (uint32_t p = 0; p < ctx.partition_count() && st.ok(); ++p) {
                        // Rows that were migrating are migrated again: the marks are sequence
                        // numbers of the snapshot's export, not of this database's.
                        st = LoadSnapshotRows(ctx.engine(p), p, dir, manifest, false);
                    }
                    if (!st.ok()) {
                        return c.Finish(Status(st.code(), st.message() +
                                                              " (the schema and the rows loaded before this one "
                                                              "remain)"));
                    }
                    c.ddl = true;  // logged: a replay restores from the same directory
                    c.AddResult(ManifestRow(manifest, dir));
                    c.Finish(Status::Ok());
                    // A snapshot of the restored database, so that recovery does not need `dir`.
                    if (!replay && !options_.data_dir.empty()) {
                        StartSnapshot("", false, true, [dir](const Status& s, const durability::SnapshotManifest&) {
                            if (!s.ok()) {
                                spdlog::warn(
                                    "the snapshot after restoring {} was not taken ({}); until one is, "
                                    "recovery needs {}",
                                    dir, s.message(), dir);
                            }
                        });
                    }
                },
                call);
        });
        return;
    }
    call->Finish(Status(ErrorCode::kInternal, "system procedure " + plan.name + " has no handler"), v1::INTERNAL);
}

}  // namespace surge::server
