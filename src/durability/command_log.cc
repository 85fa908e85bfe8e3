// The command log (see command_log.h and docs/adr/0009-command-log.md).
#include "durability/command_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "common/hash.h"
#include "durability/codec.h"
#include "durability/faults.h"

namespace surge::durability {
namespace {

constexpr char kMagic[8] = {'S', 'U', 'R', 'G', 'E', 'L', 'O', 'G'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kFrameBytes = 8;  // u32 length, u32 checksum
constexpr uint8_t kInvocationRecord = 1;
constexpr size_t kLsnOffset = kFrameBytes + 1;  // after the frame and the kind byte
constexpr uint32_t kMaxRecordBytes = uint32_t{1} << 31;
// Async mode writes (without fsync) whenever this much is pending, to keep batches moderate.
constexpr size_t kWriteThreshold = size_t{1} << 20;

uint32_t Checksum(const char* payload, uint32_t len) { return static_cast<uint32_t>(Hash64(payload, len, len)); }

std::string SegmentName(uint64_t first_lsn) {
    char name[48];
    std::snprintf(name, sizeof name, "log-%020" PRIu64 ".seg", first_lsn);
    return name;
}

std::string Header(uint32_t partitions, uint64_t first_lsn) {
    std::string h(kMagic, sizeof kMagic);
    ByteWriter w(&h);
    w.U32(kFormatVersion);
    w.U32(partitions);
    w.U64(first_lsn);
    w.U64(Hash64(h.data(), h.size()));
    return h;
}

struct Segment {
    uint64_t first_lsn;
    std::string path;
};

// The segments in dir, oldest first.
Result<std::vector<Segment>> ListSegments(const std::string& dir) {
    std::vector<Segment> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return out;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() != 28 || name.rfind("log-", 0) != 0 || name.substr(24) != ".seg") continue;
        uint64_t lsn = 0;
        bool digits = true;
        for (size_t i = 4; i < 24; ++i) {
            if (name[i] < '0' || name[i] > '9') digits = false;
            lsn = lsn * 10 + static_cast<uint64_t>(name[i] - '0');
        }
        if (digits) out.push_back({lsn, entry.path().string()});
    }
    if (ec) return Status(ErrorCode::kIoError, "command log: cannot list " + dir + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const Segment& a, const Segment& b) { return a.first_lsn < b.first_lsn; });
    return out;
}

Status TruncateFile(const std::string& path, uint64_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return IoError("command log: cannot open " + path + " to cut its torn tail", errno);
    int rc = ::ftruncate(fd, static_cast<off_t>(size));
    if (rc == 0) rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return IoError("command log: cannot cut the torn tail of " + path, err);
    return Status::Ok();
}

bool ParsePayload(std::string_view payload, ReadRecord* r) {
    ByteReader in(payload);
    if (in.U8() != kInvocationRecord) return false;
    r->lsn = in.U64();
    r->txn_id = in.U64();
    r->timestamp = in.I64();
    r->partition = in.U32();
    r->procedure = std::string(in.Str());
    const uint32_t n = in.U32();
    if (!in.ok() || n > in.remaining() / 2) return false;  // each value takes at least 2 bytes
    r->params.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        if (!in.Val(&r->params[i])) return false;
    }
    return in.ok() && in.remaining() == 0;
}

}  // namespace

std::string_view LogModeName(LogMode m) {
    switch (m) {
        case LogMode::kOff:
            return "off";
        case LogMode::kAsync:
            return "async";
        case LogMode::kSync:
            return "sync";
    }
    return "off";
}

CommandLog::CommandLog(CommandLogOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<CommandLog>> CommandLog::Open(CommandLogOptions options, uint64_t next_lsn) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "command log: cannot create " + options.dir + ": " + ec.message());
    std::unique_ptr<CommandLog> log(new CommandLog(std::move(options)));
    Status s = log->OpenSegment(next_lsn);
    if (!s.ok()) return s;
    log->last_lsn_ = log->written_lsn_ = log->durable_lsn_ = next_lsn - 1;
    log->durable_atomic_ = next_lsn - 1;
    log->appended_atomic_ = next_lsn - 1;
    log->pending_.reserve(kWriteThreshold * 2);
    log->writing_.reserve(kWriteThreshold * 2);
    log->writer_ = std::thread([l = log.get()] { l->WriterLoop(); });
    return log;
}

CommandLog::~CommandLog() { (void)Close(); }

Status CommandLog::OpenSegment(uint64_t first_lsn) {
    const std::string path = options_.dir + "/" + SegmentName(first_lsn);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("command log: cannot create " + path, errno);
    const std::string header = Header(options_.partition_count, first_lsn);
    Status s = WriteAll(fd, header.data(), header.size(), "command log", path);
    if (s.ok() && ::fdatasync(fd) != 0) s = IoError("command log: fdatasync of " + path + " failed", errno);
    if (s.ok()) s = SyncDirectory(options_.dir, "command log");
    if (!s.ok()) {
        ::close(fd);
        return s;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    segment_path_ = path;
    segment_size_ = header.size();
    std::lock_guard<std::mutex> lock(mu_);  // counters are read by other threads
    ++counters_.segments;
    return Status::Ok();
}

Result<uint64_t> CommandLog::AppendAll(std::span<const LogRecord> records) {
    if (records.empty()) return uint64_t{0};
    // Encoded outside the lock into a per-thread buffer that keeps its capacity; the LSNs and
    // checksums are filled in under it.
    thread_local std::string scratch;
    thread_local std::vector<size_t> starts;
    scratch.clear();
    starts.clear();
    ByteWriter w(&scratch);
    for (const LogRecord& r : records) {
        starts.push_back(scratch.size());
        w.U32(0);  // length and checksum, set below
        w.U32(0);
        w.U8(kInvocationRecord);
        w.U64(0);  // LSN, set below
        w.U64(r.txn_id);
        w.I64(r.timestamp);
        w.U32(r.partition);
        w.Str(r.procedure);
        w.U32(static_cast<uint32_t>(r.params.size()));
        for (const Value& v : r.params) w.Val(v);
    }
    starts.push_back(scratch.size());

    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return failure_;
    if (stop_) return Status(ErrorCode::kTransactionState, "the command log is closed");
    const uint64_t first = last_lsn_ + 1;
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
        const uint64_t lsn = first + k;
        char* p = scratch.data() + starts[k];
        const auto len = static_cast<uint32_t>(starts[k + 1] - starts[k] - kFrameBytes);
        for (size_t i = 0; i < 8; ++i) p[kLsnOffset + i] = static_cast<char>((lsn >> (8 * i)) & 0xff);
        const uint32_t sum = Checksum(p + kFrameBytes, len);
        for (size_t i = 0; i < 4; ++i) {
            p[i] = static_cast<char>((len >> (8 * i)) & 0xff);
            p[4 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
        }
    }
    last_lsn_ += records.size();
    appended_atomic_.store(last_lsn_, std::memory_order_release);
    const bool was_empty = pending_.empty();
    pending_.append(scratch);
    unwritten_.fetch_add(scratch.size(), std::memory_order_relaxed);
    counters_.records += records.size();
    counters_.bytes += scratch.size();
    if (was_empty || (pending_.size() >= kWriteThreshold && pending_.size() - scratch.size() < kWriteThreshold)) {
        cv_.notify_one();
    }
    return first;
}

void CommandLog::WhenDurable(uint64_t lsn, std::shared_ptr<DurableWaiter> waiter) {
    if (lsn <= durable_atomic_.load(std::memory_order_acquire)) {
        waiter->Durable(Status::Ok());
        return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (failed_) {
        Status f = failure_;
        lock.unlock();
        waiter->Durable(f);
        return;
    }
    lsn = std::min(lsn, last_lsn_);
    if (lsn <= durable_lsn_) {
        lock.unlock();
        waiter->Durable(Status::Ok());
        return;
    }
    waiters_.emplace_back(lsn, std::move(waiter));
}

uint64_t CommandLog::last_lsn() const { return appended_atomic_.load(std::memory_order_acquire); }

uint64_t CommandLog::durable_lsn() const { return durable_atomic_.load(std::memory_order_acquire); }

Status CommandLog::status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
}

CommandLog::Counters CommandLog::counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
}

Status CommandLog::Close() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return failure_;
        closed_ = true;
        stop_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
}

Status CommandLog::WriteBatch(const std::string& bytes, uint64_t first_lsn) {
    if (segment_size_ >= options_.segment_bytes && segment_size_ > kHeaderBytes) {
        // The old segment is complete: make it durable before the new one takes records.
        Status s = Sync();
        if (!s.ok()) return s;
        s = OpenSegment(first_lsn);
        if (!s.ok()) return s;
    }
    const std::string& path = segment_path_;
    if (Faults::Fire("cmdlog.write")) return IoError("command log: write failed (fault cmdlog.write)", EIO);
    // A torn write: part of the batch, ending inside a record (half of it can be a record boundary).
    const size_t torn = std::min(bytes.size() - 1, bytes.size() / 2 + 3);
    if (Faults::Fire("cmdlog.short_write")) {
        (void)WriteAll(fd_, bytes.data(), torn, "command log", path);
        return IoError("command log: short write (fault cmdlog.short_write)", EIO);
    }
    if (Faults::Fire("cmdlog.torn_exit")) {
        (void)WriteAll(fd_, bytes.data(), torn, "command log", path);
        std::fprintf(stderr, "surged: fault cmdlog.torn_exit: exiting after a torn write\n");
        ::_exit(70);
    }
    Status s = WriteAll(fd_, bytes.data(), bytes.size(), "command log", path);
    if (!s.ok()) return s;
    segment_size_ += bytes.size();
    return Status::Ok();
}

Status CommandLog::Sync() {
    if (Faults::Fire("cmdlog.fsync")) return IoError("command log: fdatasync failed (fault cmdlog.fsync)", EIO);
    if (::fdatasync(fd_) != 0) return IoError("command log: fdatasync of " + segment_path_ + " failed", errno);
    return Status::Ok();
}

void CommandLog::Fail(const Status& s, std::unique_lock<std::mutex>& lock) {
    failed_ = true;
    failure_ = Status(ErrorCode::kIoError, s.message() + "; the server accepts no more transactions");
    auto waiters = std::move(waiters_);
    waiters_.clear();
    const Status f = failure_;
    lock.unlock();
    if (options_.on_failure) options_.on_failure(f);
    for (auto& [lsn, w] : waiters) w->Durable(f);
    lock.lock();
}

void CommandLog::WriterLoop() {
    using Clock = std::chrono::steady_clock;
    const bool sync = options_.mode == LogMode::kSync;
    std::unique_lock<std::mutex> lock(mu_);
    Clock::time_point last_sync = Clock::now() - options_.interval;
    std::vector<std::pair<uint64_t, std::shared_ptr<DurableWaiter>>> ready;
    while (!failed_) {
        const bool have = !pending_.empty();
        const bool unsynced = written_lsn_ > durable_lsn_;
        if (!have && !unsynced && stop_) break;
        const Clock::time_point now = Clock::now();
        const bool due = now >= last_sync + options_.interval;
        bool flush = false, fsync = false;
        if (stop_) {
            flush = have;
            fsync = true;
        } else if (sync) {
            flush = fsync = have && due;
        } else {
            fsync = (have || unsynced) && due;
            flush = have && (fsync || pending_.size() >= kWriteThreshold);
        }
        if (!flush && !fsync) {
            if (have || unsynced) {
                cv_.wait_until(lock, last_sync + options_.interval);
            } else {
                cv_.wait(lock);
            }
            continue;
        }
        const uint64_t first = written_lsn_ + 1;
        const uint64_t covered = last_lsn_;
        if (flush) writing_.swap(pending_);
        lock.unlock();
        Status s;
        if (flush) s = WriteBatch(writing_, first);
        if (s.ok() && fsync) {
            last_sync = Clock::now();
            s = Sync();
        }
        const size_t written = writing_.size();
        writing_.clear();
        lock.lock();
        if (!s.ok()) {
            Fail(s, lock);
            break;
        }
        if (flush) {
            written_lsn_ = covered;
            unwritten_.fetch_sub(written, std::memory_order_relaxed);
            ++counters_.writes;
        }
        if (!fsync) continue;
        ++counters_.fsyncs;
        durable_lsn_ = written_lsn_;
        durable_atomic_.store(durable_lsn_, std::memory_order_release);
        if (waiters_.empty()) continue;
        // Answer the waiters the fsync covers, outside the lock.
        auto keep = waiters_.begin();
        for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
            if (it->first <= durable_lsn_) {
                ready.push_back(std::move(*it));
            } else {
                *keep++ = std::move(*it);
            }
        }
        waiters_.erase(keep, waiters_.end());
        lock.unlock();
        for (auto& [lsn, w] : ready) w->Durable(Status::Ok());
        ready.clear();
        lock.lock();
    }
}

Status ReadLog(const std::string& dir, uint64_t after_lsn, uint32_t expected_partitions,
               const std::function<Status(ReadRecord&&)>& fn, LogScanInfo* info) {
    *info = LogScanInfo{};
    auto segments = ListSegments(dir);
    if (!segments.ok()) return segments.status();
    uint64_t next = 0;  // the LSN the next record must have (0: the first segment says)
    for (size_t i = 0; i < segments->size(); ++i) {
        const Segment& seg = (*segments)[i];
        const bool last = i + 1 == segments->size();
        ++info->segments;
        auto data = ReadWholeFile(seg.path, "command log");
        if (!data.ok()) return data.status();
        const std::string& d = *data;
        // The header: written and synced when the segment was created, so only a crash during
        // creation can leave it short, and only in the last segment.
        bool header_ok = d.size() >= kHeaderBytes && std::memcmp(d.data(), kMagic, sizeof kMagic) == 0;
        ByteReader h(header_ok ? std::string_view(d).substr(sizeof kMagic, kHeaderBytes - sizeof kMagic)
                               : std::string_view());
        const uint32_t version = h.U32();
        const uint32_t partitions = h.U32();
        const uint64_t first_lsn = h.U64();
        const uint64_t sum = h.U64();
        header_ok = header_ok && h.ok() && sum == Hash64(d.data(), kHeaderBytes - 8);
        if (!header_ok) {
            if (!last) return Status(ErrorCode::kIoError, "command log: " + seg.path + " has a damaged header");
            info->torn_tail = std::to_string(d.size()) + " bytes of " + seg.path +
                              " (a segment whose creation a crash cut short) were removed";
            std::error_code ec;
            std::filesystem::remove(seg.path, ec);
            if (ec) return Status(ErrorCode::kIoError, "command log: cannot remove " + seg.path + ": " + ec.message());
            break;
        }
        if (version != kFormatVersion) {
            return Status(ErrorCode::kIoError, "command log: " + seg.path + " has format version " +
                                                   std::to_string(version) + "; this surged reads version " +
                                                   std::to_string(kFormatVersion));
        }
        if (first_lsn != seg.first_lsn) {
            return Status(ErrorCode::kIoError, "command log: " + seg.path + " starts at LSN " +
                                                   std::to_string(first_lsn) + ", not the LSN its name says");
        }
        if (expected_partitions != 0 && partitions != expected_partitions) {
            return Status(ErrorCode::kInvalidParameter,
                          "command log: " + seg.path + " was written by a server with " + std::to_string(partitions) +
                              " partitions; start surged with --partitions " + std::to_string(partitions) +
                              " to recover this data directory");
        }
        info->partition_count = partitions;
        if (next != 0 && first_lsn != next) {
            return Status(ErrorCode::kIoError, "command log: " + seg.path + " starts at LSN " +
                                                   std::to_string(first_lsn) + " but the previous segment ends at " +
                                                   std::to_string(next - 1) + " (a segment is missing)");
        }
        if (next == 0 && first_lsn > after_lsn + 1) {
            return Status(ErrorCode::kIoError, "command log: the oldest segment, " + seg.path + ", starts at LSN " +
                                                   std::to_string(first_lsn) + " but recovery needs the log from LSN " +
                                                   std::to_string(after_lsn + 1) + " (a segment is missing)");
        }
        next = first_lsn;
        size_t off = kHeaderBytes;
        std::string damage;
        ReadRecord rec;
        while (off < d.size()) {
            if (d.size() - off < kFrameBytes) {
                damage = "a record frame cut short";
                break;
            }
            ByteReader frame(std::string_view(d).substr(off, kFrameBytes));
            const uint32_t len = frame.U32();
            const uint32_t check = frame.U32();
            if (len > kMaxRecordBytes || len > d.size() - off - kFrameBytes) {
                damage = "a record cut short";
                break;
            }
            const char* payload = d.data() + off + kFrameBytes;
            if (Checksum(payload, len) != check) {
                damage = "a record whose checksum does not match";
                break;
            }
            rec = ReadRecord{};
            if (!ParsePayload(std::string_view(payload, len), &rec)) {
                return Status(ErrorCode::kIoError, "command log: " + seg.path + " offset " + std::to_string(off) +
                                                       ": a record with a valid checksum does not decode");
            }
            if (rec.lsn != next) {
                return Status(ErrorCode::kIoError, "command log: " + seg.path + " offset " + std::to_string(off) +
                                                       ": LSN " + std::to_string(rec.lsn) + " where " +
                                                       std::to_string(next) + " was expected");
            }
            if (info->first_lsn == 0) info->first_lsn = rec.lsn;
            info->last_lsn = rec.lsn;
            ++next;
            off += kFrameBytes + len;
            if (rec.lsn > after_lsn) {
                ++info->records;
                Status s = fn(std::move(rec));
                if (!s.ok()) return s;
            }
        }
        if (!damage.empty()) {
            if (!last) {
                return Status(ErrorCode::kIoError, "command log: " + seg.path + " is damaged at offset " +
                                                       std::to_string(off) + " (" + damage + ", after LSN " +
                                                       std::to_string(next - 1) +
                                                       ") and later segments follow it: the log cannot be "
                                                       "replayed past LSN " +
                                                       std::to_string(next - 1));
            }
            info->torn_tail = std::to_string(d.size() - off) + " bytes at offset " + std::to_string(off) + " of " +
                              seg.path + " (" + damage + ": a write a crash cut short) were dropped";
            Status s = TruncateFile(seg.path, off);
            if (!s.ok()) return s;
        }
    }
    return Status::Ok();
}

Status TruncateLog(const std::string& dir, uint64_t lsn) {
    auto segments = ListSegments(dir);
    if (!segments.ok()) return segments.status();
    for (size_t i = 0; i + 1 < segments->size(); ++i) {
        if ((*segments)[i + 1].first_lsn > lsn + 1) break;
        std::error_code ec;
        std::filesystem::remove((*segments)[i].path, ec);
        if (ec) {
            return Status(ErrorCode::kIoError,
                          "command log: cannot remove " + (*segments)[i].path + ": " + ec.message());
        }
    }
    return SyncDirectory(dir, "command log");
}

}  // namespace surge::durability
