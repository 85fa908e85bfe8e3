// SurgeDB's SQL grammar for Lemon (Debian's `lemon`, run by CMake into parse.cc / parse.h).
// As in SQLite's parse.y, every action is one call into the AST builder (ast_builder.h): the
// grammar holds no logic. Operator precedence follows SQLite, except that || binds looser than
// + and - (as in PostgreSQL and the SQL standard).

%include {
// Generated from parse.y by lemon: do not edit.
#include <cassert>
#include "sql/ast_builder.h"
using namespace surge::sql;
using surge::SqlType;
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wsign-compare"
}

%name SurgeParse
%token_prefix TK_
%token_type {Token}
%extra_argument {AstBuilder* b}
// Room for kMaxNestingDepth levels of the most stack-hungry shape (nested CASE, about 5 entries a
// level). Deeper parentheses, which add no depth to the tree, fail with "parser stack exhausted".
// (A growable stack is not an option: lempar.c's realloc call does not compile as C++.)
%stack_size 5500
%syntax_error { b->SyntaxError(TOKEN); }
%stack_overflow { b->StackOverflow(); }

// Tokens produced only by the tokenizer, declared so they get TK_ codes.
%token ID QUOTED_ID STRING INTEGER FLOAT BLOB PARAM DOT.

// Keywords that may also serve as identifiers where the keyword cannot appear.
%fallback ID ADD ASC ASSUMEUNIQUE CLASS COLUMN DESC FIRST HASH IF KEY LAST LEADING TRAILING BOTH LIBRARY MATERIALIZED NULLS OVER PARAMETER
  PARTITION PROCEDURE REPLACE TREE TRUNCATE UPSERT VIEW EXPLAIN STREAM EXPORT TARGET TO.

%left OR.
%left AND.
%right NOT.
%left IS LIKE BETWEEN IN NE EQ.
%left GT LE LT GE.
%right ESCAPE.
%left CONCAT.
%left PLUS MINUS.
%left STAR SLASH REM.
%right UMINUS.

input ::= cmdlist.
cmdlist ::= cmdlist ecmd.
cmdlist ::= .
ecmd ::= SEMI.
ecmd ::= cmd(X) SEMI. { b->AddStatement(X); }

%type cmd {Statement*}
cmd(A) ::= select(S). { A = b->SelectStatement(S); }
cmd(A) ::= EXPLAIN cmd(X). { A = b->Explain(X); }

//////////////////////////////// SELECT ////////////////////////////////
%type select {SelectStmt*}
%type selectnowith {SelectStmt*}
%type oneselect {SelectStmt*}
select(A) ::= selectnowith(X) orderby_opt(O) limit_opt(L). { A = b->FinishSelect(X, O, L); }
select(A) ::= WITH wqlist(W) selectnowith(X) orderby_opt(O) limit_opt(L). {
  A = b->WithSelect(W, b->FinishSelect(X, O, L));
}
%type wqlist {std::vector<CommonTable>*}
wqlist(A) ::= nm(N) idlist_opt(C) AS LP select(S) RP. { A = b->AddCommonTable(nullptr, N, C, S); }
wqlist(A) ::= wqlist(L) COMMA nm(N) idlist_opt(C) AS LP select(S) RP. { A = b->AddCommonTable(L, N, C, S); }
selectnowith(A) ::= oneselect(X). { A = X; }
selectnowith(A) ::= selectnowith(X) multiselect_op(O) oneselect(Y). { A = b->Compound(X, O, Y); }

%type multiselect_op {int}
multiselect_op(A) ::= UNION. { A = static_cast<int>(SetOp::kUnion); }
multiselect_op(A) ::= UNION ALL. { A = static_cast<int>(SetOp::kUnionAll); }
multiselect_op(A) ::= INTERSECT. { A = static_cast<int>(SetOp::kIntersect); }
multiselect_op(A) ::= EXCEPT. { A = static_cast<int>(SetOp::kExcept); }

oneselect(A) ::= SELECT(S) distinct(D) selcollist(C) from(F) where_opt(W) groupby_opt(G) having_opt(H).
    { A = b->Select(S, D, C, F, W, G, H); }

%type distinct {int}
distinct(A) ::= DISTINCT. { A = 1; }
distinct(A) ::= ALL. { A = 0; }
distinct(A) ::= . { A = 0; }

%type selcollist {std::vector<SelectItem>*}
%type sclp {std::vector<SelectItem>*}
selcollist(A) ::= sclp(P) expr(X) as(Y). { A = b->AddSelectItem(P, X, Y); }
selcollist(A) ::= sclp(P) STAR(S). { A = b->AddSelectStar(P, nullptr, S); }
selcollist(A) ::= sclp(P) nm(T) DOT STAR(S). { A = b->AddSelectStar(P, &T, S); }
sclp(A) ::= selcollist(X) COMMA. { A = X; }
sclp(A) ::= . { A = b->NewSelectList(); }

%type as {Token}
as(X) ::= AS nm(Y). { X = Y; }
as(X) ::= ID(Y). { X = Y; }
as(X) ::= QUOTED_ID(Y). { X = Y; }
as(X) ::= . { X = b->EmptyToken(); }

%type nm {Token}
nm(A) ::= ID(X). { A = X; }
nm(A) ::= QUOTED_ID(X). { A = X; }

%type from {std::vector<TableRef*>*}
%type seltablist {std::vector<TableRef*>*}
from(A) ::= . { A = nullptr; }
from(A) ::= FROM seltablist(X). { A = X; }
seltablist(A) ::= table_ref(X). { A = b->AppendFrom(nullptr, X); }
seltablist(A) ::= seltablist(L) COMMA table_ref(X). { A = b->AppendFrom(L, X); }

%type table_ref {TableRef*}
%type table_primary {TableRef*}
table_ref(A) ::= table_primary(X). { A = X; }
table_ref(A) ::= table_ref(L) join_kw(J) table_primary(R) ON expr(E). { A = b->Join(L, J, R, E, nullptr); }
table_ref(A) ::= table_ref(L) join_kw(J) table_primary(R) USING LP idlist(C) RP. { A = b->Join(L, J, R, nullptr, C); }
// NATURAL: USING every column name the right table shares with the tables on its left.
table_ref(A) ::= table_ref(L) NATURAL join_kw(J) table_primary(R). { A = b->Join(L, J, R, nullptr, nullptr); A->natural = true; }
table_ref(A) ::= table_ref(L) CROSS JOIN table_primary(R). { A = b->Join(L, static_cast<int>(JoinType::kCross), R, nullptr, nullptr); }
table_primary(A) ::= nm(N) as(Y). { A = b->TableName(N, Y); }
table_primary(A) ::= LP(P) select(S) RP as(Y). { A = b->DerivedTable(P, S, Y); }
table_primary(A) ::= LP table_ref(X) RP. { A = X; }

%type join_kw {int}
join_kw(A) ::= JOIN. { A = static_cast<int>(JoinType::kInner); }
join_kw(A) ::= INNER JOIN. { A = static_cast<int>(JoinType::kInner); }
join_kw(A) ::= LEFT JOIN. { A = static_cast<int>(JoinType::kLeft); }
join_kw(A) ::= LEFT OUTER JOIN. { A = static_cast<int>(JoinType::kLeft); }
join_kw(A) ::= RIGHT JOIN. { A = static_cast<int>(JoinType::kRight); }
join_kw(A) ::= RIGHT OUTER JOIN. { A = static_cast<int>(JoinType::kRight); }
join_kw(A) ::= FULL JOIN. { A = static_cast<int>(JoinType::kFull); }
join_kw(A) ::= FULL OUTER JOIN. { A = static_cast<int>(JoinType::kFull); }

%type where_opt {Expr*}
where_opt(A) ::= . { A = nullptr; }
where_opt(A) ::= WHERE expr(X). { A = X; }

%type groupby_opt {std::vector<Expr*>*}
groupby_opt(A) ::= . { A = nullptr; }
groupby_opt(A) ::= GROUP BY nexprlist(X). { A = X; }

%type having_opt {Expr*}
having_opt(A) ::= . { A = nullptr; }
having_opt(A) ::= HAVING expr(X). { A = X; }

%type orderby_opt {std::vector<OrderItem>*}
%type sortlist {std::vector<OrderItem>*}
orderby_opt(A) ::= . { A = nullptr; }
orderby_opt(A) ::= ORDER BY sortlist(X). { A = X; }
sortlist(A) ::= sortlist(L) COMMA expr(X) sortorder(O) nulls(N). { A = b->AddOrder(L, X, O, N); }
sortlist(A) ::= expr(X) sortorder(O) nulls(N). { A = b->AddOrder(nullptr, X, O, N); }

%type sortorder {int}
sortorder(A) ::= ASC. { A = 0; }
sortorder(A) ::= DESC. { A = 1; }
sortorder(A) ::= . { A = 0; }

%type nulls {int}
nulls(A) ::= NULLS FIRST. { A = 1; }
nulls(A) ::= NULLS LAST. { A = 2; }
nulls(A) ::= . { A = 0; }

%type limit_opt {LimitClause}
limit_opt(A) ::= . { A = LimitClause{nullptr, nullptr}; }
limit_opt(A) ::= LIMIT expr(X). { A = LimitClause{X, nullptr}; }
limit_opt(A) ::= LIMIT expr(X) OFFSET expr(Y). { A = LimitClause{X, Y}; }
limit_opt(A) ::= LIMIT expr(Y) COMMA expr(X). { A = LimitClause{X, Y}; }

//////////////////////////////// Expressions ////////////////////////////////
%type expr {Expr*}
%type term {Expr*}
expr(A) ::= term(X). { A = X; }
expr(A) ::= LP expr(X) RP. { A = X; }
expr(A) ::= nm(X). { A = b->ColumnRef(nullptr, X); }
expr(A) ::= nm(T) DOT nm(X). { A = b->ColumnRef(&T, X); }
expr(A) ::= PARAM(X). { A = b->Param(X); }
term(A) ::= NULL(X). { A = b->NullLiteral(X); }
term(A) ::= INTEGER(X). { A = b->IntegerLiteral(X); }
term(A) ::= FLOAT(X). { A = b->FloatLiteral(X); }
term(A) ::= STRING(X). { A = b->StringLiteral(X); }
term(A) ::= BLOB(X). { A = b->BlobLiteral(X); }
term(A) ::= TRUE(X). { A = b->BoolLiteral(X, true); }
term(A) ::= FALSE(X). { A = b->BoolLiteral(X, false); }
expr(A) ::= nm(F) LP distinct(D) exprlist(Y) RP. { A = b->Function(F, D, Y); }
expr(A) ::= nm(F) LP STAR RP. { A = b->FunctionStar(F); }
expr(A) ::= nm(F) LP distinct(D) exprlist(Y) RP OVER LP window(W) RP. { A = b->WindowFunction(b->Function(F, D, Y), W); }
expr(A) ::= nm(F) LP STAR RP OVER LP window(W) RP. { A = b->WindowFunction(b->FunctionStar(F), W); }
%type window {WindowSpec*}
window(A) ::= window_partition(P) orderby_opt(O). { A = b->Window(P, O); }
%type window_partition {std::vector<Expr*>*}
window_partition(A) ::= . { A = nullptr; }
window_partition(A) ::= PARTITION BY nexprlist(X). { A = X; }
// The standard's keyword forms, built as ordinary calls (so their SQL text re-parses):
// EXTRACT(f FROM ts) = extract(f, ts); SUBSTRING(s FROM a [FOR n]) = substring(s, a[, n]);
// TRIM([LEADING|TRAILING|BOTH] [c] FROM s) = trim('LEADING'|..., c, s); POSITION(a IN s) =
// position(a, s); TIME_WINDOW(u, n, ts, END) = time_window(u, n, ts, 'END').
expr(A) ::= nm(F) LP distinct(D) expr(X) FROM expr(Y) RP. { A = b->SpecialFunction(F, D, -1, X, Y, nullptr); }
expr(A) ::= nm(F) LP distinct(D) expr(X) FROM expr(Y) FOR expr(Z) RP. { A = b->SpecialFunction(F, D, -1, X, Y, Z); }
expr(A) ::= nm(F) LP trimside(S) expr(X) FROM expr(Y) RP. { A = b->SpecialFunction(F, 0, S, X, Y, nullptr); }
expr(A) ::= nm(F) LP trimside(S) FROM expr(Y) RP. { A = b->SpecialFunction(F, 0, S, nullptr, Y, nullptr); }
expr(A) ::= nm(F) LP distinct(D) expr(X) IN position_arg(Y) RP. { A = b->SpecialFunction(F, D, -2, X, Y, nullptr); }
expr(A) ::= nm(F) LP distinct(D) nexprlist(L) COMMA END(E) RP. {
  A = b->Function(F, D, b->AppendExpr(L, b->StringLiteralText(E, "END")));
}
%type trimside {int}
trimside(A) ::= BOTH. { A = 0; }
trimside(A) ::= LEADING. { A = 1; }
trimside(A) ::= TRAILING. { A = 2; }
%type position_arg {Expr*}
position_arg(A) ::= nm(X). { A = b->ColumnRef(nullptr, X); }
position_arg(A) ::= nm(T) DOT nm(X). { A = b->ColumnRef(&T, X); }
position_arg(A) ::= STRING(X). { A = b->StringLiteral(X); }
position_arg(A) ::= PARAM(X). { A = b->Param(X); }
position_arg(A) ::= nm(F) LP distinct(D) exprlist(Y) RP. { A = b->Function(F, D, Y); }
expr(A) ::= CAST(C) LP expr(X) AS typetoken(T) RP. { A = b->Cast(C, X, *T); }
expr(A) ::= expr(X) AND expr(Y). { A = b->Binary(BinaryOp::kAnd, X, Y); }
expr(A) ::= expr(X) OR expr(Y). { A = b->Binary(BinaryOp::kOr, X, Y); }
expr(A) ::= expr(X) LT expr(Y). { A = b->Binary(BinaryOp::kLt, X, Y); }
expr(A) ::= expr(X) GT expr(Y). { A = b->Binary(BinaryOp::kGt, X, Y); }
expr(A) ::= expr(X) LE expr(Y). { A = b->Binary(BinaryOp::kLe, X, Y); }
expr(A) ::= expr(X) GE expr(Y). { A = b->Binary(BinaryOp::kGe, X, Y); }
expr(A) ::= expr(X) EQ expr(Y). { A = b->Binary(BinaryOp::kEq, X, Y); }
expr(A) ::= expr(X) NE expr(Y). { A = b->Binary(BinaryOp::kNe, X, Y); }
expr(A) ::= expr(X) PLUS expr(Y). { A = b->Binary(BinaryOp::kAdd, X, Y); }
expr(A) ::= expr(X) MINUS expr(Y). { A = b->Binary(BinaryOp::kSub, X, Y); }
expr(A) ::= expr(X) STAR expr(Y). { A = b->Binary(BinaryOp::kMul, X, Y); }
expr(A) ::= expr(X) SLASH expr(Y). { A = b->Binary(BinaryOp::kDiv, X, Y); }
expr(A) ::= expr(X) REM expr(Y). { A = b->Binary(BinaryOp::kMod, X, Y); }
expr(A) ::= expr(X) CONCAT expr(Y). { A = b->Binary(BinaryOp::kConcat, X, Y); }
expr(A) ::= expr(X) likeop(N) expr(Y). [LIKE] { A = b->Like(X, N, Y, nullptr); }
expr(A) ::= expr(X) likeop(N) expr(Y) ESCAPE expr(E). [LIKE] { A = b->Like(X, N, Y, E); }
expr(A) ::= expr(X) IS NULL. { A = b->IsNull(X, false); }
expr(A) ::= expr(X) IS NOT NULL. { A = b->IsNull(X, true); }
expr(A) ::= expr(X) IS DISTINCT FROM expr(Y). [IS] { A = b->IsDistinctFrom(X, Y, false); }
expr(A) ::= expr(X) IS NOT DISTINCT FROM expr(Y). [IS] { A = b->IsDistinctFrom(X, Y, true); }
expr(A) ::= NOT(O) expr(X). { A = b->Unary(O, UnaryOp::kNot, X); }
expr(A) ::= MINUS(O) expr(X). [UMINUS] { A = b->Unary(O, UnaryOp::kNeg, X); }
expr(A) ::= PLUS(O) expr(X). [UMINUS] { A = b->Unary(O, UnaryOp::kPlus, X); }
expr(A) ::= expr(X) between_op(N) expr(Y) AND expr(Z). [BETWEEN] { A = b->Between(X, N, Y, Z); }
expr(A) ::= expr(X) in_op(N) LP exprlist(Y) RP. [IN] { A = b->InList(X, N, Y); }
expr(A) ::= expr(X) in_op(N) LP select(Y) RP. [IN] { A = b->InSelect(X, N, Y); }
expr(A) ::= LP(P) select(X) RP. { A = b->ScalarSubquery(P, X); }
expr(A) ::= EXISTS(E) LP select(X) RP. { A = b->Exists(E, X); }
expr(A) ::= CASE(C) case_operand(X) case_exprlist(Y) case_else(Z) END. { A = b->Case(C, X, Y, Z); }

%type likeop {int}
likeop(A) ::= LIKE. { A = 0; }
likeop(A) ::= NOT LIKE. { A = 1; }
%type between_op {int}
between_op(A) ::= BETWEEN. { A = 0; }
between_op(A) ::= NOT BETWEEN. { A = 1; }
%type in_op {int}
in_op(A) ::= IN. { A = 0; }
in_op(A) ::= NOT IN. { A = 1; }

%type case_exprlist {std::vector<Expr*>*}
case_exprlist(A) ::= case_exprlist(X) WHEN expr(Y) THEN expr(Z). { A = b->AppendWhen(X, Y, Z); }
case_exprlist(A) ::= WHEN expr(Y) THEN expr(Z). { A = b->AppendWhen(nullptr, Y, Z); }
%type case_else {Expr*}
case_else(A) ::= ELSE expr(X). { A = X; }
case_else(A) ::= . { A = nullptr; }
%type case_operand {Expr*}
case_operand(A) ::= expr(X). { A = X; }
case_operand(A) ::= . { A = nullptr; }

%type exprlist {std::vector<Expr*>*}
%type nexprlist {std::vector<Expr*>*}
exprlist(A) ::= nexprlist(X). { A = X; }
exprlist(A) ::= . { A = b->NewExprList(); }
nexprlist(A) ::= nexprlist(L) COMMA expr(X). { A = b->AppendExpr(L, X); }
nexprlist(A) ::= expr(X). { A = b->AppendExpr(nullptr, X); }

%type idlist {std::vector<std::string>*}
idlist(A) ::= idlist(L) COMMA nm(X). { A = b->AppendId(L, X); }
idlist(A) ::= nm(X). { A = b->AppendId(nullptr, X); }

%type typetoken {SqlType*}
typetoken(A) ::= nm(X). { A = b->Type(X, nullptr, nullptr); }
typetoken(A) ::= nm(X) LP INTEGER(N) RP. { A = b->Type(X, &N, nullptr); }
typetoken(A) ::= nm(X) LP INTEGER(N) COMMA INTEGER(M) RP. { A = b->Type(X, &N, &M); }

//////////////////////////////// DML ////////////////////////////////
cmd(A) ::= insert_kw(K) INTO nm(T) idlist_opt(C) VALUES valueslist(V). { A = b->InsertValues(K, T, C, V); }
cmd(A) ::= insert_kw(K) INTO nm(T) idlist_opt(C) select(S). { A = b->InsertSelect(K, T, C, S); }
%type insert_kw {int}
insert_kw(A) ::= INSERT. { A = 0; }
insert_kw(A) ::= UPSERT. { A = 1; }
// SQLite's spellings of an upsert (the row with the same primary key is replaced).
insert_kw(A) ::= REPLACE. { A = 1; }
insert_kw(A) ::= INSERT OR REPLACE. { A = 1; }
%type idlist_opt {std::vector<std::string>*}
idlist_opt(A) ::= . { A = nullptr; }
idlist_opt(A) ::= LP idlist(X) RP. { A = X; }
%type valueslist {std::vector<std::vector<Expr*>>*}
valueslist(A) ::= LP nexprlist(X) RP. { A = b->AppendRow(nullptr, X); }
valueslist(A) ::= valueslist(L) COMMA LP nexprlist(X) RP. { A = b->AppendRow(L, X); }

cmd(A) ::= UPDATE(U) nm(T) SET setlist(S) where_opt(W). { A = b->Update(U, T, S, W); }
%type setlist {std::vector<std::pair<std::string, Expr*>>*}
setlist(A) ::= setlist(L) COMMA nm(C) EQ expr(X). { A = b->AppendSet(L, C, X); }
setlist(A) ::= nm(C) EQ expr(X). { A = b->AppendSet(nullptr, C, X); }

cmd(A) ::= DELETE(D) FROM nm(T) where_opt(W). { A = b->Delete(D, T, W); }
cmd(A) ::= TRUNCATE(D) TABLE nm(T). { A = b->Truncate(D, T); }

//////////////////////////////// DDL ////////////////////////////////
cmd(A) ::= create_table(T) LP columnlist conslist_opt RP table_export_opt table_ttl_opt. { A = b->FinishCreateTable(T); }
// Time to live: USING TTL n unit ON COLUMN c [BATCH_SIZE k] [MIGRATE TO TARGET t] (TTL, the unit,
// BATCH_SIZE and MIGRATE are identifiers, checked by the builder, so they stay usable as names).
table_ttl_opt ::= .
table_ttl_opt ::= ttl_head ttl_options.
ttl_head ::= USING nm(K) INTEGER(N) nm(U) ON COLUMN nm(C). { b->TableTtl(K, N, U, C); }
ttl_options ::= .
ttl_options ::= ttl_options nm(K) INTEGER(N). { b->TtlBatchSize(K, N); }
ttl_options ::= ttl_options nm(K) TO TARGET nm(T). { b->TtlMigrate(K, T); }
// A table that exports its changes: EXPORT TO TARGET t [ON INSERT, UPDATE, DELETE] (default:
// inserts).
table_export_opt ::= .
table_export_opt ::= EXPORT TO TARGET nm(T) export_on_opt. { b->StreamExport(T); }
export_on_opt ::= .
export_on_opt ::= ON export_op_list.
export_op_list ::= export_op.
export_op_list ::= export_op_list COMMA export_op.
export_op ::= INSERT. { b->ExportOn(1); }
export_op ::= DELETE. { b->ExportOn(2); }
export_op ::= UPDATE. { b->ExportOn(4); }
%type create_table {CreateTableStatement*}
create_table(A) ::= CREATE(C) TABLE ifnotexists(E) nm(N). { A = b->StartCreateTable(C, E, N); }
// CREATE STREAM s [PARTITION ON COLUMN c] [EXPORT TO TARGET t] (columns): an insert-only table
// that keeps no rows (docs/adr/0011-streams-and-export.md).
cmd(A) ::= create_stream(T) stream_partition_opt stream_export_opt LP columnlist conslist_opt RP. { A = b->FinishCreateTable(T); }
%type create_stream {CreateTableStatement*}
create_stream(A) ::= CREATE(C) STREAM ifnotexists(E) nm(N). { A = b->StartCreateStream(C, E, N); }
stream_partition_opt ::= .
stream_partition_opt ::= PARTITION ON COLUMN nm(C). { b->StreamPartition(C); }
stream_export_opt ::= .
stream_export_opt ::= EXPORT TO TARGET nm(T). { b->StreamExport(T); }
%type ifnotexists {int}
ifnotexists(A) ::= . { A = 0; }
ifnotexists(A) ::= IF NOT EXISTS. { A = 1; }
%type ifexists {int}
ifexists(A) ::= . { A = 0; }
ifexists(A) ::= IF EXISTS. { A = 1; }

columnlist ::= columnlist COMMA columnname carglist.
columnlist ::= columnname carglist.
columnname ::= nm(N) typetoken(T). { b->AddColumn(N, *T); }
carglist ::= carglist ccons.
carglist ::= .
ccons ::= NOT NULL. { b->ColumnNotNull(true); }
ccons ::= NULL. { b->ColumnNotNull(false); }
ccons ::= DEFAULT term(X). { b->ColumnDefault(X); }
ccons ::= DEFAULT MINUS(O) term(X). { b->ColumnDefault(b->Unary(O, UnaryOp::kNeg, X)); }
ccons ::= DEFAULT PLUS term(X). { b->ColumnDefault(X); }
ccons ::= DEFAULT LP expr(X) RP. { b->ColumnDefault(X); }
ccons ::= PRIMARY KEY sortorder. { b->ColumnPrimaryKey(); }
ccons ::= UNIQUE. { b->ColumnUnique(false); }
ccons ::= ASSUMEUNIQUE. { b->ColumnUnique(true); }
ccons ::= CONSTRAINT nm(N). { b->ConstraintName(N); }

conslist_opt ::= .
conslist_opt ::= COMMA conslist.
conslist ::= conslist tconscomma tcons.
conslist ::= tcons.
tconscomma ::= COMMA.
tconscomma ::= .
tcons ::= CONSTRAINT nm(N). { b->ConstraintName(N); }
tcons ::= PRIMARY KEY LP idlist(L) RP. { b->AddTableConstraint(static_cast<int>(TableConstraint::Kind::kPrimaryKey), L); }
tcons ::= UNIQUE LP idlist(L) RP. { b->AddTableConstraint(static_cast<int>(TableConstraint::Kind::kUnique), L); }
tcons ::= ASSUMEUNIQUE LP idlist(L) RP. { b->AddTableConstraint(static_cast<int>(TableConstraint::Kind::kAssumeUnique), L); }

cmd(A) ::= DROP(D) TABLE ifexists(E) nm(N). { A = b->DropTable(D, E, N, false); }
cmd(A) ::= DROP(D) VIEW ifexists(E) nm(N). { A = b->DropTable(D, E, N, true); }
cmd(A) ::= DROP(D) STREAM ifexists(E) nm(N). { A = b->DropStream(D, E, N); }

cmd(A) ::= alter_add(X) carglist. { A = X; }
%type alter_add {Statement*}
alter_add(A) ::= ALTER(C) TABLE nm(T) ADD kwcolumn_opt nm(N) typetoken(Y). { A = b->AlterAddColumn(C, T, N, *Y); }
cmd(A) ::= ALTER(C) TABLE nm(T) DROP kwcolumn_opt nm(N). { A = b->AlterDropColumn(C, T, N); }
kwcolumn_opt ::= .
kwcolumn_opt ::= COLUMN.

cmd(A) ::= CREATE(C) uniqueflag(U) INDEX ifnotexists(E) nm(N) ON nm(T) LP sortlist(K) RP using_opt(H).
    { A = b->CreateIndex(C, U, E, N, T, K, H); }
%type uniqueflag {int}
uniqueflag(A) ::= . { A = 0; }
uniqueflag(A) ::= UNIQUE. { A = 1; }
uniqueflag(A) ::= ASSUMEUNIQUE. { A = 2; }
%type using_opt {int}
using_opt(A) ::= . { A = 0; }
using_opt(A) ::= USING TREE. { A = 0; }
using_opt(A) ::= USING HASH. { A = 1; }
cmd(A) ::= DROP(D) INDEX ifexists(E) nm(N). { A = b->DropIndex(D, E, N); }

cmd(A) ::= PARTITION(P) TABLE nm(T) ON COLUMN nm(C). { A = b->PartitionTable(P, T, C); }

cmd(A) ::= CREATE(C) VIEW nm(N) idlist_opt(L) AS select(S). { A = b->CreateView(C, N, L, S, false); }
cmd(A) ::= CREATE(C) MATERIALIZED VIEW nm(N) idlist_opt(L) AS select(S). { A = b->CreateView(C, N, L, S, true); }

cmd(A) ::= CREATE(C) PROCEDURE nm(N) proc_partition(P) AS(X) cmd(B). { A = b->CreateProcedure(C, N, P, X, B); }
cmd(A) ::= CREATE(C) PROCEDURE nm(N) proc_partition(P) FROM LIBRARY STRING(L). {
  A = b->CreateNativeProcedure(C, N, P, L, nullptr);
}
cmd(A) ::= CREATE(C) PROCEDURE nm(N) proc_partition(P) FROM LIBRARY STRING(L) CLASS STRING(K). {
  A = b->CreateNativeProcedure(C, N, P, L, &K);
}
%type proc_partition {ProcPartition}
proc_partition(A) ::= . { A = ProcPartition{}; }
proc_partition(A) ::= PARTITION ON TABLE nm(T) COLUMN nm(C). { A = b->MakeProcPartition(T, C, nullptr); }
proc_partition(A) ::= PARTITION ON TABLE nm(T) COLUMN nm(C) PARAMETER INTEGER(N). { A = b->MakeProcPartition(T, C, &N); }
cmd(A) ::= DROP(D) PROCEDURE ifexists(E) nm(N). { A = b->DropProcedure(D, E, N); }
