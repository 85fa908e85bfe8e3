// Memcomparable key encoding for indexes: the bytewise order (memcmp, shorter-is-smaller) of
// encoded keys equals SQL order of the values, part by part, so one byte-string container serves
// every key type and multi-column keys, and a prefix of parts is a byte prefix.
//
// Each part: 0x00 for NULL (NULLs sort first), or 0x01 followed by:
//   integral/TIMESTAMP: 8 bytes big-endian, sign bit flipped
//   FLOAT: 8 bytes, IEEE bits transformed (negative: all bits flipped; else sign bit set);
//          -0.0 is encoded as 0.0, all NaNs as one NaN that sorts above +inf
//   DECIMAL: 16 bytes big-endian, sign bit flipped
//   VARCHAR/VARBINARY: bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x00
// After the last part every byte that follows (next part, or the non-unique suffix) is 0x00 or
// 0x01, so PrefixSuccessor(p) = p + 0xFF bounds all keys starting with p.
#pragma once

#include <string>
#include <string_view>

#include "types/value.h"

namespace surge::storage {

/// Appends one key part. v must already have the key part's type (or be NULL); an integral key
/// accepts any integral v. Throws kInternal on a type the encoding does not know.
void EncodeKeyPart(const Value& v, TypeId key_type, std::string* out);
/// The same parts as EncodeKeyPart, from what a row's slot holds (no Value in between): NULL,
/// an integral key part's value, a VARCHAR/VARBINARY key part's bytes.
void EncodeNullKeyPart(std::string* out);
void EncodeIntKeyPart(int64_t v, std::string* out);
void EncodeBytesKeyPart(std::string_view bytes, std::string* out);
/// Smallest byte string greater than every key that starts with prefix.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace surge::storage
