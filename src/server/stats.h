// Per-procedure call statistics for @Statistics PROCEDURE: counts and a latency histogram per
// procedure, kept in shards (one per partition thread, one for the coordinator, one for calls that
// end elsewhere) so that recording takes only an uncontended lock.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "exec/engine.h"

namespace surge::server {

/// Log-linear latency histogram (microseconds): exact below 8, then 8 sub-buckets per power of
/// two (relative error under 12.5 %).
class LatencyHistogram {
  public:
    static constexpr int kBuckets = 8 + 61 * 8;
    void Add(uint64_t micros);
    void Merge(const LatencyHistogram& o);
    uint64_t count() const { return count_; }
    uint64_t max() const { return max_; }
    uint64_t sum() const { return sum_; }
    /// The smallest bucket bound at or below which a fraction p of the samples fall.
    uint64_t Percentile(double p) const;
    static int Bucket(uint64_t micros);
    static uint64_t UpperBound(int bucket);

  private:
    std::array<uint64_t, kBuckets> counts_{};
    uint64_t count_ = 0, max_ = 0, sum_ = 0;
};

class Stats {
  public:
    explicit Stats(size_t shards);
    void Record(size_t shard, std::string_view procedure, bool ok, uint64_t micros);
    /// One row per procedure: procedure, invocations, failures, avg/p50/p95/p99/max microseconds.
    exec::ResultSet Procedures() const;

  private:
    struct Proc {
        uint64_t failures = 0;
        LatencyHistogram latency;
    };
    struct Shard {
        mutable std::mutex mu;
        absl::flat_hash_map<std::string, Proc> procs;
    };
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace surge::server
