// Tests for the engine-free half of surge-slt (tools/slt/slt_script.h): reading records the way
// SQLite's sqllogictest.c does (comments, CRLF, conditions, multi-line SQL), formatting values by
// column type letter, the rowsort/valuesort orders, the MD5 result hash and the comparison with
// expected blocks. Expected hashes were computed with `printf '1\n2\n' | md5sum` and the like.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "slt/slt_script.h"
#include "types/decimal.h"
#include "types/value.h"

namespace surge::slt {
namespace {

using Strings = std::vector<std::string>;

// ---- reading scripts --------------------------------------------------------------------------

TEST(SltParseTest, StatementsAndComments) {
    std::vector<Record> r = ParseScript(
        "# a comment\n"
        "statement ok\n"
        "CREATE TABLE t1(a INTEGER,\n"
        "# comment inside the record\n"
        "  b INTEGER)\n"
        "\n"
        "   \n"
        "statement error\n"
        "INSERT INTO nope VALUES(1)\n"
        "\n"
        "statement error unique constraint\n"
        "INSERT INTO t1 VALUES(1, 2)\n");
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].kind, RecordKind::kStatement);
    EXPECT_EQ(r[0].line, 2);
    EXPECT_FALSE(r[0].expect_error);
    EXPECT_EQ(r[0].sql, "CREATE TABLE t1(a INTEGER,\n  b INTEGER)");
    EXPECT_TRUE(r[1].expect_error);
    EXPECT_EQ(r[1].error_pattern, "");
    EXPECT_EQ(r[1].line, 8);
    EXPECT_EQ(r[2].error_pattern, "unique constraint");
    EXPECT_EQ(r[2].sql, "INSERT INTO t1 VALUES(1, 2)");
}

TEST(SltParseTest, StatementErrorWithMessageBlock) {
    std::vector<Record> r = ParseScript("statement error\nSELECT 1/0\n----\ndivision by zero\n");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].sql, "SELECT 1/0");
    EXPECT_EQ(r[0].error_pattern, "division by zero");
}

TEST(SltParseTest, BadStatementMode) {
    std::vector<Record> r = ParseScript("statement maybe\nSELECT 1\n\nstatement ok\nSELECT 2\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_FALSE(r[0].parse_error.empty());
    EXPECT_TRUE(r[1].parse_error.empty());
}

TEST(SltParseTest, QueryRecordWithCrlf) {
    std::vector<Record> r = ParseScript(
        "query IT rowsort label-7\r\n"
        "SELECT a, b\r\n"
        "  FROM t1\r\n"
        "----\r\n"
        "1\r\n"
        "x y\r\n"
        "\r\n"
        "query R nosort\r\n"
        "SELECT 1.5\r\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].kind, RecordKind::kQuery);
    EXPECT_EQ(r[0].types, "IT");
    EXPECT_EQ(r[0].sort, SortMode::kRowSort);
    EXPECT_EQ(r[0].label, "label-7");
    EXPECT_EQ(r[0].sql, "SELECT a, b\n  FROM t1");
    EXPECT_TRUE(r[0].has_expected);
    EXPECT_EQ(r[0].expected, (Strings{"1", "x y"}));
    EXPECT_EQ(r[1].line, 8);
    EXPECT_EQ(r[1].sort, SortMode::kNoSort);
    EXPECT_FALSE(r[1].has_expected);
    EXPECT_EQ(r[1].sql, "SELECT 1.5");
}

TEST(SltParseTest, QueryWithEmptyExpectedBlock) {
    std::vector<Record> r = ParseScript("query I\nSELECT 1 WHERE 0\n----\n\nquery I valuesort\nSELECT 2\n----\n2\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].sort, SortMode::kNoSort);
    EXPECT_TRUE(r[0].has_expected);
    EXPECT_TRUE(r[0].expected.empty());
    EXPECT_EQ(r[1].sort, SortMode::kValueSort);
    EXPECT_EQ(r[1].expected, Strings{"2"});
}

TEST(SltParseTest, MalformedQueryHeaders) {
    std::vector<Record> r = ParseScript("query\nSELECT 1\n\nquery IX\nSELECT 1\n\nquery I upsidedown\nSELECT 1\n");
    ASSERT_EQ(r.size(), 3u);
    for (const Record& rec : r) EXPECT_FALSE(rec.parse_error.empty()) << rec.line;
}

TEST(SltParseTest, ConditionsThresholdHaltAndUnknown) {
    std::vector<Record> r = ParseScript(
        "hash-threshold 8\n"
        "\n"
        "onlyif mssql  # this is allowed\n"
        "skipif mysql\n"
        "statement ok\n"
        "DELETE FROM t1\n"
        "\n"
        "loop i 0 10\n"
        "SELECT 1\n"
        "still part of the unknown record\n"
        "\n"
        "onlyif oracle\n"
        "halt\n"
        "\n"
        "halt\n");
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].kind, RecordKind::kHashThreshold);
    EXPECT_EQ(r[0].hash_threshold, 8);
    EXPECT_EQ(r[1].kind, RecordKind::kStatement);
    EXPECT_EQ(r[1].line, 5);
    ASSERT_EQ(r[1].conditions.size(), 2u);
    EXPECT_FALSE(r[1].conditions[0].skip_if);
    EXPECT_EQ(r[1].conditions[0].engine, "mssql");
    EXPECT_TRUE(r[1].conditions[1].skip_if);
    EXPECT_EQ(r[1].conditions[1].engine, "mysql");
    EXPECT_EQ(r[2].kind, RecordKind::kUnknown);
    EXPECT_EQ(r[2].command, "loop");
    EXPECT_EQ(r[3].kind, RecordKind::kHalt);
    EXPECT_EQ(r[3].conditions.size(), 1u);
    EXPECT_EQ(r[4].kind, RecordKind::kHalt);
    EXPECT_TRUE(r[4].conditions.empty());
}

TEST(SltParseTest, ShouldRun) {
    auto record = [](std::vector<Condition> c) {
        Record r;
        r.conditions = std::move(c);
        return r;
    };
    EXPECT_TRUE(ShouldRun(record({}), "surgedb"));
    EXPECT_FALSE(ShouldRun(record({{true, "surgedb"}}), "surgedb"));
    EXPECT_FALSE(ShouldRun(record({{true, "SurgeDB"}}), "surgedb"));
    EXPECT_TRUE(ShouldRun(record({{false, "surgedb"}}), "surgedb"));
    EXPECT_FALSE(ShouldRun(record({{false, "sqlite"}}), "surgedb"));
    EXPECT_TRUE(ShouldRun(record({{true, "mysql"}}), "surgedb"));
    EXPECT_FALSE(ShouldRun(record({{true, "mysql"}, {false, "mssql"}}), "surgedb"));
}

// ---- formatting ---------------------------------------------------------------------------------

TEST(SltFormatTest, Integer) {
    EXPECT_EQ(FormatValue(Value::Integer(42), 'I'), "42");
    EXPECT_EQ(FormatValue(Value::BigInt(-9000000000LL), 'I'), "-9000000000");
    EXPECT_EQ(FormatValue(Value::Float(2.9), 'I'), "2");
    EXPECT_EQ(FormatValue(Value::Float(-2.9), 'I'), "-2");
    EXPECT_EQ(FormatValue(Value::Dec(Decimal::Parse("-7.75")), 'I'), "-7");
    EXPECT_EQ(FormatValue(Value::Bool(true), 'I'), "1");
    EXPECT_EQ(FormatValue(Value::Varchar("12abc"), 'I'), "12");
    EXPECT_EQ(FormatValue(Value::Varchar("abc"), 'I'), "0");
    EXPECT_EQ(FormatValue(Value::Null(TypeId::kInteger), 'I'), "NULL");
    EXPECT_EQ(FormatValue(Value(), 'I'), "NULL");
}

TEST(SltFormatTest, Real) {
    EXPECT_EQ(FormatValue(Value::Float(1.5), 'R'), "1.500");
    EXPECT_EQ(FormatValue(Value::Float(-0.12345), 'R'), "-0.123");
    EXPECT_EQ(FormatValue(Value::Integer(7), 'R'), "7.000");
    EXPECT_EQ(FormatValue(Value::Dec(Decimal::Parse("2.5")), 'R'), "2.500");
    EXPECT_EQ(FormatValue(Value::Varchar("3.25x"), 'R'), "3.250");
    EXPECT_EQ(FormatValue(Value::Null(TypeId::kFloat), 'R'), "NULL");
    EXPECT_EQ(FormatValue(Value::Float(1e300), 'R').size(), 301u + 4u);  // no fixed-buffer truncation
}

TEST(SltFormatTest, Text) {
    EXPECT_EQ(FormatValue(Value::Varchar("hello world"), 'T'), "hello world");
    EXPECT_EQ(FormatValue(Value::Varchar(""), 'T'), "(empty)");
    EXPECT_EQ(FormatValue(Value::Varchar("a\tb\nc\x7f\xc3\xa9"), 'T'), "a@b@c@@@");
    EXPECT_EQ(FormatValue(Value::Integer(5), 'T'), "5");
    EXPECT_EQ(FormatValue(Value::Bool(false), 'T'), "0");
    EXPECT_EQ(FormatValue(Value::Null(TypeId::kVarchar), 'T'), "NULL");
    EXPECT_EQ(SanitizeText(""), "(empty)");
    EXPECT_EQ(SanitizeText("~ !"), "~ !");
}

// ---- sorting and hashing ------------------------------------------------------------------------

TEST(SltSortTest, RowSortComparesColumnByColumn) {
    // Concatenated, "abc" < "az" would put the second row first; the reference compares columns.
    Strings v{"ab", "c", "a", "z"};
    SortValues(SortMode::kRowSort, 2, &v);
    EXPECT_EQ(v, (Strings{"a", "z", "ab", "c"}));
}

TEST(SltSortTest, RowSortIsTextual) {
    Strings v{"10", "x", "9", "y", "10", "a"};
    SortValues(SortMode::kRowSort, 2, &v);
    EXPECT_EQ(v, (Strings{"10", "a", "10", "x", "9", "y"}));
}

TEST(SltSortTest, ValueSortAndNoSort) {
    Strings v{"b", "NULL", "a", "2"};
    Strings unsorted = v;
    SortValues(SortMode::kNoSort, 2, &unsorted);
    EXPECT_EQ(unsorted, v);
    SortValues(SortMode::kValueSort, 2, &v);
    EXPECT_EQ(v, (Strings{"2", "NULL", "a", "b"}));
}

TEST(SltHashTest, Md5OfValues) {
    EXPECT_EQ(HashValues({"1", "2"}), "6ddb4095eb719e2a9f0a3f95677d24e0");
    EXPECT_EQ(HashValues({}), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(HashLine({"1", "2"}), "2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0");
}

TEST(SltHashTest, ParseHashLine) {
    size_t n = 0;
    std::string h;
    ASSERT_TRUE(ParseHashLine("30 values hashing to 3C13DEE48D9356AE19AF2515E05E6B54", &n, &h));
    EXPECT_EQ(n, 30u);
    EXPECT_EQ(h, "3c13dee48d9356ae19af2515e05e6b54");
    EXPECT_TRUE(ParseHashLine("1 value hashing to 3c13dee48d9356ae19af2515e05e6b54", &n, &h));
    EXPECT_FALSE(ParseHashLine("x values hashing to 3c13dee48d9356ae19af2515e05e6b54", &n, &h));
    EXPECT_FALSE(ParseHashLine("3 values hashing to 3c13", &n, &h));
    EXPECT_FALSE(ParseHashLine("30", &n, &h));
}

// ---- comparing ----------------------------------------------------------------------------------

TEST(SltCompareTest, OneValuePerLine) {
    EXPECT_TRUE(CompareResult({"1", "a b"}, {"1", "a b"}, 2).match);
    Comparison c = CompareResult({"1", "2"}, {"1", "3"}, 1);
    EXPECT_FALSE(c.match);
    EXPECT_EQ(c.expected, "1\n2");
    EXPECT_EQ(c.actual, "1\n3");
    EXPECT_FALSE(CompareResult({"1", "2"}, {"1", "2", "3"}, 1).match);
    EXPECT_TRUE(CompareResult({}, {}, 1).match);
    EXPECT_FALSE(CompareResult({}, {"1"}, 1).match);
}

TEST(SltCompareTest, OneRowPerLine) {
    EXPECT_TRUE(CompareResult({"1 x", "2 y"}, {"1", "x", "2", "y"}, 2).match);
    Comparison c = CompareResult({"1 x", "2 y"}, {"1", "x", "2", "z"}, 2);
    EXPECT_FALSE(c.match);
    EXPECT_EQ(c.actual, "1 x\n2 z");
}

TEST(SltCompareTest, Hash) {
    const std::string line = "2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0";
    EXPECT_TRUE(CompareResult({line}, {"1", "2"}, 1).match);
    EXPECT_TRUE(CompareResult({line}, {"1", "2"}, 2).match);
    Comparison c = CompareResult({line}, {"2", "1"}, 1);
    EXPECT_FALSE(c.match);
    EXPECT_EQ(c.expected, line);
    EXPECT_EQ(c.actual.substr(0, 20), "2 values hashing to ");
    // Right hash, wrong count: the reference prints both, so both must agree.
    EXPECT_FALSE(CompareResult({"3 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"}, {"1", "2"}, 1).match);
}

TEST(SltCompareTest, TruncateLines) {
    EXPECT_EQ(TruncateLines("a\nb\nc", 5), "a\nb\nc");
    EXPECT_EQ(TruncateLines("a\nb\nc", 3), "a\nb\nc");
    EXPECT_EQ(TruncateLines("a\nb\nc", 1), "a\n... (2 more lines)");
    EXPECT_EQ(TruncateLines("a\nb\n", 1), "a\n... (1 more lines)");
    EXPECT_EQ(TruncateLines("", 0), "");
}

}  // namespace
}  // namespace surge::slt
