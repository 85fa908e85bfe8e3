// The file target (see file_sink.h).
#include "export/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "common/files.h"
#include "export/format.h"
#include "storage/row_codec.h"

namespace surge::exports {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempPrefix = ".surge-export-";

Status Bad(const TargetConfig& c, const std::string& what) {
    return Status(ErrorCode::kInvalidParameter, "export target \"" + c.name + "\": " + what);
}

Result<uint64_t> Number(const TargetConfig& c, const std::string& key, const std::string& text, uint64_t max) {
    uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 19;
    for (char ch : text) ok = ok && ch >= '0' && ch <= '9';
    if (ok) v = std::stoull(text);
    if (!ok || v < 1 || v > max) {
        return Bad(c, key + " wants a whole number from 1 to " + std::to_string(max) + ", got \"" + text + "\"");
    }
    return v;
}

std::string UtcStamp() {
    const auto now = std::chrono::system_clock::now();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros % 1'000'000));
    return buf;
}

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::Create(const TargetConfig& config) {
    std::unique_ptr<FileSink> sink(new FileSink());
    for (const auto& [key, value] : config.settings) {
        if (key == "dir") {
            sink->dir_ = value;
        } else if (key == "format") {
            if (value != "csv" && value != "jsonl") return Bad(config, "format is csv or jsonl, got \"" + value + "\"");
            sink->jsonl_ = value == "jsonl";
        } else if (key == "roll_seconds") {
            auto v = Number(config, key, value, 86400);
            if (!v.ok()) return v.status();
            sink->roll_time_ = std::chrono::seconds(*v);
        } else if (key == "roll_mb") {
            auto v = Number(config, key, value, 1 << 20);
            if (!v.ok()) return v.status();
            sink->roll_bytes_ = *v << 20;
        } else if (key == "header") {
            if (value != "true" && value != "false")
                return Bad(config, "header is true or false, got \"" + value + "\"");
            sink->header_ = value == "true";
        } else {
            return Bad(config, "unknown setting \"" + key +
                                   "\" for a file target (it takes dir, format, roll_seconds, roll_mb, header)");
        }
    }
    if (sink->dir_.empty()) return Bad(config, "a file target needs dir = \"...\"");
    return sink;
}

Status FileSink::PrepareDir() {
    if (dir_ready_) return Status::Ok();
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Status(ErrorCode::kIoError, "file export: cannot create " + dir_ + ": " + ec.message());
    // Files that were being written when the server stopped: their rows were not acknowledged and
    // are written again.
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(kTempPrefix, 0) != 0) continue;
        std::error_code rm;
        fs::remove(entry.path(), rm);
        if (rm) {
            return Status(ErrorCode::kIoError,
                          "file export: cannot remove " + entry.path().string() + ": " + rm.message());
        }
    }
    if (ec) return Status(ErrorCode::kIoError, "file export: cannot list " + dir_ + ": " + ec.message());
    dir_ready_ = true;
    return Status::Ok();
}

FileSink::~FileSink() { Abandon(); }

Status FileSink::Open(std::string_view stream, const SpoolSchema& schema, OpenFile* f) {
    Status ready = PrepareDir();
    if (!ready.ok()) return ready;
    const std::string safe = SafeFileName(stream);
    const std::string ext = jsonl_ ? ".jsonl" : ".csv";
    const uint64_t n = ++counter_;
    f->temp_path = dir_ + "/" + std::string(kTempPrefix) + safe + "-" + std::to_string(n) + ".tmp";
    std::string base = dir_ + "/" + safe + "-" + UtcStamp() + "-" + std::to_string(n);
    std::error_code ec;
    for (int k = 2; fs::exists(base + ext, ec); ++k) base += "-" + std::to_string(k);
    f->final_path = base + ext;
    f->fd = ::open(f->temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) return IoError("file export: cannot create " + f->temp_path, errno);
    f->bytes = 0;
    f->opened = std::chrono::steady_clock::now();
    f->schema = &schema;
    f->columns = schema.columns;
    if (header_ && !jsonl_) {
        const std::string h = ExportCsvHeader(schema.columns);
        Status s = WriteAll(f->fd, h.data(), h.size(), "file export", f->temp_path);
        if (!s.ok()) return s;
        f->bytes += h.size();
    }
    return Status::Ok();
}

Status FileSink::Finish(OpenFile* f) {
    if (::fdatasync(f->fd) != 0) return IoError("file export: fdatasync " + f->temp_path, errno);
    ::close(f->fd);
    f->fd = -1;
    if (::rename(f->temp_path.c_str(), f->final_path.c_str()) != 0) {
        return IoError("file export: cannot rename " + f->temp_path + " to " + f->final_path, errno);
    }
    return SyncDirectory(dir_, "file export");
}

Status FileSink::Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) {
    auto it = files_.find(stream);
    line_.clear();
    auto flush = [&](OpenFile& f) {
        Status s = WriteAll(f.fd, line_.data(), line_.size(), "file export", f.temp_path);
        f.bytes += line_.size();
        line_.clear();
        return s;
    };
    written_ += rows.size();
    for (const SpoolRow& r : rows) {
        if (it != files_.end() && it->second.schema != r.schema && !r.schema->SameColumns(it->second.columns)) {
            // New columns (the table was altered): the rows so far finish their file.
            Status s = flush(it->second);
            if (s.ok()) s = Finish(&it->second);
            files_.erase(it);
            it = files_.end();
            if (!s.ok()) return s;
        }
        if (it == files_.end()) {
            it = files_.emplace(std::string(stream), OpenFile{}).first;
            Status s = Open(stream, *r.schema, &it->second);
            if (!s.ok()) return s;
        }
        it->second.schema = r.schema;
        values_.resize(r.schema->columns.size());
        size_t pos = 0;
        if (!storage::DecodeRow(r.schema->layout, r.row, &pos, values_.data()) || pos != r.row.size()) {
            return Status(ErrorCode::kIoError, "file export: a spooled row of stream \"" + std::string(stream) +
                                                   "\" (seq " + std::to_string(r.seq) + ") does not decode");
        }
        RowView v{stream, partition, r.seq, r.txn_id, r.timestamp, r.op, &r.schema->columns, values_.data()};
        if (jsonl_) {
            AppendJsonRow(v, &line_);
        } else {
            AppendCsvRow(v, &line_);
        }
        if (line_.size() >= (1 << 20)) {
            Status s = flush(it->second);
            if (!s.ok()) return s;
        }
    }
    return it == files_.end() ? Status::Ok() : flush(it->second);
}

Result<uint64_t> FileSink::Durable(bool force) {
    if (files_.empty()) return durable_ = written_;
    const auto now = std::chrono::steady_clock::now();
    bool due = force;
    for (const auto& [stream, f] : files_) due = due || f.bytes >= roll_bytes_ || now - f.opened >= roll_time_;
    if (!due) return durable_;
    // Every open file finishes, so that every row written so far can be acknowledged.
    for (auto it = files_.begin(); it != files_.end();) {
        Status s = Finish(&it->second);
        if (!s.ok()) return s;
        it = files_.erase(it);
    }
    return durable_ = written_;
}

void FileSink::Abandon() {
    for (auto& [stream, f] : files_) {
        if (f.fd >= 0) ::close(f.fd);
        ::unlink(f.temp_path.c_str());
    }
    files_.clear();
    written_ = durable_ = 0;
}

}  // namespace surge::exports
