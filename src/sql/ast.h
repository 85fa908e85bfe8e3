// The abstract syntax tree the Lemon grammar builds (through AstBuilder, one call per action).
//
// Nodes are plain structs owned by an AstArena; children are raw pointers into the same arena, so
// the parser's value stack holds only trivially-copyable pointers and a failed parse frees
// everything at once. The binder (binder.h) turns a tree into owned, typed plans; the AST does not
// outlive planning.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "types/types.h"
#include "types/value.h"

namespace surge::sql {

/// 1-based line and column of a token in the statement text.
struct SourcePos {  // trivial, so tokens can live in the Lemon parser's value union
    uint32_t line;
    uint32_t column;
};

struct SelectStmt;

enum class ExprKind : uint8_t {
    kLiteral,
    kParam,
    kColumnRef,
    kStar,  ///< `*` or `t.*` in a select list, or the argument of COUNT(*)
    kUnary,
    kBinary,
    kFunction,
    kCase,
    kCast,
    kInList,
    kInSubquery,
    kExists,
    kSubquery,  ///< scalar subquery
    kBetween,
    kLike,
    kIsNull,
    kIsDistinctFrom,
};

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kMod, kConcat, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr };
enum class UnaryOp : uint8_t { kNeg, kPlus, kNot };

const char* BinaryOpText(BinaryOp op);

/// Deepest nesting of expressions, subqueries, joins and set operations a statement may have:
/// binding, planning and evaluation recurse over the tree, and the limit keeps that recursion well
/// inside a thread's stack (SQLite's SQLITE_MAX_EXPR_DEPTH is 1000 too).
constexpr int kMaxNestingDepth = 1000;
/// Most items an IN (...) list may hold (a longer list belongs in a table or a parameter array).
constexpr size_t kMaxInListItems = 10'000;

struct WindowSpec;

struct Expr {
    ExprKind kind = ExprKind::kLiteral;
    int depth = 1;  ///< levels of nesting at and below this node (set by the parser)
    SourcePos pos{};
    Value literal;         ///< kLiteral
    int param_index = -1;  ///< kParam: 0-based, in order of appearance
    std::string table;     ///< kColumnRef / kStar qualifier (folded), may be empty
    std::string name;      ///< kColumnRef column, kFunction name (folded)
    BinaryOp binary_op = BinaryOp::kAdd;
    UnaryOp unary_op = UnaryOp::kNeg;
    /// Children. kUnary: [x]; kBinary: [l, r]; kFunction: args; kInList: [x, items...];
    /// kInSubquery: [x]; kBetween: [x, lo, hi]; kLike: [x, pattern(, escape)]; kIsNull: [x];
    /// kIsDistinctFrom: [l, r]; kCast: [x]; kCase: [operand?] then when/then pairs then [else?]
    std::vector<Expr*> args;
    bool distinct = false;  ///< kFunction: COUNT(DISTINCT x)
    bool negated = false;   ///< NOT IN / NOT BETWEEN / NOT LIKE / IS NOT NULL / NOT EXISTS ...
    bool case_has_operand = false;
    bool case_has_else = false;
    SqlType cast_type;               ///< kCast
    SelectStmt* subquery = nullptr;  ///< kInSubquery, kExists, kSubquery
    WindowSpec* over = nullptr;      ///< kFunction: OVER (...) makes it a window function
};

enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull, kCross };

struct TableRef {
    enum class Kind : uint8_t { kTable, kJoin, kSubquery } kind = Kind::kTable;
    SourcePos pos{};
    int depth = 1;      ///< nesting at and below this node (joins, derived tables)
    std::string name;   ///< kTable (folded)
    std::string alias;  ///< optional
    JoinType join_type = JoinType::kInner;
    TableRef* left = nullptr;  ///< kJoin
    TableRef* right = nullptr;
    Expr* on = nullptr;  ///< kJoin condition (null for CROSS / comma)
    std::vector<std::string> using_columns;
    bool natural = false;            ///< kJoin: NATURAL (USING the column names both sides have)
    SelectStmt* subquery = nullptr;  ///< kSubquery
};

struct SelectItem {
    Expr* expr = nullptr;  ///< kStar for `*` / `t.*`
    std::string alias;
};

struct OrderItem {
    Expr* expr = nullptr;
    bool descending = false;
    std::optional<bool> nulls_first;
};

/// OVER (PARTITION BY ... ORDER BY ...) of a window function.
struct WindowSpec {
    std::vector<Expr*> partition_by;
    std::vector<OrderItem> order_by;
};

enum class SetOp : uint8_t { kNone, kUnion, kUnionAll, kIntersect, kExcept };

/// A common table expression: WITH name [(columns)] AS (select).
struct CommonTable {
    SourcePos pos{};
    std::string name;
    std::vector<std::string> columns;  ///< optional column names
    SelectStmt* select = nullptr;
};

struct SelectStmt {
    SourcePos pos{};
    /// WITH list, visible to this statement's FROM clauses (and its subqueries'); each common
    /// table also sees the ones before it. Set on the first SELECT of a compound.
    std::vector<CommonTable> with;
    int depth = 1;  ///< nesting at and below this SELECT (its expressions, FROM, set operations)
    bool distinct = false;
    std::vector<SelectItem> items;
    std::vector<TableRef*> from;  ///< comma-separated list (each may be a join tree)
    Expr* where = nullptr;
    std::vector<Expr*> group_by;
    Expr* having = nullptr;
    std::vector<OrderItem> order_by;
    Expr* limit = nullptr;
    Expr* offset = nullptr;
    /// Compound select: this SELECT <set_op> next. ORDER BY/LIMIT of the compound are on the
    /// first SELECT of the chain once parsing is done.
    SetOp set_op = SetOp::kNone;
    SelectStmt* next = nullptr;
};

enum class StmtKind : uint8_t {
    kSelect,
    kInsert,
    kUpdate,
    kDelete,
    kTruncate,
    kCreateTable,
    kDropTable,
    kAlterTable,
    kCreateIndex,
    kDropIndex,
    kPartitionTable,
    kCreateView,
    kCreateProcedure,
    kDropProcedure,
    kExplain,
};

/// Whether a statement changes the schema (DDL): CREATE/DROP/ALTER/PARTITION. DDL runs outside
/// transactions and, in the server, on every partition as one change.
inline bool IsSchemaChange(StmtKind k) {
    switch (k) {
        case StmtKind::kSelect:
        case StmtKind::kInsert:
        case StmtKind::kUpdate:
        case StmtKind::kDelete:
        case StmtKind::kTruncate:
        case StmtKind::kExplain:
            return false;
        default:
            return true;
    }
}

/// Whether a statement may be a procedure's: SELECT, INSERT, UPSERT, UPDATE or DELETE.
inline bool IsProcedureStatement(StmtKind k) {
    return k == StmtKind::kSelect || k == StmtKind::kInsert || k == StmtKind::kUpdate || k == StmtKind::kDelete;
}

struct Statement {
    StmtKind kind;
    SourcePos pos{};
    std::string text;  ///< the statement's source text (set by the parser driver)
    explicit Statement(StmtKind k) : kind(k) {}
    virtual ~Statement() = default;
};

struct SelectStatement : Statement {
    SelectStatement() : Statement(StmtKind::kSelect) {}
    SelectStmt* select = nullptr;
};

struct InsertStatement : Statement {
    InsertStatement() : Statement(StmtKind::kInsert) {}
    std::string table;
    std::vector<std::string> columns;      ///< empty = all, in table order
    std::vector<std::vector<Expr*>> rows;  ///< VALUES rows
    SelectStmt* select = nullptr;          ///< INSERT ... SELECT
    bool upsert = false;
};

struct UpdateStatement : Statement {
    UpdateStatement() : Statement(StmtKind::kUpdate) {}
    std::string table;
    std::vector<std::pair<std::string, Expr*>> assignments;
    Expr* where = nullptr;
};

struct DeleteStatement : Statement {
    DeleteStatement() : Statement(StmtKind::kDelete) {}
    std::string table;
    Expr* where = nullptr;
};

struct TruncateStatement : Statement {
    TruncateStatement() : Statement(StmtKind::kTruncate) {}
    std::string table;
};

struct ColumnSpec {
    SourcePos pos{};
    std::string name;
    SqlType type;
    bool not_null = false;
    Expr* default_value = nullptr;
    bool primary_key = false;
    bool unique = false;
    bool assume_unique = false;
};

/// PRIMARY KEY / UNIQUE / ASSUMEUNIQUE (cols) as a table constraint.
struct TableConstraint {
    std::string name;  ///< optional CONSTRAINT name
    enum class Kind : uint8_t { kPrimaryKey, kUnique, kAssumeUnique } kind = Kind::kUnique;
    std::vector<std::string> columns;
};

struct CreateTableStatement : Statement {
    CreateTableStatement() : Statement(StmtKind::kCreateTable) {}
    std::string name;
    bool if_not_exists = false;
    std::vector<ColumnSpec> columns;
    std::vector<TableConstraint> constraints;
    // CREATE STREAM
    bool stream = false;
    std::string partition_column;  ///< PARTITION ON COLUMN (empty: replicated)
    std::string export_target;     ///< EXPORT TO TARGET (empty: none)
    uint8_t export_ops = 0;        ///< EXPORT ... ON: bits (1 insert, 2 delete, 4 update); 0 = not given
    // USING TTL n unit ON COLUMN c [BATCH_SIZE k] [MIGRATE TO TARGET t]
    struct Ttl {
        int64_t micros = 0;
        std::string column;
        int64_t batch_size = 0;      ///< 0: not given
        std::string migrate_target;  ///< empty: not given
        SourcePos pos;
    };
    std::optional<Ttl> ttl;
};

struct DropTableStatement : Statement {
    DropTableStatement() : Statement(StmtKind::kDropTable) {}
    std::string name;
    bool if_exists = false;
    bool is_view = false;    ///< DROP VIEW
    bool is_stream = false;  ///< DROP STREAM
};

struct AlterTableStatement : Statement {
    AlterTableStatement() : Statement(StmtKind::kAlterTable) {}
    std::string table;
    bool add = true;    ///< ADD COLUMN (else DROP COLUMN)
    ColumnSpec column;  ///< ADD
    std::string drop_column;
};

struct CreateIndexStatement : Statement {
    CreateIndexStatement() : Statement(StmtKind::kCreateIndex) {}
    std::string name;
    std::string table;
    bool if_not_exists = false;
    bool unique = false;
    bool assume_unique = false;
    bool hash = false;
    std::vector<Expr*> keys;
    std::vector<bool> descending;  ///< per key: declared DESC (recorded; the index is stored ascending)
};

struct DropIndexStatement : Statement {
    DropIndexStatement() : Statement(StmtKind::kDropIndex) {}
    std::string name;
    bool if_exists = false;
};

struct PartitionTableStatement : Statement {
    PartitionTableStatement() : Statement(StmtKind::kPartitionTable) {}
    std::string table;
    std::string column;
};

struct CreateViewStatement : Statement {
    CreateViewStatement() : Statement(StmtKind::kCreateView) {}
    std::string name;
    std::vector<std::string> column_names;  ///< optional (a, b, c) list
    SelectStmt* select = nullptr;
    /// CREATE MATERIALIZED VIEW: must be a shape kept up to date incrementally. A plain CREATE
    /// VIEW is materialized when its shape allows and a query view otherwise.
    bool materialized = false;
};

struct CreateProcedureStatement : Statement {
    CreateProcedureStatement() : Statement(StmtKind::kCreateProcedure) {}
    std::string name;
    std::optional<std::string> partition_table;
    std::optional<std::string> partition_column;
    int partition_parameter = 0;
    Statement* body = nullptr;  ///< null for a native procedure
    size_t body_offset = 0;     ///< byte offset of the body in text (for the catalog's copy)
    /// FROM LIBRARY 'library' [CLASS 'class_name']: a native (C++) procedure; class_name defaults
    /// to the procedure's name as written.
    std::string library;
    std::string class_name;
};

struct DropProcedureStatement : Statement {
    DropProcedureStatement() : Statement(StmtKind::kDropProcedure) {}
    std::string name;
    bool if_exists = false;
};

struct ExplainStatement : Statement {
    ExplainStatement() : Statement(StmtKind::kExplain) {}
    Statement* statement = nullptr;
};

/// Owns every node of one parse.
class AstArena {
  public:
    template <typename T, typename... Args>
    T* New(Args&&... args) {
        auto node = std::make_unique<Holder<T>>(std::forward<Args>(args)...);
        T* p = &node->value;
        nodes_.push_back(std::move(node));
        return p;
    }

  private:
    struct HolderBase {
        virtual ~HolderBase() = default;
    };
    template <typename T>
    struct Holder : HolderBase {
        template <typename... Args>
        explicit Holder(Args&&... args) : value(std::forward<Args>(args)...) {}
        T value;
    };
    std::vector<std::unique_ptr<HolderBase>> nodes_;
};

/// Renders an expression back to SQL (for expression index keys, view predicates and EXPLAIN).
std::string ExprToSql(const Expr& e);
/// A value as an SQL literal: strings quoted, binaries as x'..', timestamps as CAST(... AS TIMESTAMP).
std::string LiteralSql(const Value& v);

}  // namespace surge::sql
