// Procedure statistics (see stats.h).
#include "server/stats.h"

#include <algorithm>
#include <map>

namespace surge::server {

int LatencyHistogram::Bucket(uint64_t v) {
    if (v < 8) return static_cast<int>(v);
    const int e = 63 - __builtin_clzll(v);  // >= 3
    const int sub = static_cast<int>((v >> (e - 3)) & 7);
    return 8 + (e - 3) * 8 + sub;
}

uint64_t LatencyHistogram::UpperBound(int bucket) {
    if (bucket < 8) return static_cast<uint64_t>(bucket);
    const int e = (bucket - 8) / 8 + 3;
    const uint64_t sub = static_cast<uint64_t>((bucket - 8) % 8);
    const uint64_t base = uint64_t{1} << e;
    const uint64_t step = uint64_t{1} << (e - 3);
    return base + (sub + 1) * step - 1;
}

void LatencyHistogram::Add(uint64_t micros) {
    ++counts_[static_cast<size_t>(Bucket(micros))];
    ++count_;
    sum_ += micros;
    max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[static_cast<size_t>(i)] += o.counts_[static_cast<size_t>(i)];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
}

uint64_t LatencyHistogram::Percentile(double p) const {
    if (count_ == 0) return 0;
    const double target = p * static_cast<double>(count_);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += counts_[static_cast<size_t>(i)];
        if (static_cast<double>(seen) >= target) return std::min(UpperBound(i), max_);
    }
    return max_;
}

Stats::Stats(size_t shards) {
    for (size_t i = 0; i < std::max<size_t>(shards, 1); ++i) shards_.push_back(std::make_unique<Shard>());
}

void Stats::Record(size_t shard, std::string_view procedure, bool ok, uint64_t micros) {
    Shard& s = *shards_[std::min(shard, shards_.size() - 1)];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it =
        s.procs.find(absl::string_view(procedure.data(), procedure.size()));  // Debian Abseil: not std::string_view
    if (it == s.procs.end()) it = s.procs.emplace(std::string(procedure), Proc()).first;
    if (!ok) ++it->second.failures;
    it->second.latency.Add(micros);
}

exec::ResultSet Stats::Procedures() const {
    std::map<std::string, Proc> all;
    for (const auto& shard : shards_) {
        std::lock_guard<std::mutex> lock(shard->mu);
        for (const auto& [name, p] : shard->procs) {
            Proc& acc = all[name];
            acc.failures += p.failures;
            acc.latency.Merge(p.latency);
        }
    }
    exec::ResultSet rs;
    const SqlType big = SqlType::Of(TypeId::kBigInt);
    rs.columns = {{"procedure", SqlType{TypeId::kVarchar, 1024}},
                  {"invocations", big},
                  {"failures", big},
                  {"avg_us", big},
                  {"p50_us", big},
                  {"p95_us", big},
                  {"p99_us", big},
                  {"max_us", big}};
    for (const auto& [name, p] : all) {
        const auto& h = p.latency;
        rs.values.push_back(Value::Varchar(name));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.count())));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(p.failures)));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.count() ? h.sum() / h.count() : 0)));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.Percentile(0.50))));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.Percentile(0.95))));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.Percentile(0.99))));
        rs.values.push_back(Value::BigInt(static_cast<int64_t>(h.max())));
    }
    return rs;
}

}  // namespace surge::server
