// surged: the SurgeDB server. Parses options, builds the partitions, loads an optional schema,
// serves gRPC until SIGTERM/SIGINT or @Shutdown, then drains and exits.
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/huge_pages.h"
#include "durability/faults.h"
#include "server/database.h"
#include "server/options.h"
#include "server/service.h"

namespace {

std::string ReadFile(const std::string& path, surge::Status* status) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *status = surge::Status(surge::ErrorCode::kInvalidParameter, "cannot read " + path);
        return {};
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace surge;
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = server::ParseOptions(args);
    if (!parsed.ok()) {
        std::cerr << "surged: " << parsed.status().message() << "\n";
        return 2;
    }
    server::ServerOptions opts = *parsed;
    if (opts.help) {
        std::cout << server::UsageText();
        return 0;
    }
    if (opts.version) {
        std::cout << "surged 0.1.0\n";
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(opts.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    if (opts.partitions == 0) opts.partitions = std::max(1u, std::thread::hardware_concurrency());

    // The scheduling policy, like the signal mask below, is set before any thread starts: every
    // thread inherits it.
    if (opts.cpu_scheduling == "batch") {
        sched_param param{};
        if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
            spdlog::warn("cpu-scheduling batch: cannot set SCHED_BATCH ({}); threads run under the default policy",
                         std::strerror(errno));
        }
    }

    surge::SetHugePages(opts.huge_pages);  // before any table or index is built

    // Signals go to one thread that waits for them; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    if (const char* faults = std::getenv("SURGED_FAULTS"); faults && *faults) {
        Status fs = durability::Faults::ArmFromSpec(faults);
        if (!fs.ok()) {
            spdlog::error("SURGED_FAULTS: {}", fs.message());
            return 2;
        }
        spdlog::warn("fault injection armed (SURGED_FAULTS={}): for tests only", faults);
    }

    server::DatabaseOptions dbo;
    dbo.partitions = opts.partitions;
    dbo.queue_capacity = opts.queue_capacity;
    dbo.data_dir = opts.data_dir;
    dbo.log_mode = opts.command_log == "off"    ? durability::LogMode::kOff
                   : opts.command_log == "sync" ? durability::LogMode::kSync
                                                : durability::LogMode::kAsync;
    if (opts.command_log_interval_ms >= 0) {
        // 0 (sync only): fsync back to back; a tiny positive interval keeps the writer's loop sane.
        dbo.log_interval = std::chrono::microseconds(std::max<int64_t>(1, opts.command_log_interval_ms * 1000));
    }
    dbo.log_segment_bytes = opts.command_log_segment_mb << 20;
    dbo.log_max_pending_bytes = opts.command_log_max_pending_mb << 20;
    dbo.snapshot_interval = std::chrono::seconds(opts.snapshot_interval_s);
    dbo.snapshot_log_bytes = opts.snapshot_log_mb << 20;
    dbo.snapshot_retain = opts.snapshot_retain;
    dbo.export_targets = opts.export_targets;
    dbo.export_disk_budget_bytes = opts.export_disk_budget_mb << 20;
    dbo.ttl_interval = std::chrono::milliseconds(opts.ttl_interval_ms);
    server::Database db(dbo);
    server::RecoveryInfo recovered;
    if (Status st = db.Start(&recovered); !st.ok()) {
        spdlog::error("{}", st.message());
        return 1;
    }
    const bool empty = recovered.last_lsn == 0 && recovered.snapshot.empty();
    if (!recovered.snapshot.empty()) {
        spdlog::info("data directory {}: loaded snapshot {} ({} rows, cut at LSN {})", opts.data_dir,
                     recovered.snapshot, recovered.snapshot_rows, recovered.snapshot_lsn);
    }
    if (dbo.log_mode != durability::LogMode::kOff) {
        if (empty) {
            spdlog::info("data directory {}: new database; command log {}", opts.data_dir, opts.command_log);
        } else {
            spdlog::info(
                "data directory {}: recovered {} transactions (log up to LSN {}, {} segments) in {:.2f} s; "
                "command log {}",
                opts.data_dir, recovered.replayed, recovered.last_lsn, recovered.segments, recovered.seconds,
                opts.command_log);
        }
    }
    if (!opts.schema_file.empty()) {
        if (!empty) {
            spdlog::info("schema {} not loaded: the data directory already holds a database", opts.schema_file);
        } else {
            Status st;
            std::string text = ReadFile(opts.schema_file, &st);
            if (st.ok()) st = db.LoadSchema(text);
            if (!st.ok()) {
                spdlog::error("schema {}: {}", opts.schema_file, st.message());
                db.Stop();
                // The directory held nothing before: leave it so (a half-loaded schema would
                // otherwise be recovered, and the fixed schema skipped, at the next start).
                std::error_code ec;
                std::filesystem::remove_all(opts.data_dir + "/cmdlog", ec);
                std::filesystem::remove_all(opts.data_dir + "/snapshots", ec);
                return 1;
            }
            spdlog::info("schema {} loaded", opts.schema_file);
        }
    }

    server::Service service(db);
    grpc::ServerBuilder builder;
    const std::string address = opts.host + ":" + std::to_string(opts.port);
    int bound_port = 0;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
    builder.SetMaxReceiveMessageSize(static_cast<int>(opts.max_message_bytes));
    builder.SetMaxSendMessageSize(INT32_MAX);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || bound_port == 0) {
        spdlog::error("cannot listen on {} (in use, or not a local address?)", address);
        db.Stop();
        return 1;
    }
    spdlog::info("surged serving gRPC on {} with {} partitions", address, opts.partitions);

    // Shutdown: a signal, or @Shutdown (which raises SIGTERM at ourselves).
    db.set_shutdown_handler([] { kill(getpid(), SIGTERM); });
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("{}: stopping (finishing accepted calls)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    service.CloseStreams();
    // Accepted calls finish; new ones are answered SHUTTING_DOWN until the listener closes.
    std::thread drain([&] { db.Stop(); });
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    drain.join();
    server->Wait();
    spdlog::info("stopped");
    return 0;
}
