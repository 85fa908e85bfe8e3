// The hand-written SQL tokenizer that feeds the Lemon parser.
//
// It knows comments (`--` to end of line, `/* */`), quoted identifiers ("x", with "" escapes),
// string literals ('x', with '' escapes), binary literals (x'0AFF'), numbers, `?` parameters and
// the operators. Keywords are looked up case-insensitively; the grammar's %fallback lets most of
// them serve as identifiers too.
#pragma once

#include <cstdint>
#include <string_view>

#include "sql/ast.h"

namespace surge::sql {

/// A string_view that is trivially constructible, so Token can sit in Lemon's value union.
struct TokenText {
    const char* ptr;
    uint32_t len;
    TokenText() = default;
    TokenText(std::string_view s) : ptr(s.data()), len(static_cast<uint32_t>(s.size())) {}  // NOLINT
    operator std::string_view() const { return {ptr, len}; }  // NOLINT(google-explicit-constructor)
    std::string_view view() const { return {ptr, len}; }
    bool empty() const { return len == 0; }
    size_t size() const { return len; }
    const char* data() const { return ptr; }
    char front() const { return ptr[0]; }
    char operator[](size_t i) const { return ptr[i]; }
    std::string_view substr(size_t pos, size_t n = std::string_view::npos) const { return view().substr(pos, n); }
    size_t find(char c) const { return view().find(c); }
    size_t find_first_of(const char* set) const { return view().find_first_of(set); }
};

struct Token {
    int type;         ///< TK_* from the generated parse.h, or kTokenSpace / kTokenIllegal
    TokenText text;   ///< raw text of the token
    uint32_t offset;  ///< byte offset in the input
    SourcePos pos;
};

constexpr int kTokenSpace = -1;         ///< whitespace and comments (not passed to the parser)
constexpr int kTokenIllegal = -2;       ///< a character or literal that cannot start a token
constexpr int kTokenUnterminated = -3;  ///< string, identifier or comment missing its end

class Tokenizer {
  public:
    explicit Tokenizer(std::string_view input) : input_(input) {}
    /// Next token (type 0 at the end of input).
    Token Next();

  private:
    std::string_view input_;
    uint32_t offset_ = 0;
    uint32_t line_ = 1;
    uint32_t line_start_ = 0;
};

/// The TK_* code of a keyword, or 0 if word is not a keyword.
int KeywordCode(std::string_view word);

}  // namespace surge::sql
