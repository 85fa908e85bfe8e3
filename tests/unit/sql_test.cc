// Tests for sql/: the tokenizer and parser. Syntax errors name line:column and the token; comments,
// parameters, quoted identifiers and literals decode as documented; several statements parse with
// their own text; and the nesting limit (kMaxNestingDepth): deeper statements of every shape fail
// quickly with kLimitExceeded, and statements within the limit parse (DISABLED_ tests mark the
// shapes that do not yet).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"
#include "sql/parser.h"

namespace surge::sql {
namespace {

// ---- helpers ------------------------------------------------------------------------------------

/// The Status a Parse of `sql` ends with (OK if it parses).
Status ParseStatus(std::string_view sql) {
    try {
        ParseResult r = Parse(sql);
        return Status::Ok();
    } catch (const SqlError& e) {
        return e.status();
    }
}

ParseResult MustParse(std::string_view sql) {
    try {
        return Parse(sql);
    } catch (const SqlError& e) {
        ADD_FAILURE() << "parse of [" << sql.substr(0, 200) << "] failed: " << e.status().ToString();
        return {};
    }
}

/// The single SELECT of `sql`.
const SelectStmt* OneSelect(const ParseResult& r) {
    if (r.statements.size() != 1 || r.statements[0]->kind != StmtKind::kSelect) return nullptr;
    return static_cast<const SelectStatement*>(r.statements[0])->select;
}

/// The first select-list expression of the single SELECT of r.
const Expr* FirstItem(const ParseResult& r) {
    const SelectStmt* s = OneSelect(r);
    if (!s || s->items.empty()) return nullptr;
    return s->items[0].expr;
}

std::string Repeat(std::string_view s, int n) {
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

/// SELECT 1+1+...+1 with `terms` literals (a left-deep tree of depth `terms`).
std::string SumOfOnes(int terms) {
    std::string s = "SELECT 1";
    for (int i = 1; i < terms; ++i) s += "+1";
    return s;
}

double Seconds(const std::function<void()>& f) {
    auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- syntax errors ------------------------------------------------------------------------------

TEST(ParserTest, SyntaxErrorNamesLineColumnAndToken) {
    Status s = ParseStatus("SELECT * FORM t");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("syntax error at 1:10 near \"FORM\""), std::string::npos) << s.message();
}

TEST(ParserTest, SyntaxErrorPositionCountsLines) {
    Status s = ParseStatus("SELECT a,\n       b\n  FROM t\n WHERE a = = 1");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("at 4:12 near \"=\""), std::string::npos) << s.message();
}

TEST(ParserTest, SyntaxErrorAfterMultiLineCommentAndString) {
    // Lines inside comments and strings count too.
    Status s = ParseStatus("/* one\ntwo\n*/ SELECT 'a\nb' FROM WHERE");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("at 4:9 near \"WHERE\""), std::string::npos) << s.message();
}

TEST(ParserTest, SyntaxErrorInSecondStatement) {
    Status s = ParseStatus("SELECT 1;\nSELECT 2 3");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("at 2:10 near \"3\""), std::string::npos) << s.message();
}

TEST(ParserTest, UnexpectedEndOfInput) {
    for (const char* sql : {"SELECT 1 +", "SELECT * FROM", "INSERT INTO t VALUES (1", "SELECT (1"}) {
        Status s = ParseStatus(sql);
        EXPECT_EQ(s.code(), ErrorCode::kSyntaxError) << sql;
        EXPECT_NE(s.message().find("end of input"), std::string::npos) << sql << ": " << s.message();
    }
}

TEST(ParserTest, IllegalAndUnterminatedTokens) {
    Status s = ParseStatus("SELECT 1 # 2");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("1:10"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("\"#\""), std::string::npos) << s.message();

    s = ParseStatus("SELECT 12abc");
    EXPECT_EQ(s.code(), ErrorCode::kSyntaxError);
    EXPECT_NE(s.message().find("12abc"), std::string::npos) << s.message();

    for (const char* sql : {"SELECT 'abc", "SELECT \"abc", "SELECT 1 /* never closed", "SELECT [abc"}) {
        s = ParseStatus(sql);
        EXPECT_EQ(s.code(), ErrorCode::kSyntaxError) << sql;
        EXPECT_NE(s.message().find("unterminated"), std::string::npos) << sql << ": " << s.message();
    }
}

TEST(ParserTest, EmptyInputHasNoStatements) {
    for (const char* sql : {"", "   \n\t ", ";", ";;  ;", "-- only a comment", "/* only */ -- comments\n"}) {
        ParseResult r = MustParse(sql);
        EXPECT_TRUE(r.statements.empty()) << sql;
    }
}

TEST(ParserTest, StatementTooLongIsLimitExceeded) {
    std::string sql = "SELECT 1 " + std::string(kMaxStatementLength, ' ');
    EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded);
    std::string ok = "SELECT 1" + std::string(kMaxStatementLength - 8, ' ');
    EXPECT_TRUE(ParseStatus(ok).ok());
}

// ---- comments -----------------------------------------------------------------------------------

TEST(ParserTest, LineAndBlockComments) {
    ParseResult r = MustParse("SELECT /* block\n comment */ 1 -- line comment\n + 2 -- trailing");
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ExprKind::kBinary);
    EXPECT_EQ(e->binary_op, BinaryOp::kAdd);
    EXPECT_EQ(e->args[0]->literal.AsInt(), 1);
    EXPECT_EQ(e->args[1]->literal.AsInt(), 2);
}

TEST(ParserTest, CommentsHideSemicolonsAndKeywords) {
    ParseResult r = MustParse("SELECT 1 /* ; SELECT 9; */; -- SELECT 8;\nSELECT 2 /* FROM */");
    ASSERT_EQ(r.statements.size(), 2u);
    const auto* s1 = static_cast<const SelectStatement*>(r.statements[0])->select;
    const auto* s2 = static_cast<const SelectStatement*>(r.statements[1])->select;
    EXPECT_EQ(s1->items[0].expr->literal.AsInt(), 1);
    EXPECT_EQ(s2->items[0].expr->literal.AsInt(), 2);
    EXPECT_TRUE(s2->from.empty());
}

TEST(ParserTest, MinusMinusIsACommentButMinusIsNot) {
    ParseResult r = MustParse("SELECT 5 - -3");
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ExprKind::kBinary);
    EXPECT_EQ(e->binary_op, BinaryOp::kSub);
    EXPECT_EQ(e->args[1]->literal.AsInt(), -3);

    r = MustParse("SELECT 5 --3\n");
    e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ExprKind::kLiteral);
    EXPECT_EQ(e->literal.AsInt(), 5);
}

TEST(ParserTest, CommentMarkersInsideStringsAreText) {
    ParseResult r = MustParse("SELECT '-- not a comment /* nor this */'");
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->literal.AsString(), "-- not a comment /* nor this */");
}

// ---- parameters ---------------------------------------------------------------------------------

TEST(ParserTest, ParametersAreNumberedInOrder) {
    ParseResult r = MustParse("SELECT ?, a FROM t WHERE b = ? AND c BETWEEN ? AND ?");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->kind, ExprKind::kParam);
    EXPECT_EQ(s->items[0].expr->param_index, 0);
    const Expr* w = s->where;  // (b = ?) AND (c BETWEEN ? AND ?)
    ASSERT_EQ(w->kind, ExprKind::kBinary);
    EXPECT_EQ(w->args[0]->args[1]->param_index, 1);
    const Expr* between = w->args[1];
    ASSERT_EQ(between->kind, ExprKind::kBetween);
    EXPECT_EQ(between->args[1]->param_index, 2);
    EXPECT_EQ(between->args[2]->param_index, 3);
}

TEST(ParserTest, ParameterNumberingRestartsPerStatement) {
    ParseResult r = MustParse("INSERT INTO t VALUES (?, ?); UPDATE t SET a = ? WHERE b = ?");
    ASSERT_EQ(r.statements.size(), 2u);
    const auto* ins = static_cast<const InsertStatement*>(r.statements[0]);
    ASSERT_EQ(ins->rows.size(), 1u);
    EXPECT_EQ(ins->rows[0][0]->param_index, 0);
    EXPECT_EQ(ins->rows[0][1]->param_index, 1);
    const auto* upd = static_cast<const UpdateStatement*>(r.statements[1]);
    EXPECT_EQ(upd->assignments[0].second->param_index, 0);
    EXPECT_EQ(upd->where->args[1]->param_index, 1);
}

TEST(ParserTest, ParametersInsideSubqueriesContinueTheCount) {
    ParseResult r = MustParse("SELECT ? FROM t WHERE a IN (SELECT b FROM u WHERE c = ?) AND d = ?");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->param_index, 0);
    const Expr* in = s->where->args[0];
    ASSERT_EQ(in->kind, ExprKind::kInSubquery);
    EXPECT_EQ(in->subquery->where->args[1]->param_index, 1);
    EXPECT_EQ(s->where->args[1]->args[1]->param_index, 2);
}

// ---- identifiers --------------------------------------------------------------------------------

TEST(ParserTest, UnquotedIdentifiersFoldToLowerCase) {
    ParseResult r = MustParse("SELECT MyCol, T.OtherCol FROM MyTable AS T");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->name, "mycol");
    EXPECT_EQ(s->items[1].expr->table, "t");
    EXPECT_EQ(s->items[1].expr->name, "othercol");
    ASSERT_EQ(s->from.size(), 1u);
    EXPECT_EQ(s->from[0]->name, "mytable");
    EXPECT_EQ(s->from[0]->alias, "t");
}

TEST(ParserTest, QuotedIdentifiersKeepCaseAndDecodeEscapes) {
    ParseResult r =
        MustParse("SELECT \"MixedCase\", \"say \"\"hi\"\"\", `Back``tick`, [Br acket] FROM \"Weird Table\"");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->items.size(), 4u);
    EXPECT_EQ(s->items[0].expr->kind, ExprKind::kColumnRef);
    EXPECT_EQ(s->items[0].expr->name, "MixedCase");
    EXPECT_EQ(s->items[1].expr->name, "say \"hi\"");
    EXPECT_EQ(s->items[2].expr->name, "Back`tick");
    EXPECT_EQ(s->items[3].expr->name, "Br acket");
    EXPECT_EQ(s->from[0]->name, "Weird Table");
}

TEST(ParserTest, QuotedKeywordIsAnIdentifier) {
    ParseResult r = MustParse("SELECT \"select\", \"from\" FROM \"where\"");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->name, "select");
    EXPECT_EQ(s->items[1].expr->name, "from");
    EXPECT_EQ(s->from[0]->name, "where");
    EXPECT_FALSE(ParseStatus("SELECT select FROM t").ok());
}

TEST(ParserTest, NonReservedKeywordsServeAsIdentifiers) {
    ParseResult r = MustParse("SELECT key, hash, first FROM view");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->name, "key");
    EXPECT_EQ(s->items[1].expr->name, "hash");
    EXPECT_EQ(s->items[2].expr->name, "first");
    EXPECT_EQ(s->from[0]->name, "view");
}

TEST(ParserTest, AliasesFold) {
    ParseResult r = MustParse("SELECT a AS Alpha, b Beta, c \"Gamma\" FROM t");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].alias, "alpha");
    EXPECT_EQ(s->items[1].alias, "beta");
    EXPECT_EQ(s->items[2].alias, "Gamma");
}

// ---- literals -----------------------------------------------------------------------------------

TEST(ParserTest, StringLiteralsDecodeDoubledQuotes) {
    ParseResult r = MustParse("SELECT 'it''s', '', '''', 'a\"b'");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->items.size(), 4u);
    EXPECT_EQ(s->items[0].expr->literal.type(), TypeId::kVarchar);
    EXPECT_EQ(s->items[0].expr->literal.AsString(), "it's");
    EXPECT_EQ(s->items[1].expr->literal.AsString(), "");
    EXPECT_FALSE(s->items[1].expr->literal.is_null());
    EXPECT_EQ(s->items[2].expr->literal.AsString(), "'");
    EXPECT_EQ(s->items[3].expr->literal.AsString(), "a\"b");
}

TEST(ParserTest, BinaryLiterals) {
    ParseResult r = MustParse("SELECT x'0AFF', X'00', x''");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->items.size(), 3u);
    EXPECT_EQ(s->items[0].expr->literal.type(), TypeId::kVarbinary);
    EXPECT_EQ(s->items[0].expr->literal.AsString(), std::string("\x0a\xff", 2));
    EXPECT_EQ(s->items[1].expr->literal.AsString(), std::string("\0", 1));
    EXPECT_EQ(s->items[2].expr->literal.type(), TypeId::kVarbinary);
    EXPECT_EQ(s->items[2].expr->literal.AsString(), "");
    // Odd digit counts and non-hex digits are not binary literals.
    EXPECT_EQ(ParseStatus("SELECT x'ABC'").code(), ErrorCode::kSyntaxError);
    EXPECT_EQ(ParseStatus("SELECT x'GG'").code(), ErrorCode::kSyntaxError);
    EXPECT_EQ(ParseStatus("SELECT x'AB").code(), ErrorCode::kSyntaxError);
}

TEST(ParserTest, NumericLiteralTypes) {
    ParseResult r =
        MustParse("SELECT 7, 2147483648, -2147483648, -9223372036854775808, 1.5, 1e3, .5, 99999999999999999999");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(s->items.size(), 8u);
    EXPECT_EQ(s->items[0].expr->literal.type(), TypeId::kInteger);
    EXPECT_EQ(s->items[1].expr->literal.type(), TypeId::kBigInt);
    EXPECT_EQ(s->items[1].expr->literal.AsInt(), 2147483648LL);
    EXPECT_EQ(s->items[2].expr->literal.type(), TypeId::kInteger);
    EXPECT_EQ(s->items[2].expr->literal.AsInt(), -2147483648LL);
    EXPECT_EQ(s->items[3].expr->literal.type(), TypeId::kBigInt);
    EXPECT_EQ(s->items[3].expr->literal.AsInt(), INT64_MIN);
    EXPECT_EQ(s->items[4].expr->literal.type(), TypeId::kDecimal);
    EXPECT_EQ(s->items[5].expr->literal.type(), TypeId::kFloat);
    EXPECT_DOUBLE_EQ(s->items[5].expr->literal.AsDouble(), 1000.0);
    EXPECT_EQ(s->items[6].expr->literal.type(), TypeId::kDecimal);
    EXPECT_EQ(s->items[7].expr->literal.type(), TypeId::kDecimal);
}

TEST(ParserTest, BooleanAndNullLiterals) {
    ParseResult r = MustParse("SELECT TRUE, false, NULL");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->literal.type(), TypeId::kBoolean);
    EXPECT_TRUE(s->items[0].expr->literal.AsBool());
    EXPECT_FALSE(s->items[1].expr->literal.AsBool());
    EXPECT_TRUE(s->items[2].expr->literal.is_null());
}

// ---- statements ---------------------------------------------------------------------------------

TEST(ParserTest, MultipleStatementsKeepTheirOwnText) {
    ParseResult r = MustParse(
        "CREATE TABLE t (a INTEGER);\n  INSERT INTO t VALUES (1) ;SELECT * FROM t   ;\n DELETE FROM t WHERE a = 1");
    ASSERT_EQ(r.statements.size(), 4u);
    EXPECT_EQ(r.statements[0]->kind, StmtKind::kCreateTable);
    EXPECT_EQ(r.statements[1]->kind, StmtKind::kInsert);
    EXPECT_EQ(r.statements[2]->kind, StmtKind::kSelect);
    EXPECT_EQ(r.statements[3]->kind, StmtKind::kDelete);
    EXPECT_EQ(r.statements[0]->text, "CREATE TABLE t (a INTEGER)");
    EXPECT_EQ(r.statements[1]->text, "INSERT INTO t VALUES (1)");
    EXPECT_EQ(r.statements[2]->text, "SELECT * FROM t");
    EXPECT_EQ(r.statements[3]->text, "DELETE FROM t WHERE a = 1");
}

TEST(ParserTest, StatementsNeedSeparators) {
    EXPECT_EQ(ParseStatus("SELECT 1 SELECT 2").code(), ErrorCode::kSyntaxError);
}

TEST(ParserTest, StatementKinds) {
    struct Case {
        const char* sql;
        StmtKind kind;
    };
    const Case cases[] = {
        {"UPSERT INTO t VALUES (1, 2)", StmtKind::kInsert},
        {"UPDATE t SET a = 1", StmtKind::kUpdate},
        {"TRUNCATE TABLE t", StmtKind::kTruncate},
        {"CREATE TABLE IF NOT EXISTS t (a INT PRIMARY KEY, b VARCHAR(10) NOT NULL DEFAULT 'x')",
         StmtKind::kCreateTable},
        {"DROP TABLE IF EXISTS t", StmtKind::kDropTable},
        {"DROP VIEW v", StmtKind::kDropTable},
        {"ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 3 NOT NULL", StmtKind::kAlterTable},
        {"ALTER TABLE t DROP c", StmtKind::kAlterTable},
        {"CREATE UNIQUE INDEX i ON t (a, b + 1) USING HASH", StmtKind::kCreateIndex},
        {"DROP INDEX IF EXISTS i", StmtKind::kDropIndex},
        {"PARTITION TABLE t ON COLUMN a", StmtKind::kPartitionTable},
        {"CREATE VIEW v (g, n) AS SELECT a, COUNT(*) FROM t GROUP BY a", StmtKind::kCreateView},
        {"CREATE PROCEDURE p AS SELECT * FROM t WHERE a = ?", StmtKind::kCreateProcedure},
        {"DROP PROCEDURE p", StmtKind::kDropProcedure},
        {"EXPLAIN SELECT * FROM t", StmtKind::kExplain},
    };
    for (const auto& c : cases) {
        ParseResult r = MustParse(c.sql);
        ASSERT_EQ(r.statements.size(), 1u) << c.sql;
        EXPECT_EQ(r.statements[0]->kind, c.kind) << c.sql;
    }
    ParseResult r = MustParse("UPSERT INTO t VALUES (1, 2)");
    EXPECT_TRUE(static_cast<const InsertStatement*>(r.statements[0])->upsert);
    r = MustParse("ALTER TABLE t DROP COLUMN c");
    EXPECT_FALSE(static_cast<const AlterTableStatement*>(r.statements[0])->add);
    EXPECT_EQ(static_cast<const AlterTableStatement*>(r.statements[0])->drop_column, "c");
}

TEST(ParserTest, ProcedureBodyTextIsTheInnerStatement) {
    ParseResult r = MustParse("CREATE PROCEDURE Get_It AS\n   SELECT * FROM t WHERE a = ? ;");
    ASSERT_EQ(r.statements.size(), 1u);
    const auto* p = static_cast<const CreateProcedureStatement*>(r.statements[0]);
    EXPECT_EQ(p->name, "get_it");
    ASSERT_NE(p->body, nullptr);
    EXPECT_EQ(p->body->kind, StmtKind::kSelect);
    EXPECT_EQ(p->body->text, "SELECT * FROM t WHERE a = ?");
}

TEST(ParserTest, CreateTableColumnsAndConstraints) {
    ParseResult r = MustParse(
        "CREATE TABLE Orders (id BIGINT NOT NULL, name VARCHAR(20) DEFAULT 'n/a', amount DECIMAL(38,12), "
        "note VARCHAR, CONSTRAINT pk PRIMARY KEY (id), UNIQUE (name))");
    ASSERT_EQ(r.statements.size(), 1u);
    const auto* c = static_cast<const CreateTableStatement*>(r.statements[0]);
    EXPECT_EQ(c->name, "orders");
    ASSERT_EQ(c->columns.size(), 4u);
    EXPECT_TRUE(c->columns[0].not_null);
    EXPECT_EQ(c->columns[0].type.id, TypeId::kBigInt);
    EXPECT_EQ(c->columns[1].type.id, TypeId::kVarchar);
    EXPECT_EQ(c->columns[1].type.length, 20u);
    ASSERT_NE(c->columns[1].default_value, nullptr);
    EXPECT_EQ(c->columns[1].default_value->literal.AsString(), "n/a");
    EXPECT_EQ(c->columns[2].type.id, TypeId::kDecimal);
    EXPECT_EQ(c->columns[3].type.length, kDefaultVarLength);
    ASSERT_EQ(c->constraints.size(), 2u);
    EXPECT_EQ(c->constraints[0].kind, TableConstraint::Kind::kPrimaryKey);
    EXPECT_EQ(c->constraints[0].name, "pk");
    EXPECT_EQ(c->constraints[1].kind, TableConstraint::Kind::kUnique);
    EXPECT_EQ(c->constraints[1].columns, std::vector<std::string>{"name"});
}

TEST(ParserTest, BadTypes) {
    EXPECT_EQ(ParseStatus("CREATE TABLE t (a WIDGET)").code(), ErrorCode::kSyntaxError);
    EXPECT_EQ(ParseStatus("CREATE TABLE t (a DECIMAL(10,2))").code(), ErrorCode::kFeatureNotSupported);
    EXPECT_EQ(ParseStatus("CREATE TABLE t (a BOOLEAN)").code(), ErrorCode::kFeatureNotSupported);
    EXPECT_EQ(ParseStatus("CREATE TABLE t (a VARCHAR(0))").code(), ErrorCode::kInvalidDefinition);
    EXPECT_EQ(ParseStatus("CREATE TABLE t (a INTEGER(4))").code(), ErrorCode::kSyntaxError);
}

TEST(ParserTest, OperatorPrecedence) {
    // 1 + 2 * 3 = 4 OR NOT 5 < 6 AND 7 || 8 = '78'
    ParseResult r = MustParse("SELECT 1 + 2 * 3 = 4 OR NOT a < 6 AND b || c = 'x'");
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->kind, ExprKind::kBinary);
    EXPECT_EQ(e->binary_op, BinaryOp::kOr);
    const Expr* eq = e->args[0];
    EXPECT_EQ(eq->binary_op, BinaryOp::kEq);
    EXPECT_EQ(eq->args[0]->binary_op, BinaryOp::kAdd);
    EXPECT_EQ(eq->args[0]->args[1]->binary_op, BinaryOp::kMul);
    const Expr* and_ = e->args[1];
    EXPECT_EQ(and_->binary_op, BinaryOp::kAnd);
    EXPECT_EQ(and_->args[0]->kind, ExprKind::kUnary);
    EXPECT_EQ(and_->args[0]->unary_op, UnaryOp::kNot);
    // || binds looser than + and -, tighter than comparison.
    r = MustParse("SELECT a || b + c");
    e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->binary_op, BinaryOp::kConcat);
    EXPECT_EQ(e->args[1]->binary_op, BinaryOp::kAdd);
}

TEST(ParserTest, ParseExpression) {
    ParsedExpression p = ParseExpression("a + 1");
    ASSERT_NE(p.expr, nullptr);
    EXPECT_EQ(p.expr->kind, ExprKind::kBinary);
    EXPECT_EQ(ExprToSql(*p.expr), ExprToSql(*ParseExpression(ExprToSql(*p.expr)).expr));
    bool threw = false;
    try {
        (void)ParseExpression("a, b");
    } catch (const SqlError& e) {
        threw = true;
        EXPECT_EQ(e.code(), ErrorCode::kSyntaxError);
    }
    EXPECT_TRUE(threw);
}

// ---- nesting limit ------------------------------------------------------------------------------

TEST(ParserDepthTest, LeftDeepSumJustBelowTheLimitParses) {
    ParseResult r = MustParse(SumOfOnes(kMaxNestingDepth - 1));
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->depth, kMaxNestingDepth - 1);
}

// BUG: the SELECT counts as a nesting level, so SELECT 1+1+...+1 with 1000 terms (depth 1000) is rejected.
TEST(ParserDepthTest, LeftDeepSumAtTheLimitParses) {
    ParseResult r = MustParse(SumOfOnes(kMaxNestingDepth));
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->depth, kMaxNestingDepth);
    ParsedExpression p = ParseExpression(SumOfOnes(kMaxNestingDepth).substr(7));  // without "SELECT "
    ASSERT_NE(p.expr, nullptr);
    EXPECT_EQ(p.expr->depth, kMaxNestingDepth);
}

TEST(ParserDepthTest, LeftDeepSumPastTheLimitFails) {
    for (int terms : {kMaxNestingDepth + 1, kMaxNestingDepth + 2, 5000}) {
        Status s = ParseStatus(SumOfOnes(terms));
        EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded) << terms << ": " << s.message();
    }
}

TEST(ParserDepthTest, DepthCountsExpressionLevels) {
    ParseResult r = MustParse("SELECT 1, a + 1, -(a * 2) + 3, f(g(h(1)))");
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items[0].expr->depth, 1);
    EXPECT_EQ(s->items[1].expr->depth, 2);
    EXPECT_EQ(s->items[2].expr->depth, 4);
    EXPECT_EQ(s->items[3].expr->depth, 4);
}

TEST(ParserDepthTest, ManyShallowItemsAreFine) {
    // Width is not depth: 5000 select items and a 5000-element IN list parse.
    std::string sql = "SELECT 1" + Repeat(", 1", 4999) + " FROM t WHERE a IN (0" + Repeat(", 0", 4999) + ")";
    ParseResult r = MustParse(sql);
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->items.size(), 5000u);
}

TEST(ParserDepthTest, DeepNestedParenthesesFail) {
    // Parentheses add no depth to the tree, but each costs parser stack: 1001 parse, thousands fail.
    EXPECT_TRUE(ParseStatus("SELECT " + std::string(1001, '(') + "1" + std::string(1001, ')')).ok());
    for (int n : {6000, 100000}) {
        std::string sql =
            "SELECT " + std::string(static_cast<size_t>(n), '(') + "1" + std::string(static_cast<size_t>(n), ')');
        Status s = ParseStatus(sql);
        EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded) << n << ": " << s.message();
    }
}

TEST(ParserDepthTest, RightNestedSumPastTheLimitFails) {
    // 1+(1+(1+...)): the same depth as the left-deep sum, built through parentheses.
    for (int n : {kMaxNestingDepth + 1, 20000}) {
        std::string sql = "SELECT " + Repeat("1+(", n - 1) + "1" + std::string(static_cast<size_t>(n - 1), ')');
        EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded) << n;
    }
}

TEST(ParserDepthTest, DeepNestedSubqueriesFail) {
    for (int n : {kMaxNestingDepth + 1, 10000}) {
        std::string sql = Repeat("SELECT (", n) + "1" + std::string(static_cast<size_t>(n), ')');
        EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded) << n;
        sql = "SELECT * FROM " + Repeat("(SELECT * FROM ", n) + "t" + Repeat(") AS x", n);
        EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded) << n;
    }
}

TEST(ParserDepthTest, LongUnionChainsFail) {
    for (int n : {kMaxNestingDepth + 1, 20000}) {
        std::string sql = "SELECT 1" + Repeat(" UNION ALL SELECT 1", n);
        Status s = ParseStatus(sql);
        EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded) << n << ": " << s.message();
    }
}

TEST(ParserDepthTest, ModerateUnionChainParses) {
    ParseResult r = MustParse("SELECT 1" + Repeat(" UNION SELECT 1", 500));
    const SelectStmt* s = OneSelect(r);
    ASSERT_NE(s, nullptr);
    int n = 1;
    for (const SelectStmt* x = s; x->next; x = x->next) ++n;
    EXPECT_EQ(n, 501);
}

TEST(ParserDepthTest, DeepJoinChainsFail) {
    std::string sql = "SELECT * FROM t0" + Repeat(" JOIN t ON 1 = 1", kMaxNestingDepth + 1);
    EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded);
}

TEST(ParserDepthTest, DeepNotAndNegationChainsFail) {
    EXPECT_EQ(ParseStatus("SELECT " + Repeat("NOT ", 20000) + "1").code(), ErrorCode::kLimitExceeded);
    EXPECT_EQ(ParseStatus("SELECT " + Repeat("- ", 20000) + "a").code(), ErrorCode::kLimitExceeded);
    EXPECT_EQ(ParseStatus("SELECT " + Repeat("CASE WHEN 1 THEN ", 5000) + "1" + Repeat(" END", 5000)).code(),
              ErrorCode::kLimitExceeded);
}

TEST(ParserDepthTest, LimitAppliesInEveryClauseAndExpressionParser) {
    std::string deep = "1" + Repeat("+1", kMaxNestingDepth);  // depth 1001
    for (const std::string& sql : {"SELECT a FROM t WHERE a = " + deep, "INSERT INTO t VALUES (" + deep + ")",
                                   "UPDATE t SET a = " + deep, "DELETE FROM t WHERE a < " + deep,
                                   "SELECT a FROM t ORDER BY " + deep, "SELECT a FROM t GROUP BY a HAVING " + deep}) {
        EXPECT_EQ(ParseStatus(sql).code(), ErrorCode::kLimitExceeded) << sql.substr(0, 40);
    }
    bool threw = false;
    try {
        (void)ParseExpression(deep);
    } catch (const SqlError& e) {
        threw = true;
        EXPECT_EQ(e.code(), ErrorCode::kLimitExceeded);
    }
    EXPECT_TRUE(threw);
}

TEST(ParserDepthTest, TooDeepStatementsFailFast) {
    // Near the 1 MiB text limit, every shape fails well within a second.
    const int n = 200000;
    const std::vector<std::string> inputs = {
        SumOfOnes(n),
        "SELECT " + std::string(static_cast<size_t>(n), '(') + "1" + std::string(static_cast<size_t>(n), ')'),
        "SELECT " + Repeat("1+(", n / 3) + "1" + std::string(static_cast<size_t>(n / 3), ')'),
        Repeat("SELECT (", n / 8) + "1" + std::string(static_cast<size_t>(n / 8), ')'),
        "SELECT 1" + Repeat(" UNION SELECT 1", n / 16),
        "SELECT " + Repeat("NOT ", n / 4) + "1",
    };
    for (const auto& sql : inputs) {
        ASSERT_LE(sql.size(), kMaxStatementLength);
        Status s;
        double secs = Seconds([&] { s = ParseStatus(sql); });
        EXPECT_EQ(s.code(), ErrorCode::kLimitExceeded) << sql.substr(0, 30);
        EXPECT_LT(secs, 0.5) << sql.substr(0, 30);
    }
}

TEST(ParserDepthTest, ModeratelyNestedShapesParse) {
    // Shapes that push the parser's stack (right nesting, parentheses, subqueries, CASE), at depths
    // well inside the limit.
    const std::vector<std::string> inputs = {
        "SELECT " + Repeat("1+(", 100) + "1" + std::string(100, ')'),
        "SELECT " + std::string(300, '(') + "1" + std::string(300, ')'),
        "SELECT " + Repeat("abs(", 100) + "1" + std::string(100, ')'),
        Repeat("SELECT (", 50) + "1" + std::string(50, ')'),
        "SELECT * FROM " + Repeat("(SELECT * FROM ", 50) + "t" + Repeat(") AS x", 50),
        "SELECT " + Repeat("CASE WHEN 1 THEN ", 50) + "1" + Repeat(" END", 50),
        "SELECT " + Repeat("NOT ", 300) + "1",
    };
    for (const auto& sql : inputs) {
        ParseResult r = MustParse(sql);
        EXPECT_EQ(r.statements.size(), 1u) << sql.substr(0, 30);
    }
}

// Depth-1000 statements of every nesting shape should parse: kMaxNestingDepth is documented as the
// deepest nesting of expressions, subqueries, joins and set operations a statement may have.

// BUG: fixed Lemon stack (%stack_size 400): 1+(1+(...)) fails "parser stack exhausted" at 132 levels, not 1000.
TEST(ParserDepthTest, RightNestedSumWithinTheLimitParses) {
    const int n = kMaxNestingDepth - 1;  // n levels inside a SELECT
    std::string sql = "SELECT " + Repeat("1+(", n - 1) + "1" + std::string(static_cast<size_t>(n - 1), ')');
    ParseResult r = MustParse(sql);
    const Expr* e = FirstItem(r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->depth, n);
    sql = "SELECT " + Repeat("abs(", n - 1) + "1" + std::string(static_cast<size_t>(n - 1), ')');
    EXPECT_EQ(MustParse(sql).statements.size(), 1u);
}

// BUG: fixed Lemon stack (%stack_size 400): 394 nested parentheses fail with "parser stack exhausted".
TEST(ParserDepthTest, ParenthesesWithinTheLimitParse) {
    const size_t n = kMaxNestingDepth - 2;
    std::string sql = "SELECT " + std::string(n, '(') + "1" + std::string(n, ')');
    ParseResult r = MustParse(sql);
    ASSERT_NE(FirstItem(r), nullptr);
    EXPECT_LE(FirstItem(r)->depth, kMaxNestingDepth);
}

// BUG: fixed Lemon stack (%stack_size 400): 99 nested scalar subqueries or 79 nested CASE/derived tables fail.
TEST(ParserDepthTest, NestedSubqueriesWithinTheLimitParse) {
    const int n = 400;  // each level is a subquery expression and its SELECT: about 800 levels
    EXPECT_EQ(MustParse(Repeat("SELECT (", n) + "1" + std::string(static_cast<size_t>(n), ')')).statements.size(), 1u);
    EXPECT_EQ(MustParse("SELECT * FROM " + Repeat("(SELECT * FROM ", n) + "t" + Repeat(") AS x", n)).statements.size(),
              1u);
    EXPECT_EQ(MustParse("SELECT " + Repeat("CASE WHEN 1 THEN ", n) + "1" + Repeat(" END", n)).statements.size(), 1u);
}

}  // namespace
}  // namespace surge::sql
