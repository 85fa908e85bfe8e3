// surged's options: built-in defaults, then a TOML config file (--config), then flags (flags win).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "export/sink.h"

namespace surge::server {

struct ServerOptions {
    std::string data_dir = "./surgedb-data";
    std::string host = "127.0.0.1";
    uint16_t port = 21212;
    uint32_t partitions = 0;  ///< 0: one per hardware thread
    size_t queue_capacity = 10000;
    size_t max_message_bytes = 64u << 20;
    std::string schema_file;               ///< DDL (and DML) run at start, before serving
    std::string command_log = "async";     ///< off, async or sync
    int64_t command_log_interval_ms = -1;  ///< -1: the mode's default (200 async, 2 sync)
    uint64_t command_log_segment_mb = 64;
    uint64_t command_log_max_pending_mb = 64;
    uint64_t snapshot_interval_s = 1800;  ///< automatic snapshots; 0: not by time
    uint64_t snapshot_log_mb = 1024;      ///< automatic snapshot when the log has grown this much; 0: not by size
    uint32_t snapshot_retain = 2;
    uint64_t export_disk_budget_mb = 10240;  ///< export spool bytes before exporting writes are refused
    uint64_t ttl_interval_ms = 1000;         ///< how often TTL tables delete expired rows; 0: never
    /// Export targets ([export.targets.NAME] tables of the config file).
    std::vector<exports::TargetConfig> export_targets;
    /// Linux scheduling policy of surged's threads: batch (SCHED_BATCH: a thread that wakes does
    /// not preempt a running one) or normal (SCHED_OTHER).
    std::string cpu_scheduling = "batch";
    /// Transparent huge pages for large indexes and table blocks (common/huge_pages.h).
    bool huge_pages = true;
    std::string log_level = "info";
    bool help = false;
    bool version = false;
};

/// Parses argv (and the config file it names). Errors name the flag or the file and line.
Result<ServerOptions> ParseOptions(const std::vector<std::string>& args);
/// The --help text.
std::string UsageText();

}  // namespace surge::server
