// Wire conversions (see convert.h).
#include "server/convert.h"

#include <google/protobuf/io/coded_stream.h>

#include <cmath>

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

using google::protobuf::io::CodedOutputStream;

// Appends a length-delimited field: its tag and size, the message, then `tail` (serialized
// fields of the same message).
void AppendMessageField(int field, const google::protobuf::MessageLite& m, std::string_view tail, std::string* out) {
    const auto tag = static_cast<uint32_t>(field << 3 | 2);  // wire type 2: length-delimited
    const size_t own = m.ByteSizeLong();
    const size_t size = own + tail.size();
    const size_t at = out->size();
    out->resize(at + CodedOutputStream::VarintSize32(tag) + CodedOutputStream::VarintSize64(size) + own);
    auto* p = reinterpret_cast<uint8_t*>(out->data() + at);
    p = CodedOutputStream::WriteVarint32ToArray(tag, p);
    p = CodedOutputStream::WriteVarint64ToArray(size, p);
    m.SerializeWithCachedSizesToArray(p);
    out->append(tail);
}

}  // namespace

void AppendResultWire(const exec::ResultSet& rs, std::string* out) {
    // A per-thread message keeps its capacity between calls; a large result uses its own so
    // that the thread does not keep its memory.
    constexpr size_t kScratchRows = 1024;
    thread_local v1::Table scratch;
    v1::Table large;
    v1::Table& table = rs.row_count() <= kScratchRows ? scratch : large;
    table.Clear();
    EncodeResult(rs, &table);
    AppendMessageField(3, table, {}, out);
}

void AppendResponseWire(const ResponseHead& head, std::string_view results, std::string* out) {
    thread_local v1::Response scratch;
    scratch.Clear();
    scratch.set_client_handle(head.client_handle);
    const Status& s = *head.status;
    EncodeStatus(s, scratch.mutable_status());
    if (head.code != v1::OK) scratch.mutable_status()->set_code(head.code);
    scratch.set_txn_id(head.txn_id);
    scratch.set_server_micros(head.server_micros);
    // The results follow the other fields (a parser takes fields in any order).
    AppendMessageField(1, scratch, s.ok() ? results : std::string_view(), out);
}

}  // namespace surge::server
