// surge-bench: load generator for a running surged, through the C++ client's stream.
//
//   surge-bench WORKLOAD [--servers HOST:PORT[,HOST:PORT...]] [--duration S] [--rate R]
//                        [--connections C] [--inflight N] [workload options]
//
// Workloads (schemas in bench/workloads/*/ddl.sql, compiled in):
//   voter  VoltDB's Voter: Vote(phone, contestant, max_votes) from voter.so, a native procedure
//          with three checks and an insert. --library PATH (default: workloads/voter.so beside
//          this program), --max-votes N (2), --contestants N (6), --export-target NAME (the
//          votes table exports its inserts to that target, configured in surged's config file).
//   kv     a key-value table: Get/Put with 32-byte keys and 1 KB values. --keys N (100000),
//          --get-ratio F (0.9), --value-bytes N (1024).
//   meters smart meters (workloads/meters): Report(meter, period, counter) from meters.so, one
//          15-minute reading per call, meters taking turns, simulated time starting 25 hours ago;
//          about 1% duplicates, 1% skipped periods (estimated by the server), 0.3% counters that go
//          back, 0.1% impossible jumps, 0.1% of meters and one whole concentrator silent; Silent
//          runs once a second. --meters N (100000), --concentrators N (1000), --library PATH
//          (default workloads/meters.so), --export-target NAME (validated readings and alerts),
//          --billing-target NAME (the readings of each finished day migrate to it; without it they
//          are deleted). Yesterday's readings leave during the run.
//
// Each workload creates its schema if missing and loads what it needs. Then, for --duration
// seconds, closed loop (no --rate: keep up to --inflight calls outstanding, default 2000, refilled whenever a
// tenth of them is answered) or open loop
// (--rate R calls per second on a fixed schedule, at most --inflight outstanding, default
// 100000). Latency is measured from each call's intended send time — in open loop a call that
// could not be sent on time counts its wait — to its response. The last line printed is
// `throughput: N txn/s`.
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "area_codes.h"
#include "surge/client.h"
#include "workloads.h"

namespace {

using surge::client::Client;
using surge::client::Response;
using surge::client::Value;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string workload;
    std::vector<std::string> servers = {"127.0.0.1:21212"};
    double duration = 10;
    double rate = 0;  ///< 0: closed loop
    int connections = 1;
    int inflight = 0;                      ///< 0: the mode's default
    std::string cpu_scheduling = "batch";  ///< Linux policy of the bench's threads (as surged's)
    // voter
    std::string library;
    int64_t max_votes = 2;
    int contestants = 6;
    std::string export_target;  ///< voter: votes, meters: validated and alerts EXPORT TO TARGET this
    // meters
    int64_t meters = 100'000;
    int64_t concentrators = 1000;
    std::string billing_target;  ///< readings MIGRATE TO TARGET this
    // kv
    int64_t keys = 100'000;
    double get_ratio = 0.9;
    int value_bytes = 1024;
};

[[noreturn]] void Usage(const std::string& error) {
    if (!error.empty()) std::cerr << "surge-bench: " << error << "\n\n";
    std::cerr << "usage: surge-bench voter|kv [--servers HOST:PORT[,HOST:PORT...]] [--duration S] [--rate R]\n"
                 "                            [--connections C] [--inflight N] [--cpu-scheduling batch|normal]\n"
                 "  voter: [--library PATH] [--max-votes N] [--contestants N] [--export-target NAME]\n"
                 "  kv:    [--keys N] [--get-ratio F] [--value-bytes N]\n"
                 "  meters: [--meters N] [--concentrators N] [--library PATH] [--export-target NAME]\n"
                 "          [--billing-target NAME]\n"
                 "Closed loop without --rate (keeps up to --inflight calls outstanding, default 2000, refilled\n"
                 "whenever a tenth is answered); open loop\n"
                 "at R calls/s with --rate (latency from each call's intended send time). The last line\n"
                 "is `throughput: N txn/s`. --cpu-scheduling: the bench's threads run under SCHED_BATCH\n"
                 "(default; a thread that wakes does not preempt a running one) or SCHED_OTHER (normal).\n";
    std::exit(error.empty() ? 0 : 2);
}

std::vector<std::string> Split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        if (comma > start) out.push_back(s.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

Options Parse(int argc, char** argv) {
    Options o;
    if (argc < 2) Usage("name a workload");
    o.workload = argv[1];
    if (o.workload == "--help" || o.workload == "-h") Usage("");
    if (o.workload != "voter" && o.workload != "kv" && o.workload != "meters") {
        Usage("unknown workload \"" + o.workload + "\"");
    }
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") Usage("");
        if (i + 1 >= argc) Usage(a + " needs a value");
        std::string v = argv[++i];
        try {
            if (a == "--servers") {
                o.servers = Split(v);
            } else if (a == "--duration") {
                o.duration = std::stod(v);
            } else if (a == "--rate") {
                o.rate = std::stod(v);
            } else if (a == "--connections") {
                o.connections = std::stoi(v);
            } else if (a == "--inflight") {
                o.inflight = std::stoi(v);
            } else if (a == "--cpu-scheduling") {
                if (v != "batch" && v != "normal") Usage("--cpu-scheduling is batch or normal");
                o.cpu_scheduling = v;
            } else if (a == "--library") {
                o.library = v;
            } else if (a == "--max-votes") {
                o.max_votes = std::stoll(v);
            } else if (a == "--meters") {
                o.meters = std::stoll(v);
            } else if (a == "--concentrators") {
                o.concentrators = std::stoll(v);
            } else if (a == "--export-target") {
                o.export_target = v;
            } else if (a == "--billing-target") {
                o.billing_target = v;
            } else if (a == "--contestants") {
                o.contestants = std::stoi(v);
            } else if (a == "--keys") {
                o.keys = std::stoll(v);
            } else if (a == "--get-ratio") {
                o.get_ratio = std::stod(v);
            } else if (a == "--value-bytes") {
                o.value_bytes = std::stoi(v);
            } else {
                Usage("unknown option " + a);
            }
        } catch (const std::exception&) {
            Usage("bad value for " + a + ": " + v);
        }
    }
    if (o.servers.empty()) Usage("--servers names no server");
    if (o.duration <= 0 || o.rate < 0 || o.connections <= 0 || o.inflight < 0) {
        Usage("--duration and --connections must be positive, --rate and --inflight not negative");
    }
    if (o.inflight == 0) o.inflight = o.rate > 0 ? 100'000 : 2000;
    if (o.keys <= 0 || o.value_bytes < 0 || o.value_bytes > 1024) Usage("--keys > 0, --value-bytes 0..1024");
    if (o.contestants <= 0 || o.contestants > 10) Usage("--contestants 1..10");
    if (o.meters <= 0 || o.concentrators <= 0 || o.concentrators > o.meters) {
        Usage("--meters > 0 and 0 < --concentrators <= --meters");
    }
    return o;
}

void Must(const Response& r, const std::string& what) {
    if (!r.ok()) {
        std::cerr << "surge-bench: " << what << ": " << r.status << ": " << r.message << "\n";
        std::exit(1);
    }
}

bool Has(Client& c, const char* selector, const std::string& name) {
    Response r = c.Call("@SystemCatalog", {Value(selector)});
    Must(r, "@SystemCatalog");
    for (size_t i = 0; i < r.tables[0].row_count(); ++i) {
        if (r.tables[0].at(i, 0).as_string() == name) return true;
    }
    return false;
}

using Call = std::pair<std::string, std::vector<Value>>;

// Calls in flight and their latencies, shared with the clients' callback threads.
struct Run {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<uint32_t> latencies_us;
    std::vector<uint32_t> server_us;
    std::map<std::string, int64_t> failures;
    std::map<std::string, int64_t> failure_examples_shown;
    int64_t ok = 0;
    int outstanding = 0;
    int wake_at = -1;  ///< the sender waits for `outstanding` to come down to this
};

// Sends calls from `next` for o.duration seconds over the connections, closed or open loop;
// prints what happened and returns the throughput (successful calls per second).
template <class Next>
double Drive(std::vector<std::unique_ptr<Client>>& clients, const Options& o, Next next) {
    Run run;
    run.latencies_us.reserve(1 << 24);
    run.server_us.reserve(1 << 24);
    std::mt19937_64 rng(42);
    const auto start = Clock::now();
    const auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
    const auto interval = o.rate > 0
                              ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.rate))
                              : Clock::duration::zero();
    size_t sent = 0;
    auto send = [&](Clock::time_point intended) {
        Call call = next(rng);
        Client& client = *clients[sent++ % clients.size()];
        client.CallAsync(call.first, std::move(call.second), [&run, intended](Response r) {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - intended).count();
            std::lock_guard<std::mutex> g(run.mu);
            if (r.ok()) {
                ++run.ok;
                run.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
                run.server_us.push_back(static_cast<uint32_t>(r.server_micros));
            } else {
                if (run.failures[r.status]++ == 0) std::cerr << "first " << r.status << ": " << r.message << "\n";
            }
            // Wakes the sender once, when what it waits for is reached (not on every answer).
            if (--run.outstanding == run.wake_at) run.cv.notify_one();
        });
    };
    if (o.rate == 0) {
        // Refills in steps of a tenth of --inflight: one wakeup per step, not per answer.
        run.wake_at = o.inflight - std::max(1, o.inflight / 10);
        std::unique_lock<std::mutex> lock(run.mu);
        while (Clock::now() < deadline) {
            run.cv.wait(lock, [&] { return run.outstanding <= run.wake_at; });
            const int n = o.inflight - run.outstanding;
            run.outstanding += n;
            lock.unlock();
            const auto now = Clock::now();
            for (int i = 0; i < n; ++i) send(now);
            lock.lock();
        }
    } else {
        for (auto intended = start; intended < deadline; intended += interval) {
            if (Clock::now() < intended) std::this_thread::sleep_until(intended);
            {
                std::unique_lock<std::mutex> lock(run.mu);
                run.wake_at = o.inflight - 1;
                run.cv.wait(lock, [&] { return run.outstanding < o.inflight; });
                ++run.outstanding;
            }
            send(intended);
        }
    }
    for (auto& c : clients) c->Drain();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    auto pct = [](std::vector<uint32_t>& v, double p) -> double {
        if (v.empty()) return 0;
        size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
        return v[k] / 1000.0;
    };
    if (o.rate > 0) {
        std::printf("%s: open loop at %.0f calls/s, %zu connection(s), %.1f s\n", o.workload.c_str(), o.rate,
                    clients.size(), secs);
    } else {
        std::printf("%s: closed loop, %d in flight, %zu connection(s), %.1f s\n", o.workload.c_str(), o.inflight,
                    clients.size(), secs);
    }
    int64_t failed = 0;
    for (const auto& [status, n] : run.failures) failed += n;
    std::printf("calls: %lld ok, %lld failed", static_cast<long long>(run.ok), static_cast<long long>(failed));
    for (const auto& [status, n] : run.failures) std::printf(" (%s %lld)", status.c_str(), static_cast<long long>(n));
    std::printf("\n");
    std::printf("latency ms: p50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (server p50 %.3f  p99 %.3f)\n",
                pct(run.latencies_us, 0.5), pct(run.latencies_us, 0.95), pct(run.latencies_us, 0.99),
                pct(run.latencies_us, 0.999), pct(run.latencies_us, 1.0), pct(run.server_us, 0.5),
                pct(run.server_us, 0.99));
    return static_cast<double>(run.ok) / secs;
}

// A workload's procedure library: --library, or workloads/<name> beside this program; resolved
// to an absolute path (the server opens it).
std::string WorkloadLibrary(const Options& o, const std::string& name) {
    std::string lib = o.library;
    if (lib.empty()) {
        char exe[PATH_MAX];
        const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
        dir.resize(dir.rfind('/') + 1);
        lib = dir + "workloads/" + name;
    }
    char resolved[PATH_MAX];
    if (!realpath(lib.c_str(), resolved)) {
        std::cerr << "surge-bench: procedure library " << lib << " not found (build it, or --library)\n";
        std::exit(1);
    }
    return resolved;
}

double Voter(std::vector<std::unique_ptr<Client>>& clients, const Options& o) {
    Client& c = *clients[0];
    if (!Has(c, "TABLES", "votes")) {
        std::string ddl = workloads::kVoterDdl;
        if (!o.export_target.empty()) {
            const std::string table_end = "\n);\nPARTITION TABLE votes";
            const size_t at = ddl.find(table_end);
            if (at == std::string::npos) {
                std::cerr << "surge-bench: the voter schema has changed; --export-target cannot find the votes table\n";
                std::exit(1);
            }
            ddl.replace(at, table_end.size(), "\n) EXPORT TO TARGET " + o.export_target + ";\nPARTITION TABLE votes");
        }
        Must(c.Call("@AdHoc", {Value(ddl)}), "voter schema");
    }
    if (!Has(c, "PROCEDURES", "vote")) {
        const std::string lib = WorkloadLibrary(o, "voter.so");
        for (const char* proc :
             {"Vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0", "Initialize", "Results"}) {
            Must(c.Call("@AdHoc", {Value("CREATE PROCEDURE " + std::string(proc) + " FROM LIBRARY '" + lib + "'")}),
                 proc);
        }
    }
    static const char* kNames =
        "Edwina Burnam,Tabatha Gehling,Kelly Clauss,Jessie Alloway,Alana Bregman,Jessie Eichman,Allie Rogalski,"
        "Nita Emmanuel,Dylan Foxx,Leah Blum";
    Must(c.Call("Initialize", {Value(o.contestants), Value(kNames)}), "Initialize");
    const double throughput = Drive(clients, o, [&](std::mt19937_64& rng) {
        const auto& ac = voter::kAreaCodes[rng() % voter::kAreaCodeCount];
        const int64_t phone = static_cast<int64_t>(ac.code) * 10'000'000 + static_cast<int64_t>(rng() % 10'000'000);
        // As VoltDB's generator: about 1% of votes are for a contestant that does not exist.
        const int contestant = rng() % 100 == 0 ? o.contestants + 1 : static_cast<int>(rng() % o.contestants) + 1;
        return Call("Vote", {Value(phone), Value(contestant), Value(o.max_votes)});
    });
    Response r = c.Call("Results");
    Must(r, "Results");
    std::printf("results:");
    for (size_t i = 0; i < r.tables[0].row_count(); ++i) {
        std::printf(" %s=%s", r.tables[0].at(i, 0).ToString().c_str(), r.tables[0].at(i, 2).ToString().c_str());
    }
    std::printf("\n");
    return throughput;
}

// Loads rows through a CRUD procedure with up to 5000 calls in flight.
void Load(Client& c, const std::string& procedure, int64_t n, const std::function<std::vector<Value>(int64_t)>& row) {
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;
    for (int64_t i = 0; i < n; ++i) {
        {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return outstanding < 5000; });
            ++outstanding;
        }
        c.CallAsync(procedure, row(i), [&](Response r) {
            Must(r, "load " + procedure);
            std::lock_guard<std::mutex> lock(mu);
            --outstanding;
            cv.notify_one();
        });
    }
    c.Drain();
}

void PrintTable(Client& c, const std::string& title, const std::string& sql) {
    Response r = c.Call("@AdHoc", {Value(sql)});
    Must(r, title);
    std::printf("%s:", title.c_str());
    for (size_t i = 0; i < r.tables[0].row_count(); ++i) {
        std::printf(" %s=%s", r.tables[0].at(i, 0).ToString().c_str(), r.tables[0].at(i, 1).ToString().c_str());
    }
    std::printf("\n");
}

double Meters(std::vector<std::unique_ptr<Client>>& clients, const Options& o) {
    constexpr int64_t kPeriod = 15 * 60 * 1'000'000LL;
    Client& c = *clients[0];
    if (!Has(c, "TABLES", "meters")) {
        std::string ddl = workloads::kMetersDdl;
        const std::string exported = o.export_target.empty() ? "" : "EXPORT TO TARGET " + o.export_target;
        const std::string migrated = o.billing_target.empty() ? "" : "MIGRATE TO TARGET " + o.billing_target;
        for (const auto& [mark, clause] :
             {std::pair{"/*EXPORT_VALIDATED*/", exported}, std::pair{"/*EXPORT_ALERTS*/", exported},
              std::pair{"/*MIGRATE_READINGS*/", migrated}}) {
            const size_t at = ddl.find(mark);
            if (at == std::string::npos) {
                std::cerr << "surge-bench: the meters schema lacks " << mark << "\n";
                std::exit(1);
            }
            ddl.replace(at, std::strlen(mark), clause);
        }
        Must(c.Call("@AdHoc", {Value(ddl)}), "meters schema");
    }
    if (!Has(c, "PROCEDURES", "report")) {
        const std::string lib = WorkloadLibrary(o, "meters.so");
        for (const char* proc : {"Report PARTITION ON TABLE meters COLUMN meter_id PARAMETER 0", "Silent"}) {
            Must(c.Call("@AdHoc", {Value("CREATE PROCEDURE " + std::string(proc) + " FROM LIBRARY '" + lib + "'")}),
                 proc);
        }
    }
    Response count = c.Call("@AdHoc", {Value("SELECT COUNT(*) FROM meters")});
    Must(count, "count meters");
    if (count.tables[0].at(0, 0).as_int() == 0) {
        std::printf("loading %lld concentrators and %lld meters...\n", static_cast<long long>(o.concentrators),
                    static_cast<long long>(o.meters));
        Load(c, "concentrators.insert", o.concentrators, [](int64_t i) {
            return std::vector<Value>{Value(i), Value("region-" + std::to_string(i % 16))};
        });
        Load(c, "meters.insert", o.meters, [&](int64_t i) {
            return std::vector<Value>{Value(i), Value(i % o.concentrators), Value::Null(), Value::Null(),
                                      Value(int64_t{0})};
        });
    }
    // Simulated time: 15-minute periods from 25 hours ago, so the oldest readings expire (TTL one
    // day) while the run goes on. A meter reports once per round of all meters.
    const int64_t now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const int64_t start = (now_us / kPeriod) * kPeriod - 100 * kPeriod;
    struct MeterState {
        int64_t period = -1;  ///< last period reported (index)
        int64_t counter = 0;
    };
    std::vector<MeterState> state(static_cast<size_t>(o.meters));
    auto silent = [&](int64_t m) { return m % 1000 == 7 || m % o.concentrators == 1; };
    int64_t cursor = 0;
    std::atomic<int64_t> round{0};
    std::atomic<bool> stop{false};
    std::thread watcher([&] {
        // Silent once a second, on the simulated clock.
        while (!stop.load()) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            // Not before every meter had its turn: a meter that has not reported yet is not silent.
            if (stop.load()) break;
            if (round.load() < 2) continue;
            Response r = clients.back()->Call("Silent", {Value::Timestamp(start + round.load() * kPeriod)});
            if (!r.ok()) std::cerr << "Silent: " << r.status << ": " << r.message << "\n";
        }
    });
    const double throughput = Drive(clients, o, [&](std::mt19937_64& rng) {
        int64_t m;
        do {
            m = cursor++ % o.meters;
        } while (silent(m));
        round.store(cursor / o.meters, std::memory_order_relaxed);
        MeterState& s = state[static_cast<size_t>(m)];
        const uint64_t dice = rng() % 1000;
        if (dice < 10 && s.period >= 0) {  // a duplicate of the last reading
            return Call("Report", {Value(m), Value::Timestamp(start + s.period * kPeriod), Value(s.counter)});
        }
        const int64_t next = s.period + ((dice >= 10 && dice < 20) ? 2 : 1);  // 1% skip a period
        const int64_t used = static_cast<int64_t>(rng() % 400);
        if (dice >= 20 && dice < 23 && s.period >= 0) {  // a counter that goes back (rejected)
            return Call("Report", {Value(m), Value::Timestamp(start + next * kPeriod), Value(s.counter - 50)});
        }
        if (dice == 23 && s.period >= 0) {  // an impossible jump (rejected)
            return Call("Report", {Value(m), Value::Timestamp(start + next * kPeriod), Value(s.counter + 10'000'000)});
        }
        s.counter += used * (next - s.period);
        s.period = next;
        return Call("Report", {Value(m), Value::Timestamp(start + s.period * kPeriod), Value(s.counter)});
    });
    stop = true;
    watcher.join();
    PrintTable(c, "rejections", "SELECT reason, readings FROM rejections ORDER BY reason");
    PrintTable(c, "alerts", "SELECT kind, alerts FROM alert_counts ORDER BY kind");
    PrintTable(c, "readings", "SELECT estimated, COUNT(*) FROM readings GROUP BY estimated ORDER BY estimated");
    if (!o.billing_target.empty()) {
        // Migrated readings: exported to billing (last_seq), and acknowledged by it (then deleted).
        Response st = c.Call("@Statistics", {Value("EXPORT")});
        Must(st, "@Statistics EXPORT");
        const auto& t = st.tables[0];
        auto col = [&](const char* name) {
            auto it = std::find(t.column_names.begin(), t.column_names.end(), name);
            if (it == t.column_names.end()) {
                std::cerr << "surge-bench: @Statistics EXPORT has no column " << name << "\n";
                std::exit(1);
            }
            return static_cast<size_t>(it - t.column_names.begin());
        };
        int64_t exported = 0, acked = 0;
        for (size_t i = 0; i < t.row_count(); ++i) {
            if (t.at(i, col("stream")).ToString() != "readings") continue;
            exported += t.at(i, col("last_seq")).as_int();
            acked += t.at(i, col("acked_seq")).as_int();
        }
        std::printf("billing: %lld readings migrated to %s, %lld acknowledged (and deleted)\n",
                    static_cast<long long>(exported), o.billing_target.c_str(), static_cast<long long>(acked));
    }
    return throughput;
}

std::string Key(int64_t k) {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "key-%028lld", static_cast<long long>(k));
    return std::string(buf, 32);
}

double Kv(std::vector<std::unique_ptr<Client>>& clients, const Options& o) {
    Client& c = *clients[0];
    if (!Has(c, "TABLES", "kv")) Must(c.Call("@AdHoc", {Value(workloads::kKvDdl)}), "kv schema");
    std::string payload(static_cast<size_t>(o.value_bytes), '\0');
    std::mt19937_64 fill(7);
    for (char& ch : payload) ch = static_cast<char>(fill());
    std::printf("loading %lld keys...\n", static_cast<long long>(o.keys));
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;
    for (int64_t k = 0; k < o.keys; ++k) {
        {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return outstanding < 5000; });
            ++outstanding;
        }
        c.CallAsync("Put", {Value(Key(k)), Value::Bytes(payload)}, [&](Response r) {
            Must(r, "load");
            std::lock_guard<std::mutex> lock(mu);
            --outstanding;
            cv.notify_one();
        });
    }
    c.Drain();
    return Drive(clients, o, [&](std::mt19937_64& rng) {
        std::string key = Key(static_cast<int64_t>(rng() % static_cast<uint64_t>(o.keys)));
        if (std::uniform_real_distribution<double>(0, 1)(rng) < o.get_ratio) return Call("Get", {Value(key)});
        return Call("Put", {Value(key), Value::Bytes(payload)});
    });
}

}  // namespace

int main(int argc, char** argv) {
    Options o = Parse(argc, argv);
    if (o.cpu_scheduling == "batch") {  // before any thread starts: they inherit it
        sched_param param{};
        if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
            std::cerr << "surge-bench: cannot set SCHED_BATCH (" << std::strerror(errno) << "); going on\n";
        }
    }
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < o.connections; ++i) {
        const std::string& server = o.servers[static_cast<size_t>(i) % o.servers.size()];
        std::string error;
        auto client = Client::Connect(server, &error);
        if (!client) {
            std::cerr << "surge-bench: " << error << "\n";
            return 1;
        }
        clients.push_back(std::move(client));
    }
    const double throughput = o.workload == "voter"    ? Voter(clients, o)
                              : o.workload == "meters" ? Meters(clients, o)
                                                       : Kv(clients, o);
    std::printf("throughput: %.0f txn/s\n", throughput);
    return 0;
}
