// Router: which partition owns a partition-column value. A value is reduced to canonical bytes
// and hashed (XXH3-64, seed 0) into one of kBuckets buckets; a ring maps buckets to partitions.
// The canonical form, the hash and kBuckets are part of the on-disk contract (command logs and
// snapshots record partition numbers derived from them) and must never change; see
// docs/adr/0005-partitioned-transactions.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "exec/engine.h"
#include "types/value.h"

namespace surge::txn {

class Router : public exec::PartitionRouter {
  public:
    static constexpr uint32_t kBuckets = 4096;

    /// The initial ring for `partitions` partitions: bucket b belongs to partition b % partitions.
    explicit Router(uint32_t partitions);
    /// A ring read back from a snapshot (one partition number per bucket).
    static Result<Router> FromRing(std::vector<uint32_t> ring, uint32_t partitions);

    uint32_t partition_count() const { return partitions_; }
    const std::vector<uint32_t>& ring() const { return ring_; }

    /// The bucket of a partition value, which the caller has already converted to the partition
    /// column's type. Integers of every width, TIMESTAMP and BOOLEAN hash as their 64-bit value;
    /// VARCHAR and VARBINARY as their bytes; FLOAT and DECIMAL (never partition column types) as
    /// their binary representation. NULL goes to bucket 0 (partition columns are NOT NULL, so only
    /// a parameter can carry one, and the statement then finds no row).
    static uint32_t Bucket(const Value& v);
    uint32_t Partition(const Value& v) const { return ring_[Bucket(v)]; }
    uint32_t PartitionOf(const Value& v) const override { return Partition(v); }

  private:
    Router(std::vector<uint32_t> ring, uint32_t partitions) : ring_(std::move(ring)), partitions_(partitions) {}
    std::vector<uint32_t> ring_;
    uint32_t partitions_;
};

}  // namespace surge::txn
