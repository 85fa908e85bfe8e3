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

TEST(HugePagesTest, ReservationIsFaultedInPartByPartAndHandedToMapLarge) {
    LargeReservation r;
    EXPECT_TRUE(r.empty());
    EXPECT_FALSE(r.TouchNext());
    const size_t bytes = 3 * kHugePageBytes + 5000;
    r.Map(bytes);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.bytes(), 3 * kHugePageBytes + 8192);  // whole 4 KiB pages
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r.data()) % kHugePageBytes, 0u);
    EXPECT_EQ(r.parts(), 4u);
    for (size_t i = 1; i <= 4; ++i) {
        ASSERT_TRUE(r.TouchNext());
        EXPECT_EQ(r.touched_parts(), i);
    }
    EXPECT_FALSE(r.TouchNext());
    const void* reserved = r.data();

    void* elsewhere = MapLarge(kHugePageBytes);  // no hand-off in scope: a mapping of its own
    EXPECT_NE(elsewhere, reserved);
    UnmapLarge(elsewhere, kHugePageBytes);

    void* p = nullptr;
    {
        ScopedLargeHandOff hand_off(&r);
        EXPECT_FALSE(hand_off.taken());
        p = MapLarge(2 * kHugePageBytes + 1);  // fits: trimmed to its 4 KiB pages
        EXPECT_TRUE(hand_off.taken());
    }
    EXPECT_EQ(p, reserved);
    EXPECT_TRUE(r.empty());
    auto* bytes_p = static_cast<unsigned char*>(p);
    EXPECT_EQ(bytes_p[0], 0);
    EXPECT_EQ(bytes_p[2 * kHugePageBytes], 0);
    std::memset(p, 0xCD, 2 * kHugePageBytes + 1);
    UnmapLarge(p, 2 * kHugePageBytes + 1);

    // A reservation mapped inside a hand-off is new memory, not the handed-off one's.
    r.Map(kHugePageBytes);
    {
        ScopedLargeHandOff hand_off(&r);
        LargeReservation inner;
        inner.Map(kHugePageBytes);
        EXPECT_NE(inner.data(), r.data());
        EXPECT_FALSE(hand_off.taken());
        EXPECT_FALSE(r.empty());
    }
    r.Release();

    // A request the reservation cannot hold gets its own mapping; the reservation is released.
    r.Map(kHugePageBytes);
    {
        ScopedLargeHandOff hand_off(&r);
        p = MapLarge(4 * kHugePageBytes);
        EXPECT_FALSE(hand_off.taken());
    }
    EXPECT_TRUE(r.empty());
    std::memset(p, 0xEF, 4 * kHugePageBytes);
    UnmapLarge(p, 4 * kHugePageBytes);

    // Moving hands the mapping over; the moved-from reservation holds nothing.
    r.Map(kHugePageBytes);
    r.TouchNext();
    LargeReservation moved(std::move(r));
    EXPECT_TRUE(r.empty());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.touched_parts(), 1u);
    moved.Release();
    EXPECT_TRUE(moved.empty());
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
