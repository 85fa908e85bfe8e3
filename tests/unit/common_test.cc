// Tests for common/: Status, Result, SQLSTATE mapping, hashing stability, huge-page mappings.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/hash.h"
#include "common/huge_pages.h"
#include "common/status.h"

namespace surge {
namespace {

TEST(StatusTest, OkAndError) {
    Status ok;
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(ok.ToString(), "OK");
    Status err(ErrorCode::kUniqueViolation, "duplicate key (1) in index pk");
    EXPECT_FALSE(err.ok());
    EXPECT_EQ(err.ToString(), "ERROR 23505 unique_violation: duplicate key (1) in index pk");
}

TEST(StatusTest, EverySqlStateHasFiveCharacters) {
    for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
        EXPECT_EQ(SqlState(static_cast<ErrorCode>(c)).size(), 5u) << c;
    }
}

TEST(ResultTest, HoldsValueOrStatus) {
    Result<int> r = 7;
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 7);
    Result<int> e = Status(ErrorCode::kDivisionByZero, "division by zero");
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), ErrorCode::kDivisionByZero);
}

TEST(SqlErrorTest, CarriesStatus) {
    try {
        ThrowSqlError(ErrorCode::kSyntaxError, "syntax error at 1:1 near \"x\"");
        FAIL();
    } catch (const SqlError& e) {
        EXPECT_EQ(e.code(), ErrorCode::kSyntaxError);
        EXPECT_STREQ(e.what(), "syntax error at 1:1 near \"x\"");
    }
}

TEST(HashTest, StableAcrossVersions) {
    // XXH3-64 of "surge" with seed 0; routing and persisted data depend on this never changing.
    EXPECT_EQ(Hash64("surge"), Hash64(std::string_view("surge")));
    EXPECT_NE(Hash64("a"), Hash64("b"));
    EXPECT_EQ(Hash64("", 0), 0x2D06800538D394C2ull);
}

TEST(HugePagesTest, LargeMappingsAreAlignedZeroedAndWritable) {
    for (const bool on : {true, false}) {
        SetHugePages(on);
        EXPECT_EQ(HugePagesEnabled(), on);
        for (const size_t bytes : {kHugePageBytes, kHugePageBytes + 1, 3 * kHugePageBytes + 4096 * 5}) {
            auto* p = static_cast<unsigned char*>(MapLarge(bytes));
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePageBytes, 0u) << bytes;
            EXPECT_EQ(p[0], 0);
            EXPECT_EQ(p[bytes - 1], 0);
            std::memset(p, 0xAB, bytes);  // every byte is ours
            EXPECT_EQ(p[bytes / 2], 0xAB);
            UnmapLarge(p, bytes);
        }
    }
    SetHugePages(true);
}

TEST(HugePagesTest, AllocatorServesSmallAndLargeRequests) {
    // Through a container, as the hash indexes use it: small capacities from operator new, large
    // ones mapped; growth moves the elements across both.
    std::vector<uint64_t, HugePageAllocator<uint64_t>> v;
    for (uint64_t i = 0; i < 1'000'000; ++i) v.push_back(i * 3);  // 8 MB: well past kHugePageBytes
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageBytes, 0u);
    uint64_t sum = 0;
    for (const uint64_t x : v) sum += x;
    EXPECT_EQ(sum, 3 * (999'999ull * 1'000'000ull / 2));
    std::vector<uint64_t, HugePageAllocator<uint64_t>> small(10, 7);
    EXPECT_EQ(small[9], 7u);
    HugePageAllocator<char> rebound(HugePageAllocator<uint64_t>{});
    EXPECT_TRUE(rebound == HugePageAllocator<uint64_t>{});
}

}  // namespace
}  // namespace surge
