// Plans: what the binder and planner produce and exec runs. A plan is a tree of PlanNodes whose
// expressions are BoundExprs: names resolved to row slots, types known, functions looked up.
//
// Row model: every node produces rows of output.size() Values. Column references name a slot in
// the row of their own query block (depth 0) or of an enclosing block (depth d > 0, correlated
// subqueries). Inside a block, FROM tables are laid out one after another in join order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "sql/ast.h"
#include "types/value.h"

namespace surge::sql {

struct PlanNode;

enum class BoundKind : uint8_t {
    kConstant,
    kParam,
    kColumn,
    kUnary,
    kBinary,
    kFunction,
    kCase,
    kCast,
    kInList,
    kLike,
    kIsNull,
    kIsDistinctFrom,
    kScalarSubquery,
    kExists,
    kInSubquery,
};

/// Built-in scalar functions.
enum class ScalarFunc : uint8_t {
    kAbs,
    kCoalesce,
    kNullIf,
    kLower,
    kUpper,
    kCharLength,
    kSubstring,
    kConcat,
    kNow,
    // strings
    kTrim,
    kReplace,
    kPosition,
    // numbers
    kCeiling,
    kFloor,
    kRound,
    kPower,
    kSqrt,
    kExp,
    kLn,
    // time (func_arg holds the TimeUnit)
    kTruncateTime,
    kTimeWindow,
    kExtract,
    kDateAdd,
    kSinceEpoch,
    kToTimestamp,
};

/// Units and fields of the time functions (TRUNCATE, TIME_WINDOW, DATEADD, SINCE_EPOCH,
/// TO_TIMESTAMP, EXTRACT). The last three are EXTRACT fields only.
enum class TimeUnit : uint8_t {
    kYear,
    kQuarter,
    kMonth,
    kWeek,
    kDay,
    kHour,
    kMinute,
    kSecond,
    kMillisecond,
    kMicrosecond,
    kDayOfWeek,
    kDayOfYear,
    kWeekOfYear,
};

struct BoundExpr {
    BoundKind kind = BoundKind::kConstant;
    SqlType type;    ///< result type; kBoolean for predicates, kNull if unknown (NULL)
    Value constant;  ///< kConstant
    int index = -1;  ///< kParam: parameter; kColumn: slot
    int depth = 0;   ///< kColumn: 0 = this block's row, d = d-th enclosing block
    BinaryOp binary_op = BinaryOp::kAdd;
    UnaryOp unary_op = UnaryOp::kNot;
    ScalarFunc func = ScalarFunc::kAbs;
    /// kFunction: TimeUnit of a time function; TRIM's side (0 both, 1 leading, 2 trailing).
    int func_arg = 0;
    bool window_end = false;  ///< TIME_WINDOW(..., END)
    bool negated = false;
    bool case_has_operand = false;
    bool case_has_else = false;
    std::vector<std::unique_ptr<BoundExpr>> children;
    std::shared_ptr<PlanNode> subquery;  ///< kScalarSubquery, kExists, kInSubquery
    bool subquery_correlated = false;    ///< false: evaluate once per statement execution
    std::string text;                    ///< SQL text, for EXPLAIN and messages
};
using BoundExprPtr = std::unique_ptr<BoundExpr>;

enum class AggFunc : uint8_t { kCountStar, kCount, kSum, kMin, kMax, kAvg };

struct AggSpec {
    AggFunc func;
    bool distinct = false;
    BoundExprPtr arg;  ///< over the input row; null for COUNT(*)
    SqlType type;      ///< result type
};

enum class WindowFuncKind : uint8_t {
    kRowNumber,
    kRank,
    kDenseRank,
    kCountStar,
    kCount,
    kSum,
    kMin,
    kMax,
    kAvg,
    kLag,   ///< arg of the row `offset` rows before in the partition's order, else default_value
    kLead,  ///< the same, `offset` rows after
};

/// One window function of a kWindow node. Its frame is the SQL default: the whole partition
/// without ORDER BY; with ORDER BY, the partition's rows up to the current row and its peers.
struct WindowFunc {
    WindowFuncKind kind;
    BoundExprPtr arg;            ///< over the input row; null for ROW_NUMBER, RANK, DENSE_RANK, COUNT(*)
    int64_t offset = 1;          ///< LAG, LEAD: rows back or ahead (a constant >= 0)
    BoundExprPtr default_value;  ///< LAG, LEAD: over the input row, when there is no such row; null: NULL
    std::vector<BoundExprPtr> partition_by;
    std::vector<BoundExprPtr> order_by;
    std::vector<bool> order_descending;
    std::vector<bool> order_nulls_first;
    SqlType type;
};

struct SortKey {
    int slot;
    bool descending = false;
    bool nulls_first = true;  ///< default: NULLs first ascending, last descending (NULL sorts low)
};

struct OutputColumn {
    std::string name;
    SqlType type;
};

enum class PlanKind : uint8_t {
    kSeqScan,
    kIndexScan,
    kOneRow,  ///< SELECT without FROM: a single empty row
    kFilter,
    kProject,
    kNestedLoopJoin,
    kHashJoin,  ///< builds a hash table of children[1] on hash_right_keys, probes with children[0]
    kAggregate,
    kSort,
    kLimit,
    kDistinct,
    kSetOp,
    kWindow,  ///< output = input row, then one column per window function
    kInsert,
    kUpdate,
    kDelete,
    kTruncate,
};

/// Index access: equality on the first eq_keys.size() key parts, then optionally a range on the
/// next part. Key expressions evaluate against the context row (the left side of a join, or the
/// enclosing block), so an inner index scan re-seeks per outer row.
struct IndexAccess {
    std::string index;
    std::vector<BoundExprPtr> eq_keys;
    BoundExprPtr lower;
    bool lower_inclusive = true;
    BoundExprPtr upper;
    bool upper_inclusive = true;
    bool reverse = false;
    /// Key parts matched by IS NULL instead of = (same position as in eq_keys; value ignored).
    std::vector<bool> eq_is_null;
};

struct PlanNode {
    PlanKind kind;
    std::vector<OutputColumn> output;
    std::vector<std::unique_ptr<PlanNode>> children;

    // Scans and DML targets.
    std::shared_ptr<const catalog::TableDef> table;
    IndexAccess access;   ///< kIndexScan
    BoundExprPtr filter;  ///< kSeqScan/kIndexScan residual, kFilter, kNestedLoopJoin condition

    // kProject: one expression per output column. kInsert: rows of values (VALUES lists).
    std::vector<BoundExprPtr> exprs;
    std::vector<std::vector<BoundExprPtr>> rows;

    // kNestedLoopJoin, kHashJoin (inner or left; filter = the residual condition)
    JoinType join_type = JoinType::kInner;
    std::vector<BoundExprPtr> hash_left_keys;   ///< kHashJoin: over the left row
    std::vector<BoundExprPtr> hash_right_keys;  ///< kHashJoin: over the right row (its own slots)
    bool materialize_right = false;             ///< kNestedLoopJoin: the right side reads no left row; read it once

    // kAggregate: output = group keys then aggregates.
    std::vector<BoundExprPtr> group_by;
    std::vector<AggSpec> aggs;

    // kSort
    std::vector<SortKey> sort_keys;
    // kWindow
    std::vector<WindowFunc> windows;
    // kLimit (expressions over parameters/constants)
    BoundExprPtr limit;
    BoundExprPtr offset;
    /// kSort/kLimit/kDistinct: how many leading columns are visible (the rest are sort keys).
    size_t visible_columns = 0;

    // kSetOp
    SetOp set_op = SetOp::kNone;

    // kInsert/kUpdate: target column for each produced value; kUpdate: exprs are the new values
    // evaluated over the target row.
    std::vector<int> target_columns;
    bool upsert = false;
};
using PlanPtr = std::unique_ptr<PlanNode>;

/// EXPLAIN text of a plan, one node a line, children indented.
std::string ExplainPlan(const PlanNode& plan);

}  // namespace surge::sql
