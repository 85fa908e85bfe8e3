#include "shell/format.h"

#include <wchar.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <vector>

namespace surge::shell {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its code point (or -1 for an invalid byte) and
// advances i.
int32_t NextCodePoint(std::string_view s, size_t& i) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
        ++i;
        return -1;
    }
    int32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) {
            ++i;
            return -1;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    i += len;
    return cp;
}

// wcwidth() of the C library (its Unicode tables), independent of the process's locale.
int CodePointWidth(int32_t cp) {
    if (cp < 0) return 1;
    if (cp < 0x7F) return cp < 0x20 ? 0 : 1;
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8 == static_cast<locale_t>(nullptr)) return 1;
    locale_t old = uselocale(utf8);
    int w = wcwidth(static_cast<wchar_t>(cp));
    uselocale(old);
    return w < 0 ? 1 : w;
}

// Appends `s` with newline, tab and carriage return as \n \t \r, each character of `literal`
// preceded by a backslash, and other control characters (and DEL) formatted by `control` (e.g.
// "\\x%02X"; null: kept as they are).
void AppendEscaped(std::string_view s, std::string_view literal, const char* control, std::string* out) {
    out->reserve(out->size() + s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            *out += "\\n";
        } else if (c == '\t') {
            *out += "\\t";
        } else if (c == '\r') {
            *out += "\\r";
        } else if (literal.find(c) != std::string_view::npos) {
            *out += '\\';
            *out += c;
        } else if (control && (u < 0x20 || u == 0x7F)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, control, static_cast<unsigned>(u));
            *out += buf;
        } else {
            *out += c;
        }
    }
}

void WriteCsvField(std::string_view s, std::ostream& out) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos && !s.empty()) {
        out << s;
        return;
    }
    out << '"';
    for (char c : s) {
        if (c == '"') out << '"';
        out << c;
    }
    out << '"';
}

void WriteJsonString(std::string_view s, std::ostream& out) {
    std::string text = "\"";
    AppendEscaped(s, "\"\\", "\\u%04x", &text);
    out << text << '"';
}

void WriteJsonValue(const client::Value& v, std::ostream& out) {
    using Kind = client::Value::Kind;
    switch (v.kind()) {
        case Kind::kNull:
            out << "null";
            return;
        case Kind::kInt:
        case Kind::kDecimal:
            out << v.ToString();
            return;
        case Kind::kFloat:
            if (std::isfinite(v.as_double())) {
                out << v.ToString();
            } else {
                WriteJsonString(v.ToString(), out);  // JSON has no NaN or infinity
            }
            return;
        case Kind::kBoolean:
            out << (v.as_int() ? "true" : "false");
            return;
        default:
            WriteJsonString(v.ToString(), out);
    }
}

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
    std::string n(name);
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    if (n == "table") return OutputFormat::kTable;
    if (n == "csv") return OutputFormat::kCsv;
    if (n == "tsv") return OutputFormat::kTsv;
    if (n == "json") return OutputFormat::kJson;
    return std::nullopt;
}

const char* OutputFormatName(OutputFormat f) {
    switch (f) {
        case OutputFormat::kTable:
            return "table";
        case OutputFormat::kCsv:
            return "csv";
        case OutputFormat::kTsv:
            return "tsv";
        case OutputFormat::kJson:
            return "json";
    }
    return "table";
}

size_t DisplayWidth(std::string_view utf8) {
    size_t w = 0;
    for (size_t i = 0; i < utf8.size();) w += CodePointWidth(NextCodePoint(utf8, i));
    return w;
}

std::string Clip(std::string_view utf8, size_t width) {
    if (DisplayWidth(utf8) <= width) return std::string(utf8);
    if (width == 0) return "";
    // Keep characters while they fit in width - 1 columns, then the ellipsis (one column).
    size_t w = 0, i = 0, keep = 0;
    while (i < utf8.size()) {
        size_t before = i;
        int cw = CodePointWidth(NextCodePoint(utf8, i));
        if (w + cw > width - 1) {
            i = before;
            break;
        }
        w += cw;
        keep = i;
    }
    return std::string(utf8.substr(0, keep)) + "…";
}

std::string CellText(const client::Value& v) {
    if (v.kind() != client::Value::Kind::kVarchar) return v.ToString();
    std::string out;
    AppendEscaped(v.as_string(), "", "\\x%02X", &out);
    return out;
}

bool IsNumericType(std::string_view type) {
    return type == "TINYINT" || type == "SMALLINT" || type == "INTEGER" || type == "BIGINT" || type == "FLOAT" ||
           type == "DECIMAL";
}

void WriteAligned(const client::Table& t, size_t max_width, std::ostream& out) {
    const size_t ncols = t.column_names.size();
    const size_t nrows = t.row_count();
    std::vector<std::string> cells(ncols * nrows);
    std::vector<size_t> cell_width(cells.size());
    std::vector<size_t> width(ncols);
    std::vector<bool> right(ncols);
    for (size_t c = 0; c < ncols; ++c) {
        width[c] = DisplayWidth(t.column_names[c]);
        right[c] = c < t.column_types.size() && IsNumericType(t.column_types[c]);
    }
    for (size_t r = 0; r < nrows; ++r) {
        for (size_t c = 0; c < ncols; ++c) {
            std::string s = CellText(t.at(r, c));
            if (max_width > 0) s = Clip(s, max_width);
            const size_t i = r * ncols + c;
            cell_width[i] = DisplayWidth(s);
            width[c] = std::max(width[c], cell_width[i]);
            cells[i] = std::move(s);
        }
    }
    auto pad = [&](size_t n) {
        for (size_t k = 0; k < n; ++k) out << ' ';
    };
    auto write_row = [&](auto text_of, auto width_of, bool align_right) {
        for (size_t c = 0; c < ncols; ++c) {
            out << (c == 0 ? " " : " | ");
            const size_t fill = width[c] - width_of(c);
            const bool last = c + 1 == ncols;
            if (align_right && right[c]) pad(fill);
            out << text_of(c);
            if (!(align_right && right[c]) && !last) pad(fill);
        }
        out << '\n';
    };
    write_row([&](size_t c) -> const std::string& { return t.column_names[c]; },
              [&](size_t c) { return DisplayWidth(t.column_names[c]); }, false);
    for (size_t c = 0; c < ncols; ++c) {
        out << (c == 0 ? "-" : "-+-");
        for (size_t k = 0; k < width[c]; ++k) out << '-';
    }
    out << "-\n";
    for (size_t r = 0; r < nrows; ++r) {
        write_row([&](size_t c) -> const std::string& { return cells[r * ncols + c]; },
                  [&](size_t c) { return cell_width[r * ncols + c]; }, true);
    }
}

void WriteCsv(const client::Table& t, std::ostream& out) {
    const size_t ncols = t.column_names.size();
    for (size_t c = 0; c < ncols; ++c) {
        if (c) out << ',';
        WriteCsvField(t.column_names[c], out);
    }
    out << '\n';
    for (size_t r = 0; r < t.row_count(); ++r) {
        for (size_t c = 0; c < ncols; ++c) {
            if (c) out << ',';
            const client::Value& v = t.at(r, c);
            if (!v.is_null()) WriteCsvField(v.ToString(), out);
        }
        out << '\n';
    }
}

void WriteTsv(const client::Table& t, std::ostream& out) {
    auto field = [&](std::string_view s) {
        std::string text;
        AppendEscaped(s, "\\", nullptr, &text);
        out << text;
    };
    const size_t ncols = t.column_names.size();
    for (size_t c = 0; c < ncols; ++c) {
        if (c) out << '\t';
        field(t.column_names[c]);
    }
    out << '\n';
    for (size_t r = 0; r < t.row_count(); ++r) {
        for (size_t c = 0; c < ncols; ++c) {
            if (c) out << '\t';
            const client::Value& v = t.at(r, c);
            if (v.is_null()) {
                out << "\\N";
            } else {
                field(v.ToString());
            }
        }
        out << '\n';
    }
}

void WriteJson(const client::Table& t, std::ostream& out) {
    const size_t ncols = t.column_names.size();
    const size_t nrows = t.row_count();
    out << '[';
    for (size_t r = 0; r < nrows; ++r) {
        out << (r == 0 ? "\n{" : ",\n{");
        for (size_t c = 0; c < ncols; ++c) {
            if (c) out << ',';
            WriteJsonString(t.column_names[c], out);
            out << ':';
            WriteJsonValue(t.at(r, c), out);
        }
        out << '}';
    }
    out << (nrows ? "\n]\n" : "]\n");
}

}  // namespace surge::shell
