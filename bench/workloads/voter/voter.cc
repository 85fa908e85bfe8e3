// VoltDB's Voter procedures, as a SurgeDB procedure library (include/surge/procedure.h):
//
//   CREATE PROCEDURE Vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0
//     FROM LIBRARY '/path/to/voter.so';
//   CREATE PROCEDURE Initialize FROM LIBRARY '/path/to/voter.so';
//   CREATE PROCEDURE Results FROM LIBRARY '/path/to/voter.so';
//
// Vote(phone_number, contestant_number, max_votes_per_phone_number) checks the contestant, the
// caller's vote count and the caller's state in one batch, then records the vote; it answers one
// row: 0 (counted), 1 (no such contestant) or 2 (over the vote limit). Initialize(contestants,
// names) loads the contestants and area codes once (multi-partition); Results() lists the
// contestants by votes.
#include <string>
#include <string_view>

#include "area_codes.h"
#include "surge/procedure.h"

namespace {

using surge::sdk::Context;
using surge::sdk::Definition;
using surge::sdk::Params;
using surge::sdk::Statement;
using surge::sdk::Type;

constexpr int64_t kVoteSuccessful = 0;
constexpr int64_t kErrInvalidContestant = 1;
constexpr int64_t kErrVoterOverVoteLimit = 2;

class Vote : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt, Type::kInteger, Type::kBigInt});
        check_contestant_ = def.Declare("SELECT contestant_number FROM contestants WHERE contestant_number = ?");
        check_voter_ = def.Declare("SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?");
        check_state_ = def.Declare("SELECT state FROM area_code_state WHERE area_code = ?");
        insert_vote_ = def.Declare("INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)");
    }

    void Run(Context& ctx, const Params& p) override {
        const int64_t phone_number = p[0].AsInt();
        const int64_t contestant_number = p[1].AsInt();
        const int64_t max_votes = p[2].AsInt();
        ctx.Queue(check_contestant_, contestant_number);
        ctx.Queue(check_voter_, phone_number);
        ctx.Queue(check_state_, phone_number / 10000000);
        auto validation = ctx.ExecuteBatch();
        if (validation[0].row_count() == 0) {
            ctx.Return("result", kErrInvalidContestant);
            return;
        }
        if (validation[1].row_count() == 1 && validation[1].GetInt(0, 0) >= max_votes) {
            ctx.Return("result", kErrVoterOverVoteLimit);
            return;
        }
        // Phone numbers outside the known area codes vote from the "XX" state (as in VoltDB).
        std::string_view state = validation[2].row_count() > 0 ? validation[2].Get(0, 0).AsString() : "XX";
        ctx.Queue(insert_vote_, phone_number, state, contestant_number);
        ctx.ExecuteBatch();
        ctx.Return("result", kVoteSuccessful);
    }

  private:
    Statement check_contestant_, check_voter_, check_state_, insert_vote_;
};

class Initialize : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kInteger, Type::kVarchar});
        count_ = def.Declare("SELECT COUNT(*) FROM contestants");
        insert_contestant_ = def.Declare("INSERT INTO contestants (contestant_name, contestant_number) VALUES (?, ?)");
        insert_area_code_ = def.Declare("INSERT INTO area_code_state VALUES (?, ?)");
    }

    // Initialize(max_contestants, 'name1,name2,...'): answers the number of contestants.
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(count_);
        const int64_t existing = ctx.ExecuteBatch()[0].GetInt(0, 0);
        if (existing > 0) {
            ctx.Return("contestants", existing);
            return;
        }
        const int64_t max_contestants = p[0].AsInt();
        std::string_view names = p[1].AsString();
        int64_t n = 0;
        while (n < max_contestants && !names.empty()) {
            const size_t comma = names.find(',');
            ctx.Queue(insert_contestant_, names.substr(0, comma), n + 1);
            ++n;
            names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
        }
        for (const auto& ac : voter::kAreaCodes) ctx.Queue(insert_area_code_, static_cast<int32_t>(ac.code), ac.state);
        ctx.ExecuteBatch();
        ctx.Return("contestants", n);
    }

  private:
    Statement count_, insert_contestant_, insert_area_code_;
};

class Results : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({});
        results_ = def.Declare(
            "SELECT a.contestant_name, a.contestant_number, COALESCE(SUM(b.num_votes), 0) AS total_votes "
            "FROM contestants AS a LEFT JOIN v_votes_by_contestant_number_state AS b "
            "ON a.contestant_number = b.contestant_number "
            "GROUP BY a.contestant_name, a.contestant_number "
            "ORDER BY total_votes DESC, a.contestant_number ASC");
    }

    void Run(Context& ctx, const Params&) override {
        ctx.Queue(results_);
        ctx.Return(ctx.ExecuteBatch()[0]);
    }

  private:
    Statement results_;
};

}  // namespace

SURGE_EXPORT_PROCEDURES(SURGE_PROCEDURE(Vote), SURGE_PROCEDURE(Initialize), SURGE_PROCEDURE(Results))
