// Export row formats (see format.h).
#include "export/format.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "types/value_ops.h"

namespace surge::exports {

std::string SafeFileName(std::string_view name) {
    std::string out;
    for (unsigned char c : name) out += (std::isalnum(c) || c == '_' || c == '-') ? static_cast<char>(c) : '_';
    return out;
}

namespace {

// Integers without a temporary string (every row has several).
void AppendInt(int64_t v, std::string* out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, end);
}

}  // namespace

void AppendCsvField(const Value& v, std::string* out) {
    if (v.is_null()) return;
    if (IsIntegral(v.type())) return AppendInt(v.AsInt(), out);
    std::string text;
    std::string_view s;
    if (v.type() == TypeId::kVarchar) {
        s = v.AsString();
    } else {
        text = v.ToString();
        s = text;
    }
    const bool quote = s.empty() || s.find_first_of(",\"\r\n") != std::string::npos;
    if (!quote) {
        out->append(s);
        return;
    }
    *out += '"';
    for (char c : s) {
        if (c == '"') *out += '"';
        *out += c;
    }
    *out += '"';
}

std::string ExportCsvHeader(const std::vector<catalog::ColumnDef>& columns) {
    std::string out = "txn_id,timestamp,partition,seq,op";
    for (const auto& c : columns) {
        out += ',';
        AppendCsvField(Value::Varchar(c.name), &out);
    }
    return out + "\n";
}

void AppendCsvRow(const RowView& row, std::string* out) {
    AppendInt(static_cast<int64_t>(row.txn_id), out);
    *out += ',';
    *out += FormatTimestamp(row.timestamp);
    *out += ',';
    AppendInt(row.partition, out);
    *out += ',';
    AppendInt(static_cast<int64_t>(row.seq), out);
    *out += ',';
    *out += exec::ExportOpName(row.op);
    for (size_t c = 0; c < row.columns->size(); ++c) {
        *out += ',';
        AppendCsvField(row.values[c], out);
    }
    *out += '\n';
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Length(std::string_view s, size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (b < 0x80) return 1;
    if ((b & 0xE0) == 0xC0) {
        n = 2;
        cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
        n = 3;
        cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
        n = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    *out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            *out += '\\';
            *out += static_cast<char>(c);
            ++i;
        } else if (c == '\n') {
            *out += "\\n";
            ++i;
        } else if (c == '\r') {
            *out += "\\r";
            ++i;
        } else if (c == '\t') {
            *out += "\\t";
            ++i;
        } else if (c < 0x20) {
            *out += "\\u00";
            *out += kHex[c >> 4];
            *out += kHex[c & 0xF];
            ++i;
        } else if (c < 0x80) {
            *out += static_cast<char>(c);
            ++i;
        } else if (size_t n = Utf8Length(s, i); n > 0) {
            out->append(s.data() + i, n);
            i += n;
        } else {
            *out += "\\ufffd";  // a byte that is not UTF-8 becomes the replacement character
            ++i;
        }
    }
    *out += '"';
}

void AppendJsonValue(const Value& v, std::string* out) {
    if (v.is_null()) {
        *out += "null";
        return;
    }
    switch (v.type()) {
        case TypeId::kBoolean:
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
        case TypeId::kInteger:
        case TypeId::kBigInt:
        case TypeId::kDecimal:
            *out += v.ToString();
            return;
        case TypeId::kFloat:
            if (std::isfinite(v.AsDouble())) {
                *out += v.ToString();
            } else {
                AppendJsonString(v.ToString(), out);
            }
            return;
        default:
            AppendJsonString(v.ToString(), out);
            return;
    }
}

void AppendJsonRow(const RowView& row, std::string* out) {
    *out += "{\"stream\":";
    AppendJsonString(row.stream, out);
    *out += ",\"partition\":";
    *out += std::to_string(row.partition);
    *out += ",\"seq\":";
    *out += std::to_string(row.seq);
    *out += ",\"txn_id\":";
    *out += std::to_string(row.txn_id);
    *out += ",\"timestamp\":\"";
    *out += FormatTimestamp(row.timestamp);
    *out += "\",\"op\":\"";
    *out += exec::ExportOpName(row.op);
    *out += "\",\"row\":{";
    for (size_t c = 0; c < row.columns->size(); ++c) {
        if (c) *out += ',';
        AppendJsonString((*row.columns)[c].name, out);
        *out += ':';
        AppendJsonValue(row.values[c], out);
    }
    *out += "}}\n";
}

}  // namespace surge::exports
