// Scalar functions beyond the core few in eval.cc: string (TRIM, REPLACE, POSITION), numeric
// (CEILING, FLOOR, ROUND, POWER, SQRT, EXP, LN) and time (TRUNCATE, TIME_WINDOW, EXTRACT, DATEADD,
// SINCE_EPOCH, TO_TIMESTAMP). Each takes its already evaluated, non-NULL arguments (the caller
// returns NULL when any argument is NULL) and throws SqlError on a domain or range error.
// Semantics are documented in docs/functions.md.
#pragma once

#include <span>

#include "sql/plan.h"
#include "types/value.h"

namespace surge::exec {

/// Evaluates e's function (one of the kinds listed above) over args.
Value EvalLibraryFunction(const sql::BoundExpr& e, std::span<const Value> args);

/// Whether f is one of the functions EvalLibraryFunction evaluates.
bool IsLibraryFunction(sql::ScalarFunc f);

}  // namespace surge::exec
