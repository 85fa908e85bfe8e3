// Snapshot files (see snapshot.h and docs/adr/0010-snapshots.md).
#include "durability/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "common/hash.h"
#include "durability/codec.h"
#include "durability/faults.h"

namespace surge::durability {
namespace {

constexpr char kMagic[8] = {'S', 'U', 'R', 'G', 'E', 'S', 'N', 'P'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 16;
constexpr size_t kFrameBytes = 16;  // u32 payload bytes, u32 rows, u64 checksum
constexpr uint32_t kMaxChunkBytes = uint32_t{1} << 30;
constexpr std::string_view kManifestFirstLine = "SURGE SNAPSHOT 1";
constexpr std::string_view kWho = "snapshot";

uint64_t ChunkChecksum(std::string_view payload, uint32_t rows) { return Hash64(payload.data(), payload.size(), rows); }

// Names in the manifest: bytes that would end a field or a line are written as %XX.
std::string Escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c <= 0x20 || c == 0x7f || c == '%') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

bool Unescape(std::string_view s, std::string* out) {
    out->clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            *out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return false;
        unsigned v = 0;
        auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (r.ec != std::errc() || r.ptr != s.data() + i + 3) return false;
        *out += static_cast<char>(v);
        i += 2;
    }
    return true;
}

template <class T>
bool ParseNumber(std::string_view s, T* out) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> Fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= line.size()) {
        size_t sp = line.find(' ', start);
        if (sp == std::string_view::npos) sp = line.size();
        out.push_back(line.substr(start, sp - start));
        start = sp + 1;
    }
    return out;
}

std::string Hex(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return buf;
}

bool ParseHex(std::string_view s, uint64_t* v) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v, 16);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Status Damaged(const std::string& path, const std::string& what) {
    return Status(ErrorCode::kIoError, "snapshot file " + path + " is damaged: " + what);
}

// Reads exactly n bytes; false at end of file or on error (*err set to errno, 0 at EOF).
bool ReadExact(int fd, char* buf, size_t n, int* err) {
    while (n > 0) {
        const ssize_t r = ::read(fd, buf, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            return false;
        }
        if (r == 0) {
            *err = 0;
            return false;
        }
        buf += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

}  // namespace

uint64_t SnapshotManifest::total_rows() const {
    uint64_t n = 0;
    for (const auto& f : files) n += f.rows_file ? f.rows : 0;
    return n;
}

uint64_t SnapshotManifest::total_bytes() const {
    uint64_t n = catalog_bytes;
    for (const auto& f : files) n += f.bytes;
    return n;
}

// ---- the manifest -------------------------------------------------------------------------------

std::string FormatManifest(const SnapshotManifest& m) {
    std::string s(kManifestFirstLine);
    s += "\nid " + Escape(m.id);
    s += "\ncut_lsn " + std::to_string(m.cut_lsn);
    s += "\npartitions " + std::to_string(m.partitions);
    s += "\ncreated_micros " + std::to_string(m.created_micros);
    s += "\nnext_txn_id " + std::to_string(m.next_txn_id);
    s += "\nlast_timestamp " + std::to_string(m.last_timestamp);
    s += "\ncatalog " + std::to_string(m.catalog_bytes) + " " + Hex(m.catalog_hash);
    for (const auto& f : m.files) {
        s += std::string(f.rows_file ? "\nrows " : "\nextra ") + Escape(f.name) + " " + std::to_string(f.partition) +
             " " + std::to_string(f.rows) + " " + std::to_string(f.bytes) + " " + Escape(f.table);
    }
    for (const auto& e : m.export_sequences) {
        s += "\nexport_seq " + Escape(e.stream) + " " + std::to_string(e.partition) + " " + std::to_string(e.seq);
    }
    s += "\n";
    s += "checksum " + Hex(Hash64(s.data(), s.size())) + "\n";
    return s;
}

bool ParseManifest(std::string_view text, SnapshotManifest* m, std::string* error) {
    *m = SnapshotManifest{};
    const size_t last = text.rfind("checksum ");
    if (last == std::string_view::npos || (last > 0 && text[last - 1] != '\n') || text.empty() || text.back() != '\n') {
        *error = "it does not end in a checksum line (written only partly?)";
        return false;
    }
    uint64_t want = 0;
    if (!ParseHex(text.substr(last + 9, text.size() - last - 10), &want) || Hash64(text.data(), last) != want) {
        *error = "its checksum does not match its contents";
        return false;
    }
    std::string_view body = text.substr(0, last);
    size_t start = 0;
    bool first = true;
    while (start < body.size()) {
        size_t nl = body.find('\n', start);
        if (nl == std::string_view::npos) nl = body.size();
        std::string_view line = body.substr(start, nl - start);
        start = nl + 1;
        if (first) {
            if (line != kManifestFirstLine) {
                *error = "it is not a SurgeDB snapshot manifest of a known version (first line \"" +
                         std::string(line.substr(0, 40)) + "\")";
                return false;
            }
            first = false;
            continue;
        }
        auto f = Fields(line);
        bool ok = true;
        if (f[0] == "id" && f.size() == 2) {
            ok = Unescape(f[1], &m->id);
        } else if (f[0] == "cut_lsn" && f.size() == 2) {
            ok = ParseNumber(f[1], &m->cut_lsn);
        } else if (f[0] == "partitions" && f.size() == 2) {
            ok = ParseNumber(f[1], &m->partitions);
        } else if (f[0] == "created_micros" && f.size() == 2) {
            ok = ParseNumber(f[1], &m->created_micros);
        } else if (f[0] == "next_txn_id" && f.size() == 2) {
            ok = ParseNumber(f[1], &m->next_txn_id);
        } else if (f[0] == "last_timestamp" && f.size() == 2) {
            ok = ParseNumber(f[1], &m->last_timestamp);
        } else if (f[0] == "catalog" && f.size() == 3) {
            ok = ParseNumber(f[1], &m->catalog_bytes) && ParseHex(f[2], &m->catalog_hash);
        } else if (f[0] == "export_seq" && f.size() == 4) {
            SnapshotManifest::ExportSequence e;
            ok = Unescape(f[1], &e.stream) && ParseNumber(f[2], &e.partition) && ParseNumber(f[3], &e.seq);
            m->export_sequences.push_back(std::move(e));
        } else if ((f[0] == "rows" || f[0] == "extra") && f.size() == 6) {
            SnapshotFile file;
            file.rows_file = f[0] == "rows";
            ok = Unescape(f[1], &file.name) && ParseNumber(f[2], &file.partition) && ParseNumber(f[3], &file.rows) &&
                 ParseNumber(f[4], &file.bytes) && Unescape(f[5], &file.table) &&
                 file.name.find('/') == std::string::npos && !file.name.empty() && file.name[0] != '.';
            m->files.push_back(std::move(file));
        } else {
            ok = false;
        }
        if (!ok) {
            *error = "line \"" + std::string(line.substr(0, 80)) + "\" is not understood";
            return false;
        }
    }
    if (first || m->id.empty() || m->partitions == 0) {
        *error = "it lacks the snapshot's id or partition count";
        return false;
    }
    return true;
}

// ---- the writer ---------------------------------------------------------------------------------

SnapshotWriter::SnapshotWriter(std::string dir, size_t max_queued, std::function<void()> on_drained)
    : dir_(std::move(dir)), max_queued_(max_queued), on_drained_(std::move(on_drained)) {
    header_.assign(kMagic, sizeof kMagic);
    ByteWriter w(&header_);
    w.U32(kFormatVersion);
    w.U32(0);
}

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(std::string dir, size_t max_queued_bytes,
                                                               std::function<void()> on_drained) {
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
        return Status(ErrorCode::kIoError,
                      "snapshot: cannot create directory " + parent.string() + ": " + ec.message());
    }
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST) {
            return Status(ErrorCode::kInvalidParameter,
                          "snapshot: " + dir + " already exists; a snapshot is written to a new directory");
        }
        return IoError("snapshot: cannot create directory " + dir, errno);
    }
    std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(std::move(dir), max_queued_bytes, std::move(on_drained)));
    w->thread_ = std::thread([p = w.get()] { p->Loop(); });
    return w;
}

SnapshotWriter::~SnapshotWriter() { Abandon(); }

size_t SnapshotWriter::AddFile(std::string name, std::string table, uint32_t partition, bool rows_file) {
    std::lock_guard<std::mutex> lock(mu_);
    OpenState st;
    st.info.name = std::move(name);
    st.info.table = std::move(table);
    st.info.partition = partition;
    st.info.rows_file = rows_file;
    files_.push_back(std::move(st));
    return files_.size() - 1;
}

void SnapshotWriter::Write(size_t file, std::string bytes, uint64_t rows) {
    queued_.fetch_add(bytes.size(), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back({file, std::move(bytes), rows});
    }
    cv_.notify_one();
}

void SnapshotWriter::Finish(SnapshotManifest manifest, std::string catalog_sql,
                            std::function<void(const Status&, const SnapshotManifest&)> done) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        manifest_ = std::move(manifest);
        catalog_sql_ = std::move(catalog_sql);
        done_ = std::move(done);
        finishing_ = true;
    }
    cv_.notify_one();
}

void SnapshotWriter::Abandon() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!finishing_) stop_ = true;
    }
    cv_.notify_one();
    if (!thread_.joinable()) return;
    if (std::this_thread::get_id() == thread_.get_id()) {
        thread_.detach();  // called from a completion callback: the loop ends after it returns
        return;
    }
    thread_.join();
}

void SnapshotWriter::Loop() {
    while (true) {
        Item item;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stop_ || finishing_ || !queue_.empty(); });
            if (stop_) break;
            if (queue_.empty()) {
                // Finishing, and everything queued is written.
                lock.unlock();
                Status s = failure_;
                if (s.ok()) s = Complete(&manifest_, catalog_sql_);
                for (auto& f : files_) {
                    if (f.fd >= 0) ::close(f.fd);
                    f.fd = -1;
                }
                done_(s, manifest_);
                return;
            }
            item = std::move(queue_.front());
            queue_.pop_front();
        }
        // After a failure the rest is dropped: the snapshot will not be completed.
        if (failure_.ok()) failure_ = WriteChunk(item.file, item.bytes, item.rows);
        const size_t left = queued_.fetch_sub(item.bytes.size(), std::memory_order_relaxed) - item.bytes.size();
        if (left <= max_queued_ / 2 && paused_.exchange(false) && on_drained_) on_drained_();
    }
    for (auto& f : files_) {
        if (f.fd >= 0) ::close(f.fd);
        f.fd = -1;
    }
}

Status SnapshotWriter::OpenFile(size_t file) {
    OpenState* st;
    {
        std::lock_guard<std::mutex> lock(mu_);
        st = &files_[file];
    }
    if (st->fd >= 0) return Status::Ok();
    const std::string path = dir_ + "/" + st->info.name;
    st->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (st->fd < 0) return IoError("snapshot: cannot create " + path, errno);
    if (!st->info.rows_file) return Status::Ok();
    Status s = WriteAll(st->fd, header_.data(), header_.size(), kWho, path);
    st->info.bytes = header_.size();
    return s;
}

Status SnapshotWriter::WriteChunk(size_t file, const std::string& bytes, uint64_t rows) {
    Status s = OpenFile(file);
    if (!s.ok()) return s;
    OpenState* st;
    {
        std::lock_guard<std::mutex> lock(mu_);
        st = &files_[file];
    }
    const std::string path = dir_ + "/" + st->info.name;
    // A disk that stops for a while: the snapshot stays "being written" (tests of what that means).
    if (Faults::Fire("snapshot.stall")) std::this_thread::sleep_for(std::chrono::seconds(2));
    if (Faults::Fire("snapshot.write"))
        return IoError("snapshot: write to " + path + " failed (fault snapshot.write)", EIO);
    if (!st->info.rows_file) {
        s = WriteAll(st->fd, bytes.data(), bytes.size(), kWho, path);
        st->info.bytes += bytes.size();
        return s;
    }
    if (bytes.empty() && rows == 0) return Status::Ok();
    std::string frame;
    ByteWriter w(&frame);
    w.U32(static_cast<uint32_t>(bytes.size()));
    w.U32(static_cast<uint32_t>(rows));
    w.U64(ChunkChecksum(bytes, static_cast<uint32_t>(rows)));
    s = WriteAll(st->fd, frame.data(), frame.size(), kWho, path);
    if (s.ok()) {
        if (Faults::Fire("snapshot.corrupt") && !bytes.empty()) {
            // A bit flipped on its way to the disk: found only when the snapshot is read.
            std::string damaged = bytes;
            damaged[damaged.size() / 2] ^= 0x10;
            s = WriteAll(st->fd, damaged.data(), damaged.size(), kWho, path);
        } else {
            s = WriteAll(st->fd, bytes.data(), bytes.size(), kWho, path);
        }
    }
    st->info.bytes += frame.size() + bytes.size();
    st->info.rows += rows;
    return s;
}

Status SnapshotWriter::Complete(SnapshotManifest* manifest, const std::string& catalog_sql) {
    const size_t n = [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return files_.size();
    }();
    for (size_t i = 0; i < n; ++i) {
        Status s = OpenFile(i);  // a table without rows still gets its (header-only) file
        if (!s.ok()) return s;
    }
    const std::string catalog_path = dir_ + "/catalog.sql";
    const int cfd = ::open(catalog_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (cfd < 0) return IoError("snapshot: cannot create " + catalog_path, errno);
    Status s = WriteAll(cfd, catalog_sql.data(), catalog_sql.size(), kWho, catalog_path);
    if (s.ok() && ::fsync(cfd) != 0) s = IoError("snapshot: fsync of " + catalog_path + " failed", errno);
    ::close(cfd);
    if (!s.ok()) return s;
    manifest->catalog_bytes = catalog_sql.size();
    manifest->catalog_hash = Hash64(catalog_sql.data(), catalog_sql.size());
    manifest->files.clear();
    for (auto& f : files_) {
        const std::string path = dir_ + "/" + f.info.name;
        if (Faults::Fire("snapshot.fsync"))
            return IoError("snapshot: fsync of " + path + " failed (fault snapshot.fsync)", EIO);
        if (::fsync(f.fd) != 0) return IoError("snapshot: fsync of " + path + " failed", errno);
        manifest->files.push_back(f.info);
    }
    const std::string text = FormatManifest(*manifest);
    const std::string tmp = dir_ + "/MANIFEST.tmp";
    const int mfd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (mfd < 0) return IoError("snapshot: cannot create " + tmp, errno);
    s = WriteAll(mfd, text.data(), text.size(), kWho, tmp);
    if (s.ok() && ::fsync(mfd) != 0) s = IoError("snapshot: fsync of " + tmp + " failed", errno);
    ::close(mfd);
    if (!s.ok()) return s;
    const std::string final_path = dir_ + "/MANIFEST";
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) return IoError("snapshot: cannot rename " + tmp, errno);
    s = SyncDirectory(dir_, kWho);
    if (!s.ok()) return s;
    const std::string parent = std::filesystem::path(dir_).parent_path().string();
    return SyncDirectory(parent.empty() ? "." : parent, kWho);
}

// ---- reading ------------------------------------------------------------------------------------

Result<SnapshotManifest> ReadManifest(const std::string& dir) {
    const std::string path = dir + "/MANIFEST";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return Status(ErrorCode::kIoError, "snapshot " + dir + " has no MANIFEST (it was not completed)");
    }
    auto text = ReadWholeFile(path, kWho);
    if (!text.ok()) return text.status();
    SnapshotManifest m;
    std::string error;
    if (!ParseManifest(*text, &m, &error)) return Damaged(path, error);
    return m;
}

Status RemoveSnapshot(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return Status::Ok();
    // Without its MANIFEST the directory is an incomplete snapshot, which recovery skips and
    // retention removes, whatever else a crash leaves of it.
    if (std::filesystem::remove(dir + "/MANIFEST", ec)) {
        Status s = SyncDirectory(dir, kWho);
        if (!s.ok()) return s;
    }
    if (ec) return Status(ErrorCode::kIoError, "snapshot: cannot remove " + dir + "/MANIFEST: " + ec.message());
    if (Faults::Fire("snapshot.remove")) {
        return Status(ErrorCode::kIoError, "snapshot: cannot remove " + dir + ": injected fault snapshot.remove");
    }
    std::filesystem::remove_all(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "snapshot: cannot remove " + dir + ": " + ec.message());
    return Status::Ok();
}

Result<std::vector<SnapshotListing>> ListSnapshots(const std::string& root) {
    std::vector<SnapshotListing> out;
    std::error_code ec;
    if (!std::filesystem::exists(root, ec)) return out;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        std::error_code entry_ec;  // not ec: that one reports the listing's own failure
        if (!entry.is_directory(entry_ec)) continue;
        SnapshotListing l;
        l.dir = entry.path().string();
        auto m = ReadManifest(l.dir);
        if (m.ok()) {
            l.complete = true;
            l.manifest = std::move(*m);
        } else {
            l.problem = m.status().message();
        }
        out.push_back(std::move(l));
    }
    if (ec) return Status(ErrorCode::kIoError, "snapshot: cannot list " + root + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const SnapshotListing& a, const SnapshotListing& b) {
        if (a.complete != b.complete) return !a.complete;
        if (a.manifest.cut_lsn != b.manifest.cut_lsn) return a.manifest.cut_lsn < b.manifest.cut_lsn;
        if (a.manifest.created_micros != b.manifest.created_micros) {
            return a.manifest.created_micros < b.manifest.created_micros;
        }
        return a.dir < b.dir;
    });
    return out;
}

Result<std::string> ReadSnapshotCatalog(const std::string& dir, const SnapshotManifest& m) {
    const std::string path = dir + "/catalog.sql";
    auto text = ReadWholeFile(path, kWho);
    if (!text.ok()) return text.status();
    if (text->size() != m.catalog_bytes || Hash64(text->data(), text->size()) != m.catalog_hash) {
        return Damaged(path, "its size or checksum differs from the MANIFEST's");
    }
    return text;
}

Status ReadSnapshotRows(const std::string& dir, const SnapshotFile& file,
                        const std::function<Status(std::string_view payload, uint32_t rows)>& fn) {
    const std::string path = dir + "/" + file.name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError("snapshot: cannot open " + path, errno);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat sb;
    if (::fstat(fd, &sb) != 0) return IoError("snapshot: cannot stat " + path, errno);
    if (static_cast<uint64_t>(sb.st_size) != file.bytes) {
        return Damaged(path, std::to_string(sb.st_size) + " bytes, the MANIFEST says " + std::to_string(file.bytes));
    }
    char header[kHeaderBytes];
    int err = 0;
    if (!ReadExact(fd, header, sizeof header, &err)) {
        return err ? IoError("snapshot: cannot read " + path, err) : Damaged(path, "no header");
    }
    ByteReader h(std::string_view(header, sizeof header));
    const bool magic = std::memcmp(header, kMagic, sizeof kMagic) == 0;
    h.U64();
    if (!magic || h.U32() != kFormatVersion) return Damaged(path, "not a SurgeDB rows file of a known version");
    uint64_t offset = kHeaderBytes, rows = 0;
    std::string payload;
    while (offset < file.bytes) {
        char frame[kFrameBytes];
        if (!ReadExact(fd, frame, sizeof frame, &err)) {
            return err ? IoError("snapshot: cannot read " + path, err)
                       : Damaged(path, "a chunk frame is cut short at byte " + std::to_string(offset));
        }
        ByteReader r(std::string_view(frame, sizeof frame));
        const uint32_t len = r.U32();
        const uint32_t n = r.U32();
        const uint64_t sum = r.U64();
        if (len > kMaxChunkBytes || len > file.bytes - offset - kFrameBytes) {
            return Damaged(path, "a chunk at byte " + std::to_string(offset) + " claims " + std::to_string(len) +
                                     " bytes, past the end of the file");
        }
        payload.resize(len);
        if (!ReadExact(fd, payload.data(), len, &err)) {
            return err ? IoError("snapshot: cannot read " + path, err)
                       : Damaged(path, "a chunk is cut short at byte " + std::to_string(offset));
        }
        if (ChunkChecksum(payload, n) != sum) {
            return Damaged(path, "the checksum of the chunk at byte " + std::to_string(offset) + " does not match");
        }
        Status s = fn(payload, n);
        if (!s.ok()) return s;
        offset += kFrameBytes + len;
        rows += n;
    }
    if (rows != file.rows) {
        return Damaged(path, std::to_string(rows) + " rows, the MANIFEST says " + std::to_string(file.rows));
    }
    return Status::Ok();
}

Status VerifySnapshot(const std::string& dir, const SnapshotManifest& m) {
    auto catalog = ReadSnapshotCatalog(dir, m);
    if (!catalog.ok()) return catalog.status();
    for (const auto& f : m.files) {
        if (!f.rows_file) continue;
        Status s = ReadSnapshotRows(dir, f, [](std::string_view, uint32_t) { return Status::Ok(); });
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

// ---- the schema history -------------------------------------------------------------------------

std::string FormatDdlHistory(const std::vector<std::string>& batches) {
    std::string out;
    for (const auto& b : batches) {
        out += "-- ddl " + std::to_string(b.size()) + "\n";
        out += b;
        out += "\n";
    }
    return out;
}

Result<std::vector<std::string>> ParseDdlHistory(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        size_t len = 0;
        if (nl == std::string_view::npos || line.substr(0, 7) != "-- ddl " || !ParseNumber(line.substr(7), &len) ||
            len > text.size() - nl - 1 || text.size() - nl - 1 - len < 1 || text[nl + 1 + len] != '\n') {
            return Status(ErrorCode::kIoError, "snapshot catalog.sql is damaged at byte " + std::to_string(pos) +
                                                   " (expected \"-- ddl N\")");
        }
        out.emplace_back(text.substr(nl + 1, len));
        pos = nl + 1 + len + 1;
    }
    return out;
}

}  // namespace surge::durability
