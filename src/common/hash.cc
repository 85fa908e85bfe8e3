// XXH3 wrapper, kept out of headers so only this file includes xxhash.h.
#include "common/hash.h"

#include <xxhash.h>

namespace surge {

uint64_t Hash64(const void* data, size_t len) { return XXH3_64bits(data, len); }
uint64_t Hash64(const void* data, size_t len, uint64_t seed) { return XXH3_64bits_withSeed(data, len, seed); }

}  // namespace surge
