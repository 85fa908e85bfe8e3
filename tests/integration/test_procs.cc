// Procedure classes for the integration tests (test_native.py): one per behaviour of the SDK
// in include/surge/procedure.h. They work on
//   accounts (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL), partitioned on id.
#include <stdexcept>
#include <string>

#include "surge/procedure.h"

namespace {

using surge::sdk::Context;
using surge::sdk::Definition;
using surge::sdk::Params;
using surge::sdk::Statement;
using surge::sdk::Type;

// Deposit(id, amount) [single-partition]: adds amount (may be negative) to an account, creating it;
// aborts when the balance would go below zero. Answers the new balance.
class Deposit : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt, Type::kBigInt});
        get_ = def.Declare("SELECT balance FROM accounts WHERE id = ?");
        upsert_ = def.Declare("UPSERT INTO accounts VALUES (?, ?)");
    }
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(get_, p[0]);
        auto b = ctx.ExecuteBatch();
        const int64_t balance = (b[0].row_count() ? b[0].GetInt(0, 0) : 0) + p[1].AsInt();
        // Write first, then abort: the abort must undo the write.
        ctx.Queue(upsert_, p[0], balance);
        ctx.ExecuteBatch();
        if (balance < 0) ctx.Abort("insufficient funds: balance would be " + std::to_string(balance));
        ctx.Return("balance", balance);
    }

  private:
    Statement get_, upsert_;
};

// Transfer(from, to, amount) [multi-partition]: moves money between accounts on any partitions;
// aborts (undoing both updates) when `from` would go negative.
class Transfer : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt, Type::kBigInt, Type::kBigInt});
        add_ = def.Declare("UPDATE accounts SET balance = balance + ? WHERE id = ?");
        get_ = def.Declare("SELECT balance FROM accounts WHERE id = ?");
    }
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(add_, -p[2].AsInt(), p[0]);
        ctx.Queue(add_, p[2].AsInt(), p[1]);
        ctx.Queue(get_, p[0]);
        auto b = ctx.ExecuteBatch();
        if (b[0].modified_tuples() != 1 || b[1].modified_tuples() != 1) ctx.Abort("no such account");
        if (b[2].GetInt(0, 0) < 0) ctx.Abort("insufficient funds");
        ctx.Return(b[2]);
    }

  private:
    Statement add_, get_;
};

// Clock(id) [single-partition]: the transaction's timestamp, NOW() as a statement sees it, and
// three numbers of the transaction's random sequence.
class Clock : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt});
        now_ = def.Declare("SELECT NOW() FROM accounts WHERE id = ?");
    }
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(now_, p[0]);
        auto b = ctx.ExecuteBatch();
        ctx.Return("timestamp", surge::sdk::Value::Timestamp(ctx.Timestamp()));
        ctx.Return("now", b[0].row_count() ? b[0].Get(0, 0) : surge::sdk::Value());
        for (int i = 0; i < 3; ++i) ctx.Return("random", static_cast<int64_t>(ctx.Random() >> 1));
    }

  private:
    Statement now_;
};

// Fail(id) [single-partition]: inserts account id, then inserts it again and lets the error
// fail the call (the first insert must be undone).
class Fail : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override { insert_ = def.Declare("INSERT INTO accounts VALUES (?, 0)"); }
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(insert_, p[0]);
        ctx.ExecuteBatch();
        ctx.Queue(insert_, p[0]);
        ctx.ExecuteBatch();
    }

  private:
    Statement insert_;
};

// Recover(id) [single-partition]: like Fail, but catches the error and commits the first insert.
class Recover : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override { insert_ = def.Declare("INSERT INTO accounts VALUES (?, 0)"); }
    void Run(Context& ctx, const Params& p) override {
        ctx.Queue(insert_, p[0]);
        ctx.ExecuteBatch();
        try {
            ctx.Queue(insert_, p[0]);
            ctx.ExecuteBatch();
        } catch (const surge::sdk::SqlError& e) {
            ctx.Return("caught", std::string(e.what()));
        }
    }

  private:
    Statement insert_;
};

// Throw(id) [single-partition]: throws something that is not an SDK error.
class Throw : public surge::sdk::Procedure {
  public:
    void Init(Definition&) override {}
    void Run(Context&, const Params&) override { throw std::runtime_error("boom"); }
};

// Echo(...) [multi-partition, no declared parameters]: answers each parameter as it arrived.
class Echo : public surge::sdk::Procedure {
  public:
    void Init(Definition&) override {}
    void Run(Context& ctx, const Params& p) override {
        for (size_t i = 0; i < p.size(); ++i) ctx.Return("p" + std::to_string(i + 1), p[i]);
    }
};

// Typed(bigint, float, decimal, varchar, varbinary, timestamp, boolean) [multi-partition]:
// declared parameter types; answers each converted parameter.
class Typed : public Echo {
  public:
    void Init(Definition& def) override {
        def.Parameters({Type::kBigInt, Type::kFloat, Type::kDecimal, Type::kVarchar, Type::kVarbinary, Type::kTimestamp,
                        Type::kBoolean});
    }
};

// BadStatement: declares a statement that does not plan.
class BadStatement : public surge::sdk::Procedure {
  public:
    void Init(Definition& def) override { def.Declare("SELECT * FROM no_such_table"); }
    void Run(Context&, const Params&) override {}
};

// BadInit: Init throws.
class BadInit : public surge::sdk::Procedure {
  public:
    void Init(Definition&) override { throw std::runtime_error("cannot start"); }
    void Run(Context&, const Params&) override {}
};

}  // namespace

SURGE_EXPORT_PROCEDURES(SURGE_PROCEDURE(Deposit), SURGE_PROCEDURE(Transfer), SURGE_PROCEDURE(Clock),
                        SURGE_PROCEDURE(Fail), SURGE_PROCEDURE(Recover), SURGE_PROCEDURE(Throw), SURGE_PROCEDURE(Echo),
                        SURGE_PROCEDURE(Typed), SURGE_PROCEDURE(BadStatement), SURGE_PROCEDURE(BadInit))
