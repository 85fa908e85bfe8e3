// Export manager (see manager.h).
#include "export/manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <filesystem>

#include "common/files.h"
#include "common/hash.h"
#include "export/format.h"

namespace surge::exports {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kBatchRows = 10'000;
constexpr size_t kBatchBytes = 4u << 20;
constexpr auto kWriterTick = std::chrono::milliseconds(5);
constexpr auto kSyncEvery = std::chrono::seconds(1);
constexpr auto kAckEvery = std::chrono::milliseconds(100);
constexpr auto kIdleWait = std::chrono::milliseconds(10);
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(5);

int64_t WallMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A stream's directory: its name made safe, with a hash when that changed it (two names that
// become the same safe text stay apart).
std::string StreamDirName(const std::string& stream) {
    std::string safe = SafeFileName(stream);
    if (safe == stream) return safe;
    char h[24];
    std::snprintf(h, sizeof h, "-%08" PRIx64, Hash64(stream) & 0xffffffffu);
    return safe + h;
}

// Writes small text atomically: temp file, fsync, rename, directory fsync.
Status WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& text) {
    const std::string tmp = dir + "/." + name + ".tmp";
    const std::string path = dir + "/" + name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("export: cannot create " + tmp, errno);
    Status s = WriteAll(fd, text.data(), text.size(), "export", tmp);
    if (s.ok() && ::fdatasync(fd) != 0) s = IoError("export: fdatasync " + tmp, errno);
    ::close(fd);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = IoError("export: cannot rename " + tmp, errno);
    if (s.ok()) s = SyncDirectory(dir, "export");
    return s;
}

// "key value" lines.
std::map<std::string, std::string> ReadKeyValues(const std::string& path) {
    std::map<std::string, std::string> out;
    auto text = ReadWholeFile(path, "export");
    if (!text.ok()) return out;
    size_t pos = 0;
    while (pos < text->size()) {
        size_t nl = text->find('\n', pos);
        if (nl == std::string::npos) nl = text->size();
        const std::string line = text->substr(pos, nl - pos);
        const size_t sp = line.find(' ');
        if (sp != std::string::npos) out[line.substr(0, sp)] = line.substr(sp + 1);
        pos = nl + 1;
    }
    return out;
}

}  // namespace

struct ExportManager::Part {
    uint32_t partition = 0;
    std::unique_ptr<Spool> spool;
    // The target's thread: positions.
    uint64_t delivered = 0;
    uint64_t acked = 0;
    uint64_t persisted = 0;  ///< acked as the ACK file holds it
    // For statistics (written by the target's thread).
    std::atomic<uint64_t> delivered_seen{0};
    std::atomic<uint64_t> acked_seen{0};
    std::atomic<int64_t> oldest_unacked{0};  ///< commit timestamp, 0: none
};

struct ExportManager::Stream {
    std::string name;
    std::string dir;
    std::string target;                        ///< guarded by mu_
    std::vector<std::unique_ptr<Part>> parts;  ///< by partition; null until it has rows (guarded by mu_)
};

struct ExportManager::Target {
    TargetConfig config;
    std::unique_ptr<Sink> sink;
    std::thread thread;
    std::string last_error;  ///< guarded by mu_
    bool failing = false;    ///< guarded by mu_
};

Result<std::unique_ptr<ExportManager>> ExportManager::Open(ExportOptions options,
                                                           std::vector<exec::ExportCapture*> captures) {
    std::unique_ptr<ExportManager> m(new ExportManager(std::move(options)));
    m->captures_ = std::move(captures);
    m->routes_.resize(m->captures_.size());
    std::error_code ec;
    fs::create_directories(m->options_.dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "export: cannot create " + m->options_.dir + ": " + ec.message());
    for (const auto& config : m->options_.targets) {
        auto sink = MakeSink(config);
        if (!sink.ok()) return sink.status();
        auto t = std::make_unique<Target>();
        t->config = config;
        t->sink = std::move(*sink);
        m->targets_.push_back(std::move(t));
    }
    Status s = m->LoadStreams();
    if (!s.ok()) return s;
    for (exec::ExportCapture* c : m->captures_) {
        c->SetRefusal(&m->refusing_, [mgr = m.get()] { return mgr->RefusalMessage(); });
    }
    return m;
}

ExportManager::ExportManager(ExportOptions options) : options_(std::move(options)) {}

ExportManager::~ExportManager() { Stop(); }

Status ExportManager::LoadStreams() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
        std::error_code entry_ec;  // not ec: that one reports the listing's own failure
        if (!entry.is_directory(entry_ec)) continue;
        const std::string dir = entry.path().string();
        auto meta = ReadKeyValues(dir + "/STREAM");
        if (meta["stream"].empty()) {
            spdlog::warn("export: {} has no STREAM file naming its stream; ignored", dir);
            continue;
        }
        auto st = std::make_unique<Stream>();
        st->name = meta["stream"];
        st->dir = dir;
        st->target = meta["target"];
        st->parts.resize(options_.partitions);
        for (uint32_t p = 0; p < options_.partitions; ++p) {
            const std::string pdir = dir + "/p" + std::to_string(p);
            // A partition that never exported has no directory yet (it is made on its first row).
            if (!fs::is_directory(pdir, entry_ec)) continue;
            std::string repaired;
            auto spool = Spool::Open(pdir, options_.segment_bytes, &repaired);
            if (!spool.ok()) return spool.status();
            if (!repaired.empty()) spdlog::warn("export: {}", repaired);
            auto part = std::make_unique<Part>();
            part->partition = p;
            part->spool = std::move(*spool);
            auto ack = ReadKeyValues(pdir + "/ACK");
            if (!ack["acked"].empty()) part->acked = std::strtoull(ack["acked"].c_str(), nullptr, 10);
            part->persisted = part->acked;
            part->delivered = part->acked;
            part->acked_seen = part->acked;
            part->delivered_seen = part->acked;
            st->parts[p] = std::move(part);
        }
        streams_[st->name] = std::move(st);
    }
    if (ec) return Status(ErrorCode::kIoError, "export: cannot list " + options_.dir + ": " + ec.message());
    return Status::Ok();
}

std::map<std::string, std::vector<ExportManager::Position>> ExportManager::Positions() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::vector<Position>> out;
    for (const auto& [name, st] : streams_) {
        auto& v = out[name];
        v.resize(st->parts.size());
        for (size_t p = 0; p < st->parts.size(); ++p) {
            if (st->parts[p]) v[p] = {st->parts[p]->spool->last_seq(), st->parts[p]->acked};
        }
    }
    return out;
}

uint64_t ExportManager::AckedSequence(const std::string& stream, uint32_t partition) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(stream);
    if (it == streams_.end() || partition >= it->second->parts.size() || !it->second->parts[partition]) return 0;
    return it->second->parts[partition]->acked_seen.load();
}

Status ExportManager::TruncateAfter(const std::string& stream, uint32_t partition, uint64_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(stream);
    if (it == streams_.end() || partition >= it->second->parts.size() || !it->second->parts[partition]) {
        return Status::Ok();
    }
    Part* part = it->second->parts[partition].get();
    return part->spool->TruncateAfter(seq);
}

Result<ExportManager::Stream*> ExportManager::StreamFor(const exec::ExportChannel& channel) {
    Stream* st = nullptr;
    std::string dir;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = streams_.find(channel.stream);
        if (it != streams_.end() && it->second->target == channel.target) return it->second.get();
        if (it == streams_.end()) {
            auto fresh = std::make_unique<Stream>();
            fresh->name = channel.stream;
            fresh->dir = options_.dir + "/" + StreamDirName(channel.stream);
            fresh->parts.resize(options_.partitions);
            it = streams_.emplace(channel.stream, std::move(fresh)).first;
        }
        // A new stream, or one re-created with another target: rows not yet delivered go to the
        // new target.
        st = it->second.get();
        st->target = channel.target;
        dir = st->dir;
    }
    // Only this (the writer's) thread writes STREAM files: no lock held across the fsyncs.
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "export: cannot create " + dir + ": " + ec.message());
    Status s = WriteFileAtomically(dir, "STREAM", "stream " + channel.stream + "\ntarget " + channel.target + "\n");
    if (!s.ok()) return s;
    return st;
}

Result<ExportManager::Part*> ExportManager::PartFor(Stream* st, uint32_t partition) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (st->parts[partition]) return st->parts[partition].get();
    }
    std::string repaired;
    auto spool = Spool::Open(st->dir + "/p" + std::to_string(partition), options_.segment_bytes, &repaired);
    if (!spool.ok()) return spool.status();
    auto part = std::make_unique<Part>();
    part->partition = partition;
    part->spool = std::move(*spool);
    std::lock_guard<std::mutex> lock(mu_);
    st->parts[partition] = std::move(part);
    return st->parts[partition].get();
}

Status ExportManager::Drain() {
    std::string bytes;
    std::vector<exec::ExportChannel> fresh;
    std::vector<Part*> touched;
    for (size_t p = 0; p < captures_.size(); ++p) {
        bytes.clear();
        fresh.clear();
        captures_[p]->Take(&bytes, routes_[p].size(), &fresh);
        for (const auto& ch : fresh) {
            auto st = StreamFor(ch);
            if (!st.ok()) return st.status();
            routes_[p].push_back(
                {*st, std::make_shared<const SpoolSchema>(ch.def->columns, ch.def->partition_column.value_or(-1))});
        }
        if (bytes.empty()) continue;
        // Every row taken was published after its transaction's log record was appended.
        const uint64_t gate = options_.last_lsn();
        exec::CapturedRow r;
        size_t pos = 0;
        Part* last = nullptr;
        Stream* last_stream = nullptr;
        while (r.Parse(bytes, &pos)) {
            const Route& route = routes_[p][r.channel];
            if (route.stream != last_stream) {
                auto part = PartFor(route.stream, static_cast<uint32_t>(p));
                if (!part.ok()) return part.status();
                last = *part;
                last_stream = route.stream;
                if (std::find(touched.begin(), touched.end(), last) == touched.end()) touched.push_back(last);
            }
            Status s = last->spool->Append(route.schema, r.seq, r.txn_id, r.timestamp, gate, r.op, r.row);
            if (!s.ok()) return s;
        }
    }
    for (Part* part : touched) {
        Status s = part->spool->Flush();
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

Status ExportManager::SyncAll() {
    std::vector<Part*> parts;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [name, st] : streams_) {
            for (const auto& part : st->parts) {
                if (part) parts.push_back(part.get());
            }
        }
    }
    for (Part* part : parts) {
        Status s = part->spool->Sync();
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

void ExportManager::StartWriter() {
    std::lock_guard<std::mutex> lock(writer_mu_);
    if (writer_running_) return;
    writer_running_ = true;
    writer_ = std::thread([this] { WriterLoop(); });
}

void ExportManager::WriterLoop() {
    auto last_sync = Clock::now();
    std::unique_lock<std::mutex> lock(writer_mu_);
    for (;;) {
        writer_cv_.wait_for(lock, kWriterTick, [&] { return writer_stop_ || !sync_waiters_.empty(); });
        auto waiters = std::move(sync_waiters_);
        sync_waiters_.clear();
        const bool stopping = writer_stop_;
        lock.unlock();
        Status s = failure_;
        if (s.ok()) s = Drain();
        if (s.ok() && (!waiters.empty() || stopping || Clock::now() - last_sync >= kSyncEvery)) {
            s = SyncAll();
            last_sync = Clock::now();
        }
        if (!s.ok() && failure_.ok()) {
            failure_ = s;
            {
                std::lock_guard<std::mutex> g(mu_);
                failure_text_ = s.message();
            }
            spdlog::critical("export: spooling failed, exported rows are refused until a restart: {}", s.message());
        }
        uint64_t pending = 0;
        {
            std::lock_guard<std::mutex> g(mu_);
            for (const auto& [name, st] : streams_) {
                for (const auto& part : st->parts) {
                    if (part) pending += part->spool->PendingBytes(part->acked_seen);
                }
            }
        }
        pending_bytes_.store(pending, std::memory_order_relaxed);
        refusing_.store(!failure_.ok() || pending > options_.disk_budget_bytes, std::memory_order_relaxed);
        for (auto& w : waiters) w(s);
        target_cv_.notify_all();
        lock.lock();
        if (stopping) break;
    }
}

void ExportManager::Sync(std::function<void(const Status&)> done) {
    {
        std::lock_guard<std::mutex> lock(writer_mu_);
        if (writer_running_ && !writer_stop_) {
            sync_waiters_.push_back(std::move(done));
            writer_cv_.notify_one();
            return;
        }
    }
    done(Status(ErrorCode::kIoError, "export is not running"));
}

void ExportManager::StartTargets() {
    std::lock_guard<std::mutex> lock(target_mu_);
    if (targets_running_) return;
    targets_running_ = true;
    for (auto& t : targets_) {
        Target* raw = t.get();
        t->thread = std::thread([this, raw] { TargetLoop(raw); });
    }
}

Status ExportManager::PersistAck(Part* part) {
    if (part->acked == part->persisted) return Status::Ok();
    Status s = WriteFileAtomically(part->spool->dir(), "ACK", "acked " + std::to_string(part->acked) + "\n");
    if (!s.ok()) return s;
    part->persisted = part->acked;
    return part->spool->Release(part->acked);
}

void ExportManager::TargetLoop(Target* t) {
    auto backoff = kFirstBackoff;
    auto last_persist = Clock::now();
    SpoolBatch batch;
    std::vector<std::pair<Stream*, Part*>> parts;
    // What was written to the sink and is not yet durable there: rows [begin, end) of the sink's
    // count, and the part and seq of the first (a Write's rows have consecutive seqs).
    struct Written {
        uint64_t begin = 0, end = 0;
        Part* part = nullptr;
        uint64_t first_seq = 0;
        int64_t first_timestamp = 0;
    };
    std::deque<Written> written;
    uint64_t written_rows = 0;
    // Acknowledges what the sink says is durable: whole writes, and the durable part of one.
    auto acknowledge = [&](uint64_t durable) {
        bool moved = false;
        while (!written.empty() && written.front().begin < durable) {
            Written& w = written.front();
            const uint64_t upto = std::min(durable, w.end);
            w.part->acked = w.first_seq + (upto - w.begin) - 1;
            w.part->acked_seen = w.part->acked;
            moved = true;
            if (upto < w.end) {
                w.first_seq += upto - w.begin;
                w.begin = upto;
                break;
            }
            written.pop_front();
        }
        if (moved) {
            // The age of each part's oldest row still waiting for its acknowledgement.
            for (auto& [st, part] : parts) part->oldest_unacked = 0;
            for (const Written& w : written) {
                if (w.part->oldest_unacked == 0) w.part->oldest_unacked = w.first_timestamp;
            }
        }
        return moved;
    };
    // After a failure: keep what the sink took, drop the rest, and read again from the
    // acknowledged rows.
    auto abandon = [&] {
        acknowledge(t->sink->DurableSoFar());
        t->sink->Abandon();
        written.clear();
        written_rows = 0;
        for (auto& [st, part] : parts) {
            part->delivered = part->acked;
            part->delivered_seen = part->acked;
            part->oldest_unacked = 0;
        }
    };
    bool final_round = false;
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(target_mu_);
            final_round = targets_stop_;
        }
        parts.clear();
        {
            std::lock_guard<std::mutex> lock(mu_);
            for (const auto& [name, st] : streams_) {
                if (st->target != t->config.name) continue;
                for (const auto& part : st->parts) {
                    if (part) parts.emplace_back(st.get(), part.get());
                }
            }
        }
        Status err;
        bool moved = false;
        bool acked = false;
        for (auto& [st, part] : parts) {
            batch.Clear();
            Status s = part->spool->Read(part->delivered, options_.durable_lsn(), kBatchRows, kBatchBytes, &batch);
            if (s.ok() && !batch.rows.empty()) {
                written.push_back({written_rows, written_rows + batch.rows.size(), part, batch.rows.front().seq,
                                   batch.rows.front().timestamp});
                written_rows += batch.rows.size();
                s = t->sink->Write(st->name, part->partition, batch.rows);
            }
            if (!s.ok()) {
                // This part waits for the retry; the others go on in this round.
                if (err.ok()) err = s;
                abandon();
                continue;
            }
            if (batch.rows.empty()) continue;
            if (part->oldest_unacked == 0) part->oldest_unacked = batch.rows.front().timestamp;
            part->delivered = batch.rows.back().seq;
            part->delivered_seen = part->delivered;
            moved = true;
        }
        if (err.ok()) {
            auto durable = t->sink->Durable(final_round);
            if (durable.ok()) {
                acked = acknowledge(*durable);
            } else {
                err = durable.status();
                abandon();
            }
        }
        if (final_round || Clock::now() - last_persist >= kAckEvery) {
            for (auto& [st, part] : parts) {
                Status s = PersistAck(part);
                if (!s.ok() && err.ok()) err = s;
            }
            last_persist = Clock::now();
        }
        if (!err.ok()) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (!t->failing || t->last_error != err.message()) {
                    spdlog::warn("export target \"{}\": {} (retrying in {} ms)", t->config.name, err.message(),
                                 backoff.count());
                }
                t->last_error = err.message();
                t->failing = true;
            }
            if (final_round) return;
            std::unique_lock<std::mutex> lock(target_mu_);
            target_cv_.wait_for(lock, backoff, [&] { return targets_stop_; });
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
            continue;
        }
        // Healthy again only once the sink acknowledges rows (or has nothing left to take): a
        // sink that only queues, like Kafka's producer, is not recovered by taking rows.
        if (acked || written.empty()) {
            if (t->failing) {
                std::lock_guard<std::mutex> lock(mu_);
                t->failing = false;
                spdlog::info("export target \"{}\" is delivering again", t->config.name);
            }
            backoff = kFirstBackoff;
        }
        if (final_round) return;
        if (!moved) {
            std::unique_lock<std::mutex> lock(target_mu_);
            target_cv_.wait_for(lock, kIdleWait, [&] { return targets_stop_; });
        }
    }
}

void ExportManager::Stop() {
    {
        std::lock_guard<std::mutex> lock(writer_mu_);
        writer_stop_ = true;
        writer_cv_.notify_one();
    }
    if (writer_.joinable()) writer_.join();
    {
        std::lock_guard<std::mutex> lock(target_mu_);
        targets_stop_ = true;
    }
    target_cv_.notify_all();
    for (auto& t : targets_) {
        if (t->thread.joinable()) t->thread.join();
    }
}

std::vector<std::string> ExportManager::TargetNames() const {
    std::vector<std::string> out;
    for (const auto& t : targets_) out.push_back(t->config.name);
    return out;
}

uint64_t ExportManager::pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

std::string ExportManager::RefusalMessage() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_text_.empty()) {
        return "export is stopped after a spool failure (" + failure_text_ +
               "); rows for exporting streams and tables are refused until surged restarts";
    }
    std::string behind;
    for (const auto& t : targets_) {
        if (t->failing) behind += (behind.empty() ? "" : ", ") + ("\"" + t->config.name + "\": " + t->last_error);
    }
    char sizes[128];
    std::snprintf(sizes, sizeof sizes, "%.1f MiB on disk not yet acknowledged, over its budget of %.1f MiB",
                  static_cast<double>(pending_bytes_.load()) / (1 << 20),
                  static_cast<double>(options_.disk_budget_bytes) / (1 << 20));
    return std::string("overloaded: the export backlog holds ") + sizes + " (--export-disk-budget-mb)" +
           (behind.empty() ? "" : "; targets failing: " + behind) + "; retry once the targets catch up";
}

std::vector<ChannelStats> ExportManager::Statistics() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ChannelStats> out;
    const int64_t now = WallMicros();
    for (const auto& [name, st] : streams_) {
        const Target* target = nullptr;
        for (const auto& t : targets_) {
            if (t->config.name == st->target) target = t.get();
        }
        for (const auto& part : st->parts) {
            if (!part) continue;
            ChannelStats c;
            c.stream = name;
            c.partition = part->partition;
            c.target = st->target;
            c.last_seq = part->spool->last_seq();
            c.delivered_seq = part->delivered_seen;
            c.acked_seq = part->acked_seen;
            c.pending_rows = c.last_seq > c.acked_seq ? c.last_seq - c.acked_seq : 0;
            c.spool_bytes = part->spool->bytes();
            const int64_t oldest = part->oldest_unacked;
            c.lag_ms = oldest ? std::max<int64_t>(0, (now - oldest) / 1000) : 0;
            if (!target) {
                c.status = "no target";
                c.last_error = "export target \"" + st->target + "\" is not configured; rows wait in the spool";
            } else {
                c.status = target->failing ? "retrying" : "ok";
                c.last_error = target->last_error;
            }
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace surge::exports
