// Parse(): SQL text to statements. Errors are SqlError(kSyntaxError) naming line, column and the
// token: `syntax error at 1:15 near "FORM"`.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "sql/ast.h"

namespace surge::sql {

/// Longest statement text accepted (bytes).
constexpr size_t kMaxStatementLength = 1 << 20;

struct ParseResult {
    std::unique_ptr<AstArena> arena;
    std::vector<Statement*> statements;
};

struct ParsedExpression {
    std::unique_ptr<AstArena> arena;
    Expr* expr = nullptr;
};

/// Parses a single expression (index keys and view predicates stored as text). Throws SqlError.
ParsedExpression ParseExpression(std::string_view text);

/// Parses one or more `;`-separated statements (the last `;` is optional). Throws SqlError.
ParseResult Parse(std::string_view sql);

}  // namespace surge::sql
