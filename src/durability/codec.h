// Byte encoding for what durability writes (command log records, later snapshots): little-endian
// fixed-width integers, length-prefixed strings and typed SQL values. The format is persisted:
// never change an existing encoding, add new tags instead.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "types/value.h"

namespace surge::durability {

/// Appends encodings to a string (reused across records: no allocation once it is large enough).
class ByteWriter {
  public:
    explicit ByteWriter(std::string* out) : out_(out) {}
    void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
    void U32(uint32_t v) { Fixed(v); }
    void U64(uint64_t v) { Fixed(v); }
    void I64(int64_t v) { Fixed(static_cast<uint64_t>(v)); }
    /// u32 length, then the bytes.
    void Str(std::string_view s) {
        U32(static_cast<uint32_t>(s.size()));
        out_->append(s.data(), s.size());
    }
    /// A type tag (TypeId), a null flag, then the value's payload.
    void Val(const Value& v);
    size_t size() const { return out_->size(); }

  private:
    template <class T>
    void Fixed(T v) {
        char b[sizeof(T)];
        for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
        out_->append(b, sizeof(T));
    }
    std::string* out_;
};

/// Reads what ByteWriter wrote. Every read checks the remaining length; after a failed read ok()
/// is false and further reads return zero values.
class ByteReader {
  public:
    explicit ByteReader(std::string_view in) : in_(in) {}
    uint8_t U8() { return static_cast<uint8_t>(Fixed<uint8_t>()); }
    uint32_t U32() { return Fixed<uint32_t>(); }
    uint64_t U64() { return Fixed<uint64_t>(); }
    int64_t I64() { return static_cast<int64_t>(Fixed<uint64_t>()); }
    std::string_view Str();
    /// A value; false (and !ok()) when the bytes are not a valid encoding.
    bool Val(Value* out);
    bool ok() const { return ok_; }
    size_t remaining() const { return in_.size() - pos_; }
    size_t position() const { return pos_; }

  private:
    template <class T>
    T Fixed() {
        if (!ok_ || remaining() < sizeof(T)) {
            ok_ = false;
            return 0;
        }
        T v = 0;
        for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
        pos_ += sizeof(T);
        return v;
    }
    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace surge::durability
