// Arguments of `exec Proc arg ...`, typed by how they are written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "surge/client.h"

namespace surge::shell {

/// Parses the arguments of an `exec` command, separated by spaces and/or commas:
///   'text' (with '' for a quote)   VARCHAR
///   NULL                           NULL
///   123, -5                        BIGINT (beyond 64 bits: DECIMAL)
///   1.25, -0.5                     DECIMAL, exact
///   1e6, 2.5E-3                    FLOAT
///   TRUE, FALSE                    BOOLEAN
///   TIMESTAMP '2026-11-25 10:00:00[.ffffff]'   TIMESTAMP (UTC; a date alone is midnight)
///   X'0AFF'                        VARBINARY
/// The server converts each to the parameter's type (a quoted '2026-11-25 10:00:00' passed for a
/// TIMESTAMP column converts too). On a malformed argument returns nullopt and sets `error`.
std::optional<std::vector<client::Value>> ParseArguments(std::string_view text, std::string* error);

/// Microseconds since the epoch for "YYYY-MM-DD[ |T]HH:MM[:SS[.ffffff]]" or "YYYY-MM-DD" (UTC).
std::optional<int64_t> ParseTimestamp(std::string_view text);

/// Splits `exec` text into the procedure name and the rest ("Vote 1, 2" -> "Vote", "1, 2").
std::pair<std::string, std::string> SplitProcedureName(std::string_view text);

}  // namespace surge::shell
