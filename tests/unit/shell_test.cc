// surgesql's parts that need no server: statement splitting, exec arguments, output formats and
// tab completion. The commands themselves run against the real surged in
// tests/integration/test_shell.py.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "shell/args.h"
#include "shell/completion.h"
#include "shell/format.h"
#include "shell/script.h"

namespace surge::shell {
namespace {

using client::Value;

std::vector<Statement> Split(const std::vector<std::string>& lines, bool finish = true) {
    Splitter s;
    std::vector<Statement> out;
    for (const auto& l : lines) {
        for (auto& st : s.AddLine(l)) out.push_back(st);
    }
    if (finish) {
        if (auto last = s.Finish()) out.push_back(*last);
    }
    return out;
}

std::vector<std::string> Texts(const std::vector<Statement>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.text);
    return out;
}

TEST(SplitterTest, StatementsEndAtSemicolonsOutsideStringsAndComments) {
    auto st = Split({"SELECT 'a;b', \"x;y\" -- c;", "FROM t; SELECT 2;  /* ; */ SELECT", "3;"});
    EXPECT_EQ(Texts(st),
              (std::vector<std::string>{"SELECT 'a;b', \"x;y\" -- c;\nFROM t", "SELECT 2", "/* ; */ SELECT\n3"}));
    EXPECT_EQ(st[0].line, 1);
    EXPECT_EQ(st[1].line, 2);
    EXPECT_EQ(st[2].line, 2);
}

TEST(SplitterTest, PendingUntilTheStatementEnds) {
    Splitter s;
    EXPECT_TRUE(s.AddLine("SELECT 1,").empty());
    EXPECT_TRUE(s.has_pending());
    EXPECT_TRUE(s.AddLine("  'it''s; fine'").empty());
    auto st = s.AddLine("  ;");
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].text, "SELECT 1,\n  'it''s; fine'");
    EXPECT_EQ(st[0].line, 1);
    EXPECT_FALSE(s.has_pending());
    EXPECT_EQ(s.line(), 3);
}

TEST(SplitterTest, CommentsAndBlankLinesAreNotStatements) {
    Splitter s;
    EXPECT_TRUE(s.AddLine("-- a comment").empty());
    EXPECT_TRUE(s.AddLine("   ").empty());
    EXPECT_TRUE(s.AddLine(";;").empty());
    EXPECT_FALSE(s.has_pending());
    EXPECT_FALSE(s.Finish().has_value());
}

TEST(SplitterTest, ShellCommandsEndAtTheLineOrASemicolon) {
    auto st = Split({"show tables", "DESCRIBE votes;", "show views; SELECT 1;", "set output csv  ;"});
    EXPECT_EQ(Texts(st),
              (std::vector<std::string>{"show tables", "DESCRIBE votes", "show views", "SELECT 1", "set output csv"}));
    EXPECT_EQ(st[3].line, 3);
    // Only at the start of a statement: inside one, "show" is just a word.
    st = Split({"SELECT a,", "show", "FROM t;"});
    EXPECT_EQ(Texts(st), (std::vector<std::string>{"SELECT a,\nshow\nFROM t"}));
}

TEST(SplitterTest, ExecAndExplainEndAtSemicolons) {
    auto st = Split({"exec Vote 5551234567,", "  'MA', 2;", "explain SELECT *", "FROM t;"});
    EXPECT_EQ(Texts(st), (std::vector<std::string>{"exec Vote 5551234567,\n  'MA', 2", "explain SELECT *\nFROM t"}));
}

TEST(SplitterTest, FinishReturnsTheUnfinishedStatement) {
    auto st = Split({"SELECT 1;", "SELECT 2"});
    EXPECT_EQ(Texts(st), (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
    EXPECT_EQ(st[1].line, 2);
    st = Split({"SELECT 'unterminated;"});
    EXPECT_EQ(Texts(st), (std::vector<std::string>{"SELECT 'unterminated;"}));
    Splitter s;
    s.AddLine("SELECT 1,");
    s.Reset();
    EXPECT_FALSE(s.has_pending());
    EXPECT_EQ(s.AddLine("SELECT 2;").at(0).text, "SELECT 2");
}

TEST(SplitterTest, FirstWordSkipsCommentsAndKeepsProcedureNames) {
    EXPECT_EQ(FirstWord("  -- hi\n /* x */ exec votes.insert 1"), "exec");
    EXPECT_EQ(FirstWord("@AdHoc"), "@AdHoc");
    EXPECT_EQ(AfterFirstWord("-- exec this\nexec  Vote 1, 2 "), "Vote 1, 2");
    EXPECT_EQ(AfterFirstWord("quit"), "");
    EXPECT_TRUE(IsLineCommand("SHOW"));
    EXPECT_FALSE(IsLineCommand("exec"));
    EXPECT_FALSE(IsLineCommand("select"));
}

TEST(ArgumentsTest, TypedByHowTheyAreWritten) {
    std::string error;
    auto args = ParseArguments(
        "'it''s', NULL 42 -7 1.50 -.5 2e3 TRUE false TIMESTAMP '2026-11-25 10:00:01.5' x'0aFF' '' 99999999999999999999",
        &error);
    ASSERT_TRUE(args) << error;
    ASSERT_EQ(args->size(), 13u);
    EXPECT_EQ((*args)[0], Value("it's"));
    EXPECT_TRUE((*args)[1].is_null());
    EXPECT_EQ((*args)[2], Value(int64_t{42}));
    EXPECT_EQ((*args)[3], Value(int64_t{-7}));
    EXPECT_EQ((*args)[4], Value::Decimal("1.50"));
    EXPECT_EQ((*args)[5], Value::Decimal("-0.5"));
    EXPECT_EQ((*args)[6], Value(2000.0));
    EXPECT_EQ((*args)[7], Value::Boolean(true));
    EXPECT_EQ((*args)[8], Value::Boolean(false));
    EXPECT_EQ((*args)[9], Value::Timestamp(1795600801500000));
    EXPECT_EQ((*args)[10], Value::Bytes(std::string("\x0a\xff", 2)));
    EXPECT_EQ((*args)[11], Value(""));
    EXPECT_EQ((*args)[12], Value::Decimal("99999999999999999999"));
}

TEST(ArgumentsTest, MalformedArgumentsSayWhichAndWhy) {
    std::string error;
    EXPECT_FALSE(ParseArguments("1 abc", &error));
    EXPECT_EQ(error,
              "argument 2: \"abc\" is not a number, NULL, TRUE/FALSE, TIMESTAMP '...' or X'...'; quote strings: 'abc'");
    EXPECT_FALSE(ParseArguments("'open", &error));
    EXPECT_EQ(error, "argument 1: unterminated string (end it with ')");
    EXPECT_FALSE(ParseArguments("TIMESTAMP '2026-02-29'", &error));
    EXPECT_NE(error.find("is not YYYY-MM-DD"), std::string::npos);
    EXPECT_FALSE(ParseArguments("X'ABC'", &error));
    EXPECT_NE(error.find("odd number of hex digits"), std::string::npos);
    EXPECT_FALSE(ParseArguments("1e", &error));
    auto none = ParseArguments("  ", &error);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(ArgumentsTest, Timestamps) {
    EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
    EXPECT_EQ(ParseTimestamp("1969-12-31 23:59:59"), -1000000);
    EXPECT_EQ(ParseTimestamp("2000-02-29T12:00"), 951825600000000);
    EXPECT_EQ(ParseTimestamp("2026-11-25 10:00:00.000001"), 1795600800000001);
    EXPECT_FALSE(ParseTimestamp("2026-13-01"));
    EXPECT_FALSE(ParseTimestamp("2026-01-01 24:00"));
    EXPECT_FALSE(ParseTimestamp("2026-01-01 10:00:00.1234567"));
    EXPECT_FALSE(ParseTimestamp("yesterday"));
    EXPECT_EQ(SplitProcedureName("  votes.insert 1, 'a'"),
              (std::pair<std::string, std::string>{"votes.insert", "1, 'a'"}));
    EXPECT_EQ(SplitProcedureName("Ping"), (std::pair<std::string, std::string>{"Ping", ""}));
}

client::Table MakeTable(std::vector<std::string> names, std::vector<std::string> types, std::vector<Value> cells) {
    client::Table t;
    t.column_names = std::move(names);
    t.column_types = std::move(types);
    t.cells = std::move(cells);
    return t;
}

TEST(FormatTest, DisplayWidthAndClipping) {
    EXPECT_EQ(DisplayWidth("abc"), 3u);
    EXPECT_EQ(DisplayWidth("日本語"), 6u);
    EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);  // e + combining acute
    EXPECT_EQ(DisplayWidth("\xFF"), 1u);       // invalid UTF-8: one column a byte
    EXPECT_EQ(Clip("abcdef", 4), "abc…");
    EXPECT_EQ(Clip("abcd", 4), "abcd");
    EXPECT_EQ(Clip("日本語", 4), "日…");
    EXPECT_EQ(CellText(Value("a\tb\nc\x01")), "a\\tb\\nc\\x01");
}

TEST(FormatTest, AlignedTableByDisplayWidthNumbersRight) {
    auto t = MakeTable({"id", "name"}, {"BIGINT", "VARCHAR"},
                       {Value(int64_t{1}), Value("日本"), Value(int64_t{100}), Value::Null()});
    std::ostringstream out;
    WriteAligned(t, 0, out);
    EXPECT_EQ(out.str(),
              " id  | name\n"
              "-----+------\n"
              "   1 | 日本\n"
              " 100 | NULL\n");
    auto wide = MakeTable({"v"}, {"VARCHAR"}, {Value("a long value")});
    std::ostringstream clipped;
    WriteAligned(wide, 6, clipped);
    EXPECT_EQ(clipped.str(), " v\n--------\n a lon…\n");
}

TEST(FormatTest, CsvTsvJson) {
    auto t = MakeTable(
        {"a", "b", "c"}, {"VARCHAR", "DECIMAL", "FLOAT"},
        {Value("x,\"y\""), Value::Decimal("1.50"), Value(0.25), Value(""), Value::Null(), Value(std::nan(""))});
    std::ostringstream csv, tsv, json;
    WriteCsv(t, csv);
    EXPECT_EQ(csv.str(), "a,b,c\n\"x,\"\"y\"\"\",1.50,0.25\n\"\",,nan\n");
    auto esc = MakeTable({"s"}, {"VARCHAR"}, {Value("tab\there\\"), Value::Null()});
    WriteTsv(esc, tsv);
    EXPECT_EQ(tsv.str(), "s\ntab\\there\\\\\n\\N\n");
    WriteJson(t, json);
    EXPECT_EQ(json.str(),
              "[\n{\"a\":\"x,\\\"y\\\"\",\"b\":1.50,\"c\":0.25},\n{\"a\":\"\",\"b\":null,\"c\":\"nan\"}\n]\n");
    std::ostringstream empty;
    WriteJson(MakeTable({"a"}, {"INTEGER"}, {}), empty);
    EXPECT_EQ(empty.str(), "[]\n");
    std::ostringstream controls;
    WriteJson(MakeTable({"s"}, {"VARCHAR"}, {Value("a\"b\\c\nd\x01")}), controls);
    EXPECT_EQ(controls.str(), "[\n{\"s\":\"a\\\"b\\\\c\\nd\\u0001\"}\n]\n");
    EXPECT_EQ(ParseOutputFormat("JSON"), OutputFormat::kJson);
    EXPECT_FALSE(ParseOutputFormat("xml"));
}

CatalogNames Names() {
    CatalogNames n;
    n.relations = {"votes", "contestants", "votes_by_state"};
    n.columns = {{"votes", "phone"}, {"votes", "state"}, {"contestants", "contestant_name"}, {"votes_by_state", "n"}};
    n.procedures = {"Vote", "votes.insert", "votes.select", "@AdHoc"};
    return n;
}

TEST(CompletionTest, ByContext) {
    const CatalogNames n = Names();
    EXPECT_EQ(Complete(n, "", "sel").words, (std::vector<std::string>{"select"}));
    EXPECT_EQ(Complete(n, "", "SH").words, (std::vector<std::string>{"SHOW"}));
    EXPECT_EQ(Complete(n, "exec ", "vo").words, (std::vector<std::string>{"Vote", "votes.insert", "votes.select"}));
    EXPECT_EQ(Complete(n, "exec ", "@a").words, (std::vector<std::string>{"@AdHoc"}));
    EXPECT_EQ(Complete(n, "describe ", "v").words, (std::vector<std::string>{"votes", "votes_by_state"}));
    EXPECT_EQ(Complete(n, "show ", "p").words, (std::vector<std::string>{"partitions", "procedures"}));
    EXPECT_EQ(Complete(n, "set output ", "").words, (std::vector<std::string>{"csv", "json", "table", "tsv"}));
    EXPECT_EQ(Complete(n, "SELECT * FROM ", "c").words, (std::vector<std::string>{"contestants"}));
    EXPECT_EQ(Complete(n, "SELECT * FROM votes v\nJOIN contestants c ON v.", "c.").words,
              (std::vector<std::string>{"c.contestant_name"}));
    EXPECT_EQ(Complete(n, "SELECT ", "votes.s").words, (std::vector<std::string>{"votes.state"}));
    // Columns of the relations the statement names (here votes), keywords and functions.
    EXPECT_EQ(
        Complete(n, "SELECT * FROM votes WHERE ", "s").words,
        (std::vector<std::string>{"select", "set", "since_epoch", "smallint", "sqrt", "state", "substring", "sum"}));
    EXPECT_EQ(Complete(n, "SELECT * FROM votes WHERE ", "PH").words, (std::vector<std::string>{"phone"}));
    EXPECT_TRUE(Complete(n, "file ", "").filenames);
    EXPECT_TRUE(Complete(n, "show tables ", "").words.empty());
}

}  // namespace
}  // namespace surge::shell
