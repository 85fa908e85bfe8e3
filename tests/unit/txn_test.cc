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
