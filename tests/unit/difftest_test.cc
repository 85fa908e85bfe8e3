// Tests for surge-difftest's own logic (tools/difftest): how two engines' answers are judged
// (multisets, float tolerance, dialect skips), how one tree renders for each engine, that a seed
// generates the same SQL every time, and that the known SQLite bug shapes are recognized. The
// differential run itself is the sql_differential test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "difftest/backends.h"
#include "difftest/generator.h"
#include "difftest/known_bugs.h"
#include "difftest/sql_tree.h"
#include "types/value.h"

namespace surge::difftest {
namespace {

Outcome Rows(std::vector<std::vector<Value>> rows) {
    Outcome o;
    o.ok = true;
    o.columns = rows.empty() ? 1 : rows[0].size();
    o.rows = std::move(rows);
    return o;
}

Outcome Error(const std::string& sqlstate) {
    Outcome o;
    o.sqlstate = sqlstate;
    o.error = "ERROR " + sqlstate;
    return o;
}

// ---- judging ----------------------------------------------------------------------------------

TEST(DifftestJudgeTest, MultisetsMatchInAnyOrder) {
    Outcome a = Rows({{Value::BigInt(1)}, {Value::Varchar("x")}, {Value()}});
    Outcome b = Rows({{Value()}, {Value::BigInt(1)}, {Value::Varchar("x")}});
    EXPECT_EQ(Judge(a, b, false).verdict, Verdict::kMatch);
    EXPECT_EQ(Judge(a, b, true).verdict, Verdict::kFailed);  // ORDER BY over every column: order counts
}

TEST(DifftestJudgeTest, IntegersExactFloatsWithTolerance) {
    EXPECT_EQ(Judge(Rows({{Value::Integer(2)}}), Rows({{Value::BigInt(2)}}), false).verdict, Verdict::kMatch);
    EXPECT_EQ(Judge(Rows({{Value::BigInt(2)}}), Rows({{Value::BigInt(3)}}), false).verdict, Verdict::kFailed);
    EXPECT_EQ(Judge(Rows({{Value::Float(1.0 / 3)}}), Rows({{Value::Float(0.3333333333333)}}), false).verdict,
              Verdict::kMatch);
    EXPECT_EQ(Judge(Rows({{Value::Float(1.0)}}), Rows({{Value::Float(1.001)}}), false).verdict, Verdict::kFailed);
    // SQLite's integer 2 against SurgeDB's FLOAT 2.0, and SurgeDB's BOOLEAN against SQLite's 0/1.
    EXPECT_EQ(Judge(Rows({{Value::Float(2.0)}}), Rows({{Value::BigInt(2)}}), false).verdict, Verdict::kMatch);
    EXPECT_EQ(Judge(Rows({{Value::Bool(true)}}), Rows({{Value::BigInt(1)}}), false).verdict, Verdict::kMatch);
    // Strings are never numbers, NULL is only NULL.
    EXPECT_EQ(Judge(Rows({{Value::Varchar("1")}}), Rows({{Value::BigInt(1)}}), false).verdict, Verdict::kFailed);
    EXPECT_EQ(Judge(Rows({{Value()}}), Rows({{Value::BigInt(0)}}), false).verdict, Verdict::kFailed);
}

TEST(DifftestJudgeTest, FloatsThatSortApartStillMatch) {
    // -65.999999999997 equals -66 within the tolerance but sorts after the other -66 row.
    Outcome surge =
        Rows({{Value::Float(-66.0), Value::BigInt(15)}, {Value::Float(-65.999999999997), Value::BigInt(10)}});
    Outcome sqlite = Rows({{Value::Float(-66.0), Value::BigInt(10)}, {Value::Float(-66.0), Value::BigInt(15)}});
    EXPECT_EQ(Judge(surge, sqlite, false).verdict, Verdict::kMatch);
}

TEST(DifftestJudgeTest, RowCountsAndShapesDiffer) {
    Judgement j = Judge(Rows({{Value::BigInt(1)}}), Rows({{Value::BigInt(1)}, {Value::BigInt(1)}}), false);
    EXPECT_EQ(j.verdict, Verdict::kFailed);
    EXPECT_EQ(j.reason, "wrong result");
    Outcome dml_a, dml_b;
    dml_a.ok = dml_b.ok = true;
    dml_a.changes = 2;
    dml_b.changes = 3;
    EXPECT_EQ(Judge(dml_a, dml_b, false).reason, "wrong row count");
}

TEST(DifftestJudgeTest, DialectErrorsAreSkipsOtherErrorsFailures) {
    Outcome ok = Rows({{Value::BigInt(1)}});
    Judgement div = Judge(Error("22012"), ok, false);
    EXPECT_EQ(div.verdict, Verdict::kSkip);
    EXPECT_EQ(div.reason, "division-by-zero");
    for (const char* state : {"42804", "42803", "22001", "22003"}) {
        EXPECT_EQ(Judge(Error(state), ok, false).verdict, Verdict::kSkip) << state;
    }
    Judgement syntax = Judge(Error("42601"), ok, false);
    EXPECT_EQ(syntax.verdict, Verdict::kFailed);
    EXPECT_EQ(syntax.reason, "SurgeDB error 42601");
    EXPECT_EQ(Judge(ok, Error("SQLITE"), false).reason, "SQLite error");
    EXPECT_EQ(Judge(Error("42601"), Error("SQLITE"), false).reason, "both-failed");
}

// ---- rendering --------------------------------------------------------------------------------

TEST(DifftestRenderTest, SpellingPerEngineAndParentheses) {
    NodePtr len = MakeNode(Kind::kInt, {Text{"CHAR_LENGTH(", "length("}, MakeColumn(Kind::kStr, "r1.a"), ")"});
    NodePtr sum = MakeNode(Kind::kInt, {len, " + ", MakeLeaf(Kind::kInt, "-3")}, 6);
    EXPECT_EQ(Render(*sum, Dialect::kSurge), "((CHAR_LENGTH(r1.a)) + -3)");
    EXPECT_EQ(Render(*sum, Dialect::kSqlite), "((length(r1.a)) + -3)");
    sum->bare = true;
    EXPECT_EQ(Render(*sum, Dialect::kSurge), "(CHAR_LENGTH(r1.a)) + -3");
}

TEST(DifftestRenderTest, Select) {
    auto s = std::make_shared<Select>();
    s->types = {Kind::kInt, Kind::kStr};
    Core c;
    c.items = {MakeColumn(Kind::kInt, "r1.a"), MakeLeaf(Kind::kStr, "'x'")};
    c.from.push_back(FromItem{JoinType::kFirst, "t0", nullptr, "r1", nullptr});
    c.from.push_back(
        FromItem{JoinType::kLeft, "t1", nullptr, "r2",
                 MakeNode(Kind::kBool, {MakeColumn(Kind::kInt, "r1.a"), " = ", MakeColumn(Kind::kInt, "r2.a")})});
    s->cores.push_back(c);
    s->order = {OrderKey{2, true, 2}, OrderKey{1, false, 0}};
    s->limit = 3;
    s->offset = 1;
    EXPECT_TRUE(s->TotallyOrdered());
    EXPECT_EQ(Render(*s, Dialect::kSurge),
              "SELECT r1.a AS c0, 'x' AS c1 FROM t0 AS r1 LEFT JOIN t1 AS r2 ON (r1.a = r2.a) "
              "ORDER BY 2 DESC NULLS LAST, 1 LIMIT 3 OFFSET 1");
}

// ---- generation -------------------------------------------------------------------------------

TEST(DifftestGeneratorTest, SameSeedSameStatements) {
    FeatureSet features;
    auto run = [&](uint64_t seed) {
        Generator g(seed, features, true);
        Database db = g.GenDatabase();
        std::string text;
        for (const std::string& s : db.LoadScript()) text += s + ";\n";
        for (int i = 0; i < 20; i++) text += Render(*g.GenQuery(db), Dialect::kSurge) + ";\n";
        return text;
    };
    EXPECT_EQ(run(42), run(42));
    EXPECT_NE(run(42), run(43));
}

TEST(DifftestGeneratorTest, ExcludedFeaturesAreNotGenerated) {
    FeatureSet features;
    for (const char* f : {"join_inner", "join_left", "join_right", "join_full", "join_cross", "join_comma", "like"}) {
        features.Exclude(f);
    }
    Generator g(7, features, true);
    Database db = g.GenDatabase();
    for (int i = 0; i < 200; i++) {
        std::string sql = Render(*g.GenQuery(db), Dialect::kSurge);
        EXPECT_EQ(sql.find(" JOIN "), std::string::npos) << sql;
        EXPECT_EQ(sql.find(" LIKE "), std::string::npos) << sql;
    }
}

// ---- SQLite's known bugs ----------------------------------------------------------------------

TEST(DifftestKnownBugsTest, ConstantOnBeforeRightJoin) {
    auto make = [](NodePtr first_on) {
        Select s;
        s.types = {Kind::kInt};
        Core c;
        c.items = {MakeLeaf(Kind::kInt, "1")};
        c.from.push_back(FromItem{JoinType::kFirst, "t0", nullptr, "r1", nullptr});
        c.from.push_back(FromItem{JoinType::kInner, "t1", nullptr, "r2", first_on});
        c.from.push_back(FromItem{JoinType::kRight, "t1", nullptr, "r3", MakeLeaf(Kind::kBool, "NULL")});
        s.cores.push_back(c);
        return s;
    };
    EXPECT_TRUE(HitsKnownSqliteBug(make(MakeLeaf(Kind::kBool, "NULL"))));
    NodePtr equi = MakeNode(Kind::kBool, {MakeColumn(Kind::kInt, "r1.a"), " = ", MakeColumn(Kind::kInt, "r2.a")});
    EXPECT_FALSE(HitsKnownSqliteBug(make(equi)));
    // A constant conjunct is enough: SQLite moves it to the WHERE.
    EXPECT_TRUE(HitsKnownSqliteBug(make(MakeNode(Kind::kBool, {equi, " AND ", MakeLeaf(Kind::kBool, "NULL")}))));
    EXPECT_FALSE(HitsKnownSqliteBug(make(MakeNode(Kind::kBool, {equi, " OR ", MakeLeaf(Kind::kBool, "NULL")}))));
}

TEST(DifftestKnownBugsTest, DmlSubqueryReadingItsTable) {
    auto sub = std::make_shared<Select>();
    sub->types = {Kind::kInt};
    Core c;
    c.items = {MakeLeaf(Kind::kInt, "1")};
    c.from.push_back(FromItem{JoinType::kFirst, "t1", nullptr, "r1", nullptr});
    sub->cores.push_back(c);
    Dml d;
    d.table = "t1";
    d.where = MakeNode(Kind::kBool, {"EXISTS ", sub});
    EXPECT_TRUE(HitsKnownSqliteBug(d));
    d.table = "t0";
    EXPECT_FALSE(HitsKnownSqliteBug(d));
}

}  // namespace
}  // namespace surge::difftest
