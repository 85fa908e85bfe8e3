// Tests for txn/: the routing ring. The bucket values below are the on-disk contract: if one of
// these expectations changes, rows would move between partitions across versions. Do not update
// them to make a change pass.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "txn/router.h"

namespace surge::txn {
namespace {

TEST(RouterTest, IntegerWidthsAndTimestampsRouteAlike) {
    for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{127}, int64_t{-128}, int64_t{5}}) {
        uint32_t b = Router::Bucket(Value::BigInt(x));
        EXPECT_EQ(Router::Bucket(Value::Int(TypeId::kTinyInt, x)), b) << x;
        EXPECT_EQ(Router::Bucket(Value::Int(TypeId::kSmallInt, x)), b) << x;
        EXPECT_EQ(Router::Bucket(Value::Integer(static_cast<int32_t>(x))), b) << x;
        EXPECT_EQ(Router::Bucket(Value::Timestamp(x)), b) << x;
    }
}

TEST(RouterTest, BucketsAreStable) {
    // Golden values: XXH3-64 (seed 0) of the canonical bytes, modulo 4096.
    std::map<std::string, uint32_t> got;
    got["bigint 0"] = Router::Bucket(Value::BigInt(0));
    got["bigint 1"] = Router::Bucket(Value::BigInt(1));
    got["bigint -1"] = Router::Bucket(Value::BigInt(-1));
    got["bigint 5551234567"] = Router::Bucket(Value::BigInt(5551234567));
    got["varchar ''"] = Router::Bucket(Value::Varchar(""));
    got["varchar 'meter-42'"] = Router::Bucket(Value::Varchar("meter-42"));
    got["varbinary 0x00ff"] = Router::Bucket(Value::Varbinary(std::string("\0\xff", 2)));
    for (const auto& [k, v] : got) EXPECT_LT(v, Router::kBuckets) << k;
    // Text and bytes with the same content share a bucket.
    EXPECT_EQ(Router::Bucket(Value::Varchar("abc")), Router::Bucket(Value::Varbinary("abc")));
    EXPECT_EQ(Router::Bucket(Value::Null(TypeId::kBigInt)), 0u);
    const std::map<std::string, uint32_t> golden = {
        {"bigint -1", 1043},  {"bigint 0", 3289},           {"bigint 1", 2350},         {"bigint 5551234567", 2283},
        {"varchar ''", 1218}, {"varchar 'meter-42'", 2230}, {"varbinary 0x00ff", 3059},
    };
    EXPECT_EQ(got, golden);
}

TEST(RouterTest, InitialRingSpreadsBucketsEvenly) {
    for (uint32_t n : {1u, 2u, 3u, 8u, 24u}) {
        Router r(n);
        std::map<uint32_t, int> per;
        for (uint32_t b : r.ring()) per[b]++;
        EXPECT_EQ(per.size(), n);
        for (const auto& [p, count] : per) {
            EXPECT_LT(p, n);
            EXPECT_LE(count, static_cast<int>(Router::kBuckets / n + 1));
            EXPECT_GE(count, static_cast<int>(Router::kBuckets / n));
        }
    }
}

TEST(RouterTest, KeysSpreadOverPartitions) {
    Router r(4);
    std::map<uint32_t, int> per;
    for (int64_t k = 0; k < 40000; ++k) per[r.Partition(Value::BigInt(k))]++;
    ASSERT_EQ(per.size(), 4u);
    for (const auto& [p, count] : per) EXPECT_NEAR(count, 10000, 600) << p;
}

TEST(RouterTest, FromRingValidates) {
    EXPECT_FALSE(Router::FromRing(std::vector<uint32_t>(10, 0), 2).ok());
    std::vector<uint32_t> ring(Router::kBuckets, 0);
    ring[7] = 2;
    EXPECT_FALSE(Router::FromRing(ring, 2).ok());
    ring[7] = 1;
    auto r = Router::FromRing(ring, 2);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().Partition(Value::BigInt(0)), ring[Router::Bucket(Value::BigInt(0))]);
    EXPECT_FALSE(Router::FromRing(ring, 0).ok());
}

}  // namespace
}  // namespace surge::txn

// ---- partitions and the coordinator -------------------------------------------------------------

#include <atomic>
#include <chrono>
#include <future>

#include "txn/coordinator.h"
#include "txn/partition.h"

namespace surge::txn {
namespace {

/// Runs `sql` on the partition thread inside its own transaction; the future gets the status.
std::future<Status> RunOn(Partition& p, std::string sql, Status* submit = nullptr) {
    auto promise = std::make_shared<std::promise<Status>>();
    auto fut = promise->get_future();
    Status s = p.Submit(std::make_unique<FunctionTask>(
        [promise, sql](exec::Engine& e, uint64_t token) {
            exec::ResultSet rs;
            Status st = e.Begin(token);
            if (st.ok()) st = e.Execute(sql, &rs);
            if (st.ok()) {
                st = e.Commit(token);
            } else {
                (void)e.Rollback(token);
            }
            promise->set_value(st);
        },
        [promise](const Status& why) { promise->set_value(why); }));
    if (submit) *submit = s;
    if (!s.ok()) promise->set_value(s);
    return fut;
}

std::string Scalar(exec::Engine& e, const std::string& sql) {
    exec::ResultSet rs;
    Status s = e.Execute(sql, &rs);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rs.row_count() == 1 ? rs.at(0, 0).ToString() : "<" + std::to_string(rs.row_count()) + " rows>";
}

TEST(PartitionTest, RunsTasksInOrderAndStopsAfterDraining) {
    Partition p(0, 1000);
    exec::ResultSet rs;
    ASSERT_TRUE(p.engine().Execute("CREATE TABLE log (n INTEGER NOT NULL PRIMARY KEY)", &rs).ok());
    EXPECT_EQ(p.Submit(std::make_unique<FunctionTask>([](exec::Engine&, uint64_t) {}, [](const Status&) {})).code(),
              ErrorCode::kTransactionState);  // not started
    p.Start();
    std::vector<std::future<Status>> done;
    for (int i = 0; i < 200; ++i) done.push_back(RunOn(p, "INSERT INTO log VALUES (" + std::to_string(i) + ")"));
    done.push_back(RunOn(p, "INSERT INTO log VALUES (7)"));  // duplicate: fails, changes nothing
    p.Stop();
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(done[i].get().ok()) << i;
    EXPECT_EQ(done.back().get().code(), ErrorCode::kUniqueViolation);
    EXPECT_EQ(Scalar(p.engine(), "SELECT COUNT(*) FROM log"), "200");
    Status s;
    auto late = RunOn(p, "INSERT INTO log VALUES (1000)", &s);
    EXPECT_EQ(s.code(), ErrorCode::kTransactionState);
}

TEST(PartitionTest, FullQueueSaysOverloadedAndDropsNothingAccepted) {
    Partition p(3, 4);
    exec::ResultSet rs;
    ASSERT_TRUE(p.engine().Execute("CREATE TABLE log (n INTEGER NOT NULL)", &rs).ok());
    p.Start();
    // Block the thread so the queue fills.
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    ASSERT_TRUE(
        p.Submit(std::make_unique<FunctionTask>([open](exec::Engine&, uint64_t) { open.wait(); }, [](const Status&) {}))
            .ok());
    while (p.queue_depth() != 0) std::this_thread::yield();
    int accepted = 0, overloaded = 0;
    std::vector<std::future<Status>> done;
    for (int i = 0; i < 10; ++i) {
        Status s;
        done.push_back(RunOn(p, "INSERT INTO log VALUES (1)", &s));
        if (s.ok()) {
            ++accepted;
        } else {
            EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded);
            EXPECT_NE(s.message().find("overloaded"), std::string::npos);
            ++overloaded;
        }
    }
    EXPECT_EQ(accepted, 4);
    EXPECT_EQ(overloaded, 6);
    gate.set_value();
    p.Stop();
    EXPECT_EQ(Scalar(p.engine(), "SELECT COUNT(*) FROM log"), "4");
}

TEST(PartitionTest, QueueCountsTheCallsOfBatchTasks) {
    Partition p(1, 10);
    p.Start();
    std::atomic<int> ran{0};
    auto task = [&ran] {
        return std::make_unique<FunctionTask>([&ran](exec::Engine&, uint64_t) { ++ran; }, [](const Status&) {});
    };
    // Blocks the thread until the returned promise is set, once it has taken the blocking task.
    auto block = [&p] {
        auto gate = std::make_shared<std::promise<void>>();
        std::shared_future<void> open = gate->get_future().share();
        EXPECT_TRUE(p.Submit(std::make_unique<FunctionTask>([open](exec::Engine&, uint64_t) { open.wait(); },
                                                            [](const Status&) {}))
                        .ok());
        while (p.queue_depth() != 0) std::this_thread::yield();
        return gate;
    };
    auto gate = block();
    std::unique_ptr<Task> six = task(), four = task(), one = task();
    EXPECT_TRUE(p.Submit(std::move(six), 6).ok());
    EXPECT_EQ(six, nullptr);
    EXPECT_TRUE(p.Submit(std::move(four), 4).ok());
    EXPECT_EQ(p.queue_depth(), 10u);
    Status s = p.Submit(std::move(one), 1);
    EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded);
    EXPECT_NE(s.message().find("has 10 calls queued"), std::string::npos) << s.ToString();
    EXPECT_NE(one, nullptr);  // a refused task stays with the caller
    gate->set_value();
    while (ran.load() != 2) std::this_thread::yield();
    gate = block();
    // A task larger than the capacity fits an empty queue only.
    std::unique_ptr<Task> big = task();
    EXPECT_TRUE(p.Submit(std::move(big), 25).ok());
    EXPECT_EQ(p.queue_depth(), 25u);
    EXPECT_EQ(p.Submit(std::move(one), 1).code(), ErrorCode::kLimitExceeded);
    gate->set_value();
    p.Stop();
    EXPECT_EQ(ran.load(), 3);
    EXPECT_EQ(p.Submit(std::move(one), 1).code(), ErrorCode::kTransactionState);
    EXPECT_NE(one, nullptr);
}

class CoordinatorTest : public ::testing::Test {
  protected:
    static constexpr uint32_t kParts = 3;
    void SetUp() override {
        for (uint32_t i = 0; i < kParts; ++i) {
            parts_.push_back(std::make_unique<Partition>(i, 10000));
            exec::ResultSet rs;
            for (const char* ddl : {"CREATE TABLE acct (id INTEGER NOT NULL PRIMARY KEY, bal BIGINT NOT NULL)",
                                    "PARTITION TABLE acct ON COLUMN id"}) {
                ASSERT_TRUE(parts_.back()->engine().Execute(ddl, &rs).ok());
            }
            ptrs_.push_back(parts_.back().get());
        }
        coordinator_ = std::make_unique<Coordinator>(ptrs_, &router_, 100);
        for (auto& p : parts_) p->Start();
        coordinator_->Start();
    }
    void TearDown() override {
        coordinator_->Stop();
        for (auto& p : parts_) p->Stop();
    }
    /// Runs sql as an MP transaction; the future gets its status.
    std::future<Status> Mp(std::string sql, exec::ResultSet* out = nullptr) {
        auto promise = std::make_shared<std::promise<Status>>();
        auto fut = promise->get_future();
        Status s = coordinator_->Submit(std::make_unique<MpFunctionTask>(
            [promise, sql, out](MpContext& ctx) {
                exec::ResultSet local;
                promise->set_value(ctx.ExecuteTransaction(1, sql, {}, out ? out : &local));
            },
            [promise](const Status& why) { promise->set_value(why); }));
        if (!s.ok()) promise->set_value(s);
        return fut;
    }
    uint32_t PartitionOf(int64_t id) const { return router_.Partition(Value::Integer(static_cast<int32_t>(id))); }

    Router router_{kParts};
    std::vector<std::unique_ptr<Partition>> parts_;
    std::vector<Partition*> ptrs_;
    std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(CoordinatorTest, MultiPartitionTransactionsSeeAndChangeEveryPartition) {
    std::string values;
    for (int id = 0; id < 30; ++id) values += (id ? "," : "") + ("(" + std::to_string(id) + ", 100)");
    ASSERT_TRUE(Mp("INSERT INTO acct VALUES " + values).get().ok());
    exec::ResultSet rs;
    ASSERT_TRUE(Mp("SELECT COUNT(*), SUM(bal) FROM acct", &rs).get().ok());
    EXPECT_EQ(rs.at(0, 0).ToString() + "|" + rs.at(0, 1).ToString(), "30|3000");
    // Each partition holds exactly its routed rows.
    int total = 0;
    for (uint32_t p = 0; p < kParts; ++p) {
        auto fut = std::make_shared<std::promise<std::string>>();
        auto f = fut->get_future();
        ASSERT_TRUE(
            parts_[p]
                ->Submit(std::make_unique<FunctionTask>(
                    [fut](exec::Engine& e, uint64_t) { fut->set_value(Scalar(e, "SELECT COUNT(*) FROM acct")); },
                    [fut](const Status& s) { fut->set_value(s.ToString()); }))
                .ok());
        int expected = 0;
        for (int id = 0; id < 30; ++id) expected += PartitionOf(id) == p;
        EXPECT_EQ(f.get(), std::to_string(expected)) << "partition " << p;
        total += expected;
    }
    EXPECT_EQ(total, 30);
    // A failing MP statement changes nothing anywhere.
    EXPECT_EQ(Mp("UPDATE acct SET bal = bal / (id - 17)").get().code(), ErrorCode::kDivisionByZero);
    ASSERT_TRUE(Mp("SELECT SUM(bal) FROM acct", &rs).get().ok());
    EXPECT_EQ(rs.at(0, 0).ToString(), "3000");
}

TEST_F(CoordinatorTest, SinglePartitionAndMultiPartitionWorkInterleaveSerializably) {
    ASSERT_TRUE(Mp("INSERT INTO acct VALUES (0,1000),(1,1000),(2,1000),(3,1000),(4,1000),(5,1000)").get().ok());
    // SP transfers within a partition keep each partition's sum; MP transfers across partitions
    // keep the total. Concurrent MP reads must always see the total.
    std::vector<std::future<Status>> work;
    std::vector<std::future<Status>> reads;
    std::vector<std::shared_ptr<exec::ResultSet>> read_results;
    for (int round = 0; round < 40; ++round) {
        for (uint32_t p = 0; p < kParts; ++p) {
            // Move 1 between two rows of the same partition, when it has two.
            std::vector<int> ids;
            for (int id = 0; id < 6; ++id) {
                if (PartitionOf(id) == p) ids.push_back(id);
            }
            if (ids.size() < 2) continue;
            std::string sql = "UPDATE acct SET bal = bal + CASE WHEN id = " + std::to_string(ids[0]) +
                              " THEN -1 ELSE 1 END WHERE id IN (" + std::to_string(ids[0]) + ", " +
                              std::to_string(ids[1]) + ")";
            work.push_back(RunOn(*parts_[p], sql));
        }
        int from = round % 6, to = (round * 5 + 1) % 6;
        work.push_back(Mp("UPDATE acct SET bal = bal + CASE WHEN id = " + std::to_string(from) +
                          " THEN -7 ELSE 7 END WHERE id IN (" + std::to_string(from) + ", " + std::to_string(to) +
                          ")"));
        read_results.push_back(std::make_shared<exec::ResultSet>());
        reads.push_back(Mp("SELECT SUM(bal) FROM acct", read_results.back().get()));
    }
    for (auto& w : work) EXPECT_TRUE(w.get().ok());
    for (size_t i = 0; i < reads.size(); ++i) {
        ASSERT_TRUE(reads[i].get().ok());
        EXPECT_EQ(read_results[i]->at(0, 0).ToString(), "6000") << "read " << i;
    }
}

TEST_F(CoordinatorTest, StopRejectsNothingAlreadyAccepted) {
    std::vector<std::future<Status>> done;
    for (int i = 0; i < 20; ++i) done.push_back(Mp("INSERT INTO acct VALUES (" + std::to_string(i) + ", 1)"));
    coordinator_->Stop();
    for (auto& d : done) EXPECT_TRUE(d.get().ok());
    EXPECT_EQ(Mp("SELECT 1").get().code(), ErrorCode::kTransactionState);
}

}  // namespace
}  // namespace surge::txn
