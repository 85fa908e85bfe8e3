// Shared by the operator implementations (operators.cc, window_op.cc); not part of exec's API.
#pragma once

#include <memory>
#include <vector>

#include "exec/operators.h"

namespace surge::exec {

/// Marks what each of exprs reads in *used (MarkColumns); false if that cannot be known.
bool MarkAll(const std::vector<sql::BoundExprPtr>& exprs, std::vector<bool>* used);

/// The kWindow operator (window_op.cc).
std::unique_ptr<Operator> MakeWindowOp(const sql::PlanNode& plan, TableResolver& tables);

}  // namespace surge::exec
