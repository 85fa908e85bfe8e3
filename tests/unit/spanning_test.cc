// Tests for multi-partition execution (exec::SpanningExecutor) over three partition engines: rows
// routed to their partition, reads over the union, updates and deletes where rows live, writes to
// replicated tables on every copy, statement atomicity and rollback across partitions, and the
// precise errors for what it refuses.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "exec/engine.h"

namespace surge::exec {
namespace {

using Rows = std::vector<std::string>;

/// Routes integers by value modulo the partition count (strings by length), so tests know where
/// each row belongs.
class ModRouter : public PartitionRouter {
  public:
    explicit ModRouter(uint32_t n) : n_(n) {}
    uint32_t PartitionOf(const Value& v) const override {
        if (v.is_null()) return 0;
        if (v.type() == TypeId::kVarchar) return static_cast<uint32_t>(v.AsString().size() % n_);
        int64_t x = v.AsInt() % static_cast<int64_t>(n_);
        return static_cast<uint32_t>(x < 0 ? x + n_ : x);
    }

  private:
    uint32_t n_;
};

Rows Format(const ResultSet& rs) {
    Rows out;
    for (size_t r = 0; r < rs.row_count(); ++r) {
        std::string line;
        for (size_t c = 0; c < rs.column_count(); ++c) line += (c ? "|" : "") + rs.at(r, c).ToString();
        out.push_back(line);
    }
    return out;
}

class SpanningTest : public ::testing::Test {
  protected:
    static constexpr int kParts = 3;

    void SetUp() override {
        std::vector<Engine*> ptrs;
        for (int i = 0; i < kParts; ++i) {
            parts_.push_back(std::make_unique<Engine>());
            ptrs.push_back(parts_.back().get());
        }
        span_ = std::make_unique<SpanningExecutor>(ptrs, &router_);
        // Schema on every partition, as the coordinator applies DDL.
        Ddl("CREATE TABLE acct (id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(20), bal BIGINT NOT NULL)");
        Ddl("PARTITION TABLE acct ON COLUMN id");
        Ddl("CREATE INDEX acct_bal ON acct (bal)");
        Ddl("CREATE TABLE region (code VARCHAR(4) NOT NULL PRIMARY KEY, name VARCHAR(20))");
        Ddl("CREATE VIEW by_id (id, n, total) AS SELECT id, COUNT(*), SUM(bal) FROM acct GROUP BY id");
        Ddl("CREATE VIEW by_owner (owner, n, total) AS SELECT owner, COUNT(*), SUM(bal) FROM acct GROUP BY owner");
        Begin();
    }
    void TearDown() override {
        for (auto& p : parts_) {
            if (p->in_transaction()) {
                EXPECT_TRUE(p->Rollback(token_).ok());
            }
        }
    }

    void Ddl(const std::string& sql) {
        for (auto& p : parts_) {
            ResultSet rs;
            Status s = p->Execute(sql, &rs);
            ASSERT_TRUE(s.ok()) << sql << " -> " << s.ToString();
        }
    }
    void Begin() {
        ++token_;
        for (auto& p : parts_) ASSERT_TRUE(p->Begin(token_).ok());
    }
    void Commit() {
        for (auto& p : parts_) ASSERT_TRUE(p->Commit(token_).ok());
    }
    void Rollback() {
        for (auto& p : parts_) ASSERT_TRUE(p->Rollback(token_).ok());
    }
    Status Try(const std::string& sql, std::vector<Value> params = {}) { return span_->Execute(sql, &rs_, params); }
    void Exec(const std::string& sql, std::vector<Value> params = {}) {
        Status s = Try(sql, std::move(params));
        EXPECT_TRUE(s.ok()) << sql << " -> " << s.ToString();
    }
    Rows Query(const std::string& sql) {
        ResultSet rs;
        Status s = span_->Execute(sql, &rs);
        EXPECT_TRUE(s.ok()) << sql << " -> " << s.ToString();
        return Format(rs);
    }
    /// A query on one partition's engine alone.
    Rows Local(int part, const std::string& sql) {
        ResultSet rs;
        Status s = parts_[part]->Execute(sql, &rs);
        EXPECT_TRUE(s.ok()) << sql << " -> " << s.ToString();
        return Format(rs);
    }
    void LoadAccounts() {
        // ids 1..9: partition id % 3
        Exec(
            "INSERT INTO acct VALUES (1,'ann',10),(2,'bob',20),(3,'cy',30),(4,'ann',40),(5,'bob',50),"
            "(6,'cy',60),(7,'ann',70),(8,'bob',80),(9,'cy',90)");
    }

    ModRouter router_{kParts};
    std::vector<std::unique_ptr<Engine>> parts_;
    std::unique_ptr<SpanningExecutor> span_;
    ResultSet rs_;
    uint64_t token_ = 0;
};

TEST_F(SpanningTest, InsertsGoToTheirPartition) {
    LoadAccounts();
    EXPECT_EQ(rs_.modified_tuples(), 9);
    EXPECT_EQ(Local(0, "SELECT id FROM acct ORDER BY id"), (Rows{"3", "6", "9"}));
    EXPECT_EQ(Local(1, "SELECT id FROM acct ORDER BY id"), (Rows{"1", "4", "7"}));
    EXPECT_EQ(Local(2, "SELECT id FROM acct ORDER BY id"), (Rows{"2", "5", "8"}));
}

TEST_F(SpanningTest, ReadsSeeTheUnion) {
    LoadAccounts();
    EXPECT_EQ(Query("SELECT COUNT(*), SUM(bal), MIN(bal), MAX(bal) FROM acct"), (Rows{"9|450|10|90"}));
    // ORDER BY served by an index within a partition must still be globally ordered.
    EXPECT_EQ(Query("SELECT id FROM acct ORDER BY bal DESC LIMIT 4"), (Rows{"9", "8", "7", "6"}));
    EXPECT_EQ(Query("SELECT id FROM acct WHERE bal >= 35 AND bal < 75 ORDER BY bal"), (Rows{"4", "5", "6", "7"}));
    EXPECT_EQ(Query("SELECT owner, COUNT(*), SUM(bal) FROM acct GROUP BY owner ORDER BY owner"),
              (Rows{"ann|3|120", "bob|3|150", "cy|3|180"}));
    EXPECT_EQ(Query("SELECT DISTINCT owner FROM acct ORDER BY owner"), (Rows{"ann", "bob", "cy"}));
    EXPECT_EQ(Query("SELECT bal FROM acct WHERE id = 5"), (Rows{"50"}));
    EXPECT_EQ(Query("SELECT a.id, b.id FROM acct a JOIN acct b ON a.bal = b.bal - 30 WHERE a.id < 4 ORDER BY a.id"),
              (Rows{"1|4", "2|5", "3|6"}));
    EXPECT_EQ(Query("SELECT id FROM acct WHERE bal = (SELECT MAX(bal) FROM acct)"), (Rows{"9"}));
    EXPECT_NE(span_->Explain("SELECT id FROM acct ORDER BY bal").value().find("SORT"), std::string::npos)
        << span_->Explain("SELECT id FROM acct ORDER BY bal").value();
}

TEST_F(SpanningTest, ReplicatedWritesReachEveryCopy) {
    Exec("INSERT INTO region VALUES ('no', 'Norway'), ('se', 'Sweden')");
    EXPECT_EQ(rs_.modified_tuples(), 2);
    for (int p = 0; p < kParts; ++p) EXPECT_EQ(Local(p, "SELECT code FROM region ORDER BY code"), (Rows{"no", "se"}));
    Exec("UPDATE region SET name = 'Norge' WHERE code = 'no'");
    Exec("DELETE FROM region WHERE code = 'se'");
    for (int p = 0; p < kParts; ++p) EXPECT_EQ(Local(p, "SELECT * FROM region"), (Rows{"no|Norge"}));
    // Reads use one copy.
    EXPECT_EQ(Query("SELECT COUNT(*) FROM region"), (Rows{"1"}));
    // A replicated write that reads partitioned rows would make the copies differ.
    LoadAccounts();
    Status s = Try("INSERT INTO region SELECT owner, owner FROM acct WHERE id = 1");
    EXPECT_EQ(s.code(), ErrorCode::kFeatureNotSupported) << s.ToString();
    // A failure on one copy leaves every copy unchanged.
    s = Try("INSERT INTO region VALUES ('dk', 'Denmark'), ('no', 'again')");
    EXPECT_EQ(s.code(), ErrorCode::kUniqueViolation) << s.ToString();
    for (int p = 0; p < kParts; ++p) EXPECT_EQ(Local(p, "SELECT code FROM region"), (Rows{"no"}));
}

TEST_F(SpanningTest, UpdatesAndDeletesApplyWhereRowsLive) {
    LoadAccounts();
    Exec("UPDATE acct SET bal = bal + 1 WHERE owner = 'ann'");
    EXPECT_EQ(rs_.modified_tuples(), 3);
    EXPECT_EQ(Local(1, "SELECT bal FROM acct ORDER BY id"), (Rows{"11", "41", "71"}));
    Exec("DELETE FROM acct WHERE bal > 60");  // 71, 80, 90
    EXPECT_EQ(rs_.modified_tuples(), 3);
    EXPECT_EQ(Query("SELECT id FROM acct ORDER BY id"), (Rows{"1", "2", "3", "4", "5", "6"}));
    // Changing the partition column within its partition is fine; across partitions it is refused.
    Exec("UPDATE acct SET id = id + 30 WHERE id = 3");
    Status s = Try("UPDATE acct SET id = id + 1 WHERE id = 1");
    EXPECT_EQ(s.code(), ErrorCode::kConstraintViolation) << s.ToString();
    EXPECT_EQ(Query("SELECT id FROM acct ORDER BY id"), (Rows{"1", "2", "4", "5", "6", "33"}));
    Exec("TRUNCATE TABLE acct");
    EXPECT_EQ(rs_.modified_tuples(), 6);
    EXPECT_EQ(Query("SELECT COUNT(*) FROM acct"), (Rows{"0"}));
}

TEST_F(SpanningTest, UpsertFindsTheRowInItsPartition) {
    LoadAccounts();
    Exec("UPSERT INTO acct VALUES (5, 'eve', 55), (10, 'dan', 100)");
    EXPECT_EQ(Local(2, "SELECT * FROM acct WHERE id = 5"), (Rows{"5|eve|55"}));
    EXPECT_EQ(Local(1, "SELECT * FROM acct WHERE id = 10"), (Rows{"10|dan|100"}));
}

TEST_F(SpanningTest, StatementsAreAtomicAcrossPartitions) {
    LoadAccounts();
    // Rows for partitions 1 and 2 go in before the duplicate (partition 0) fails.
    Status s = Try("INSERT INTO acct VALUES (10,'x',1),(11,'y',1),(6,'dup',1)");
    EXPECT_EQ(s.code(), ErrorCode::kUniqueViolation) << s.ToString();
    EXPECT_EQ(Query("SELECT COUNT(*) FROM acct"), (Rows{"9"}));
    s = Try("UPDATE acct SET bal = bal / (bal - 90)");  // divides by zero on id 9 only
    EXPECT_EQ(s.code(), ErrorCode::kDivisionByZero) << s.ToString();
    EXPECT_EQ(Query("SELECT SUM(bal) FROM acct"), (Rows{"450"}));
    EXPECT_EQ(Query("SELECT total FROM by_id WHERE id = 1"), (Rows{"10"}));
}

TEST_F(SpanningTest, RollbackRevertsEveryPartition) {
    LoadAccounts();
    Commit();
    Begin();
    Exec("DELETE FROM acct WHERE id < 5");
    Exec("INSERT INTO acct VALUES (12, 'zed', 1)");
    Exec("INSERT INTO region VALUES ('fi', 'Finland')");
    Rollback();
    Begin();
    EXPECT_EQ(Query("SELECT COUNT(*), SUM(bal) FROM acct"), (Rows{"9|450"}));
    for (int p = 0; p < kParts; ++p) EXPECT_EQ(Local(p, "SELECT COUNT(*) FROM region"), (Rows{"0"}));
}

TEST_F(SpanningTest, ViewsReadAcrossPartitions) {
    LoadAccounts();
    EXPECT_EQ(Query("SELECT SUM(total), COUNT(*) FROM by_id"), (Rows{"450|9"}));
    // by_owner does not group by the partition column: each partition holds partial groups, and
    // multi-partition reads merge them.
    EXPECT_EQ(Query("SELECT owner, n, total FROM by_owner ORDER BY owner"),
              (Rows{"ann|3|120", "bob|3|150", "cy|3|180"}));
    EXPECT_EQ(Query("SELECT total FROM by_owner WHERE owner = 'bob'"), (Rows{"150"}));
    EXPECT_EQ(Query("SELECT id FROM acct WHERE bal * 3 = (SELECT MAX(total) FROM by_owner) ORDER BY id"), (Rows{"6"}));
    Exec("UPDATE acct SET bal = bal + 100 WHERE id = 9");
    EXPECT_EQ(Query("SELECT total FROM by_owner WHERE owner = 'cy'"), (Rows{"280"}));
    Exec("DELETE FROM acct WHERE owner = 'ann'");
    EXPECT_EQ(Query("SELECT owner FROM by_owner ORDER BY owner"), (Rows{"bob", "cy"}));
    // Within a partition the view is complete for that partition's rows (all of ann's were there).
    EXPECT_EQ(Local(1, "SELECT owner, n, total FROM by_owner"), Rows{});
}

TEST_F(SpanningTest, PartitionEnginesRefuseRowsOfOtherPartitions) {
    Commit();
    for (int p = 0; p < kParts; ++p) parts_[p]->SetPartition(static_cast<uint32_t>(p), &router_);
    ResultSet rs;
    Status s = parts_[1]->Execute("INSERT INTO acct VALUES (4, 'ok', 1)", &rs);  // 4 % 3 == 1
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = parts_[1]->Execute("INSERT INTO acct VALUES (5, 'no', 1)", &rs);
    EXPECT_EQ(s.code(), ErrorCode::kConstraintViolation) << s.ToString();
    EXPECT_NE(s.message().find("mispartitioned"), std::string::npos) << s.message();
    s = parts_[1]->Execute("UPDATE acct SET id = 8 WHERE id = 4", &rs);
    EXPECT_EQ(s.code(), ErrorCode::kConstraintViolation) << s.ToString();
    EXPECT_EQ(Local(1, "SELECT id FROM acct"), (Rows{"4"}));
    // Replicated tables are not partitioned: any partition writes its copy.
    EXPECT_TRUE(parts_[2]->Execute("INSERT INTO region VALUES ('x', 'y')", &rs).ok());
    Begin();
}

TEST_F(SpanningTest, NeedsAnOpenTransactionEverywhere) {
    Commit();
    Status s = Try("SELECT COUNT(*) FROM acct");
    EXPECT_EQ(s.code(), ErrorCode::kTransactionState) << s.ToString();
    Begin();
    s = Try("CREATE TABLE nope (a INTEGER)");
    EXPECT_EQ(s.code(), ErrorCode::kInternal) << s.ToString();
    EXPECT_TRUE(Try("SELECT COUNT(*) FROM acct").ok());
}

TEST_F(SpanningTest, HeldDdlRevertsEveryPartitionWhenOneFails) {
    LoadAccounts();
    Exec("INSERT INTO acct VALUES (12, 'x', 30)");  // partition 0 now has bal 30 twice
    Commit();
    uint64_t before = parts_[0]->catalog()->version();
    // A batch: a new table, a new column, then an index that only partition 0 cannot build.
    const std::vector<std::string> batch = {
        "CREATE TABLE extra (a INTEGER)", "ALTER TABLE acct ADD COLUMN note VARCHAR(5)",
        "CREATE UNIQUE INDEX acct_bal_u ON acct (bal, id)", "CREATE ASSUMEUNIQUE INDEX acct_bal_once ON acct (bal)"};
    std::vector<bool> failed(kParts, false);
    for (int p = 0; p < kParts; ++p) {
        parts_[p]->BeginHeldDdl();
        for (const auto& ddl : batch) {
            ResultSet rs;
            if (!parts_[p]->Execute(ddl, &rs).ok()) {
                failed[p] = true;
                break;
            }
        }
    }
    EXPECT_EQ(failed, (std::vector<bool>{true, false, false}));
    uint64_t next = 0;
    for (auto& e : parts_) next = std::max(next, e->catalog()->version());
    for (auto& e : parts_) e->RevertHeldDdl(next + 1);
    for (int p = 0; p < kParts; ++p) {
        EXPECT_EQ(parts_[p]->catalog()->version(), next + 1);
        EXPECT_EQ(parts_[p]->catalog()->FindTable("extra"), nullptr);
        EXPECT_EQ(parts_[p]->catalog()->FindTable("acct")->columns.size(), 3u);
        EXPECT_EQ(parts_[p]->catalog()->FindIndex("acct_bal_u"), nullptr);
    }
    EXPECT_GT(next + 1, before);
    Begin();
    EXPECT_EQ(Query("SELECT COUNT(*), SUM(bal) FROM acct"), (Rows{"10|480"}));
    EXPECT_EQ(Query("SELECT id FROM acct WHERE bal = 30 ORDER BY id"), (Rows{"3", "12"}));
    EXPECT_EQ(Query("SELECT SUM(total) FROM by_id"), (Rows{"480"}));
    Exec("INSERT INTO acct VALUES (13, 'y', 5)");
    EXPECT_EQ(Query("SELECT SUM(total) FROM by_id"), (Rows{"485"}));
    Commit();
    // The same batch without the failing index applies everywhere.
    for (auto& e : parts_) {
        e->BeginHeldDdl();
        for (size_t i = 0; i + 1 < batch.size(); ++i) {
            ResultSet rs;
            EXPECT_TRUE(e->Execute(batch[i], &rs).ok()) << batch[i];
        }
        e->EndHeldDdl();
    }
    Begin();
    EXPECT_EQ(Query("SELECT COUNT(*) FROM acct WHERE note IS NULL"), (Rows{"11"}));
}

}  // namespace
}  // namespace surge::exec
