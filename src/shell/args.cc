#include "shell/args.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace surge::shell {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Reads exactly `n` digits at s[i].
bool Digits(std::string_view s, size_t& i, size_t n, int64_t* out) {
    if (i + n > s.size()) return false;
    int64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
        if (!IsDigit(s[i + k])) return false;
        v = v * 10 + (s[i + k] - '0');
    }
    i += n;
    *out = v;
    return true;
}

// A quoted string at text[i] (i at the opening quote); unescapes '' and advances past the close.
std::optional<std::string> Quoted(std::string_view text, size_t& i) {
    std::string s;
    for (size_t k = i + 1; k < text.size(); ++k) {
        if (text[k] != '\'') {
            s += text[k];
        } else if (k + 1 < text.size() && text[k + 1] == '\'') {
            s += '\'';
            ++k;
        } else {
            i = k + 1;
            return s;
        }
    }
    return std::nullopt;
}

std::optional<client::Value> Number(std::string_view tok) {
    size_t i = tok[0] == '-' || tok[0] == '+' ? 1 : 0;
    size_t digits = 0, dots = 0, exp = std::string_view::npos;
    for (size_t k = i; k < tok.size(); ++k) {
        if (IsDigit(tok[k])) {
            ++digits;
        } else if (tok[k] == '.' && dots == 0 && exp == std::string_view::npos) {
            ++dots;
        } else if ((tok[k] == 'e' || tok[k] == 'E') && exp == std::string_view::npos && digits > 0) {
            exp = k;
            if (k + 1 < tok.size() && (tok[k + 1] == '+' || tok[k + 1] == '-')) ++k;
            if (k + 1 >= tok.size()) return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    if (digits == 0) return std::nullopt;
    if (exp != std::string_view::npos) {
        std::string s(tok);
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size()) return std::nullopt;
        return client::Value(d);
    }
    if (dots == 0) {
        int64_t v = 0;
        const char* first = tok.data() + (tok[0] == '+' ? 1 : 0);
        auto [p, ec] = std::from_chars(first, tok.data() + tok.size(), v);
        if (ec == std::errc() && p == tok.data() + tok.size()) return client::Value(v);
    }
    // Exact decimal text as the server reads it: "-.5" -> "-0.5", "5." -> "5.0".
    std::string sign = tok[0] == '-' ? "-" : "";
    std::string body(tok.substr(i));
    if (body.front() == '.') body.insert(0, "0");
    if (body.back() == '.') body += '0';
    return client::Value::Decimal(sign + body);
}

}  // namespace

std::optional<int64_t> ParseTimestamp(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    size_t i = 0;
    int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (!Digits(s, i, 4, &y) || i >= s.size() || s[i++] != '-' || !Digits(s, i, 2, &mo) || i >= s.size() ||
        s[i++] != '-' || !Digits(s, i, 2, &d)) {
        return std::nullopt;
    }
    if (i < s.size()) {
        if (s[i] != ' ' && s[i] != 'T') return std::nullopt;
        ++i;
        if (!Digits(s, i, 2, &h) || i >= s.size() || s[i++] != ':' || !Digits(s, i, 2, &mi)) return std::nullopt;
        if (i < s.size()) {
            if (s[i++] != ':' || !Digits(s, i, 2, &sec)) return std::nullopt;
            if (i < s.size()) {
                if (s[i++] != '.') return std::nullopt;
                size_t n = s.size() - i;
                if (n == 0 || n > 6 || !Digits(s, i, n, &frac)) return std::nullopt;
                for (size_t k = n; k < 6; ++k) frac *= 10;
            }
        }
    }
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 59) return std::nullopt;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return std::nullopt;
    const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return ((days * 24 + h) * 60 + mi) * 60 * 1000000 + sec * 1000000 + frac;
}

std::pair<std::string, std::string> SplitProcedureName(std::string_view text) {
    size_t i = 0;
    while (i < text.size() && IsSpace(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !IsSpace(text[j]) && text[j] != ',') ++j;
    size_t k = j;
    while (k < text.size() && (IsSpace(text[k]) || text[k] == ',')) ++k;
    return {std::string(text.substr(i, j - i)), std::string(text.substr(k))};
}

std::optional<std::vector<client::Value>> ParseArguments(std::string_view text, std::string* error) {
    std::vector<client::Value> out;
    size_t i = 0;
    auto fail = [&](const std::string& why) {
        *error = "argument " + std::to_string(out.size() + 1) + ": " + why;
        return std::nullopt;
    };
    while (true) {
        while (i < text.size() && (IsSpace(text[i]) || text[i] == ',')) ++i;
        if (i >= text.size()) break;
        if (text[i] == '\'') {
            auto s = Quoted(text, i);
            if (!s) return fail("unterminated string (end it with ')");
            out.emplace_back(*s);
            continue;
        }
        size_t j = i;
        while (j < text.size() && !IsSpace(text[j]) && text[j] != ',' && text[j] != '\'') ++j;
        std::string_view word = text.substr(i, j - i);
        if (EqualsNoCase(word, "timestamp")) {  // TIMESTAMP 'text': blanks may separate the two
            while (j < text.size() && IsSpace(text[j])) ++j;
            if (j >= text.size() || text[j] != '\'')
                return fail("TIMESTAMP needs a quoted value: TIMESTAMP '2026-01-31 12:00:00'");
        }
        if (j < text.size() && text[j] == '\'' && (EqualsNoCase(word, "x") || EqualsNoCase(word, "timestamp"))) {
            size_t k = j;
            auto s = Quoted(text, k);
            if (!s) return fail("unterminated string (end it with ')");
            if (EqualsNoCase(word, "x")) {
                if (s->size() % 2) return fail("X'" + *s + "' has an odd number of hex digits");
                std::string bytes;
                for (size_t h = 0; h < s->size(); h += 2) {
                    int v = 0;
                    auto [p, ec] = std::from_chars(s->data() + h, s->data() + h + 2, v, 16);
                    if (ec != std::errc() || p != s->data() + h + 2) return fail("X'" + *s + "' is not hex");
                    bytes += static_cast<char>(v);
                }
                out.push_back(client::Value::Bytes(std::move(bytes)));
            } else {
                auto ts = ParseTimestamp(*s);
                if (!ts) return fail("TIMESTAMP '" + *s + "' is not YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]");
                out.push_back(client::Value::Timestamp(*ts));
            }
            i = k;
            continue;
        }
        if (j < text.size() && text[j] == '\'') return fail("unexpected quote after " + std::string(word));
        if (EqualsNoCase(word, "null")) {
            out.emplace_back();
        } else if (EqualsNoCase(word, "true") || EqualsNoCase(word, "false")) {
            out.push_back(client::Value::Boolean(EqualsNoCase(word, "true")));
        } else if (auto n = Number(word)) {
            out.push_back(*n);
        } else {
            return fail("\"" + std::string(word) +
                        "\" is not a number, NULL, TRUE/FALSE, TIMESTAMP '...' or X'...'; quote strings: '" +
                        std::string(word) + "'");
        }
        i = j;
    }
    return out;
}

}  // namespace surge::shell
