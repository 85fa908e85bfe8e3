// Conversions between the wire API (proto surge.v1) and SurgeDB's values, results and errors.
#pragma once

#include <span>
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
v1::StatusCode StatusCodeOf(ErrorCode code);

v1::Type WireType(TypeId t);

}  // namespace surge::server
