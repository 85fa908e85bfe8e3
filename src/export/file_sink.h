// The file target: each stream's rows go to files in a directory, CSV or JSON Lines, written to
// a hidden temporary file and renamed (after fsync) when it rolls by size or time. A row is
// acknowledged only once the file that holds it is renamed, so a finished file is never partial
// and a crash re-delivers only rows of files that were not finished.
//
//   [export.targets.NAME]
//   type = "file"
//   dir = "/var/lib/exports"     # required; created if missing
//   format = "csv"               # or "jsonl"
//   roll_seconds = 60            # a file is finished this long after its first row
//   roll_mb = 64                 # ... or once it holds this many MiB
//   header = true                # CSV: a header line naming the columns
//
// Finished files: <stream>-<UTC time the file started>-<n>.<csv|jsonl>.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "export/sink.h"

namespace surge::exports {

class FileSink final : public Sink {
  public:
    static Result<std::unique_ptr<FileSink>> Create(const TargetConfig& config);
    ~FileSink() override;

    Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) override;
    Result<uint64_t> Durable(bool force) override;
    uint64_t DurableSoFar() override { return durable_; }
    void Abandon() override;

  private:
    struct OpenFile {
        int fd = -1;
        std::string temp_path;
        std::string final_path;
        uint64_t bytes = 0;
        std::chrono::steady_clock::time_point opened;
        const SpoolSchema* schema = nullptr;  ///< the columns of its header (CSV)
        std::vector<catalog::ColumnDef> columns;
    };
    FileSink() = default;
    Status Open(std::string_view stream, const SpoolSchema& schema, OpenFile* f);
    Status Finish(OpenFile* f);
    /// Creates the directory and removes temporary files an earlier run left (once; a failure is
    /// the target's to retry, it does not stop the server's start).
    Status PrepareDir();

    std::string dir_;
    bool jsonl_ = false;
    bool header_ = true;
    bool dir_ready_ = false;
    std::chrono::seconds roll_time_{60};
    uint64_t roll_bytes_ = uint64_t{64} << 20;
    uint64_t counter_ = 0;
    uint64_t written_ = 0;                                ///< rows written since the last Abandon
    uint64_t durable_ = 0;                                ///< of which this many are in finished files
    std::map<std::string, OpenFile, std::less<>> files_;  ///< by stream
    std::string line_;
    std::vector<Value> values_;
};

}  // namespace surge::exports
