// Hashing used for index buckets and (later) partition routing. xxHash's XXH3: fast and stable
// across versions and platforms, which routing needs because logs and snapshots depend on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace surge {

/// 64-bit XXH3 of a byte string, seed 0. Stable: never change for persisted uses.
uint64_t Hash64(const void* data, size_t len);
inline uint64_t Hash64(std::string_view s) { return Hash64(s.data(), s.size()); }
/// 64-bit XXH3 with a seed (checksums of persisted records). Stable like Hash64.
uint64_t Hash64(const void* data, size_t len, uint64_t seed);

}  // namespace surge
