// Export: the capture (rows of committed transactions only, sequenced per stream), the spool
// (append, read in order, the durable-LSN gate, torn tails, truncation, release, schema changes),
// the CSV and JSON formats, the file sink (roll, atomic finish, abandon) and the manager's whole
// path from a partition's capture to finished files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/bytes.h"
#include "exec/engine.h"
#include "exec/export_capture.h"
#include "export/file_sink.h"
#include "export/format.h"
#include "export/manager.h"
#include "export/spool.h"
#include "storage/row_codec.h"

namespace surge::exports {
namespace {

namespace fs = std::filesystem;
using exec::CapturedRow;
using exec::ExportOp;

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> n{0};
        path_ =
            fs::temp_directory_path() / ("surge-export-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string str() const { return path_.string(); }
    std::string sub(const std::string& s) const { return (path_ / s).string(); }

  private:
    fs::path path_;
};

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The rows a capture published, decoded: "channel:seq:txn:op:values".
std::vector<std::string> Taken(exec::ExportCapture& cap, std::vector<exec::ExportChannel>* channels) {
    std::string bytes;
    cap.Take(&bytes, channels->size(), channels);
    std::vector<std::string> out;
    CapturedRow r;
    size_t pos = 0;
    while (r.Parse(bytes, &pos)) {
        const auto& def = *(*channels)[r.channel].def;
        storage::TupleLayout layout(def.columns);
        std::vector<Value> values(def.columns.size());
        size_t p = 0;
        EXPECT_TRUE(storage::DecodeRow(layout, r.row, &p, values.data()));
        std::string s = def.name + ":" + std::to_string(r.seq) + ":" + std::to_string(r.txn_id) + ":" +
                        std::string(exec::ExportOpName(r.op));
        for (const auto& v : values) s += ":" + v.ToString();
        out.push_back(s);
    }
    EXPECT_EQ(pos, bytes.size());
    return out;
}

class CaptureTest : public ::testing::Test {
  protected:
    void SetUp() override { engine_.SetExportCapture(&cap_); }
    void Ok(std::string_view sql) {
        exec::ResultSet rs;
        Status s = engine_.Execute(sql, &rs);
        ASSERT_TRUE(s.ok()) << sql << ": " << s.message();
    }
    exec::Engine engine_;
    exec::ExportCapture cap_{0};
    std::vector<exec::ExportChannel> channels_;
};

TEST_F(CaptureTest, OnlyCommittedRowsAreSequencedAndPublished) {
    Ok("CREATE STREAM s EXPORT TO TARGET t (a INTEGER NOT NULL, b VARCHAR(10))");
    Ok("CREATE TABLE plain (a INTEGER PRIMARY KEY)");
    engine_.SetTransactionId(7);
    Ok("INSERT INTO s VALUES (1, 'x')");  // auto-commit
    EXPECT_TRUE(cap_.has_unpublished());
    cap_.Publish();
    // A transaction that rolls back exports nothing.
    engine_.SetTransactionId(8);
    ASSERT_TRUE(engine_.Begin(1).ok());
    Ok("INSERT INTO s VALUES (2, 'gone')");
    ASSERT_TRUE(engine_.Rollback(1).ok());
    // A failed statement takes its rows back out; the rest of the transaction keeps its own.
    engine_.SetTransactionId(9);
    ASSERT_TRUE(engine_.Begin(2).ok());
    Ok("INSERT INTO s VALUES (3, 'kept')");
    exec::ResultSet rs;
    EXPECT_FALSE(engine_.Execute("INSERT INTO s VALUES (4, 'too long a value')", &rs).ok());
    EXPECT_FALSE(
        engine_.Execute("INSERT INTO s SELECT a, NULL FROM plain; INSERT INTO s VALUES (NULL, 'n')", &rs).ok());
    Ok("INSERT INTO s VALUES (5, NULL)");
    EXPECT_FALSE(cap_.has_unpublished());
    ASSERT_TRUE(engine_.Commit(2).ok());
    EXPECT_TRUE(cap_.has_unpublished());
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_),
              (std::vector<std::string>{"s:1:7:INSERT:1:x", "s:2:9:INSERT:3:kept", "s:3:9:INSERT:5:NULL"}));
    EXPECT_EQ(cap_.Sequence("s"), 3u);
    ASSERT_EQ(channels_.size(), 1u);
    EXPECT_EQ(channels_[0].target, "t");
}

TEST_F(CaptureTest, TablesExportTheChangesTheyName) {
    Ok("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal BIGINT) EXPORT TO TARGET t ON INSERT, UPDATE, DELETE");
    Ok("CREATE TABLE ins_only (id INTEGER PRIMARY KEY) EXPORT TO TARGET t");
    engine_.SetTransactionId(1);
    Ok("INSERT INTO acct VALUES (1, 10)");
    Ok("UPDATE acct SET bal = bal + 5 WHERE id = 1");
    Ok("DELETE FROM acct WHERE id = 1");
    Ok("INSERT INTO ins_only VALUES (1)");
    Ok("DELETE FROM ins_only");
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_), (std::vector<std::string>{"acct:1:1:INSERT:1:10", "acct:2:1:UPDATE_BEFORE:1:10",
                                                                 "acct:3:1:UPDATE_AFTER:1:15", "acct:4:1:DELETE:1:15",
                                                                 "ins_only:1:1:INSERT:1"}));
}

TEST_F(CaptureTest, SequencesContinueAcrossRecreationAndRecovery) {
    Ok("CREATE STREAM s EXPORT TO TARGET t (a INTEGER)");
    Ok("INSERT INTO s VALUES (1)");
    Ok("DROP STREAM s");
    Ok("CREATE STREAM s EXPORT TO TARGET t2 (a INTEGER, b INTEGER)");
    Ok("INSERT INTO s VALUES (2, 3)");
    cap_.Publish();
    auto rows = Taken(cap_, &channels_);
    EXPECT_EQ(rows, (std::vector<std::string>{"s:1:0:INSERT:1", "s:2:0:INSERT:2:3"}));
    ASSERT_EQ(channels_.size(), 2u);  // one per definition
    EXPECT_EQ(channels_[1].target, "t2");
    cap_.SetSequence("s", 100);
    Ok("INSERT INTO s VALUES (4, 5)");
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_), (std::vector<std::string>{"s:101:0:INSERT:4:5"}));
}

TEST_F(CaptureTest, MigrationExportsExpiredRowsAndDeletesOnlyAcknowledgedOnes) {
    Ok("CREATE TABLE m (id INTEGER PRIMARY KEY, ts TIMESTAMP, v INTEGER) "
       "USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 2 MIGRATE TO TARGET t");
    Ok("PARTITION TABLE m ON COLUMN id");
    Ok("CREATE INDEX m_ts ON m (ts)");
    for (int i = 1; i <= 5; ++i)
        Ok("INSERT INTO m VALUES (" + std::to_string(i) + ", '2020-01-0" + std::to_string(i) + "', " +
           std::to_string(i) + ")");
    Ok("INSERT INTO m VALUES (9, '2100-01-01', 9)");
    cap_.Publish();
    EXPECT_TRUE(Taken(cap_, &channels_).empty());  // inserts are not exported (no EXPORT clause)
    auto run = [&](uint64_t token, uint64_t acked, bool commit) {
        engine_.SetTransactionId(token);
        engine_.SetTimestamp(1'800'000'000'000'000);  // 2027
        EXPECT_TRUE(engine_.Begin(token).ok());
        auto r = engine_.DeleteExpired("m", acked);
        EXPECT_TRUE(r.ok()) << r.status().message();
        if (commit) {
            EXPECT_TRUE(engine_.Commit(token).ok());
        } else {
            EXPECT_TRUE(engine_.Rollback(token).ok());
        }
        return r.ok() ? std::make_pair(r->deleted, r->migrated) : std::make_pair(uint64_t{99}, uint64_t{99});
    };
    auto ids = [&] {
        exec::ResultSet rs;
        EXPECT_TRUE(engine_.Execute("SELECT id FROM m ORDER BY id", &rs).ok());
        std::string out;
        for (const auto& v : rs.values) out += v.ToString() + " ";
        return out;
    };
    // Oldest first, a batch of 2; nothing is deleted before the target acknowledged it.
    EXPECT_EQ(run(10, 0, true), std::make_pair(uint64_t{0}, uint64_t{2}));
    // A rolled-back migration gives its sequence numbers back.
    EXPECT_EQ(run(11, 0, false), std::make_pair(uint64_t{0}, uint64_t{2}));
    EXPECT_EQ(run(12, 1, true), std::make_pair(uint64_t{1}, uint64_t{2}));
    EXPECT_EQ(ids(), "2 3 4 5 9 ");
    // Row 2 (seq 2) changes while it migrates: it is migrated again as it is now.
    Ok("UPDATE m SET v = 20 WHERE id = 2");
    EXPECT_EQ(run(13, 4, true), std::make_pair(uint64_t{2}, uint64_t{2}));
    EXPECT_EQ(ids(), "2 5 9 ");
    EXPECT_EQ(run(14, 6, true), std::make_pair(uint64_t{2}, uint64_t{0}));
    EXPECT_EQ(ids(), "9 ");
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_),
              (std::vector<std::string>{
                  "m:1:10:MIGRATE:1:2020-01-01 00:00:00.000000:1", "m:2:10:MIGRATE:2:2020-01-02 00:00:00.000000:2",
                  "m:3:12:MIGRATE:3:2020-01-03 00:00:00.000000:3", "m:4:12:MIGRATE:4:2020-01-04 00:00:00.000000:4",
                  "m:5:13:MIGRATE:2:2020-01-02 00:00:00.000000:20", "m:6:13:MIGRATE:5:2020-01-05 00:00:00.000000:5"}));
    // A replicated table cannot migrate; an engine that exports nothing neither.
    Ok("CREATE TABLE r (id INTEGER, ts TIMESTAMP) USING TTL 1 HOURS ON COLUMN ts MIGRATE TO TARGET t");
    Ok("INSERT INTO r VALUES (1, '2020-01-01')");
    ASSERT_TRUE(engine_.Begin(20).ok());
    auto r = engine_.DeleteExpired("r");
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("needs a partitioned table"), std::string::npos) << r.status().message();
    ASSERT_TRUE(engine_.Rollback(20).ok());
}

TEST_F(CaptureTest, MigrationBoundsTheRowsWaitingForTheTarget) {
    Ok("CREATE TABLE m (id INTEGER PRIMARY KEY, ts TIMESTAMP) "
       "USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 1000 MIGRATE TO TARGET t");
    Ok("PARTITION TABLE m ON COLUMN id");
    Ok("CREATE INDEX m_ts ON m (ts)");
    for (int b = 0; b < 70; ++b) {
        std::string sql = "INSERT INTO m VALUES ";
        for (int i = 0; i < 1000; ++i) sql += (i ? ", (" : "(") + std::to_string(b * 1000 + i) + ", '2020-01-01')";
        Ok(sql);
    }
    std::string sink;
    uint64_t token = 100;
    auto pass = [&](uint64_t acked) {
        engine_.SetTimestamp(1'800'000'000'000'000);
        EXPECT_TRUE(engine_.Begin(++token).ok());
        auto r = engine_.DeleteExpired("m", acked);
        EXPECT_TRUE(r.ok());
        EXPECT_TRUE(engine_.Commit(token).ok());
        cap_.Publish();
        sink.clear();
        cap_.Take(&sink, channels_.size(), &channels_);
        return r.ok() ? *r : exec::Engine::Expired{};
    };
    // Nothing acknowledged: passes migrate until 65,536 rows wait, then step over them and stop.
    int passes = 0;
    while (pass(0).migrated > 0) ++passes;
    EXPECT_EQ(passes, 66);
    EXPECT_EQ(cap_.Sequence("m"), 65'536u);
    // The target takes 3000: they leave a batch at a time, and as many more start to migrate
    // once the walk no longer steps over them (the pass that deletes rows still counts them).
    auto r = pass(3000);
    EXPECT_EQ(r.deleted, 1000u);
    EXPECT_EQ(r.migrated, 0u);
    r = pass(3000);
    EXPECT_EQ(r.deleted, 1000u);
    EXPECT_EQ(r.migrated, 1000u);
    EXPECT_EQ(cap_.Sequence("m"), 66'536u);
}

// Which expired rows a pass takes depends on how indexes order equal TTL values; the decision a
// pass records makes another copy (a replay, a replicated table's other partitions) take the same.
TEST(TtlDecisionTest, ACopyAppliesTheRowsAnotherChose) {
    struct Copy {
        exec::Engine engine;
        exec::ExportCapture cap{0};
        std::vector<exec::ExportChannel> channels;
        uint64_t token = 0;
        void Ok(const std::string& sql) {
            exec::ResultSet rs;
            Status s = engine.Execute(sql, &rs);
            ASSERT_TRUE(s.ok()) << sql << ": " << s.message();
        }
        std::string Ids(const char* table) {
            exec::ResultSet rs;
            EXPECT_TRUE(engine.Execute(std::string("SELECT id, v FROM ") + table + " ORDER BY id, v", &rs).ok());
            std::string out;
            for (const auto& v : rs.values) out += v.ToString() + " ";
            return out;
        }
        Result<exec::Engine::Expired> Pass(const char* table, std::string* decision) {
            engine.SetTimestamp(1'800'000'000'000'000);
            EXPECT_TRUE(engine.Begin(++token).ok());
            auto r = engine.DeleteExpired(table, 0, decision);
            if (r.ok()) {
                EXPECT_TRUE(engine.Commit(token).ok());
            } else {
                EXPECT_TRUE(engine.Rollback(token).ok());
            }
            cap.Publish();
            return r;
        }
    };
    Copy a, b;
    for (Copy* c : {&a, &b}) {
        c->engine.SetExportCapture(&c->cap);
        c->Ok(
            "CREATE TABLE m (id INTEGER PRIMARY KEY, ts TIMESTAMP, v INTEGER) "
            "USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 3 MIGRATE TO TARGET t; PARTITION TABLE m ON COLUMN id; "
            "CREATE INDEX m_ts ON m (ts)");
        c->Ok("CREATE TABLE p (id INTEGER, ts TIMESTAMP, v INTEGER) USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 4");
        c->Ok("CREATE INDEX p_ts ON p (ts)");
    }
    // The same rows, inserted in opposite orders: equal TTL values, so the indexes may differ.
    for (int i = 0; i < 12; ++i) {
        const int id = i < 6 ? i : 17 - i;
        a.Ok("INSERT INTO m VALUES (" + std::to_string(i) + ", '2020-01-01', " + std::to_string(i) + ")");
        b.Ok("INSERT INTO m VALUES (" + std::to_string(11 - i) + ", '2020-01-01', " + std::to_string(11 - i) + ")");
        a.Ok("INSERT INTO p VALUES (" + std::to_string(i % 5) + ", '2020-01-01', " + std::to_string(i) + ")");
        b.Ok("INSERT INTO p VALUES (" + std::to_string(id % 5) + ", '2020-01-01', " + std::to_string(id) + ")");
    }
    for (const char* table : {"m", "p"}) {
        SCOPED_TRACE(table);
        std::string decision;
        auto r = a.Pass(table, &decision);
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_FALSE(decision.empty());
        const std::string taken = decision;
        auto rb = b.Pass(table, &decision);
        ASSERT_TRUE(rb.ok()) << rb.status().message();
        EXPECT_EQ(decision, taken);  // applied, not rewritten
        EXPECT_EQ(rb->deleted, r->deleted);
        EXPECT_EQ(rb->migrated, r->migrated);
        EXPECT_EQ(a.Ids(table), b.Ids(table));
    }
    EXPECT_EQ(Taken(a.cap, &a.channels), Taken(b.cap, &b.channels));  // the same rows under the same seqs
    // A decision naming a row that is not due (or not there) changes nothing.
    b.Ok("INSERT INTO p VALUES (100, '2100-01-01', 1)");
    std::string fresh;
    auto r = b.Pass("p", &fresh);
    ASSERT_TRUE(r.ok());
    std::string bogus;
    PutRaw<uint32_t>(&bogus, 1);
    PutRaw<uint32_t>(&bogus, 0);
    std::string row = fresh.substr(8);  // one of the rows just deleted: gone now
    bogus += row.substr(0, 4 + GetRaw<uint32_t>(row.data()));
    const std::string before = b.Ids("p");
    auto bad = b.Pass("p", &bogus);
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameter);
    EXPECT_EQ(b.Ids("p"), before);
    std::string cut = "\x01";
    EXPECT_EQ(b.Pass("p", &cut).status().code(), ErrorCode::kInvalidParameter);
    // p does not migrate: a decision that migrates a row of it is refused.
    std::string migrating;
    PutRaw<uint32_t>(&migrating, 0);
    PutRaw<uint32_t>(&migrating, 1);
    migrating += row.substr(0, 4 + GetRaw<uint32_t>(row.data()));
    EXPECT_EQ(b.Pass("p", &migrating).status().code(), ErrorCode::kInvalidParameter);
    EXPECT_EQ(b.Ids("p"), before);
}

TEST_F(CaptureTest, BudgetRefusesExportingStatementsOnly) {
    Ok("CREATE STREAM s EXPORT TO TARGET t (a INTEGER)");
    Ok("CREATE TABLE plain (a INTEGER)");
    std::atomic<bool> refusing{true};
    cap_.SetRefusal(&refusing, [] { return std::string("backlog full"); });
    Ok("INSERT INTO s VALUES (1)");  // not enforced yet (recovery)
    cap_.EnforceBudget(true);
    exec::ResultSet rs;
    Status s = engine_.Execute("INSERT INTO s VALUES (2)", &rs);
    EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(s.message(), "backlog full");
    Ok("INSERT INTO plain VALUES (3)");
    refusing = false;
    Ok("INSERT INTO s VALUES (4)");
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_), (std::vector<std::string>{"s:1:0:INSERT:1", "s:2:0:INSERT:4"}));
}

TEST_F(CaptureTest, PausedCaptureRecordsNothing) {
    Ok("CREATE TABLE t1 (a INTEGER) EXPORT TO TARGET t");
    cap_.Pause(true);
    Ok("INSERT INTO t1 VALUES (1)");
    cap_.Pause(false);
    Ok("INSERT INTO t1 VALUES (2)");
    cap_.Publish();
    EXPECT_EQ(Taken(cap_, &channels_), (std::vector<std::string>{"t1:1:0:INSERT:2"}));
}

// ---- spool -------------------------------------------------------------------------------------

std::shared_ptr<const SpoolSchema> IntSchema(const char* name = "a") {
    catalog::ColumnDef c;
    c.name = name;
    c.type = SqlType::Of(TypeId::kInteger);
    return std::make_shared<const SpoolSchema>(std::vector<catalog::ColumnDef>{c});
}

// An INTEGER row as row_codec encodes it: a null bitmap byte, then the value.
std::string IntRow(int32_t v) {
    std::string s(1, '\0');
    s.append(reinterpret_cast<const char*>(&v), 4);
    return s;
}

int32_t RowInt(const SpoolRow& r) {
    int32_t v;
    std::memcpy(&v, r.row.data() + 1, 4);
    return v;
}

std::unique_ptr<Spool> OpenSpool(const std::string& dir, uint64_t segment_bytes = 1 << 20) {
    std::string repaired;
    auto s = Spool::Open(dir, segment_bytes, &repaired);
    EXPECT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(repaired, "");
    return std::move(*s);
}

std::vector<uint64_t> Seqs(Spool& spool, uint64_t after, uint64_t max_lsn = UINT64_MAX, size_t max_rows = 1000) {
    SpoolBatch batch;
    Status s = spool.Read(after, max_lsn, max_rows, 1 << 20, &batch);
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<uint64_t> out;
    for (const auto& r : batch.rows) {
        EXPECT_EQ(RowInt(r), static_cast<int32_t>(r.seq * 10));
        out.push_back(r.seq);
    }
    return out;
}

void AppendRows(Spool& spool, uint64_t from, uint64_t to, uint64_t lsn,
                const std::shared_ptr<const SpoolSchema>& schema = IntSchema()) {
    for (uint64_t seq = from; seq <= to; ++seq) {
        ASSERT_TRUE(spool
                        .Append(schema, seq, 100 + seq, 1000 + static_cast<int64_t>(seq), lsn, ExportOp::kInsert,
                                IntRow(static_cast<int32_t>(seq * 10)))
                        .ok());
    }
    ASSERT_TRUE(spool.Flush().ok());
}

TEST(SpoolTest, ReadsInOrderUpToTheDurableLsn) {
    TempDir dir;
    auto spool = OpenSpool(dir.str());
    auto schema = IntSchema();
    AppendRows(*spool, 1, 3, 5, schema);
    AppendRows(*spool, 4, 5, 9, schema);
    EXPECT_EQ(spool->last_seq(), 5u);
    EXPECT_EQ(Seqs(*spool, 0, 4), (std::vector<uint64_t>{}));  // nothing durable yet
    EXPECT_EQ(Seqs(*spool, 0, 5), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(Seqs(*spool, 3, 8), (std::vector<uint64_t>{}));
    EXPECT_EQ(Seqs(*spool, 3), (std::vector<uint64_t>{4, 5}));
    EXPECT_EQ(Seqs(*spool, 1, UINT64_MAX, 2), (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(Seqs(*spool, 5), (std::vector<uint64_t>{}));
    // Rows already held are not appended twice.
    AppendRows(*spool, 4, 6, 9, schema);
    EXPECT_EQ(Seqs(*spool, 0), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
    SpoolBatch batch;
    ASSERT_TRUE(spool->Read(0, UINT64_MAX, 1, 1 << 20, &batch).ok());
    ASSERT_EQ(batch.rows.size(), 1u);
    EXPECT_EQ(batch.rows[0].txn_id, 101u);
    EXPECT_EQ(batch.rows[0].timestamp, 1001);
    EXPECT_EQ(batch.rows[0].lsn, 5u);
    EXPECT_EQ(batch.rows[0].op, ExportOp::kInsert);
    EXPECT_TRUE(batch.rows[0].schema->SameColumns(schema->columns));
}

TEST(SpoolTest, RollsSegmentsReleasesAckedOnesAndReopens) {
    TempDir dir;
    {
        auto spool = OpenSpool(dir.str(), 200);  // a few rows per segment
        AppendRows(*spool, 1, 40, 1);
        ASSERT_TRUE(spool->Sync().ok());
        const size_t segments = std::distance(fs::directory_iterator(dir.str()), fs::directory_iterator());
        EXPECT_GT(segments, 5u);
        EXPECT_EQ(Seqs(*spool, 0).size(), 40u);
        const uint64_t before = spool->bytes();
        ASSERT_TRUE(spool->Release(25).ok());
        EXPECT_LT(spool->bytes(), before);
        auto rest = Seqs(*spool, 25);
        EXPECT_EQ(rest.front(), 26u);
        EXPECT_EQ(rest.back(), 40u);
        ASSERT_TRUE(spool->Release(40).ok());  // the newest segment stays
        EXPECT_EQ(Seqs(*spool, 39), (std::vector<uint64_t>{40}));
    }
    // Rows found at open are deliverable whatever their LSN; appends go to a new segment.
    auto spool = OpenSpool(dir.str(), 200);
    EXPECT_EQ(spool->last_seq(), 40u);
    EXPECT_EQ(Seqs(*spool, 38, 0), (std::vector<uint64_t>{39, 40}));
    AppendRows(*spool, 41, 42, 7);
    EXPECT_EQ(Seqs(*spool, 38, 6), (std::vector<uint64_t>{39, 40}));
    EXPECT_EQ(Seqs(*spool, 38, 7), (std::vector<uint64_t>{39, 40, 41, 42}));
}

TEST(SpoolTest, AcknowledgedRowsLeaveTheBacklog) {
    TempDir dir;
    auto spool = OpenSpool(dir.str());  // one big segment
    AppendRows(*spool, 1, 10, 1);
    EXPECT_EQ(spool->PendingBytes(0), spool->bytes());
    EXPECT_EQ(spool->PendingBytes(9), spool->bytes());  // unread rows: the segment counts until all acknowledged
    EXPECT_EQ(spool->PendingBytes(10), 0u);
    // Rows the reader has read are measured exactly.
    EXPECT_EQ(Seqs(*spool, 0, UINT64_MAX, 4).size(), 4u);
    EXPECT_EQ(Seqs(*spool, 4, UINT64_MAX, 100).size(), 6u);
    const uint64_t row_bytes = 8 + 33 + 5;  // record header, payload header, an INTEGER row
    EXPECT_EQ(spool->PendingBytes(4), 6 * row_bytes);
    EXPECT_EQ(spool->PendingBytes(10), 0u);
    // The newest segment, all acknowledged, is finished; the next row starts a new one, and the
    // old one goes at the next release.
    ASSERT_TRUE(spool->Release(10).ok());
    AppendRows(*spool, 11, 11, 1);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.str()), fs::directory_iterator()), 2);
    ASSERT_TRUE(spool->Release(10).ok());
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.str()), fs::directory_iterator()), 1);
    EXPECT_EQ(Seqs(*spool, 10), (std::vector<uint64_t>{11}));
    EXPECT_EQ(spool->PendingBytes(10), spool->bytes());
}

TEST(SpoolTest, TornTailIsCutOffAtOpen) {
    TempDir dir;
    {
        auto spool = OpenSpool(dir.str());
        AppendRows(*spool, 1, 3, 1);
    }
    std::string seg;
    for (const auto& e : fs::directory_iterator(dir.str())) seg = e.path().string();
    const auto size = fs::file_size(seg);
    {
        std::ofstream out(seg, std::ios::binary | std::ios::app);
        out << std::string("\x30\x00\x00\x00garbage", 11);
    }
    std::string repaired;
    auto spool = Spool::Open(dir.str(), 1 << 20, &repaired);
    ASSERT_TRUE(spool.ok());
    EXPECT_NE(repaired.find("11 bytes after the last whole row (seq 3)"), std::string::npos) << repaired;
    EXPECT_EQ(fs::file_size(seg), size);
    EXPECT_EQ((*spool)->last_seq(), 3u);
    EXPECT_EQ(Seqs(**spool, 0), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(SpoolTest, DamageInsideIsReportedWhenRead) {
    TempDir dir;
    {
        auto spool = OpenSpool(dir.str(), 150);
        AppendRows(*spool, 1, 20, 1);
    }
    std::vector<std::string> segs;
    for (const auto& e : fs::directory_iterator(dir.str())) segs.push_back(e.path().string());
    std::sort(segs.begin(), segs.end());
    ASSERT_GT(segs.size(), 2u);
    {
        std::fstream f(segs[0], std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(static_cast<std::streamoff>(fs::file_size(segs[0]) - 2));
        f.put('\x7f');
    }
    auto spool = OpenSpool(dir.str(), 150);  // only the newest segment is checked at open
    SpoolBatch batch;
    Status s = spool->Read(0, UINT64_MAX, 1000, 1 << 20, &batch);
    EXPECT_EQ(s.code(), ErrorCode::kIoError);
    EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(segs[0]), std::string::npos) << s.message();
}

TEST(SpoolTest, TruncateAfterDropsLaterRows) {
    TempDir dir;
    {
        auto spool = OpenSpool(dir.str(), 200);
        AppendRows(*spool, 1, 30, 1);
    }
    auto spool = OpenSpool(dir.str(), 200);
    ASSERT_TRUE(spool->TruncateAfter(17).ok());
    EXPECT_EQ(spool->last_seq(), 17u);
    auto rows = Seqs(*spool, 0);
    ASSERT_EQ(rows.size(), 17u);
    EXPECT_EQ(rows.back(), 17u);
    AppendRows(*spool, 18, 19, 1);  // the replay regenerates what follows
    EXPECT_EQ(Seqs(*spool, 16), (std::vector<uint64_t>{17, 18, 19}));
    ASSERT_TRUE(spool->TruncateAfter(0).ok());
    EXPECT_EQ(spool->last_seq(), 0u);
    EXPECT_EQ(Seqs(*spool, 0), (std::vector<uint64_t>{}));
}

TEST(SpoolTest, NewColumnsStartANewSegment) {
    TempDir dir;
    auto spool = OpenSpool(dir.str());
    AppendRows(*spool, 1, 2, 1, IntSchema("a"));
    AppendRows(*spool, 3, 4, 1, IntSchema("a"));  // same columns, another schema object
    AppendRows(*spool, 5, 6, 1, IntSchema("renamed"));
    SpoolBatch batch;
    ASSERT_TRUE(spool->Read(0, UINT64_MAX, 100, 1 << 20, &batch).ok());
    ASSERT_EQ(batch.rows.size(), 6u);
    EXPECT_EQ(batch.rows[3].schema->columns[0].name, "a");
    EXPECT_EQ(batch.rows[4].schema->columns[0].name, "renamed");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.str()), fs::directory_iterator()), 2);
}

// ---- formats -----------------------------------------------------------------------------------

TEST(ExportFormatTest, CsvAndJson) {
    auto col = [](const char* name, SqlType type) {
        catalog::ColumnDef c;
        c.name = name;
        c.type = type;
        return c;
    };
    std::vector<catalog::ColumnDef> cols = {
        col("id", SqlType::Of(TypeId::kInteger)), col("name", SqlType{TypeId::kVarchar, 40}),
        col("f", SqlType::Of(TypeId::kFloat)), col("bin", SqlType{TypeId::kVarbinary, 8}),
        col("n", SqlType::Of(TypeId::kBigInt))};
    Value nul;
    nul.SetNull(TypeId::kBigInt);
    std::vector<Value> vals = {Value::Integer(-3), Value::Varchar("a,\"b\"\nc\x01\xff\xc3\xa9"), Value::Float(1.5),
                               Value::Varbinary(std::string("\x01\xab", 2)), nul};
    RowView row{"s", 1, 7, 42, 1'000'000, ExportOp::kUpdateAfter, &cols, vals.data()};
    std::string csv;
    AppendCsvRow(row, &csv);
    EXPECT_EQ(csv, "42,1970-01-01 00:00:01.000000,1,7,UPDATE_AFTER,-3,\"a,\"\"b\"\"\nc\x01\xff\xc3\xa9\",1.5,01AB,\n");
    EXPECT_EQ(ExportCsvHeader(cols), "txn_id,timestamp,partition,seq,op,id,name,f,bin,n\n");
    std::string json;
    AppendJsonRow(row, &json);
    EXPECT_EQ(json,
              "{\"stream\":\"s\",\"partition\":1,\"seq\":7,\"txn_id\":42,\"timestamp\":\"1970-01-01 "
              "00:00:01.000000\",\"op\":\"UPDATE_AFTER\",\"row\":{\"id\":-3,\"name\":\"a,\\\"b\\\"\\nc\\u0001\\ufffd"
              "\xc3\xa9\",\"f\":1.5,\"bin\":\"01AB\",\"n\":null}}\n");
    std::string inf;
    AppendJsonValue(Value::Float(1.0 / 0.0), &inf);
    EXPECT_EQ(inf.front(), '"');
    EXPECT_EQ(SafeFileName("Odd name/..x"), "Odd_name___x");
}

// ---- file sink ---------------------------------------------------------------------------------

TargetConfig FileConfig(const std::string& dir, std::map<std::string, std::string> extra = {}) {
    TargetConfig c;
    c.name = "files";
    c.type = "file";
    c.settings = std::move(extra);
    c.settings["dir"] = dir;
    return c;
}

std::vector<std::string> Listing(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<SpoolRow> RowsOf(const SpoolSchema& schema, const std::vector<std::string>& encoded, uint64_t first) {
    std::vector<SpoolRow> rows;
    for (size_t i = 0; i < encoded.size(); ++i) {
        SpoolRow r;
        r.seq = first + i;
        r.txn_id = 9;
        r.row = encoded[i];
        r.schema = &schema;
        rows.push_back(r);
    }
    return rows;
}

TEST(FileSinkTest, FilesAppearWhole) {
    TempDir dir;
    { std::ofstream(dir.sub(".surge-export-old-1.tmp")) << "left over"; }
    auto sink = FileSink::Create(FileConfig(dir.str(), {{"roll_seconds", "3600"}}));
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    auto schema = IntSchema();
    std::vector<std::string> enc = {IntRow(10), IntRow(20)};
    ASSERT_TRUE((*sink)->Write("s", 0, RowsOf(*schema, enc, 1)).ok());  // the leftover temp file goes first
    auto done = (*sink)->Durable(false);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(*done, 0u);  // not due: nothing is finished, nothing may be acknowledged
    auto listing = Listing(dir.str());
    ASSERT_EQ(listing.size(), 1u);
    EXPECT_EQ(listing[0].rfind(".surge-export-s-", 0), 0u);
    done = (*sink)->Durable(true);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(*done, 2u);
    listing = Listing(dir.str());
    ASSERT_EQ(listing.size(), 1u);
    EXPECT_EQ(listing[0].rfind("s-", 0), 0u);
    EXPECT_EQ(listing[0].substr(listing[0].size() - 4), ".csv");
    EXPECT_EQ(ReadFile(dir.sub(listing[0])),
              "txn_id,timestamp,partition,seq,op,a\n9,1970-01-01 00:00:00.000000,0,1,INSERT,10\n"
              "9,1970-01-01 00:00:00.000000,0,2,INSERT,20\n");
    // Abandoned rows leave no file behind.
    ASSERT_TRUE((*sink)->Write("s", 0, RowsOf(*schema, enc, 3)).ok());
    (*sink)->Abandon();
    EXPECT_EQ(Listing(dir.str()).size(), 1u);
    done = (*sink)->Durable(false);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(*done, 0u);  // the count starts again
}

TEST(FileSinkTest, RollsBySizeAndRejectsBadSettings) {
    TempDir dir;
    auto sink = FileSink::Create(FileConfig(dir.str(), {{"roll_mb", "1"}, {"format", "jsonl"}}));
    ASSERT_TRUE(sink.ok());
    auto schema = IntSchema();
    std::vector<std::string> enc(20000, IntRow(1));
    ASSERT_TRUE((*sink)->Write("s", 3, RowsOf(*schema, enc, 1)).ok());
    auto done = (*sink)->Durable(false);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(*done, 20000u);  // the file reached roll_mb
    auto listing = Listing(dir.str());
    ASSERT_EQ(listing.size(), 1u);
    EXPECT_EQ(listing[0].substr(listing[0].size() - 6), ".jsonl");
    const std::string text = ReadFile(dir.sub(listing[0]));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 20000);
    EXPECT_EQ(text.rfind("{\"stream\":\"s\",\"partition\":3,\"seq\":1,", 0), 0u);

    EXPECT_FALSE(FileSink::Create(FileConfig(dir.str(), {{"format", "xml"}})).ok());
    EXPECT_FALSE(FileSink::Create(FileConfig(dir.str(), {{"roll_mb", "0"}})).ok());
    auto unknown = FileSink::Create(FileConfig(dir.str(), {{"colour", "red"}}));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.status().message().find("unknown setting \"colour\""), std::string::npos);
    TargetConfig no_dir = FileConfig("");
    no_dir.settings.erase("dir");
    EXPECT_FALSE(FileSink::Create(no_dir).ok());
    TargetConfig kafka;
    kafka.name = "k";
    kafka.type = "kafka";
    auto no_brokers = MakeSink(kafka);
    ASSERT_FALSE(no_brokers.ok());
    EXPECT_NE(no_brokers.status().message().find("needs brokers"), std::string::npos);
    kafka.settings["brokers"] = "127.0.0.1:1";
    kafka.settings["kafka.no.such.property"] = "1";
    auto bad_property = MakeSink(kafka);
    ASSERT_FALSE(bad_property.ok());
    EXPECT_NE(bad_property.status().message().find("librdkafka property no.such.property"), std::string::npos)
        << bad_property.status().message();
    TargetConfig other = FileConfig(dir.str());
    other.type = "carrier-pigeon";
    auto made = MakeSink(other);
    ASSERT_FALSE(made.ok());
    EXPECT_NE(made.status().message().find("\"carrier-pigeon\" is not available"), std::string::npos);
}

// ---- the manager: capture -> spool -> target -> files ------------------------------------------

// Partition 0's engine with stream ev exporting to target "files", and the manager's options for
// a data directory `dir` with `partitions` partitions (log positions from the given counters).
struct EvStream {
    explicit EvStream(const TempDir& d) : dir(d) {
        engine.SetExportCapture(&cap);
        EXPECT_TRUE(engine.Execute("CREATE STREAM ev EXPORT TO TARGET files (a INTEGER)", &rs).ok());
    }
    ExportOptions Options(uint32_t partitions, std::map<std::string, std::string> target_settings = {}) const {
        ExportOptions o;
        o.dir = dir.sub("export");
        o.partitions = partitions;
        o.targets = {FileConfig(dir.sub("out"), std::move(target_settings))};
        o.last_lsn = [this] { return last.load(); };
        o.durable_lsn = [this] { return durable.load(); };
        return o;
    }

    const TempDir& dir;
    exec::Engine engine;
    exec::ExportCapture cap{0};
    exec::ResultSet rs;
    std::atomic<uint64_t> last{10}, durable{0};
};

TEST(ManagerTest, DeliversOnlyWhatTheLogHoldsAndResumesAfterRestart) {
    TempDir dir;
    EvStream ev(dir);
    exec::Engine& engine = ev.engine;
    exec::ExportCapture& cap = ev.cap;
    exec::ResultSet& rs = ev.rs;
    auto& durable = ev.durable;
    auto options = [&] { return ev.Options(1, {{"roll_seconds", "3600"}}); };
    auto count_rows = [&] {
        size_t rows = 0;
        if (!fs::exists(dir.sub("out"))) return rows;  // created with the first file
        for (const auto& name : Listing(dir.sub("out"))) {
            if (name[0] == '.') continue;
            const std::string text = ReadFile(dir.sub("out/" + name));
            rows += static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) - 1;  // minus the header
        }
        return rows;
    };
    {
        auto m = ExportManager::Open(options(), {&cap});
        ASSERT_TRUE(m.ok()) << m.status().message();
        (*m)->StartWriter();
        (*m)->StartTargets();
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine.Execute("INSERT INTO ev VALUES (1)", &rs).ok());
        cap.Publish();
        std::promise<Status> synced;
        (*m)->Sync([&](const Status& s) { synced.set_value(s); });
        ASSERT_TRUE(synced.get_future().get().ok());
        auto stats = (*m)->Statistics();
        ASSERT_EQ(stats.size(), 1u);
        EXPECT_EQ(stats[0].last_seq, 5u);
        EXPECT_EQ(stats[0].acked_seq, 0u);
        EXPECT_EQ(stats[0].target, "files");
        (*m)->Stop();  // the log never became durable: nothing may reach the files
        EXPECT_EQ(count_rows(), 0u);
    }
    {
        // After a restart the spooled rows were checked against the log by recovery: delivered.
        auto m = ExportManager::Open(options(), {&cap});
        ASSERT_TRUE(m.ok()) << m.status().message();
        auto pos = (*m)->Positions();
        ASSERT_EQ(pos["ev"].size(), 1u);
        EXPECT_EQ(pos["ev"][0].spooled, 5u);
        EXPECT_EQ(pos["ev"][0].acked, 0u);
        (*m)->StartWriter();
        (*m)->StartTargets();
        (*m)->Stop();
        EXPECT_EQ(count_rows(), 5u);
        EXPECT_EQ(ReadFile(dir.sub("export/ev/p0/ACK")), "acked 5\n");
    }
    {
        // Acknowledged rows are not delivered again.
        auto m = ExportManager::Open(options(), {&cap});
        ASSERT_TRUE(m.ok());
        durable = 100;
        (*m)->StartWriter();
        (*m)->StartTargets();
        ASSERT_TRUE(engine.Execute("INSERT INTO ev VALUES (2)", &rs).ok());
        cap.Publish();
        for (int i = 0; i < 500 && (*m)->Statistics()[0].delivered_seq < 6; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        (*m)->Stop();
        EXPECT_EQ(count_rows(), 6u);
        EXPECT_EQ((*m)->Statistics()[0].acked_seq, 6u);
    }
}

// A stream whose rows all came from one partition has no directory for the others (one is made
// with a partition's first row); reopening it must not take their absence for a failed listing.
TEST(ManagerTest, ReopensAStreamSomePartitionsNeverWrote) {
    TempDir dir;
    EvStream ev(dir);
    exec::Engine& engine = ev.engine;
    exec::ExportCapture& cap = ev.cap;
    exec::ResultSet& rs = ev.rs;
    auto options = [&] { return ev.Options(2); };
    {
        auto m = ExportManager::Open(options(), {&cap});
        ASSERT_TRUE(m.ok()) << m.status().message();
        (*m)->StartWriter();
        ASSERT_TRUE(engine.Execute("INSERT INTO ev VALUES (1)", &rs).ok());
        cap.Publish();
        std::promise<Status> synced;
        (*m)->Sync([&](const Status& s) { synced.set_value(s); });
        ASSERT_TRUE(synced.get_future().get().ok());
        (*m)->Stop();
    }
    ASSERT_TRUE(fs::is_directory(dir.sub("export/ev/p0")));
    ASSERT_FALSE(fs::exists(dir.sub("export/ev/p1")));
    auto m = ExportManager::Open(options(), {&cap});
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto pos = (*m)->Positions();
    ASSERT_EQ(pos["ev"].size(), 2u);
    EXPECT_EQ(pos["ev"][0].spooled, 1u);
    EXPECT_EQ(pos["ev"][1].spooled, 0u);
}

TEST(ManagerTest, BadTargetSettingsFailTheOpen) {
    TempDir dir;
    ExportOptions o;
    o.dir = dir.sub("export");
    o.targets = {FileConfig(dir.sub("out"), {{"format", "yaml"}})};
    o.last_lsn = [] { return uint64_t{0}; };
    o.durable_lsn = [] { return UINT64_MAX; };
    auto m = ExportManager::Open(std::move(o), {});
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("export target \"files\": format is csv or jsonl"), std::string::npos)
        << m.status().message();
}

}  // namespace
}  // namespace surge::exports
