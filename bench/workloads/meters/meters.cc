// The smart-meter workload's procedures (bench/workloads/meters/ddl.sql), as a procedure library:
//
//   CREATE PROCEDURE Report PARTITION ON TABLE meters COLUMN meter_id PARAMETER 0
//     FROM LIBRARY '/path/to/meters.so';
//   CREATE PROCEDURE Silent FROM LIBRARY '/path/to/meters.so';
//
// Report(meter_id, period, counter): one 15-minute reading of a meter's cumulative counter (Wh).
// Rejected (into the rejected stream, answered with the reason's code) when the meter is unknown
// (1), the period was already reported (2), the period is older than the last one (3), the
// counter went backwards (4) or the energy is beyond what a meter can draw (5). A period after a
// gap of up to kMaxEstimated missing periods first gets the missing readings, estimated by linear
// interpolation of the counter (estimated = 1). Accepted readings go to readings (intraday, with
// the end of their day for billing) and to the validated stream; the meter's last period and
// counter move on. Answers 0.
//
// Silent(now): meters whose last reading is older than two periods before now (or that never
// reported) raise an alert once per silence: "silent", or "concentrator_silent" when every meter
// of their concentrator is silent (a concentrator outage rather than meter faults). A new reading
// ends the silence. Answers the meters newly found silent.
#include <map>
#include <string>

#include "surge/procedure.h"

namespace {

using surge::sdk::Context;
using surge::sdk::Definition;
using surge::sdk::Params;
using surge::sdk::Statement;
using surge::sdk::Type;
using surge::sdk::Value;

constexpr int64_t kPeriodMicros = 15 * 60 * 1'000'000LL;
constexpr int64_t kMaxWhPerPeriod = 25'000;  // 100 kW for 15 minutes
constexpr int64_t kMaxEstimated = 4;
constexpr int64_t kDayMicros = 86'400'000'000LL;

// The midnight (UTC) that ends the day of a period.
int64_t BillingDay(int64_t period) {
    const int64_t day = period / kDayMicros - (period % kDayMicros < 0 ? 1 : 0);
    return (day + 1) * kDayMicros;
}

class Report : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt, Type::kTimestamp, Type::kBigInt});
        meter_ = def.Declare("SELECT concentrator_id, last_period, last_counter FROM meters WHERE meter_id = ?");
        seen_ = def.Declare("SELECT COUNT(*) FROM readings WHERE meter_id = ? AND period = ?");
        reject_ = def.Declare("INSERT INTO rejected VALUES (?, ?, ?)");
        reading_ = def.Declare("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?)");
        validated_ = def.Declare("INSERT INTO validated VALUES (?, ?, ?, ?, ?, ?)");
        advance_ =
            def.Declare("UPDATE meters SET last_period = ?, last_counter = ?, silent_alerted = 0 WHERE meter_id = ?");
    }

    void Run(Context& ctx, const Params& p) override {
        const int64_t meter = p[0].AsInt();
        const int64_t period = p[1].AsInt();
        const int64_t counter = p[2].AsInt();
        ctx.Queue(meter_, meter);
        ctx.Queue(seen_, meter, Value::Timestamp(period));
        auto check = ctx.ExecuteBatch();
        auto reject = [&](int64_t code, const char* reason) {
            ctx.Queue(reject_, meter, Value::Timestamp(period), reason);
            ctx.ExecuteBatch();
            ctx.Return("result", code);
        };
        if (check[0].row_count() == 0) return reject(1, "unknown_meter");
        if (check[1].GetInt(0, 0) > 0) return reject(2, "duplicate");
        const int64_t concentrator = check[0].GetInt(0, 0);
        const bool first = check[0].Get(0, 1).is_null();
        const int64_t last_period = first ? 0 : check[0].GetInt(0, 1);
        const int64_t last_counter = first ? 0 : check[0].GetInt(0, 2);
        int64_t gaps = 0;
        if (!first) {
            if (period <= last_period) return reject(3, "out_of_order");
            if (counter < last_counter) return reject(4, "counter_back");
            gaps = (period - last_period) / kPeriodMicros - 1;
            if (counter - last_counter > kMaxWhPerPeriod * (gaps + 1)) return reject(5, "out_of_range");
        }
        // Missing periods just before this one: interpolated from the counters on both sides.
        if (gaps >= 1 && gaps <= kMaxEstimated) {
            int64_t prev = last_counter;
            for (int64_t k = 1; k <= gaps; ++k) {
                const int64_t est = last_counter + (counter - last_counter) * k / (gaps + 1);
                const int64_t at = last_period + k * kPeriodMicros;
                ctx.Queue(reading_, meter, Value::Timestamp(at), est, est - prev, int64_t{1},
                          Value::Timestamp(BillingDay(at)));
                ctx.Queue(validated_, meter, concentrator, Value::Timestamp(at), est, est - prev, int64_t{1});
                prev = est;
            }
        }
        const int64_t prev_counter = gaps >= 1 && gaps <= kMaxEstimated
                                         ? last_counter + (counter - last_counter) * gaps / (gaps + 1)
                                         : last_counter;
        const int64_t kwh = first ? 0 : counter - prev_counter;
        ctx.Queue(reading_, meter, Value::Timestamp(period), counter, kwh, int64_t{0},
                  Value::Timestamp(BillingDay(period)));
        ctx.Queue(validated_, meter, concentrator, Value::Timestamp(period), counter, kwh, int64_t{0});
        ctx.Queue(advance_, Value::Timestamp(period), counter, meter);
        ctx.ExecuteBatch();
        ctx.Return("result", int64_t{0});
    }

  private:
    Statement meter_, seen_, reject_, reading_, validated_, advance_;
};

class Silent : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kTimestamp});
        fresh_ = def.Declare(
            "SELECT meter_id, concentrator_id, last_period FROM meters WHERE (last_period < ? OR last_period IS NULL) "
            "AND silent_alerted = 0");
        per_concentrator_ = def.Declare("SELECT concentrator_id, COUNT(*) FROM meters GROUP BY concentrator_id");
        silent_per_concentrator_ = def.Declare(
            "SELECT concentrator_id, COUNT(*) FROM meters WHERE last_period < ? OR last_period IS NULL "
            "GROUP BY concentrator_id");
        alert_ = def.Declare("INSERT INTO alerts VALUES (?, ?, ?, ?)");
        alerted_ = def.Declare(
            "UPDATE meters SET silent_alerted = 1 WHERE (last_period < ? OR last_period IS NULL) AND silent_alerted = "
            "0");
    }

    void Run(Context& ctx, const Params& p) override {
        const int64_t cutoff = p[0].AsInt() - 2 * kPeriodMicros;
        ctx.Queue(fresh_, Value::Timestamp(cutoff));
        ctx.Queue(per_concentrator_);
        ctx.Queue(silent_per_concentrator_, Value::Timestamp(cutoff));
        auto found = ctx.ExecuteBatch();
        const auto& silent = found[0];
        std::map<int64_t, int64_t> meters_of, silent_of;
        for (size_t i = 0; i < found[1].row_count(); ++i) meters_of[found[1].GetInt(i, 0)] = found[1].GetInt(i, 1);
        for (size_t i = 0; i < found[2].row_count(); ++i) silent_of[found[2].GetInt(i, 0)] = found[2].GetInt(i, 1);
        for (size_t i = 0; i < silent.row_count(); ++i) {
            const int64_t c = silent.GetInt(i, 1);
            const char* kind = silent_of[c] == meters_of[c] ? "concentrator_silent" : "silent";
            ctx.Queue(alert_, silent.GetInt(i, 0), c, silent.Get(i, 2), kind);
            if ((i + 1) % 1000 == 0) ctx.ExecuteBatch();
        }
        ctx.Queue(alerted_, Value::Timestamp(cutoff));
        ctx.ExecuteBatch();
        ctx.Return("silent_meters", static_cast<int64_t>(silent.row_count()));
    }

  private:
    Statement fresh_, per_concentrator_, silent_per_concentrator_, alert_, alerted_;
};

}  // namespace

SURGE_EXPORT_PROCEDURES(SURGE_PROCEDURE(Report), SURGE_PROCEDURE(Silent))
