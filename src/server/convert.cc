// Wire conversions (see convert.h).
#include "server/convert.h"

#include <absl/container/inlined_vector.h>
#include <google/protobuf/io/coded_stream.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "types/decimal.h"
#include "types/value_ops.h"

namespace surge::server {

v1::Type WireType(TypeId t) {
    switch (t) {
        case TypeId::kTinyInt:
            return v1::TINYINT;
        case TypeId::kSmallInt:
            return v1::SMALLINT;
        case TypeId::kInteger:
            return v1::INTEGER;
        case TypeId::kBigInt:
            return v1::BIGINT;
        case TypeId::kFloat:
            return v1::FLOAT;
        case TypeId::kDecimal:
            return v1::DECIMAL;
        case TypeId::kVarchar:
            return v1::VARCHAR;
        case TypeId::kVarbinary:
            return v1::VARBINARY;
        case TypeId::kTimestamp:
            return v1::TIMESTAMP;
        case TypeId::kBoolean:
            return v1::BOOLEAN;
        case TypeId::kNull:
            break;
    }
    return v1::TYPE_UNSPECIFIED;
}

namespace {

TypeId FromWire(v1::Type t) {
    switch (t) {
        case v1::TINYINT:
            return TypeId::kTinyInt;
        case v1::SMALLINT:
            return TypeId::kSmallInt;
        case v1::INTEGER:
            return TypeId::kInteger;
        case v1::BIGINT:
            return TypeId::kBigInt;
        case v1::FLOAT:
            return TypeId::kFloat;
        case v1::DECIMAL:
            return TypeId::kDecimal;
        case v1::VARCHAR:
            return TypeId::kVarchar;
        case v1::VARBINARY:
            return TypeId::kVarbinary;
        case v1::TIMESTAMP:
            return TypeId::kTimestamp;
        case v1::BOOLEAN:
            return TypeId::kBoolean;
        default:
            return TypeId::kNull;
    }
}

}  // namespace

Status DecodeParams(const google::protobuf::RepeatedPtrField<v1::Value>& in, std::vector<Value>* out) {
    out->clear();
    out->reserve(in.size());
    for (int i = 0; i < in.size(); ++i) {
        const v1::Value& v = in[i];
        auto bad = [&](const std::string& why) {
            return Status(ErrorCode::kInvalidParameter, "parameter " + std::to_string(i + 1) + ": " + why);
        };
        switch (v.kind_case()) {
            case v1::Value::kNull:
                out->push_back(Value::Null(FromWire(v.null())));
                break;
            case v1::Value::kInt:
                out->push_back(Value::BigInt(v.int_()));
                break;
            case v1::Value::kFloat:
                if (!std::isfinite(v.float_())) return bad("FLOAT must be finite");
                out->push_back(Value::Float(v.float_()));
                break;
            case v1::Value::kDecimal:
                try {
                    out->push_back(Value::Dec(Decimal::Parse(v.decimal())));
                } catch (const SqlError& e) {
                    return bad(e.status().message());
                }
                break;
            case v1::Value::kVarchar:
                out->push_back(Value::Varchar(v.varchar()));
                break;
            case v1::Value::kVarbinary:
                out->push_back(Value::Varbinary(v.varbinary()));
                break;
            case v1::Value::kTimestamp:
                try {
                    out->push_back(CastValue(Value::BigInt(v.timestamp()), SqlType::Of(TypeId::kTimestamp)));
                } catch (const SqlError& e) {
                    return bad(e.status().message());
                }
                break;
            case v1::Value::kBoolean:
                out->push_back(Value::Bool(v.boolean()));
                break;
            case v1::Value::KIND_NOT_SET:
                return bad("no value set");
        }
    }
    return Status::Ok();
}

void EncodeValue(const Value& v, v1::Value* out) {
    if (v.is_null()) {
        out->set_null(WireType(v.type()));
        return;
    }
    switch (v.type()) {
        case TypeId::kFloat:
            out->set_float_(v.AsDouble());
            break;
        case TypeId::kDecimal:
            out->set_decimal(v.ToString());
            break;
        case TypeId::kVarchar:
            out->set_varchar(std::string(v.AsString()));
            break;
        case TypeId::kVarbinary:
            out->set_varbinary(std::string(v.AsString()));
            break;
        case TypeId::kTimestamp:
            out->set_timestamp(v.AsInt());
            break;
        case TypeId::kBoolean:
            out->set_boolean(v.AsBool());
            break;
        default:
            out->set_int_(v.AsInt());
            break;
    }
}

void EncodeResult(const exec::ResultSet& rs, v1::Table* out) {
    const size_t ncols = rs.column_count();
    const size_t nrows = rs.row_count();
    out->set_row_count(nrows);
    for (size_t c = 0; c < ncols; ++c) {
        auto* col = out->add_columns();
        col->set_name(rs.columns[c].name);
        col->set_type(WireType(rs.columns[c].type.id));
        v1::ColumnData* data = out->add_data();
        const TypeId t = rs.columns[c].type.id;
        std::string nulls;
        auto mark_null = [&](size_t r) {
            if (nulls.empty()) nulls.assign((nrows + 7) / 8, '\0');
            nulls[r / 8] = static_cast<char>(nulls[r / 8] | (1 << (r % 8)));
        };
        switch (t) {
            case TypeId::kFloat: {
                auto* f = data->mutable_floats();
                f->Reserve(static_cast<int>(nrows));
                for (size_t r = 0; r < nrows; ++r) {
                    const Value& v = rs.at(r, c);
                    if (v.is_null()) mark_null(r);
                    f->AddAlreadyReserved(v.is_null() ? 0.0 : v.ToDouble());
                }
                break;
            }
            case TypeId::kDecimal:
            case TypeId::kVarchar: {
                auto* s = data->mutable_strings();
                s->Reserve(static_cast<int>(nrows));
                for (size_t r = 0; r < nrows; ++r) {
                    const Value& v = rs.at(r, c);
                    if (v.is_null()) {
                        mark_null(r);
                        s->Add();
                    } else if (t == TypeId::kVarchar && v.type() == TypeId::kVarchar) {
                        s->Add()->assign(v.AsString());
                    } else {
                        *s->Add() = v.ToString();
                    }
                }
                break;
            }
            case TypeId::kVarbinary: {
                auto* b = data->mutable_binaries();
                b->Reserve(static_cast<int>(nrows));
                for (size_t r = 0; r < nrows; ++r) {
                    const Value& v = rs.at(r, c);
                    if (v.is_null()) mark_null(r);
                    b->Add()->assign(v.is_null() ? std::string_view() : v.AsString());
                }
                break;
            }
            default: {
                auto* ints = data->mutable_ints();
                ints->Reserve(static_cast<int>(nrows));
                for (size_t r = 0; r < nrows; ++r) {
                    const Value& v = rs.at(r, c);
                    if (v.is_null()) mark_null(r);
                    ints->AddAlreadyReserved(v.is_null() ? 0 : v.AsInt());
                }
                break;
            }
        }
        if (!nulls.empty()) data->set_nulls(std::move(nulls));
    }
}

v1::StatusCode StatusCodeOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::kOk:
            return v1::OK;
        case ErrorCode::kUndefinedFunction:
            return v1::SQL_ERROR;  // refined by the caller for unknown procedures
        case ErrorCode::kInvalidParameter:
            return v1::INVALID_PARAMETER;
        case ErrorCode::kInternal:
            return v1::INTERNAL;
        case ErrorCode::kIoError:
            return v1::UNAVAILABLE;
        case ErrorCode::kResourceExhausted:
            return v1::OVERLOADED;
        default:
            return v1::SQL_ERROR;
    }
}

void EncodeStatus(const Status& s, v1::Status* out) {
    out->set_code(StatusCodeOf(s.code()));
    out->set_message(s.message());
    if (!s.ok()) out->set_sqlstate(std::string(SqlState(s.code())));
}

namespace {

// The answers are written straight to the wire format (what protobuf would serialize for the
// same messages, byte for byte, fields in number order; tests/unit/server_test.cc checks it):
// no message objects are built for them on the partition thread.

using google::protobuf::io::CodedOutputStream;

// Tags of length-delimited fields 1..5 and of varint fields 1..5 (all one byte).
constexpr char LenTag(int field) { return static_cast<char>(field << 3 | 2); }
constexpr char VarintTag(int field) { return static_cast<char>(field << 3); }

size_t VarintSize(uint64_t v) { return CodedOutputStream::VarintSize64(v); }
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
/// A length-delimited field carrying `payload` bytes.
size_t FieldSize(size_t payload) { return 1 + VarintSize(payload) + payload; }

// Writes into a buffer sized beforehand.
struct Writer {
    char* p;
    void Byte(char c) { *p++ = c; }
    void Varint(uint64_t v) {
        p = reinterpret_cast<char*>(CodedOutputStream::WriteVarint64ToArray(v, reinterpret_cast<uint8_t*>(p)));
    }
    void Raw(std::string_view s) {
        if (!s.empty()) std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void Field(int field, std::string_view s) {
        Byte(LenTag(field));
        Varint(s.size());
        Raw(s);
    }
    void VarintField(int field, uint64_t v) {
        Byte(VarintTag(field));
        Varint(v);
    }
};

enum class CellKind { kInt, kFloat, kString, kBinary };

CellKind KindOf(TypeId t) {
    switch (t) {
        case TypeId::kFloat:
            return CellKind::kFloat;
        case TypeId::kDecimal:
        case TypeId::kVarchar:
            return CellKind::kString;
        case TypeId::kVarbinary:
            return CellKind::kBinary;
        default:
            return CellKind::kInt;
    }
}

// The text a string column sends for a value that is not NULL (*tmp holds a converted one).
std::string_view StringCell(const Value& v, TypeId t, std::string* tmp) {
    if (t == TypeId::kVarbinary || (t == TypeId::kVarchar && v.type() == TypeId::kVarchar)) return v.AsString();
    *tmp = v.ToString();
    return *tmp;
}

int64_t IntCell(const Value& v) { return v.is_null() ? 0 : v.AsInt(); }

// A column's ColumnData message: whether it has a NULL, the packed array's bytes (ints or
// floats), and the whole message's size.
struct ColumnSize {
    bool has_null = false;
    size_t packed = 0;
    size_t body = 0;
};

ColumnSize SizeColumn(const exec::ResultSet& rs, size_t c) {
    const size_t nrows = rs.row_count();
    const TypeId t = rs.columns[c].type.id;
    const CellKind kind = KindOf(t);
    ColumnSize out;
    size_t strings = 0;
    std::string tmp;
    for (size_t r = 0; r < nrows; ++r) {
        const Value& v = rs.at(r, c);
        const bool null = v.is_null();
        out.has_null |= null;
        switch (kind) {
            case CellKind::kInt:
                out.packed += VarintSize(ZigZag(IntCell(v)));
                break;
            case CellKind::kFloat:
                out.packed += sizeof(double);
                break;
            case CellKind::kString:
            case CellKind::kBinary:
                strings += FieldSize(null ? 0 : StringCell(v, t, &tmp).size());
                break;
        }
    }
    out.body = (out.has_null ? FieldSize((nrows + 7) / 8) : 0) + (out.packed ? FieldSize(out.packed) : 0) + strings;
    return out;
}

void WriteColumn(const exec::ResultSet& rs, size_t c, const ColumnSize& size, Writer& w) {
    const size_t nrows = rs.row_count();
    const TypeId t = rs.columns[c].type.id;
    const CellKind kind = KindOf(t);
    w.Byte(LenTag(3));  // Table.data
    w.Varint(size.body);
    if (size.has_null) {  // ColumnData.nulls: bit r of byte r / 8
        const size_t bytes = (nrows + 7) / 8;
        w.Byte(LenTag(1));
        w.Varint(bytes);
        std::memset(w.p, 0, bytes);
        for (size_t r = 0; r < nrows; ++r) {
            if (rs.at(r, c).is_null()) w.p[r / 8] = static_cast<char>(w.p[r / 8] | (1 << (r % 8)));
        }
        w.p += bytes;
    }
    if (size.packed) {  // ColumnData.ints (sint64) or .floats, packed
        w.Byte(LenTag(kind == CellKind::kFloat ? 3 : 2));
        w.Varint(size.packed);
        for (size_t r = 0; r < nrows; ++r) {
            const Value& v = rs.at(r, c);
            if (kind == CellKind::kFloat) {
                const double d = v.is_null() ? 0.0 : v.ToDouble();
                std::memcpy(w.p, &d, sizeof d);  // little-endian, as the wire format
                w.p += sizeof d;
            } else {
                w.Varint(ZigZag(IntCell(v)));
            }
        }
    }
    if (kind == CellKind::kString || kind == CellKind::kBinary) {  // ColumnData.strings or .binaries
        const int field = kind == CellKind::kString ? 4 : 5;
        std::string tmp;
        for (size_t r = 0; r < nrows; ++r) {
            const Value& v = rs.at(r, c);
            w.Field(field, v.is_null() ? std::string_view() : StringCell(v, t, &tmp));
        }
    }
}

static_assert(std::endian::native == std::endian::little, "floats are written in the wire's byte order");

}  // namespace

void AppendResultWire(const exec::ResultSet& rs, std::string* out) {
    const size_t ncols = rs.column_count();
    const size_t nrows = rs.row_count();
    absl::InlinedVector<ColumnSize, 8> sizes(ncols);
    absl::InlinedVector<size_t, 8> column_msgs(ncols);  // Column messages' sizes
    size_t table = nrows ? 1 + VarintSize(nrows) : 0;   // Table.row_count
    for (size_t c = 0; c < ncols; ++c) {
        const auto& col = rs.columns[c];
        const auto type = static_cast<uint64_t>(WireType(col.type.id));
        column_msgs[c] = (col.name.empty() ? 0 : FieldSize(col.name.size())) + (type ? 1 + VarintSize(type) : 0);
        sizes[c] = SizeColumn(rs, c);
        table += FieldSize(column_msgs[c]) + FieldSize(sizes[c].body);
    }
    const size_t at = out->size();
    const size_t total = FieldSize(table);
    out->resize(at + total);
    Writer w{out->data() + at};
    w.Byte(LenTag(3));  // Response.results
    w.Varint(table);
    for (size_t c = 0; c < ncols; ++c) {  // Table.columns
        const auto& col = rs.columns[c];
        const auto type = static_cast<uint64_t>(WireType(col.type.id));
        w.Byte(LenTag(1));
        w.Varint(column_msgs[c]);
        if (!col.name.empty()) w.Field(1, col.name);
        if (type) w.VarintField(2, type);
    }
    if (nrows) w.VarintField(2, nrows);                                  // Table.row_count
    for (size_t c = 0; c < ncols; ++c) WriteColumn(rs, c, sizes[c], w);  // Table.data
}

void AppendResponseWire(const ResponseHead& head, std::string_view results, std::string* out) {
    const Status& s = *head.status;
    const auto code = static_cast<uint64_t>(head.code != v1::OK ? head.code : StatusCodeOf(s.code()));
    const std::string_view sqlstate = s.ok() ? std::string_view() : SqlState(s.code());
    const std::string& message = s.message();
    if (!s.ok()) results = {};  // an error answers no rows
    const size_t status = (code ? 1 + VarintSize(code) : 0) + (message.empty() ? 0 : FieldSize(message.size())) +
                          (sqlstate.empty() ? 0 : FieldSize(sqlstate.size()));
    const size_t response = (head.client_handle ? 1 + VarintSize(head.client_handle) : 0) + FieldSize(status) +
                            results.size() + (head.server_micros ? 1 + VarintSize(head.server_micros) : 0) +
                            (head.txn_id ? 1 + VarintSize(head.txn_id) : 0);
    const size_t at = out->size();
    const size_t total = FieldSize(response);
    out->resize(at + total);
    Writer w{out->data() + at};
    w.Byte(LenTag(1));  // ResponseBatch.responses
    w.Varint(response);
    if (head.client_handle) w.VarintField(1, head.client_handle);
    w.Byte(LenTag(2));  // Response.status, always present
    w.Varint(status);
    if (code) w.VarintField(1, code);
    if (!message.empty()) w.Field(2, message);
    if (!sqlstate.empty()) w.Field(3, sqlstate);
    w.Raw(results);  // Response.results fields
    if (head.server_micros) w.VarintField(4, head.server_micros);
    if (head.txn_id) w.VarintField(5, head.txn_id);
}

}  // namespace surge::server
