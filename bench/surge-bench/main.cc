// surge-bench: load generator for a running surged, through the C++ client's stream.
//
//   surge-bench voter [--servers HOST:PORT] [--duration SECONDS] [--inflight N] [--phones N]
//   surge-bench kv    [--servers HOST:PORT] [--duration SECONDS] [--inflight N] [--keys N] [--get-ratio F]
//
// Each workload creates its schema if missing, loads what it needs, then keeps --inflight calls
// outstanding for --duration seconds and prints throughput and latency percentiles (client side,
// call sent to response received) plus the server-side median.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "surge/client.h"

namespace {

using surge::client::Client;
using surge::client::Response;
using surge::client::Value;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string workload;
    std::string servers = "127.0.0.1:21212";
    double duration = 10;
    int inflight = 2000;
    int64_t phones = 10'000'000;
    int64_t keys = 1'000'000;
    double get_ratio = 0.9;
};

[[noreturn]] void Usage(const std::string& error) {
    if (!error.empty()) std::cerr << "surge-bench: " << error << "\n\n";
    std::cerr << "usage: surge-bench voter|kv [--servers HOST:PORT] [--duration SECONDS] [--inflight N]\n"
                 "                    [--phones N] (voter) [--keys N] [--get-ratio F] (kv)\n";
    std::exit(error.empty() ? 0 : 2);
}

Options Parse(int argc, char** argv) {
    Options o;
    if (argc < 2) Usage("name a workload");
    o.workload = argv[1];
    if (o.workload == "--help" || o.workload == "-h") Usage("");
    if (o.workload != "voter" && o.workload != "kv") Usage("unknown workload \"" + o.workload + "\"");
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help") Usage("");
        if (i + 1 >= argc) Usage(a + " needs a value");
        std::string v = argv[++i];
        try {
            if (a == "--servers") {
                o.servers = v;
            } else if (a == "--duration") {
                o.duration = std::stod(v);
            } else if (a == "--inflight") {
                o.inflight = std::stoi(v);
            } else if (a == "--phones") {
                o.phones = std::stoll(v);
            } else if (a == "--keys") {
                o.keys = std::stoll(v);
            } else if (a == "--get-ratio") {
                o.get_ratio = std::stod(v);
            } else {
                Usage("unknown option " + a);
            }
        } catch (const std::exception&) {
            Usage("bad value for " + a + ": " + v);
        }
    }
    if (o.duration <= 0 || o.inflight <= 0) Usage("--duration and --inflight must be positive");
    return o;
}

void Must(const Response& r, const std::string& what) {
    if (!r.ok()) {
        std::cerr << "surge-bench: " << what << ": " << r.status << ": " << r.message << "\n";
        std::exit(1);
    }
}

bool HasTable(Client& c, const std::string& name) {
    Response r = c.Call("@SystemCatalog", {Value("TABLES")});
    Must(r, "@SystemCatalog");
    for (size_t i = 0; i < r.tables[0].row_count(); ++i) {
        if (r.tables[0].at(i, 0).as_string() == name) return true;
    }
    return false;
}

// Keeps `inflight` calls outstanding until the deadline; `next` produces each call.
struct Run {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<uint32_t> latencies_us;
    std::vector<uint32_t> server_us;
    std::map<std::string, int64_t> failures;
    int64_t ok = 0;
    int outstanding = 0;
};

template <class Next>
void Drive(Client& client, const Options& o, Next next) {
    Run run;
    run.latencies_us.reserve(1 << 22);
    run.server_us.reserve(1 << 22);
    const auto start = Clock::now();
    const auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
    std::mt19937_64 rng(42);
    std::unique_lock<std::mutex> lock(run.mu);
    while (Clock::now() < deadline) {
        run.cv.wait(lock, [&] { return run.outstanding < o.inflight; });
        int n = o.inflight - run.outstanding;
        run.outstanding += n;
        lock.unlock();
        for (int i = 0; i < n; ++i) {
            auto [proc, params] = next(rng);
            const auto sent = Clock::now();
            client.CallAsync(proc, std::move(params), [&run, sent](Response r) {
                const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
                std::lock_guard<std::mutex> g(run.mu);
                if (r.ok()) {
                    ++run.ok;
                    run.latencies_us.push_back(static_cast<uint32_t>(us));
                    run.server_us.push_back(static_cast<uint32_t>(r.server_micros));
                } else {
                    ++run.failures[r.status];
                }
                --run.outstanding;
                run.cv.notify_one();
            });
        }
        lock.lock();
    }
    lock.unlock();
    client.Drain();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    auto pct = [](std::vector<uint32_t>& v, double p) -> double {
        if (v.empty()) return 0;
        size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
        return v[k] / 1000.0;
    };
    std::printf("workload %s: %lld calls ok in %.2f s = %.0f calls/s (inflight %d)\n", o.workload.c_str(),
                static_cast<long long>(run.ok), secs, static_cast<double>(run.ok) / secs, o.inflight);
    std::printf("latency ms: p50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  (server p50 %.3f)\n", pct(run.latencies_us, 0.5),
                pct(run.latencies_us, 0.95), pct(run.latencies_us, 0.99), pct(run.latencies_us, 0.999),
                pct(run.server_us, 0.5));
    for (const auto& [status, n] : run.failures)
        std::printf("failed %s: %lld\n", status.c_str(), static_cast<long long>(n));
}

void Voter(Client& c, const Options& o) {
    if (!HasTable(c, "votes")) {
        for (const char* ddl :
             {"CREATE TABLE contestants (contestant_number INTEGER NOT NULL PRIMARY KEY, contestant_name "
              "VARCHAR(50) NOT NULL)",
              "CREATE TABLE votes (phone_number BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant_number "
              "INTEGER NOT NULL)",
              "PARTITION TABLE votes ON COLUMN phone_number",
              "CREATE VIEW v_votes_by_phone_number (phone_number, num_votes) AS SELECT phone_number, COUNT(*) FROM "
              "votes GROUP BY phone_number",
              "CREATE VIEW v_votes_by_contestant_number_state (contestant_number, state, num_votes) AS SELECT "
              "contestant_number, state, COUNT(*) FROM votes GROUP BY contestant_number, state",
              "CREATE PROCEDURE vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0 AS INSERT INTO votes "
              "VALUES (?, ?, ?)"}) {
            Must(c.Call("@AdHoc", {Value(ddl)}), ddl);
        }
        const char* names[] = {"Edwina Burnam",  "Tabatha Gehling", "Kelly Clauss",
                               "Jessie Alloway", "Alana Bregman",   "Jessie Eichman"};
        for (int i = 0; i < 6; ++i) Must(c.Call("contestants.insert", {Value(i + 1), Value(names[i])}), "contestants");
    }
    static const char* kStates[] = {"MA", "NY", "CA", "TX", "WA", "OR", "NH", "VT", "ME", "FL"};
    Drive(c, o, [&](std::mt19937_64& rng) {
        int64_t phone = 2000000000 + static_cast<int64_t>(rng() % static_cast<uint64_t>(o.phones));
        return std::make_pair(std::string("vote"), std::vector<Value>{Value(phone), Value(kStates[rng() % 10]),
                                                                      Value(static_cast<int64_t>(rng() % 6 + 1))});
    });
    Response r = c.Call("@AdHoc", {Value("SELECT contestant_number, SUM(num_votes) FROM "
                                         "v_votes_by_contestant_number_state GROUP BY contestant_number ORDER BY 1")});
    Must(r, "results");
    std::printf("results:");
    for (size_t i = 0; i < r.tables[0].row_count(); ++i) {
        std::printf(" %s=%s", r.tables[0].at(i, 0).ToString().c_str(), r.tables[0].at(i, 1).ToString().c_str());
    }
    std::printf("\n");
}

void Kv(Client& c, const Options& o) {
    if (!HasTable(c, "kv")) {
        Must(c.Call("@AdHoc", {Value("CREATE TABLE kv (k VARCHAR(32) NOT NULL PRIMARY KEY, v VARBINARY(128))")}),
             "create kv");
        Must(c.Call("@AdHoc", {Value("PARTITION TABLE kv ON COLUMN k")}), "partition kv");
    }
    const std::string payload(100, 'x');
    std::printf("loading %lld keys...\n", static_cast<long long>(o.keys));
    for (int64_t k = 0; k < o.keys; ++k) {
        c.CallAsync("kv.upsert", {Value("key" + std::to_string(k)), Value::Bytes(payload)}, [](Response r) {
            if (!r.ok() && r.status != "OVERLOADED") {
                std::cerr << "load: " << r.message << "\n";
                std::exit(1);
            }
        });
        if (k % 10000 == 9999) c.Drain();
    }
    c.Drain();
    Drive(c, o, [&](std::mt19937_64& rng) {
        std::string key = "key" + std::to_string(rng() % static_cast<uint64_t>(o.keys));
        if (std::uniform_real_distribution<double>(0, 1)(rng) < o.get_ratio) {
            return std::make_pair(std::string("kv.select"), std::vector<Value>{Value(key)});
        }
        return std::make_pair(std::string("kv.upsert"), std::vector<Value>{Value(key), Value::Bytes(payload)});
    });
}

}  // namespace

int main(int argc, char** argv) {
    Options o = Parse(argc, argv);
    std::string error;
    auto client = Client::Connect(o.servers, &error);
    if (!client) {
        std::cerr << "surge-bench: " << error << "\n";
        return 1;
    }
    if (o.workload == "voter") {
        Voter(*client, o);
    } else {
        Kv(*client, o);
    }
    return 0;
}
