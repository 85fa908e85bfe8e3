// surged option parsing (see options.h).
#include "server/options.h"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <functional>
#include <sstream>

namespace surge::server {
namespace {

Status Bad(const std::string& what) { return Status(ErrorCode::kInvalidParameter, what); }

template <class T>
Status ParseNumber(const std::string& name, const std::string& text, T min, T max, T* out) {
    T v{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
        return Bad(name + " wants a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                   ", got \"" + text + "\"");
    }
    *out = v;
    return Status::Ok();
}

// Applies one setting (from a flag or the config file) by name.
Status Apply(ServerOptions* o, const std::string& name, const std::string& value) {
    if (name == "data-dir") {
        o->data_dir = value;
    } else if (name == "host") {
        o->host = value;
    } else if (name == "port") {
        return ParseNumber<uint16_t>("port", value, 1, 65535, &o->port);
    } else if (name == "partitions") {
        return ParseNumber<uint32_t>("partitions", value, 1, 1024, &o->partitions);
    } else if (name == "queue-capacity") {
        return ParseNumber<size_t>("queue-capacity", value, 1, 100'000'000, &o->queue_capacity);
    } else if (name == "max-message-bytes") {
        return ParseNumber<size_t>("max-message-bytes", value, 1024, size_t{1} << 31, &o->max_message_bytes);
    } else if (name == "schema") {
        o->schema_file = value;
    } else if (name == "command-log") {
        if (value != "off" && value != "async" && value != "sync") {
            return Bad("command-log is one of off, async, sync; got \"" + value + "\"");
        }
        o->command_log = value;
    } else if (name == "command-log-interval-ms") {
        return ParseNumber<int64_t>("command-log-interval-ms", value, 0, 60'000, &o->command_log_interval_ms);
    } else if (name == "command-log-segment-mb") {
        return ParseNumber<uint64_t>("command-log-segment-mb", value, 1, 4096, &o->command_log_segment_mb);
    } else if (name == "command-log-max-pending-mb") {
        return ParseNumber<uint64_t>("command-log-max-pending-mb", value, 1, 65536, &o->command_log_max_pending_mb);
    } else if (name == "snapshot-interval") {
        return ParseNumber<uint64_t>("snapshot-interval", value, 0, 366ull * 86400, &o->snapshot_interval_s);
    } else if (name == "snapshot-log-mb") {
        return ParseNumber<uint64_t>("snapshot-log-mb", value, 0, uint64_t{1} << 30, &o->snapshot_log_mb);
    } else if (name == "snapshot-retain") {
        return ParseNumber<uint32_t>("snapshot-retain", value, 1, 1000, &o->snapshot_retain);
    } else if (name == "export-disk-budget-mb") {
        return ParseNumber<uint64_t>("export-disk-budget-mb", value, 1, uint64_t{1} << 30, &o->export_disk_budget_mb);
    } else if (name == "ttl-interval-ms") {
        return ParseNumber<uint64_t>("ttl-interval-ms", value, 0, 3'600'000, &o->ttl_interval_ms);
    } else if (name == "cpu-scheduling") {
        if (value != "batch" && value != "normal") {
            return Bad("cpu-scheduling is batch or normal; got \"" + value + "\"");
        }
        o->cpu_scheduling = value;
    } else if (name == "huge-pages") {
        if (value != "on" && value != "off") return Bad("huge-pages is on or off; got \"" + value + "\"");
        o->huge_pages = value == "on";
    } else if (name == "log-level") {
        if (value != "trace" && value != "debug" && value != "info" && value != "warn" && value != "error") {
            return Bad("log-level is one of trace, debug, info, warn, error; got \"" + value + "\"");
        }
        o->log_level = value;
    } else {
        return Bad("unknown option \"" + name + "\" (see surged --help)");
    }
    return Status::Ok();
}

// A TOML value as text (strings as they are, integers and booleans spelled out).
bool ValueText(const toml::node& val, std::string* text) {
    if (auto s = val.value<std::string>(); s && val.is_string()) {
        *text = *s;
    } else if (auto i = val.value<int64_t>(); i && val.is_integer()) {
        *text = std::to_string(*i);
    } else if (auto b = val.value<bool>(); b && val.is_boolean()) {
        *text = *b ? "true" : "false";
    } else {
        return false;
    }
    return true;
}

// [export.targets.NAME] tables: type plus the target's own settings (checked when export opens).
Status LoadExportTargets(ServerOptions* o, const std::string& path, const toml::table& export_table) {
    for (const auto& [key, node] : export_table) {
        const toml::table* targets = node.as_table();
        if (!targets || key.str() != "targets") {
            return Bad("config " + path + ": unknown key \"export." + std::string(key.str()) +
                       "\" (export targets are [export.targets.NAME] tables)");
        }
        for (const auto& [name, tnode] : *targets) {
            const toml::table* t = tnode.as_table();
            const std::string where = "config " + path + ": [export.targets." + std::string(name.str()) + "]";
            if (!t) return Bad(where + " must be a table");
            exports::TargetConfig target;
            target.name = std::string(name.str());
            for (char& c : target.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            // Dotted keys (kafka.linger.ms, header.Authorization) arrive as nested tables: flatten
            // them back to their dotted names.
            std::function<Status(const toml::table&, const std::string&)> flatten =
                [&](const toml::table& tbl, const std::string& prefix) -> Status {
                for (const auto& [k, v] : tbl) {
                    const std::string key = prefix + std::string(k.str());
                    if (const toml::table* sub = v.as_table()) {
                        Status s = flatten(*sub, key + ".");
                        if (!s.ok()) return s;
                        continue;
                    }
                    std::string text;
                    if (!ValueText(v, &text)) return Bad(where + " " + key + " must be a string, integer or boolean");
                    if (key == "type") {
                        target.type = text;
                    } else {
                        target.settings[key] = text;
                    }
                }
                return Status::Ok();
            };
            Status flat = flatten(*t, "");
            if (!flat.ok()) return flat;
            if (target.type.empty()) return Bad(where + " needs type = \"file\" (or kafka, http, postgresql)");
            o->export_targets.push_back(std::move(target));
        }
    }
    return Status::Ok();
}

Status LoadConfig(ServerOptions* o, const std::string& path) {
    toml::table tbl;
    try {
        tbl = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << "config " << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
            << e.description();
        return Bad(msg.str());
    }
    for (const auto& [section, node] : tbl) {
        const toml::table* sub = node.as_table();
        if (sub && section.str() == "export") {
            Status s = LoadExportTargets(o, path, *sub);
            if (!s.ok()) return s;
            continue;
        }
        if (!sub || section.str() != "server") {
            return Bad("config " + path + ": unknown section \"" + std::string(section.str()) +
                       "\" (expected [server] or [export.targets.NAME])");
        }
        for (const auto& [key, val] : *sub) {
            std::string text;
            if (!ValueText(val, &text) || val.is_boolean()) {
                return Bad("config " + path + ": [server] " + std::string(key.str()) + " must be a string or integer");
            }
            std::string name(key.str());
            for (char& c : name) c = c == '_' ? '-' : c;
            Status s = Apply(o, name, text);
            if (!s.ok()) return Bad("config " + path + ": " + s.message());
        }
    }
    return Status::Ok();
}

}  // namespace

std::string UsageText() {
    return R"(surged — the SurgeDB server

Usage: surged [options]

With no options it serves gRPC on 127.0.0.1:21212 with one partition per hardware thread and data
directory ./surgedb-data, where the command log is kept; at start it recovers what the directory
holds. Options come from built-in defaults, then --config FILE, then flags.

  --config FILE            TOML file with a [server] table; keys as below (data_dir or data-dir),
                           and export targets as [export.targets.NAME] tables (docs/streams.md)
  --data-dir DIR           data directory (default ./surgedb-data)
  --host ADDR              address to listen on (default 127.0.0.1)
  --port N                 gRPC port (default 21212)
  --partitions N           partition count, 1..1024 (default: hardware threads)
  --queue-capacity N       calls a partition queues before answering OVERLOADED (default 10000)
  --max-message-bytes N    largest request accepted (default 67108864)
  --schema FILE            SQL run before serving, each statement as an @AdHoc call, when the
                           data directory holds no database yet (ignored, with a note, when it
                           recovered one); any error stops the start
  --command-log MODE       async (default): answers do not wait for the disk; the log is
                           fsynced every interval, so a crash loses at most the last interval.
                           sync: a writing call is answered after its log record is fsynced
                           (group commit). off: nothing is logged or recovered.
  --command-log-interval-ms N
                           async: fsync interval (default 200). sync: least time between two
                           fsyncs, the group commit window (default 2; 0: back to back)
  --command-log-segment-mb N      log segment size (default 64)
  --command-log-max-pending-mb N  log bytes not yet written before calls are refused with
                           OVERLOADED (default 64)
  --snapshot-interval S    take a snapshot (DATA/snapshots) S seconds after the last one
                           (default 1800; 0: not by time)
  --snapshot-log-mb N      ... or when the command log has grown N MiB since (default 1024; 0: not
                           by size). After a snapshot, the log before the oldest kept one is removed
  --snapshot-retain N      complete snapshots kept (default 2)
  --export-disk-budget-mb N
                           export rows spooled on disk (DATA/export) before transactions that
                           export more are refused with OVERLOADED (default 10240)
  --ttl-interval-ms N      how often tables created USING TTL delete expired rows, in batches
                           (default 1000; 0: never)
  --cpu-scheduling POLICY  batch (default): surged's threads run under Linux's SCHED_BATCH, so a
                           thread that wakes (a network or partition thread given work) does not
                           preempt one that is running; it waits for that one to block or for
                           its time slice to end. Fewer context switches when the cores are
                           busy (docs/adr/0014). normal: SCHED_OTHER, the kernel's default.
  --huge-pages on|off      on (default): large hash indexes and the storage blocks of large tables
                           are mapped for transparent huge pages (2 MiB), so random row and index
                           accesses miss the TLB far less and filling memory takes 512x fewer
                           page faults. Takes effect when the kernel's THP mode is madvise or
                           always (/sys/kernel/mm/transparent_hugepage/enabled). Memory then grows
                           in 2 MiB steps per large table or index (docs/adr/0015).
  --log-level LEVEL        trace, debug, info, warn or error (default info)
  --help                   this text
  --version                the version

Flags take their value as the next argument or after '=' (--port=21213).
SIGTERM or SIGINT: stop accepting calls, finish the accepted ones, answer every client, exit 0.
)";
}

Result<ServerOptions> ParseOptions(const std::vector<std::string>& args) {
    ServerOptions o;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string config;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            o.help = true;
            continue;
        }
        if (a == "--version") {
            o.version = true;
            continue;
        }
        if (a.rfind("--", 0) != 0) return Bad("unexpected argument \"" + a + "\" (see surged --help)");
        std::string name = a.substr(2), value;
        size_t eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else {
            if (i + 1 >= args.size()) return Bad("--" + name + " needs a value");
            value = args[++i];
        }
        if (name == "config") {
            config = value;
        } else {
            flags.emplace_back(name, value);
        }
    }
    if (!config.empty()) {
        Status s = LoadConfig(&o, config);
        if (!s.ok()) return s;
    }
    for (const auto& [name, value] : flags) {
        Status s = Apply(&o, name, value);
        if (!s.ok()) return s;
    }
    return o;
}

}  // namespace surge::server
