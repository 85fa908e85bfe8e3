// Tokenizer implementation: a single pass over bytes, tracking line and column for messages.
#include "sql/tokenizer.h"

#include <array>
#include <cctype>
#include <string>
#include <unordered_map>

#include "sql/parse.h"

namespace surge::sql {

namespace {

struct Keyword {
    const char* word;
    int code;
};

constexpr Keyword kKeywords[] = {
    {"ADD", TK_ADD},
    {"EXPORT", TK_EXPORT},
    {"STREAM", TK_STREAM},
    {"TARGET", TK_TARGET},
    {"TO", TK_TO},
    {"ALL", TK_ALL},
    {"ALTER", TK_ALTER},
    {"AND", TK_AND},
    {"AS", TK_AS},
    {"ASC", TK_ASC},
    {"ASSUMEUNIQUE", TK_ASSUMEUNIQUE},
    {"BETWEEN", TK_BETWEEN},
    {"BOTH", TK_BOTH},
    {"BY", TK_BY},
    {"CASE", TK_CASE},
    {"CAST", TK_CAST},
    {"CLASS", TK_CLASS},
    {"COLUMN", TK_COLUMN},
    {"CONSTRAINT", TK_CONSTRAINT},
    {"CREATE", TK_CREATE},
    {"CROSS", TK_CROSS},
    {"DEFAULT", TK_DEFAULT},
    {"DELETE", TK_DELETE},
    {"DESC", TK_DESC},
    {"DISTINCT", TK_DISTINCT},
    {"DROP", TK_DROP},
    {"ELSE", TK_ELSE},
    {"END", TK_END},
    {"ESCAPE", TK_ESCAPE},
    {"EXCEPT", TK_EXCEPT},
    {"EXISTS", TK_EXISTS},
    {"EXPLAIN", TK_EXPLAIN},
    {"FALSE", TK_FALSE},
    {"FIRST", TK_FIRST},
    {"FOR", TK_FOR},
    {"FROM", TK_FROM},
    {"FULL", TK_FULL},
    {"GROUP", TK_GROUP},
    {"HASH", TK_HASH},
    {"HAVING", TK_HAVING},
    {"IF", TK_IF},
    {"IN", TK_IN},
    {"INDEX", TK_INDEX},
    {"INNER", TK_INNER},
    {"INSERT", TK_INSERT},
    {"INTERSECT", TK_INTERSECT},
    {"INTO", TK_INTO},
    {"IS", TK_IS},
    {"JOIN", TK_JOIN},
    {"KEY", TK_KEY},
    {"LAST", TK_LAST},
    {"LEADING", TK_LEADING},
    {"LEFT", TK_LEFT},
    {"LIBRARY", TK_LIBRARY},
    {"LIKE", TK_LIKE},
    {"LIMIT", TK_LIMIT},
    {"MATERIALIZED", TK_MATERIALIZED},
    {"NATURAL", TK_NATURAL},
    {"NOT", TK_NOT},
    {"NULL", TK_NULL},
    {"NULLS", TK_NULLS},
    {"OFFSET", TK_OFFSET},
    {"ON", TK_ON},
    {"OR", TK_OR},
    {"ORDER", TK_ORDER},
    {"OUTER", TK_OUTER},
    {"OVER", TK_OVER},
    {"PARAMETER", TK_PARAMETER},
    {"PARTITION", TK_PARTITION},
    {"PRIMARY", TK_PRIMARY},
    {"PROCEDURE", TK_PROCEDURE},
    {"REPLACE", TK_REPLACE},
    {"RIGHT", TK_RIGHT},
    {"SELECT", TK_SELECT},
    {"SET", TK_SET},
    {"TABLE", TK_TABLE},
    {"THEN", TK_THEN},
    {"TRAILING", TK_TRAILING},
    {"TREE", TK_TREE},
    {"TRUE", TK_TRUE},
    {"TRUNCATE", TK_TRUNCATE},
    {"UNION", TK_UNION},
    {"UNIQUE", TK_UNIQUE},
    {"UPDATE", TK_UPDATE},
    {"UPSERT", TK_UPSERT},
    {"USING", TK_USING},
    {"VALUES", TK_VALUES},
    {"VIEW", TK_VIEW},
    {"WHEN", TK_WHEN},
    {"WHERE", TK_WHERE},
    {"WITH", TK_WITH},
};

const std::unordered_map<std::string, int>& KeywordMap() {
    static const auto* map = [] {
        auto* m = new std::unordered_map<std::string, int>();
        for (const auto& k : kKeywords) m->emplace(k.word, k.code);
        return m;
    }();
    return *map;
}

bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

}  // namespace

int KeywordCode(std::string_view word) {
    if (word.size() > 16) return 0;
    std::array<char, 17> buf{};
    for (size_t i = 0; i < word.size(); ++i)
        buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[i])));
    auto it = KeywordMap().find(std::string(buf.data(), word.size()));
    return it == KeywordMap().end() ? 0 : it->second;
}

Token Tokenizer::Next() {
    const std::string_view s = input_;
    const uint32_t n = static_cast<uint32_t>(s.size());
    uint32_t i = offset_;
    Token tok{0, {}, i, SourcePos{line_, i - line_start_ + 1}};
    if (i >= n) return tok;

    auto finish = [&](int type, uint32_t end) {
        tok.type = type;
        tok.text = s.substr(i, end - i);
        // Track lines inside the token (strings and comments may span lines).
        for (uint32_t k = i; k < end; ++k) {
            if (s[k] == '\n') {
                ++line_;
                line_start_ = k + 1;
            }
        }
        offset_ = end;
        return tok;
    };
    auto peek = [&](uint32_t k) -> char { return k < n ? s[k] : '\0'; };

    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
        uint32_t j = i + 1;
        while (j < n && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
        return finish(kTokenSpace, j);
    }
    switch (c) {
        case '-':
            if (peek(i + 1) == '-') {
                uint32_t j = i + 2;
                while (j < n && s[j] != '\n') ++j;
                return finish(kTokenSpace, j);
            }
            return finish(TK_MINUS, i + 1);
        case '/':
            if (peek(i + 1) == '*') {
                uint32_t j = i + 2;
                while (j + 1 < n && !(s[j] == '*' && s[j + 1] == '/')) ++j;
                if (j + 1 >= n) return finish(kTokenUnterminated, n);
                return finish(kTokenSpace, j + 2);
            }
            return finish(TK_SLASH, i + 1);
        case '(':
            return finish(TK_LP, i + 1);
        case ')':
            return finish(TK_RP, i + 1);
        case ';':
            return finish(TK_SEMI, i + 1);
        case ',':
            return finish(TK_COMMA, i + 1);
        case '+':
            return finish(TK_PLUS, i + 1);
        case '*':
            return finish(TK_STAR, i + 1);
        case '%':
            return finish(TK_REM, i + 1);
        case '?':
            return finish(TK_PARAM, i + 1);
        case '=':
            return finish(TK_EQ, peek(i + 1) == '=' ? i + 2 : i + 1);
        case '<':
            if (peek(i + 1) == '=') return finish(TK_LE, i + 2);
            if (peek(i + 1) == '>') return finish(TK_NE, i + 2);
            return finish(TK_LT, i + 1);
        case '>':
            if (peek(i + 1) == '=') return finish(TK_GE, i + 2);
            return finish(TK_GT, i + 1);
        case '!':
            if (peek(i + 1) == '=') return finish(TK_NE, i + 2);
            return finish(kTokenIllegal, i + 1);
        case '|':
            if (peek(i + 1) == '|') return finish(TK_CONCAT, i + 2);
            return finish(kTokenIllegal, i + 1);
        case '\'': {
            uint32_t j = i + 1;
            while (true) {
                if (j >= n) return finish(kTokenUnterminated, n);
                if (s[j] == '\'') {
                    if (peek(j + 1) == '\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            return finish(TK_STRING, j + 1);
        }
        case '"':
        case '`': {
            const char close = static_cast<char>(c);
            uint32_t j = i + 1;
            while (true) {
                if (j >= n) return finish(kTokenUnterminated, n);
                if (s[j] == close) {
                    if (peek(j + 1) == close) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            return finish(TK_QUOTED_ID, j + 1);
        }
        case '[': {
            uint32_t j = i + 1;
            while (j < n && s[j] != ']') ++j;
            if (j >= n) return finish(kTokenUnterminated, n);
            return finish(TK_QUOTED_ID, j + 1);
        }
        case '.':
            if (!std::isdigit(static_cast<unsigned char>(peek(i + 1)))) return finish(TK_DOT, i + 1);
            break;  // a number like .5
        default:
            break;
    }
    if ((c == 'x' || c == 'X') && peek(i + 1) == '\'') {
        uint32_t j = i + 2;
        while (j < n && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j >= n || s[j] != '\'' || (j - i - 2) % 2 != 0) {
            while (j < n && s[j] != '\'') ++j;
            return finish(kTokenIllegal, j < n ? j + 1 : n);
        }
        return finish(TK_BLOB, j + 1);
    }
    if (std::isdigit(c) || c == '.') {
        uint32_t j = i;
        bool is_float = false;
        while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j < n && s[j] == '.') {
            is_float = true;
            ++j;
            while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
        if (j < n && (s[j] == 'e' || s[j] == 'E')) {
            uint32_t k = j + 1;
            if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
            if (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) {
                while (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
                j = k;
                is_float = true;
            }
        }
        if (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) {
            while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
            return finish(kTokenIllegal, j);
        }
        return finish(is_float ? TK_FLOAT : TK_INTEGER, j);
    }
    if (IsIdentStart(c)) {
        uint32_t j = i + 1;
        while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
        int code = KeywordCode(s.substr(i, j - i));
        return finish(code ? code : TK_ID, j);
    }
    return finish(kTokenIllegal, i + 1);
}

}  // namespace surge::sql
