// AstBuilder: what the grammar's actions call. It allocates nodes in the parse's arena, folds
// identifiers, decodes literals, and remembers the CREATE TABLE / ALTER TABLE being built (as
// SQLite's Parse does) so column constraints can attach to the last column.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sql/ast.h"
#include "sql/tokenizer.h"

namespace surge::sql {

struct LimitClause {
    Expr* limit;
    Expr* offset;
};

struct ProcPartition {
    bool present;
    Token table;
    Token column;
    int parameter;
};

class AstBuilder {
  public:
    explicit AstBuilder(std::string_view text, AstArena* arena) : text_(text), arena_(arena) {}

    // Driver hooks.
    void SyntaxError(const Token& tok);
    void StackOverflow();
    bool failed() const { return failed_; }
    void AddStatement(Statement* s);
    std::vector<Statement*>& statements() { return statements_; }
    Token EmptyToken() const { return Token{0, {}, 0, {0, 0}}; }

    // Statements.
    Statement* SelectStatement(SelectStmt* s);
    Statement* Explain(Statement* s);
    Statement* InsertValues(int upsert, const Token& table, std::vector<std::string>* cols,
                            std::vector<std::vector<Expr*>>* rows);
    Statement* InsertSelect(int upsert, const Token& table, std::vector<std::string>* cols, SelectStmt* s);
    Statement* Update(const Token& kw, const Token& table, std::vector<std::pair<std::string, Expr*>>* sets,
                      Expr* where);
    Statement* Delete(const Token& kw, const Token& table, Expr* where);
    Statement* Truncate(const Token& kw, const Token& table);
    CreateTableStatement* StartCreateTable(const Token& kw, int if_not_exists, const Token& name);
    CreateTableStatement* StartCreateStream(const Token& kw, int if_not_exists, const Token& name);
    void StreamPartition(const Token& column);
    void StreamExport(const Token& target);
    /// EXPORT ... ON: one more kind of change (catalog::kExportInsert/Delete/Update bits).
    void ExportOn(int op_bit);
    /// USING TTL n unit ON COLUMN c, then BATCH_SIZE k and MIGRATE TO TARGET t in either order.
    void TableTtl(const Token& ttl_kw, const Token& n, const Token& unit, const Token& column);
    void TtlBatchSize(const Token& kw, const Token& n);
    void TtlMigrate(const Token& kw, const Token& target);
    Statement* DropStream(const Token& kw, int if_exists, const Token& name);
    Statement* FinishCreateTable(CreateTableStatement* s);
    void AddColumn(const Token& name, SqlType type);
    void ColumnNotNull(bool not_null);
    void ColumnDefault(Expr* e);
    void ColumnPrimaryKey();
    void ColumnUnique(bool assume);
    void ConstraintName(const Token& name);
    void AddTableConstraint(int kind, std::vector<std::string>* cols);
    Statement* DropTable(const Token& kw, int if_exists, const Token& name, bool view);
    Statement* AlterAddColumn(const Token& kw, const Token& table, const Token& col, SqlType type);
    Statement* AlterDropColumn(const Token& kw, const Token& table, const Token& col);
    Statement* CreateIndex(const Token& kw, int unique, int if_not_exists, const Token& name, const Token& table,
                           std::vector<OrderItem>* keys, int hash);
    Statement* DropIndex(const Token& kw, int if_exists, const Token& name);
    Statement* PartitionTable(const Token& kw, const Token& table, const Token& column);
    Statement* CreateView(const Token& kw, const Token& name, std::vector<std::string>* cols, SelectStmt* s,
                          bool materialized);
    ProcPartition MakeProcPartition(const Token& table, const Token& column, const Token* param);
    Statement* CreateProcedure(const Token& kw, const Token& name, const ProcPartition& part, const Token& as,
                               Statement* body);
    Statement* CreateNativeProcedure(const Token& kw, const Token& name, const ProcPartition& part,
                                     const Token& library, const Token* class_name);
    Statement* DropProcedure(const Token& kw, int if_exists, const Token& name);
    /// CREATE PROCEDURE's name and PARTITION ON clause, shared by the SQL and native forms.
    CreateProcedureStatement* NewProcedure(const Token& kw, const Token& name, const ProcPartition& part);

    // SELECT pieces.
    SelectStmt* Select(const Token& kw, int distinct, std::vector<SelectItem>* items, std::vector<TableRef*>* from,
                       Expr* where, std::vector<Expr*>* group_by, Expr* having);
    SelectStmt* Compound(SelectStmt* left, int op, SelectStmt* right);
    SelectStmt* FinishSelect(SelectStmt* s, std::vector<OrderItem>* order, LimitClause limit);
    std::vector<CommonTable>* AddCommonTable(std::vector<CommonTable>* list, const Token& name,
                                             std::vector<std::string>* columns, SelectStmt* s);
    SelectStmt* WithSelect(std::vector<CommonTable>* with, SelectStmt* s);
    std::vector<SelectItem>* NewSelectList();
    std::vector<SelectItem>* AddSelectItem(std::vector<SelectItem>* list, Expr* e, const Token& alias);
    std::vector<SelectItem>* AddSelectStar(std::vector<SelectItem>* list, const Token* table, const Token& star);
    std::vector<TableRef*>* AppendFrom(std::vector<TableRef*>* list, TableRef* t);
    TableRef* TableName(const Token& name, const Token& alias);
    TableRef* DerivedTable(const Token& lp, SelectStmt* s, const Token& alias);
    TableRef* Join(TableRef* left, int type, TableRef* right, Expr* on, std::vector<std::string>* using_cols);
    std::vector<OrderItem>* AddOrder(std::vector<OrderItem>* list, Expr* e, int desc, int nulls);

    // Expressions.
    Expr* ColumnRef(const Token* table, const Token& column);
    Expr* Param(const Token& tok);
    Expr* NullLiteral(const Token& tok);
    Expr* IntegerLiteral(const Token& tok);
    Expr* FloatLiteral(const Token& tok);
    Expr* StringLiteral(const Token& tok);
    Expr* BlobLiteral(const Token& tok);
    Expr* BoolLiteral(const Token& tok, bool value);
    Expr* Function(const Token& name, int distinct, std::vector<Expr*>* args);
    /// A keyword-form call (see parse.y): form -1 = `x FROM y [FOR z]`, -2 = `x IN y`, and 0/1/2 =
    /// TRIM's BOTH/LEADING/TRAILING (x, the characters, may be null).
    Expr* SpecialFunction(const Token& name, int distinct, int form, Expr* x, Expr* y, Expr* z);
    Expr* StringLiteralText(const Token& at, std::string_view text);
    WindowSpec* Window(std::vector<Expr*>* partition_by, std::vector<OrderItem>* order_by);
    Expr* WindowFunction(Expr* call, WindowSpec* over);
    Expr* FunctionStar(const Token& name);
    Expr* Cast(const Token& kw, Expr* e, SqlType type);
    Expr* Binary(BinaryOp op, Expr* l, Expr* r);
    Expr* Unary(const Token& op_tok, UnaryOp op, Expr* e);
    Expr* Like(Expr* x, int negated, Expr* pattern, Expr* escape);
    Expr* IsNull(Expr* x, bool negated);
    Expr* IsDistinctFrom(Expr* l, Expr* r, bool not_distinct);
    Expr* Between(Expr* x, int negated, Expr* lo, Expr* hi);
    Expr* InList(Expr* x, int negated, std::vector<Expr*>* items);
    Expr* InSelect(Expr* x, int negated, SelectStmt* s);
    Expr* ScalarSubquery(const Token& lp, SelectStmt* s);
    Expr* Exists(const Token& kw, SelectStmt* s);
    Expr* Case(const Token& kw, Expr* operand, std::vector<Expr*>* whens, Expr* else_expr);
    std::vector<Expr*>* AppendWhen(std::vector<Expr*>* list, Expr* when, Expr* then);
    std::vector<Expr*>* NewExprList();
    std::vector<Expr*>* AppendExpr(std::vector<Expr*>* list, Expr* e);
    std::vector<std::string>* AppendId(std::vector<std::string>* list, const Token& id);
    std::vector<std::vector<Expr*>>* AppendRow(std::vector<std::vector<Expr*>>* list, std::vector<Expr*>* row);
    std::vector<std::pair<std::string, Expr*>>* AppendSet(std::vector<std::pair<std::string, Expr*>>* list,
                                                          const Token& col, Expr* e);
    SqlType* Type(const Token& name, const Token* p1, const Token* p2);
    SqlType ResolveType(const Token& name, const Token* p1, const Token* p2);

    /// Folded identifier: unquoted folds to lower case; quoted keeps case, loses quotes.
    static std::string Identifier(const Token& tok);

  private:
    Expr* NewExpr(ExprKind kind, SourcePos pos);
    /// Sets e->depth from its children and rejects statements nested past kMaxNestingDepth.
    Expr* Nested(Expr* e);
    void CheckDepth(int depth, SourcePos pos);
    [[noreturn]] void Fail(const Token& tok, const std::string& message);
    ColumnSpec& CurrentColumn();

    std::string_view text_;
    AstArena* arena_;
    std::vector<Statement*> statements_;
    bool failed_ = false;
    int next_param_ = 0;
    CreateTableStatement* creating_ = nullptr;
    AlterTableStatement* altering_ = nullptr;
    std::string pending_constraint_name_;
};

}  // namespace surge::sql
