// Tests for common/: Status, Result, SQLSTATE mapping, hashing stability.
#include <gtest/gtest.h>

#include "common/hash.h"
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

}  // namespace
}  // namespace surge
