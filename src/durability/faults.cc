// Fault points (see faults.h).
#include "durability/faults.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>

namespace surge::durability {
namespace {

struct Armed {
    std::string point;
    uint64_t nth = 1;
    uint64_t hits = 0;
    bool fired = false;
};

std::atomic<bool> g_any{false};
std::mutex g_mu;
std::vector<Armed>& ArmedPoints() {
    static std::vector<Armed> armed;
    return armed;
}

}  // namespace

const std::vector<std::string>& Faults::Points() {
    static const std::vector<std::string> points = {"cmdlog.write",     "cmdlog.fsync",   "cmdlog.short_write",
                                                    "cmdlog.torn_exit", "snapshot.write", "snapshot.fsync",
                                                    "snapshot.corrupt", "snapshot.stall", "snapshot.remove"};
    return points;
}

Status Faults::Arm(std::string_view point, uint64_t nth) {
    const auto& points = Points();
    if (std::find(points.begin(), points.end(), point) == points.end()) {
        std::string known;
        for (const auto& p : points) known += (known.empty() ? "" : ", ") + p;
        return Status(ErrorCode::kInvalidParameter,
                      "unknown fault point \"" + std::string(point) + "\" (known: " + known + ")");
    }
    if (nth == 0) return Status(ErrorCode::kInvalidParameter, "a fault point fires on hit 1 or later");
    std::lock_guard<std::mutex> lock(g_mu);
    ArmedPoints().push_back({std::string(point), nth, 0, false});
    g_any.store(true, std::memory_order_release);
    return Status::Ok();
}

Status Faults::ArmFromSpec(std::string_view spec) {
    size_t start = 0;
    while (start <= spec.size()) {
        size_t comma = spec.find(',', start);
        if (comma == std::string_view::npos) comma = spec.size();
        std::string_view item = spec.substr(start, comma - start);
        start = comma + 1;
        if (item.empty()) continue;
        uint64_t nth = 1;
        if (size_t at = item.find('@'); at != std::string_view::npos) {
            std::string_view n = item.substr(at + 1);
            auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), nth);
            if (ec != std::errc() || ptr != n.data() + n.size()) {
                return Status(ErrorCode::kInvalidParameter,
                              "fault spec \"" + std::string(item) + "\": the hit after @ is a whole number");
            }
            item = item.substr(0, at);
        }
        Status s = Arm(item, nth);
        if (!s.ok()) return s;
    }
    return Status::Ok();
}

void Faults::DisarmAll() {
    std::lock_guard<std::mutex> lock(g_mu);
    ArmedPoints().clear();
    g_any.store(false, std::memory_order_release);
}

bool Faults::Fire(std::string_view point) {
    if (!g_any.load(std::memory_order_relaxed)) return false;
    std::lock_guard<std::mutex> lock(g_mu);
    bool fire = false;
    for (Armed& a : ArmedPoints()) {
        if (a.point != point || a.fired) continue;
        if (++a.hits == a.nth) {
            a.fired = true;
            fire = true;
        }
    }
    return fire;
}

}  // namespace surge::durability
