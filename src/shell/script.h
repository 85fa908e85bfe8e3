// Splitting shell input into statements.
//
// A SQL statement (and the `exec` and `explain` commands, whose arguments are SQL-like) ends at a
// `;` that is outside string literals, quoted identifiers and comments — SQLite's
// sqlite3_complete decides that, so the rules are the ones SQL users already know. Statements
// may span lines and share one. A shell command (help, quit, show, describe, set, file,
// explainproc, ...) starting a line ends at the end of that line or at a `;`, whichever comes first.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace surge::shell {

/// One unit of input: a SQL statement (without its `;`) or a shell command, and the line of the
/// input it starts on (1-based).
struct Statement {
    std::string text;
    int line = 0;
};

/// True if `word` (any case) starts a one-line shell command.
bool IsLineCommand(std::string_view word);

/// The first word of `text` (letters, digits, `_`, `@`, `.`), skipping leading whitespace and
/// comments.
std::string FirstWord(std::string_view text);

/// What follows the first word of `text`, trimmed ("exec Vote 1, 2" -> "Vote 1, 2").
std::string AfterFirstWord(std::string_view text);

/// True if `text` holds only whitespace and SQL comments.
bool IsBlank(std::string_view text);

class Splitter {
  public:
    /// Adds one line of input (without its newline) and returns the statements it completed.
    std::vector<Statement> AddLine(std::string_view line);
    /// Ends the input: an unfinished statement, if any, is returned as the last one (a statement
    /// missing its final `;` still runs; an unterminated string reaches the server and fails
    /// there, with its error).
    std::optional<Statement> Finish();
    /// True while a statement has started and not ended (the shell shows its continuation prompt).
    bool has_pending() const { return !buf_.empty(); }
    /// The unfinished statement's text so far.
    const std::string& pending() const { return buf_; }
    /// Drops the unfinished statement (Ctrl-C at the prompt).
    void Reset() { buf_.clear(); }
    /// Lines added so far.
    int line() const { return line_; }

  private:
    void AddText(std::string_view text, std::vector<Statement>* out);

    std::string buf_;
    int start_line_ = 0;
    int line_ = 0;
};

/// Reads `in` line by line (a trailing \r dropped) and calls `each` with every statement as soon as
/// it is complete, the unfinished last one included; stops early when `each` returns false.
/// Returns false if it stopped early.
bool ForEachStatement(std::istream& in, const std::function<bool(const Statement&)>& each);

}  // namespace surge::shell
