// C++ client against the real surged: starts it on a free loopback port (SURGED_PATH), calls
// procedures blocking and over the stream, and checks that a server that goes away fails calls
// instead of hanging them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "surge/client.h"

namespace {

using surge::client::Client;
using surge::client::Response;
using surge::client::Value;

int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

class Surged {
  public:
    explicit Surged(int partitions, int port = 0) : port_(port ? port : FreePort()) {
        dir_ = std::filesystem::temp_directory_path() / ("surged-client-test-" + std::to_string(port_));
        std::filesystem::remove_all(dir_);  // a fresh database: nothing left from an earlier run to recover
        pid_ = fork();
        if (pid_ == 0) {
            std::string port = std::to_string(port_), parts = std::to_string(partitions), data = dir_.string();
            execl(SURGED_PATH, "surged", "--port", port.c_str(), "--partitions", parts.c_str(), "--data-dir",
                  data.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~Surged() {
        Stop(SIGTERM);
        std::filesystem::remove_all(dir_);
    }
    int Stop(int sig) {
        if (pid_ <= 0) return status_;
        kill(pid_, sig);
        waitpid(pid_, &status_, 0);
        pid_ = -1;
        return status_;
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

  private:
    int port_;
    pid_t pid_ = -1;
    int status_ = 0;
    std::filesystem::path dir_;
};

std::unique_ptr<Client> ConnectWithRetry(const std::string& address) {
    std::string error;
    for (int i = 0; i < 100; ++i) {
        Client::Options o;
        o.connect_timeout_ms = 200;
        auto c = Client::Connect(address, &error, o);
        if (c) return c;
    }
    ADD_FAILURE() << error;
    return nullptr;
}

TEST(ClientTest, CallsAndStreams) {
    Surged server(2);
    auto c = ConnectWithRetry(server.address());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Call("@AdHoc", {"CREATE TABLE kv (k BIGINT NOT NULL PRIMARY KEY, v VARCHAR(10), d DECIMAL, "
                                   "t TIMESTAMP)"})
                    .ok());
    ASSERT_TRUE(c->Call("@AdHoc", {"PARTITION TABLE kv ON COLUMN k"}).ok());
    Response r = c->Call("kv.insert", {Value(int64_t{1}), Value("one"), Value::Decimal("1.5"), Value::Timestamp(0)});
    ASSERT_TRUE(r.ok()) << r.message;
    r = c->Call("kv.select", {Value(int64_t{1})});
    ASSERT_TRUE(r.ok()) << r.message;
    ASSERT_EQ(r.tables.size(), 1u);
    ASSERT_EQ(r.tables[0].row_count(), 1u);
    EXPECT_EQ(r.tables[0].at(0, 1), Value("one"));
    EXPECT_EQ(r.tables[0].at(0, 2).ToString(), "1.500000000000");
    EXPECT_EQ(r.tables[0].at(0, 3).ToString(), "1970-01-01 00:00:00.000000");
    r = c->Call("kv.insert", {Value(int64_t{1}), Value("dup"), Value(), Value()});
    EXPECT_EQ(r.status, "SQL_ERROR");
    EXPECT_EQ(r.sqlstate, "23505");
    EXPECT_EQ(c->Call("nope").status, "UNKNOWN_PROCEDURE");

    std::atomic<int> ok{0}, failed{0};
    for (int64_t k = 100; k < 5100; ++k) {
        c->CallAsync("kv.insert", {Value(k), Value("v"), Value(), Value()},
                     [&](Response resp) { (resp.ok() ? ok : failed)++; });
    }
    c->Drain();
    EXPECT_EQ(ok.load(), 5000);
    EXPECT_EQ(failed.load(), 0);
    r = c->Call("@AdHoc", {"SELECT COUNT(*) FROM kv"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.tables[0].at(0, 0), Value(int64_t{5001}));
}

TEST(ClientTest, ServerGoingAwayFailsCallsInsteadOfHanging) {
    Surged server(1);
    auto c = ConnectWithRetry(server.address());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Call("@AdHoc", {"CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)"}).ok());
    std::atomic<int> answered{0};
    for (int64_t k = 0; k < 20000; ++k) c->CallAsync("t.insert", {Value(k)}, [&](Response) { answered++; });
    server.Stop(SIGKILL);
    c->Drain();  // must return: every call answered (ok, or failed by the transport)
    EXPECT_EQ(answered.load(), 20000);
    Response r = c->Call("@Ping");
    EXPECT_EQ(r.status, "UNAVAILABLE");
    std::string error;
    Client::Options o;
    o.connect_timeout_ms = 300;
    EXPECT_EQ(Client::Connect(server.address(), &error, o), nullptr);
    EXPECT_NE(error.find("cannot connect"), std::string::npos) << error;
}

TEST(ClientTest, NativeVoterWithFuturesAndBackpressure) {
    Surged server(2);
    auto c = ConnectWithRetry(server.address());
    ASSERT_NE(c, nullptr);
    std::ifstream ddl(VOTER_DDL_PATH);
    std::stringstream text;
    text << ddl.rdbuf();
    ASSERT_TRUE(c->Call("@AdHoc", {text.str()}).ok());
    for (std::string proc : {"Vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0", "Initialize"}) {
        Response r = c->Call("@AdHoc", {"CREATE PROCEDURE " + proc + " FROM LIBRARY '" VOTER_LIBRARY "'"});
        ASSERT_TRUE(r.ok()) << r.message;
    }
    Response r = c->Call("Initialize", {Value(3), Value("a,b,c")});
    ASSERT_TRUE(r.ok()) << r.message;
    auto vote = c->CallFuture("Vote", {Value(int64_t{6175550000}), Value(2), Value(int64_t{1})});
    r = vote.get();
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.tables[0].at(0, 0), Value(int64_t{0}));
    r = c->CallFuture("Vote", {Value(int64_t{6175550000}), Value(2), Value(int64_t{1})}).get();
    EXPECT_EQ(r.tables[0].at(0, 0), Value(int64_t{2}));  // over the limit of 1
    EXPECT_EQ(c->CallFuture("Vote", {Value("x"), Value(2), Value(1)}).get().status, "INVALID_PARAMETER");

    // A client that may have 8 calls outstanding: CallAsync waits for room; a callback's own
    // CallAsync does not (it would wait for itself).
    std::string error;
    Client::Options o;
    o.max_outstanding = 8;
    auto small = Client::Connect(server.address(), &error, o);
    ASSERT_NE(small, nullptr) << error;
    std::atomic<int> counted{0}, nested{0};
    size_t most = 0;
    for (int64_t i = 0; i < 2000; ++i) {
        small->CallAsync("Vote", {Value(int64_t{2125550000} + i), Value(1), Value(int64_t{5})}, [&](Response resp) {
            if (resp.ok() && resp.tables[0].at(0, 0) == Value(int64_t{0})) counted++;
            if (nested.fetch_add(1) == 0) {
                small->CallAsync("Vote", {Value(int64_t{2125550000}), Value(1), Value(int64_t{5})},
                                 [&](Response) { nested++; });
            }
        });
        most = std::max(most, small->outstanding());
    }
    small->Drain();
    EXPECT_LE(most, 9u);  // 8, plus the one a callback may add
    EXPECT_EQ(counted.load(), 2000);
    EXPECT_EQ(nested.load(), 2001);
}

TEST(ClientTest, ReconnectsWhenTheServerComesBack) {
    auto first = std::make_unique<Surged>(1);
    const int port = first->port();
    auto c = ConnectWithRetry(first->address());
    ASSERT_NE(c, nullptr);
    first->Stop(SIGKILL);
    EXPECT_EQ(c->Call("@Ping").status, "UNAVAILABLE");
    first.reset();
    Surged second(1, port);
    Response r;
    r.status = "UNAVAILABLE";
    for (int i = 0; i < 100 && !r.ok(); ++i) {
        r = c->CallFuture("@Ping").get();
        if (!r.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(r.ok()) << r.status << ": " << r.message;
    r = c->Call("@Ping");
    EXPECT_TRUE(r.ok()) << r.status << ": " << r.message;
}

}  // namespace
