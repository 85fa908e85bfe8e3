// Conversions between the wire API (proto surge.v1) and SurgeDB's values, results and errors.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "exec/engine.h"
#include "surge/v1/surge.pb.h"
#include "types/value.h"

namespace surge::server {

/// Decodes parameters. kInvalidParameter names the parameter that does not decode (a DECIMAL
/// that is not a number, a TIMESTAMP out of range, a value with no kind set).
Status DecodeParams(const google::protobuf::RepeatedPtrField<v1::Value>& in, std::vector<Value>* out);

/// Encodes a value (used by tests and the clients' mirror of this code).
void EncodeValue(const Value& v, v1::Value* out);

/// Appends a result table, column by column.
void EncodeResult(const exec::ResultSet& rs, v1::Table* out);

/// Fills a response status from an engine status (code, message, SQLSTATE).
void EncodeStatus(const Status& s, v1::Status* out);

// Serialized answers (a stream's responses are written as bytes by the thread that finishes the
// call, so no Response message crosses threads). The concatenation of AppendResponseWire
// outputs is a serialized v1::ResponseBatch.

/// Appends `rs` as a serialized `Response.results` field (one result table).
void AppendResultWire(const exec::ResultSet& rs, std::string* out);
/// The parts of a Response other than its result tables.
struct ResponseHead {
    uint64_t client_handle = 0;
    const Status* status = nullptr;
    v1::StatusCode code = v1::OK;  ///< when not OK: replaces the code the status implies
    uint64_t txn_id = 0;
    uint64_t server_micros = 0;
};
/// Appends one `ResponseBatch.responses` field: the head with `results` (AppendResultWire
/// fields) in field order, without the results when the status is an error. Both write the bytes
/// protobuf would serialize for the same messages.
void AppendResponseWire(const ResponseHead& head, std::string_view results, std::string* out);
v1::StatusCode StatusCodeOf(ErrorCode code);

v1::Type WireType(TypeId t);

}  // namespace surge::server
