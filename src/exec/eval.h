// Expression evaluation over rows, and the per-execution context operators share.
#pragma once

#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "sql/plan.h"
#include "storage/undo_log.h"
#include "types/value.h"

namespace surge::storage {
class Table;
}

namespace surge::exec {

class Operator;

/// A row an expression reads: depth 0 is `values`; depth d follows `outer` d times.
struct EvalRow {
    const Value* values = nullptr;
    const EvalRow* outer = nullptr;
};

/// The storage a plan reads for one table: the partition's own table, or, in multi-partition
/// execution, every partition's part of a partitioned table (in partition order).
using TableSet = std::span<storage::Table* const>;

/// Resolves a table definition to its storage.
class TableResolver {
  public:
    virtual ~TableResolver() = default;
    virtual TableSet Resolve(const catalog::TableDef& def) = 0;
};

/// State of one statement execution. Subquery operator trees live as long as their prepared
/// statement; uncorrelated subquery results are cached for one execution.
struct ExecContext {
    std::span<const Value> params;
    storage::UndoLog* undo = nullptr;
    TableResolver* tables = nullptr;
    int64_t now_micros = 0;
    uint64_t execution = 0;  ///< increments per execution; invalidates cached subquery results

    struct SubqueryState {
        std::unique_ptr<Operator> op;
        uint64_t cached_execution = 0;
        std::vector<Value> cached;  ///< uncorrelated: first column of every row
        bool cached_has_null = false;
        std::vector<Value> row;
    };
    std::unordered_map<const sql::PlanNode*, SubqueryState>* subqueries = nullptr;
};

/// Evaluates e. Predicates yield BOOLEAN or NULL (unknown). Throws SqlError.
Value Eval(const sql::BoundExpr& e, const EvalRow& row, ExecContext& ctx);
/// True only when e evaluates to TRUE (NULL and FALSE reject), as WHERE requires.
bool EvalPredicate(const sql::BoundExpr& e, const EvalRow& row, ExecContext& ctx);

/// SQL LIKE with optional escape character; '%' and '_' wildcards; linear-time matching.
/// Longest LIKE pattern accepted, in bytes: matching costs up to text length × pattern length.
constexpr size_t kMaxLikePatternLength = 1000;

bool LikeMatch(std::string_view text, std::string_view pattern, int escape);

}  // namespace surge::exec
