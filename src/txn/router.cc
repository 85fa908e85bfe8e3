// Partition routing (see router.h). Changing anything here changes where rows live: don't.
#include "txn/router.h"

#include "common/hash.h"

namespace surge::txn {

Router::Router(uint32_t partitions) : ring_(kBuckets), partitions_(partitions == 0 ? 1 : partitions) {
    for (uint32_t b = 0; b < kBuckets; ++b) ring_[b] = b % partitions_;
}

Result<Router> Router::FromRing(std::vector<uint32_t> ring, uint32_t partitions) {
    if (partitions == 0) return Status(ErrorCode::kInternal, "routing ring: zero partitions");
    if (ring.size() != kBuckets) {
        return Status(ErrorCode::kInternal, "routing ring has " + std::to_string(ring.size()) + " buckets, expected " +
                                                std::to_string(kBuckets));
    }
    for (uint32_t b = 0; b < kBuckets; ++b) {
        if (ring[b] >= partitions) {
            return Status(ErrorCode::kInternal, "routing ring: bucket " + std::to_string(b) + " names partition " +
                                                    std::to_string(ring[b]) + " of " + std::to_string(partitions));
        }
    }
    return Router(std::move(ring), partitions);
}

uint32_t Router::Bucket(const Value& v) {
    if (v.is_null()) return 0;
    uint64_t h = 0;
    switch (v.type()) {
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            h = Hash64(v.AsString());
            break;
        case TypeId::kFloat: {
            double d = v.AsDouble();
            h = Hash64(&d, sizeof d);
            break;
        }
        case TypeId::kDecimal: {
            auto raw = v.AsDecimal().raw();
            unsigned char bytes[16];
            for (int i = 0; i < 16; ++i)
                bytes[i] = static_cast<unsigned char>(static_cast<unsigned __int128>(raw) >> (8 * i));
            h = Hash64(bytes, sizeof bytes);
            break;
        }
        default: {
            // Little-endian 64-bit two's complement, whatever the host's byte order.
            uint64_t x = static_cast<uint64_t>(v.AsInt());
            unsigned char bytes[8];
            for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(x >> (8 * i));
            h = Hash64(bytes, sizeof bytes);
            break;
        }
    }
    return static_cast<uint32_t>(h % kBuckets);
}

}  // namespace surge::txn
