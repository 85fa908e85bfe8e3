// The export spool (see spool.h).
#include "export/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/bytes.h"
#include "common/files.h"
#include "common/hash.h"

namespace surge::exports {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'S', 'R', 'G', 'E', 'X', 'P', '0', '1'};
constexpr size_t kRecordHeader = 8;    // u32 payload bytes, u32 checksum
constexpr size_t kPayloadHeader = 33;  // seq, txn id, timestamp, gate LSN, op
constexpr uint64_t kSeed = 0x5350'4f4f'4c31ull;
constexpr uint32_t kMaxRecord = 1u << 30;

uint32_t Checksum(const char* p, size_t n) { return static_cast<uint32_t>(Hash64(p, n, kSeed)); }

std::string SegmentName(uint64_t first_seq) {
    char b[32];
    std::snprintf(b, sizeof b, "%020" PRIu64 ".exs", first_seq);
    return b;
}

bool ParseSegmentName(const std::string& name, uint64_t* first_seq) {
    if (name.size() != 24 || name.compare(20, 4, ".exs") != 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < 20; ++i) {
        if (name[i] < '0' || name[i] > '9') return false;
        v = v * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    *first_seq = v;
    return true;
}

std::string EncodeHeader(const SpoolSchema& schema) {
    std::string body;
    PutRaw<uint32_t>(&body, static_cast<uint32_t>(schema.columns.size()));
    for (const auto& c : schema.columns) {
        body.push_back(static_cast<char>(c.type.id));
        PutRaw<uint32_t>(&body, c.type.length);
        body.push_back(c.nullable ? 1 : 0);
        PutRaw<uint16_t>(&body, static_cast<uint16_t>(c.name.size()));
        body += c.name;
    }
    PutRaw<int32_t>(&body, schema.partition_column);
    std::string out(kMagic, sizeof kMagic);
    PutRaw<uint32_t>(&out, static_cast<uint32_t>(body.size()));
    out += body;
    PutRaw<uint32_t>(&out, Checksum(body.data(), body.size()));
    return out;
}

// Reads a segment's header: its columns and where the records start.
Status ReadHeader(int fd, const std::string& path, std::shared_ptr<const SpoolSchema>* schema, uint64_t* header_size) {
    auto damaged = [&](const std::string& why) {
        return Status(ErrorCode::kIoError, "export spool " + path + ": damaged segment header (" + why + ")");
    };
    char head[12];
    if (::pread(fd, head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) return damaged("too short");
    if (std::memcmp(head, kMagic, sizeof kMagic) != 0) return damaged("not a spool segment");
    const auto n = GetRaw<uint32_t>(head + 8);
    if (n > (64u << 20)) return damaged("impossible length");
    std::string body(n + 4, '\0');
    if (::pread(fd, body.data(), body.size(), 12) != static_cast<ssize_t>(body.size())) return damaged("cut short");
    if (GetRaw<uint32_t>(body.data() + n) != Checksum(body.data(), n)) return damaged("checksum mismatch");
    const char* p = body.data();
    const char* end = body.data() + n;
    if (end - p < 4) return damaged("no column count");
    const auto count = GetRaw<uint32_t>(p);
    p += 4;
    std::vector<catalog::ColumnDef> cols;
    for (uint32_t i = 0; i < count; ++i) {
        if (end - p < 8) return damaged("column " + std::to_string(i) + " cut short");
        catalog::ColumnDef c;
        c.type.id = static_cast<TypeId>(static_cast<uint8_t>(p[0]));
        c.type.length = GetRaw<uint32_t>(p + 1);
        c.nullable = p[5] != 0;
        const auto len = GetRaw<uint16_t>(p + 6);
        p += 8;
        if (end - p < len) return damaged("column " + std::to_string(i) + " name cut short");
        c.name.assign(p, len);
        p += len;
        cols.push_back(std::move(c));
    }
    if (end - p != 4) return damaged("no partition column");
    const auto partition_column = GetRaw<int32_t>(p);
    if (partition_column < -1 || partition_column >= static_cast<int32_t>(cols.size())) {
        return damaged("partition column out of range");
    }
    *schema = std::make_shared<const SpoolSchema>(std::move(cols), partition_column);
    *header_size = 12 + n + 4;
    return Status::Ok();
}

}  // namespace

bool SpoolSchema::SameColumns(const std::vector<catalog::ColumnDef>& other) const {
    if (other.size() != columns.size()) return false;
    for (size_t i = 0; i < other.size(); ++i) {
        if (other[i].name != columns[i].name || !(other[i].type == columns[i].type) ||
            other[i].nullable != columns[i].nullable) {
            return false;
        }
    }
    return true;
}

Spool::~Spool() {
    if (fd_ >= 0) ::close(fd_);
    for (int fd : to_sync_) ::close(fd);
    CloseReader();
}

void Spool::CloseReader() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    read_after_ = UINT64_MAX;
}

Status Spool::ScanSegment(const std::string& path, Segment* seg, uint64_t* end, bool* torn) {
    auto bytes = ReadWholeFile(path, "export spool");
    if (!bytes.ok()) return bytes.status();
    const std::string& b = *bytes;
    uint64_t p = seg->header_size;
    uint64_t expect = seg->first_seq;
    seg->last_seq = 0;
    while (b.size() - p >= kRecordHeader) {
        const auto n = GetRaw<uint32_t>(b.data() + p);
        if (n < kPayloadHeader || n > kMaxRecord || b.size() - p - kRecordHeader < n) break;
        const char* payload = b.data() + p + kRecordHeader;
        if (GetRaw<uint32_t>(b.data() + p + 4) != Checksum(payload, n)) break;
        const auto seq = GetRaw<uint64_t>(payload);
        if (seq != expect) break;
        seg->last_seq = seq;
        ++expect;
        p += kRecordHeader + n;
    }
    *end = p;
    *torn = p != b.size();
    return Status::Ok();
}

Result<std::unique_ptr<Spool>> Spool::Open(std::string dir, uint64_t segment_bytes, std::string* repaired) {
    repaired->clear();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "export spool: cannot create " + dir + ": " + ec.message());
    std::unique_ptr<Spool> spool(new Spool(dir, segment_bytes));
    std::vector<std::pair<uint64_t, std::string>> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        uint64_t first = 0;
        std::error_code entry_ec;
        if (entry.is_regular_file(entry_ec) && ParseSegmentName(entry.path().filename().string(), &first)) {
            found.emplace_back(first, entry.path().string());
        }
    }
    if (ec) return Status(ErrorCode::kIoError, "export spool: cannot list " + dir + ": " + ec.message());
    std::sort(found.begin(), found.end());
    uint64_t total = 0;
    for (size_t i = 0; i < found.size(); ++i) {
        Segment seg;
        seg.first_seq = found[i].first;
        seg.path = found[i].second;
        seg.recovered = true;
        const bool last = i + 1 == found.size();
        const int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return IoError("export spool: cannot open " + seg.path, errno);
        struct stat st {};
        ::fstat(fd, &st);
        Status h = ReadHeader(fd, seg.path, &seg.schema, &seg.header_size);
        ::close(fd);
        if (!h.ok()) {
            if (!last) return h;
            // The newest segment was being created when the server stopped: nothing in it counts.
            *repaired = h.message() + "; removed it";
            fs::remove(seg.path, ec);
            break;
        }
        seg.size = static_cast<uint64_t>(st.st_size);
        if (last) {
            uint64_t end = 0;
            bool torn = false;
            Status s = ScanSegment(seg.path, &seg, &end, &torn);
            if (!s.ok()) return s;
            if (torn) {
                *repaired = "export spool " + seg.path + ": " + std::to_string(seg.size - end) +
                            " bytes after the last whole row (seq " + std::to_string(seg.last_seq) + ") were cut off";
                if (::truncate(seg.path.c_str(), static_cast<off_t>(end)) != 0) {
                    return IoError("export spool: cannot truncate " + seg.path, errno);
                }
                seg.size = end;
            }
            if (seg.last_seq == 0) {
                fs::remove(seg.path, ec);
                break;
            }
        } else {
            seg.last_seq = found[i + 1].first - 1;
        }
        total += seg.size;
        spool->segments_.push_back(std::move(seg));
    }
    const uint64_t last = spool->segments_.empty() ? 0 : spool->segments_.back().last_seq;
    spool->last_seq_.store(last);
    spool->buffered_last_seq_ = last;
    spool->bytes_.store(total);
    return spool;
}

Status Spool::StartSegment(const std::shared_ptr<const SpoolSchema>& schema, uint64_t first_seq) {
    if (fd_ >= 0) to_sync_.push_back(fd_);
    fd_ = -1;
    Segment seg;
    seg.first_seq = first_seq;
    seg.path = dir_ + "/" + SegmentName(first_seq);
    seg.schema = schema;
    const int fd = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("export spool: cannot create " + seg.path, errno);
    fd_ = fd;
    std::string header = EncodeHeader(*schema);
    seg.header_size = header.size();
    buffer_ = std::move(header);
    cur_schema_ = schema;
    cur_size_ = 0;
    bytes_.fetch_add(seg.header_size, std::memory_order_relaxed);
    new_segment_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    segments_.push_back(std::move(seg));
    return Status::Ok();
}

Status Spool::Append(const std::shared_ptr<const SpoolSchema>& schema, uint64_t seq, uint64_t txn_id, int64_t timestamp,
                     uint64_t lsn, exec::ExportOp op, std::string_view row) {
    if (seq <= buffered_last_seq_) return Status::Ok();
    bool roll = fd_ < 0 || roll_requested_.exchange(false, std::memory_order_relaxed);
    if (!roll) {
        roll = (cur_schema_ != schema && !cur_schema_->Same(*schema)) || cur_size_ + buffer_.size() >= segment_bytes_;
    }
    if (roll) {
        Status s = Flush();
        if (!s.ok()) return s;
        s = StartSegment(schema, seq);
        if (!s.ok()) return s;
    }
    const size_t start = buffer_.size();
    const auto n = static_cast<uint32_t>(kPayloadHeader + row.size());
    PutRaw<uint32_t>(&buffer_, n);
    PutRaw<uint32_t>(&buffer_, 0);
    PutRaw<uint64_t>(&buffer_, seq);
    PutRaw<uint64_t>(&buffer_, txn_id);
    PutRaw<int64_t>(&buffer_, timestamp);
    PutRaw<uint64_t>(&buffer_, lsn);
    buffer_.push_back(static_cast<char>(op));
    buffer_.append(row);
    const uint32_t sum = Checksum(buffer_.data() + start + kRecordHeader, n);
    std::memcpy(buffer_.data() + start + 4, &sum, 4);
    buffered_last_seq_ = seq;
    bytes_.fetch_add(kRecordHeader + n, std::memory_order_relaxed);
    return Status::Ok();
}

Status Spool::Flush() {
    if (buffer_.empty()) return Status::Ok();
    std::string path;
    {
        std::lock_guard<std::mutex> lock(mu_);
        path = segments_.back().path;
    }
    Status s = WriteAll(fd_, buffer_.data(), buffer_.size(), "export spool", path);
    if (!s.ok()) return s;
    {
        std::lock_guard<std::mutex> lock(mu_);
        Segment& cur = segments_.back();
        cur.size += buffer_.size();
        cur.last_seq = buffered_last_seq_;
    }
    cur_size_ += buffer_.size();
    last_seq_.store(buffered_last_seq_, std::memory_order_release);
    buffer_.clear();
    unsynced_ = true;
    return Status::Ok();
}

Status Spool::Sync() {
    for (int fd : to_sync_) {
        if (::fdatasync(fd) != 0) return IoError("export spool: fdatasync in " + dir_, errno);
        ::close(fd);
    }
    to_sync_.clear();
    if (unsynced_ && fd_ >= 0 && ::fdatasync(fd_) != 0) return IoError("export spool: fdatasync in " + dir_, errno);
    unsynced_ = false;
    if (new_segment_) {
        Status s = SyncDirectory(dir_, "export spool");
        if (!s.ok()) return s;
        new_segment_ = false;
    }
    return Status::Ok();
}

Status Spool::TruncateAfter(uint64_t seq) {
    std::error_code ec;
    while (!segments_.empty() && segments_.back().first_seq > seq) {
        bytes_.fetch_sub(segments_.back().size, std::memory_order_relaxed);
        fs::remove(segments_.back().path, ec);
        if (ec) return Status(ErrorCode::kIoError, "export spool: cannot remove " + segments_.back().path);
        segments_.pop_back();
    }
    if (!segments_.empty() && segments_.back().last_seq > seq) {
        Segment& seg = segments_.back();
        auto bytes = ReadWholeFile(seg.path, "export spool");
        if (!bytes.ok()) return bytes.status();
        uint64_t p = seg.header_size;
        while (p + kRecordHeader + 8 <= bytes->size() && GetRaw<uint64_t>(bytes->data() + p + kRecordHeader) <= seq) {
            p += kRecordHeader + GetRaw<uint32_t>(bytes->data() + p);
        }
        if (::truncate(seg.path.c_str(), static_cast<off_t>(p)) != 0) {
            return IoError("export spool: cannot truncate " + seg.path, errno);
        }
        bytes_.fetch_sub(seg.size - p, std::memory_order_relaxed);
        seg.size = p;
        seg.last_seq = seq;
    }
    const uint64_t last = std::min(last_seq_.load(), seq);
    last_seq_.store(last);
    buffered_last_seq_ = last;
    return SyncDirectory(dir_, "export spool");
}

Status Spool::Read(uint64_t after, uint64_t max_lsn, size_t max_rows, size_t max_bytes, SpoolBatch* batch) {
    {
        // Reading again from an earlier row (after a failed delivery): later marks are stale.
        std::lock_guard<std::mutex> lock(mu_);
        while (!marks_.empty() && marks_.back().seq > after) marks_.pop_back();
    }
    size_t taken = 0;
    size_t min_want = 0;  // a row larger than a chunk is read whole
    while (taken < max_rows && batch->bytes < max_bytes) {
        Segment seg;
        {
            std::lock_guard<std::mutex> lock(mu_);
            const Segment* found = nullptr;
            if (read_fd_ >= 0 && read_after_ == after) {
                for (const Segment& s : segments_) {
                    if (s.first_seq == read_segment_) found = &s;
                }
            }
            if (!found) {
                CloseReader();
                for (const Segment& s : segments_) {
                    if (s.last_seq > after) {
                        found = &s;
                        break;
                    }
                }
                if (!found) return Status::Ok();
                read_offset_ = found->header_size;
                read_segment_ = found->first_seq;
                read_after_ = after;
            }
            seg = *found;
        }
        if (read_fd_ < 0) {
            read_fd_ = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
            if (read_fd_ < 0) {
                const int err = errno;
                CloseReader();
                return IoError("export spool: cannot open " + seg.path, err);
            }
            read_after_ = after;
        }
        if (read_offset_ >= seg.size) {
            // This segment is read to its end: go on to the next one, if it has begun.
            if (seg.last_seq <= after && seg.last_seq != 0) {
                CloseReader();
                bool next = false;
                {
                    std::lock_guard<std::mutex> lock(mu_);
                    for (const Segment& s : segments_) next = next || (s.first_seq > seg.first_seq && s.size > 0);
                }
                if (next) continue;
            }
            return Status::Ok();
        }
        const size_t want = static_cast<size_t>(std::min<uint64_t>(
            seg.size - read_offset_, std::max<size_t>({max_bytes - batch->bytes, 256 * 1024, min_want})));
        auto chunk = batch->NewChunk(want);
        const ssize_t got = ::pread(read_fd_, chunk->data(), want, static_cast<off_t>(read_offset_));
        if (got != static_cast<ssize_t>(want)) {
            const int err = got < 0 ? errno : EIO;
            CloseReader();
            return IoError("export spool: cannot read " + seg.path, err);
        }
        size_t p = 0;
        bool stop = false;
        bool used = false;
        while (chunk->size() - p >= kRecordHeader && taken < max_rows && batch->bytes < max_bytes) {
            const auto n = GetRaw<uint32_t>(chunk->data() + p);
            if (n < kPayloadHeader || n > kMaxRecord) {
                CloseReader();
                return Status(ErrorCode::kIoError, "export spool " + seg.path + ": damaged row at offset " +
                                                       std::to_string(read_offset_ + p));
            }
            if (chunk->size() - p - kRecordHeader < n) {
                if (p == 0) min_want = kRecordHeader + n;
                break;
            }
            const char* payload = chunk->data() + p + kRecordHeader;
            if (GetRaw<uint32_t>(chunk->data() + p + 4) != Checksum(payload, n)) {
                CloseReader();
                return Status(ErrorCode::kIoError, "export spool " + seg.path + ": checksum mismatch at offset " +
                                                       std::to_string(read_offset_ + p));
            }
            SpoolRow r;
            r.seq = GetRaw<uint64_t>(payload);
            r.lsn = GetRaw<uint64_t>(payload + 24);
            if (r.seq > after && r.lsn > max_lsn && !seg.recovered) {
                stop = true;  // not durable in the command log yet
                break;
            }
            p += kRecordHeader + n;
            if (r.seq <= after) continue;
            r.txn_id = GetRaw<uint64_t>(payload + 8);
            r.timestamp = GetRaw<int64_t>(payload + 16);
            r.op = static_cast<exec::ExportOp>(static_cast<uint8_t>(payload[32]));
            r.row = std::string_view(payload + kPayloadHeader, n - kPayloadHeader);
            r.schema = seg.schema.get();
            batch->rows.push_back(r);
            batch->bytes += n;
            after = r.seq;
            ++taken;
            used = true;
        }
        read_offset_ += p;
        read_after_ = after;
        if (used) {
            std::lock_guard<std::mutex> lock(mu_);
            if (marks_.size() >= 4096) marks_.pop_front();
            marks_.push_back({after, read_segment_, read_offset_});
        }
        if (!used) {
            batch->spare.push_back(std::move(chunk));
        } else {
            batch->chunks.push_back(std::move(chunk));
            if (batch->schemas.empty() || batch->schemas.back() != seg.schema) batch->schemas.push_back(seg.schema);
        }
        if (stop) return Status::Ok();
        if (p == 0 && (min_want == 0 || want >= min_want)) return Status::Ok();  // the row is not all written yet
    }
    return Status::Ok();
}

uint64_t Spool::PendingBytes(uint64_t acked) {
    std::lock_guard<std::mutex> lock(mu_);
    while (marks_.size() > 1 && marks_[1].seq <= acked) marks_.pop_front();
    const ReadMark* mark = !marks_.empty() && marks_.front().seq <= acked ? &marks_.front() : nullptr;
    uint64_t done = 0;
    for (const Segment& s : segments_) {
        if (mark && s.first_seq < mark->segment) {
            done += s.size;
        } else if (mark && s.first_seq == mark->segment) {
            done += std::min(s.size, mark->offset);
        } else if (!mark && s.last_seq != 0 && s.last_seq <= acked) {
            done += s.size;
        }
    }
    const uint64_t total = bytes_.load(std::memory_order_relaxed);
    return total > done ? total - done : 0;
}

Status Spool::Release(uint64_t seq) {
    std::vector<std::string> doomed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        while (segments_.size() > 1 && segments_.front().last_seq != 0 && segments_.front().last_seq <= seq) {
            if (read_segment_ == segments_.front().first_seq) CloseReader();
            bytes_.fetch_sub(segments_.front().size, std::memory_order_relaxed);
            doomed.push_back(segments_.front().path);
            segments_.erase(segments_.begin());
        }
        if (segments_.size() == 1 && segments_.front().last_seq != 0 && segments_.front().last_seq <= seq) {
            roll_requested_.store(true, std::memory_order_relaxed);
        }
    }
    for (const auto& path : doomed) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return IoError("export spool: cannot remove " + path, errno);
    }
    return Status::Ok();
}

}  // namespace surge::exports
