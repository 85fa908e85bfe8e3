// surged: the SurgeDB server. Parses options, builds the partitions, loads an optional schema,
// serves gRPC until SIGTERM/SIGINT or @Shutdown, then drains and exits.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

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

    // Signals go to one thread that waits for them; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::error_code ec;
    std::filesystem::create_directories(opts.data_dir, ec);
    if (ec) {
        spdlog::error("cannot create data directory {}: {}", opts.data_dir, ec.message());
        return 1;
    }
    spdlog::warn("durability is not implemented yet: data lives in memory only and is lost at exit (data dir {})",
                 opts.data_dir);

    server::DatabaseOptions dbo;
    dbo.partitions = opts.partitions;
    dbo.queue_capacity = opts.queue_capacity;
    server::Database db(dbo);
    if (!opts.schema_file.empty()) {
        Status st;
        std::string text = ReadFile(opts.schema_file, &st);
        if (st.ok()) st = db.LoadSchema(text);
        if (!st.ok()) {
            spdlog::error("schema {}: {}", opts.schema_file, st.message());
            return 1;
        }
        spdlog::info("schema {} loaded", opts.schema_file);
    }
    db.Start();

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
