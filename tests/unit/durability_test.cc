// The command log: encoding, append and read back, segments, group commit waiters, torn tails,
// damage, fault points, truncation, and the data directory lock. Snapshot files: the manifest,
// the writer, reading back, damage of every kind, listing, the schema history.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>

#include "durability/codec.h"
#include "durability/command_log.h"
#include "durability/dir_lock.h"
#include "durability/faults.h"
#include "durability/snapshot.h"

namespace surge::durability {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> n{0};
        path_ = fs::temp_directory_path() /
                ("surge-durability-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
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

std::vector<std::string> Segments(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

CommandLogOptions Options(const std::string& dir, LogMode mode = LogMode::kAsync) {
    CommandLogOptions o;
    o.dir = dir;
    o.mode = mode;
    o.interval = std::chrono::microseconds(1000);
    o.partition_count = 2;
    return o;
}

// Appends n records with txn ids first..first+n-1, each with a few typed parameters.
void AppendN(CommandLog& log, uint64_t first, int n) {
    for (int i = 0; i < n; ++i) {
        const uint64_t id = first + static_cast<uint64_t>(i);
        std::vector<Value> params = {Value::BigInt(static_cast<int64_t>(id)),
                                     Value::Varchar("row " + std::to_string(id)), Value::Null(TypeId::kInteger)};
        auto lsn = log.Append({id, 1'700'000'000'000'000 + static_cast<int64_t>(id), static_cast<uint32_t>(id % 2),
                               "events.insert", params});
        ASSERT_TRUE(lsn.ok()) << lsn.status().message();
    }
}

// Opens a log whose next LSN is next_lsn, appends `batches` batches of `per_batch` records (txn
// ids from first_txn on), waiting for each batch to be durable so that the writer makes several
// writes and segments roll over, and closes it. Returns the closed log (for its counters), or null.
std::unique_ptr<CommandLog> WriteLog(const CommandLogOptions& opts, uint64_t next_lsn, uint64_t first_txn,
                                     int per_batch, int batches = 1) {
    auto log = CommandLog::Open(opts, next_lsn);
    if (!log.ok()) {
        ADD_FAILURE() << log.status().message();
        return nullptr;
    }
    for (int i = 0; i < batches; ++i) {
        AppendN(**log, first_txn + static_cast<uint64_t>(i * per_batch), per_batch);
        // Each batch is durable before the next is appended, so it is written by its own write
        // however slow the writer is (a sleep was not enough under TSan).
        const uint64_t last = next_lsn + static_cast<uint64_t>((i + 1) * per_batch) - 1;
        for (int w = 0; w < 5000 && (*log)->durable_lsn() < last && (*log)->status().ok(); ++w)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Status closed = (*log)->Close();
    EXPECT_TRUE(closed.ok()) << closed.message();
    return std::move(*log);
}

// Receives one DurableWaiter answer.
struct Waiter : DurableWaiter {
    std::promise<Status> p;
    void Durable(const Status& s) override { p.set_value(s); }
};

std::vector<ReadRecord> ReadAll(const std::string& dir, LogScanInfo* info, uint64_t after = 0, Status* st = nullptr) {
    std::vector<ReadRecord> out;
    Status s = ReadLog(
        dir, after, 2,
        [&](ReadRecord&& r) {
            out.push_back(std::move(r));
            return Status::Ok();
        },
        info);
    if (st) {
        *st = s;
    } else {
        EXPECT_TRUE(s.ok()) << s.message();
    }
    return out;
}

class DurabilityTest : public ::testing::Test {
  protected:
    void TearDown() override { Faults::DisarmAll(); }
};

TEST_F(DurabilityTest, ValuesRoundTripThroughTheCodec) {
    const std::vector<Value> values = {Value::Null(),
                                       Value::Null(TypeId::kVarchar),
                                       Value::Bool(true),
                                       Value::Int(TypeId::kTinyInt, -128),
                                       Value::Int(TypeId::kSmallInt, 32767),
                                       Value::Integer(-7),
                                       Value::BigInt(INT64_MIN),
                                       Value::Float(-0.0),
                                       Value::Float(1e308),
                                       Value::Dec(Decimal::Parse("-99999999999999999999999999.999999999999")),
                                       Value::Dec(Decimal::Parse("0.000000000001")),
                                       Value::Varchar(""),
                                       Value::Varchar("h\xC3\xA9llo\0x"),
                                       Value::Varbinary(std::string("\x00\xff\x10", 3)),
                                       Value::Timestamp(-1)};
    std::string buf;
    ByteWriter w(&buf);
    for (const Value& v : values) w.Val(v);
    ByteReader r(buf);
    for (const Value& v : values) {
        Value got;
        ASSERT_TRUE(r.Val(&got));
        EXPECT_EQ(got.type(), v.type());
        EXPECT_EQ(got.is_null(), v.is_null());
        if (v.is_null()) continue;
        EXPECT_EQ(got.ToString(), v.ToString());
        if (v.type() == TypeId::kFloat) {
            EXPECT_EQ(std::signbit(got.AsDouble()), std::signbit(v.AsDouble()));
        }
    }
    EXPECT_EQ(r.remaining(), 0u);
    Value extra;
    EXPECT_FALSE(r.Val(&extra));
    EXPECT_FALSE(r.ok());
}

TEST_F(DurabilityTest, DamagedValueEncodingsAreRejected) {
    Value v;
    EXPECT_FALSE(ByteReader(std::string("\x63\x00", 2)).Val(&v));  // unknown type tag
    EXPECT_FALSE(ByteReader(std::string("\x08\x00\x05\x00\x00\x00"
                                        "ab",
                                        8))
                     .Val(&v));                                        // string longer than the bytes
    EXPECT_FALSE(ByteReader(std::string("\x05\x00\x01", 3)).Val(&v));  // BIGINT cut short
    EXPECT_FALSE(ByteReader(std::string("\x05\x02", 2)).Val(&v));      // null flag 2
    std::string dec;
    ByteWriter w(&dec);
    w.U8(static_cast<uint8_t>(TypeId::kDecimal));
    w.U8(0);
    w.U64(~uint64_t{0});
    w.U64(~uint64_t{0} >> 1);  // far past 38 digits
    EXPECT_FALSE(ByteReader(dec).Val(&v));
}

TEST_F(DurabilityTest, RecordsReadBackInOrderWithTheirFields) {
    TempDir dir;
    {
        auto log = WriteLog(Options(dir.str()), 1, 100, 50);
        ASSERT_TRUE(log);
        EXPECT_EQ(log->durable_lsn(), 50u);
    }
    LogScanInfo info;
    auto recs = ReadAll(dir.str(), &info);
    ASSERT_EQ(recs.size(), 50u);
    EXPECT_EQ(info.first_lsn, 1u);
    EXPECT_EQ(info.last_lsn, 50u);
    EXPECT_EQ(info.partition_count, 2u);
    EXPECT_TRUE(info.torn_tail.empty());
    for (size_t i = 0; i < recs.size(); ++i) {
        const ReadRecord& r = recs[i];
        EXPECT_EQ(r.lsn, i + 1);
        EXPECT_EQ(r.txn_id, 100 + i);
        EXPECT_EQ(r.timestamp, 1'700'000'000'000'000 + static_cast<int64_t>(100 + i));
        EXPECT_EQ(r.partition, (100 + i) % 2);
        EXPECT_EQ(r.procedure, "events.insert");
        ASSERT_EQ(r.params.size(), 3u);
        EXPECT_EQ(r.params[0].AsInt(), static_cast<int64_t>(100 + i));
        EXPECT_EQ(r.params[1].AsString(), "row " + std::to_string(100 + i));
        EXPECT_TRUE(r.params[2].is_null());
        EXPECT_EQ(r.params[2].type(), TypeId::kInteger);
    }
    // Only what a snapshot does not cover.
    auto after = ReadAll(dir.str(), &info, 45);
    ASSERT_EQ(after.size(), 5u);
    EXPECT_EQ(after[0].lsn, 46u);
    EXPECT_EQ(info.records, 5u);
}

TEST_F(DurabilityTest, ReopeningContinuesInANewSegmentAndSegmentsRollOver) {
    TempDir dir;
    auto opts = Options(dir.str());
    opts.segment_bytes = 2000;  // a few records per segment
    {
        auto log = WriteLog(opts, 1, 1, 10, 20);
        ASSERT_TRUE(log);
        EXPECT_GT(log->counters().segments, 2u);
    }
    LogScanInfo info;
    ASSERT_EQ(ReadAll(dir.str(), &info).size(), 200u);
    ASSERT_TRUE(WriteLog(opts, info.last_lsn + 1, 1000, 5));
    auto recs = ReadAll(dir.str(), &info);
    ASSERT_EQ(recs.size(), 205u);
    EXPECT_EQ(recs.back().lsn, 205u);
    EXPECT_EQ(recs.back().txn_id, 1004u);
    EXPECT_GT(info.segments, 3u);

    // Truncation removes whole segments the given LSN covers, never the last one.
    ASSERT_TRUE(TruncateLog(dir.str(), 100).ok());
    recs = ReadAll(dir.str(), &info, 100);
    EXPECT_EQ(recs.size(), 105u);
    EXPECT_LE(info.first_lsn, 101u);
    EXPECT_GT(info.first_lsn, 1u);
    ASSERT_TRUE(TruncateLog(dir.str(), 205).ok());
    EXPECT_EQ(Segments(dir.str()).size(), 1u);
}

TEST_F(DurabilityTest, SyncModeAnswersWaitersAfterTheFsync) {
    TempDir dir;
    auto log = CommandLog::Open(Options(dir.str(), LogMode::kSync), 1);
    ASSERT_TRUE(log.ok());
    std::vector<std::shared_ptr<Waiter>> waiters;
    for (int i = 0; i < 100; ++i) {
        auto lsn = (*log)->Append({1, 2, 0, "p", {}});
        ASSERT_TRUE(lsn.ok());
        auto w = std::make_shared<Waiter>();
        waiters.push_back(w);
        (*log)->WhenDurable(*lsn, w);
    }
    for (auto& w : waiters) {
        auto f = w->p.get_future();
        ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
        EXPECT_TRUE(f.get().ok());
    }
    EXPECT_EQ((*log)->durable_lsn(), 100u);
    // Group commit: far fewer fsyncs than records.
    EXPECT_LT((*log)->counters().fsyncs, 100u);
    // Already durable: answered at once, on this thread.
    auto now = std::make_shared<Waiter>();
    (*log)->WhenDurable(50, now);
    EXPECT_EQ(now->p.get_future().wait_for(std::chrono::seconds(0)), std::future_status::ready);
}

TEST_F(DurabilityTest, AFailedFsyncStopsTheLogAndAnswersEveryWaiterWithTheError) {
    TempDir dir;
    ASSERT_TRUE(Faults::Arm("cmdlog.fsync", 1).ok());
    auto opts = Options(dir.str(), LogMode::kSync);
    std::atomic<int> failures{0};
    opts.on_failure = [&](const Status&) { ++failures; };
    auto log = CommandLog::Open(opts, 1);
    ASSERT_TRUE(log.ok());
    auto lsn = (*log)->Append({1, 2, 0, "p", {}});
    ASSERT_TRUE(lsn.ok());
    auto w = std::make_shared<Waiter>();
    (*log)->WhenDurable(*lsn, w);
    auto f = w->p.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    Status s = f.get();
    EXPECT_EQ(s.code(), ErrorCode::kIoError);
    EXPECT_NE(s.message().find("fdatasync failed"), std::string::npos) << s.message();
    EXPECT_EQ(failures.load(), 1);
    // Sticky: appends fail, waiters are answered with the failure at once.
    auto again = (*log)->Append({2, 3, 0, "p", {}});
    EXPECT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), ErrorCode::kIoError);
    auto late = std::make_shared<Waiter>();
    (*log)->WhenDurable(1, late);
    EXPECT_FALSE(late->p.get_future().get().ok());
    EXPECT_EQ((*log)->status().code(), ErrorCode::kIoError);
    EXPECT_EQ((*log)->Close().code(), ErrorCode::kIoError);
}

TEST_F(DurabilityTest, AShortWriteLeavesATornTailThatRecoveryDropsAndRepairs) {
    TempDir dir;
    {
        auto log = CommandLog::Open(Options(dir.str(), LogMode::kSync), 1);
        ASSERT_TRUE(log.ok());
        AppendN(**log, 1, 10);
        // Wait for those to be durable, then make the next batch a short write.
        for (int i = 0; i < 1000 && (*log)->durable_lsn() < 10; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ASSERT_EQ((*log)->durable_lsn(), 10u);
        ASSERT_TRUE(Faults::Arm("cmdlog.short_write", 1).ok());
        // The writer may take the first of these alone and fail before the rest are appended:
        // appends after the failure are refused, as they must be.
        for (uint64_t id = 11; id <= 20; ++id) {
            if (!(*log)->Append({id, 1, 0, "events.insert", {}}).ok()) break;
        }
        for (int i = 0; i < 1000 && (*log)->status().ok(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ((*log)->status().code(), ErrorCode::kIoError);
    }
    LogScanInfo info;
    auto recs = ReadAll(dir.str(), &info);
    EXPECT_GE(recs.size(), 10u);
    EXPECT_LT(recs.size(), 20u);
    EXPECT_NE(info.torn_tail.find("dropped"), std::string::npos);
    // The file was cut at the last whole record: the next recovery sees a clean log, and new
    // records continue after it.
    const size_t kept = recs.size();
    recs = ReadAll(dir.str(), &info);
    EXPECT_EQ(recs.size(), kept);
    EXPECT_TRUE(info.torn_tail.empty());
    ASSERT_TRUE(WriteLog(Options(dir.str()), info.last_lsn + 1, 100, 3));
    recs = ReadAll(dir.str(), &info);
    EXPECT_EQ(recs.size(), kept + 3);
}

TEST_F(DurabilityTest, DamageOutsideTheLastSegmentStopsRecoveryWithItsPlace) {
    TempDir dir;
    auto opts = Options(dir.str());
    opts.segment_bytes = 1000;
    ASSERT_TRUE(WriteLog(opts, 1, 1, 20, 5));
    auto segs = Segments(dir.str());
    ASSERT_GE(segs.size(), 3u);
    {
        // Flip a byte in the middle of the first segment's records.
        std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x7f');
    }
    LogScanInfo info;
    Status st;
    ReadAll(dir.str(), &info, 0, &st);
    EXPECT_EQ(st.code(), ErrorCode::kIoError);
    EXPECT_NE(st.message().find(segs[0]), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("damaged at offset"), std::string::npos) << st.message();
    // A log whose oldest segment is gone cannot be replayed from the start either.
    fs::remove(segs[0]);
    ReadAll(dir.str(), &info, 0, &st);
    EXPECT_NE(st.message().find("a segment is missing"), std::string::npos) << st.message();
}

TEST_F(DurabilityTest, ALogOfAnotherPartitionCountIsRefusedWithTheCountToUse) {
    TempDir dir;
    auto opts = Options(dir.str());
    opts.partition_count = 4;
    ASSERT_TRUE(WriteLog(opts, 1, 1, 1));
    LogScanInfo info;
    Status st;
    ReadAll(dir.str(), &info, 0, &st);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("--partitions 4"), std::string::npos) << st.message();
}

TEST_F(DurabilityTest, ACrashDuringSegmentCreationLeavesAHeaderThatIsRemoved) {
    TempDir dir;
    ASSERT_TRUE(WriteLog(Options(dir.str()), 1, 1, 3));
    {
        std::ofstream f(dir.sub("log-00000000000000000004.seg"), std::ios::binary);
        f << "SURGE";  // cut short
    }
    LogScanInfo info;
    EXPECT_EQ(ReadAll(dir.str(), &info).size(), 3u);
    EXPECT_NE(info.torn_tail.find("removed"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir.sub("log-00000000000000000004.seg")));
}

TEST_F(DurabilityTest, AMissingDirectoryIsAnEmptyLog) {
    LogScanInfo info;
    auto recs = ReadAll("/nonexistent/surge-log", &info);
    EXPECT_TRUE(recs.empty());
    EXPECT_EQ(info.last_lsn, 0u);
}

TEST_F(DurabilityTest, FaultSpecsAreChecked) {
    EXPECT_TRUE(Faults::ArmFromSpec("cmdlog.write@3,cmdlog.fsync").ok());
    EXPECT_FALSE(Faults::Fire("cmdlog.write"));
    EXPECT_FALSE(Faults::Fire("cmdlog.write"));
    EXPECT_TRUE(Faults::Fire("cmdlog.write"));
    EXPECT_FALSE(Faults::Fire("cmdlog.write"));  // once
    EXPECT_TRUE(Faults::Fire("cmdlog.fsync"));
    Status bad = Faults::ArmFromSpec("cmdlog.nope");
    EXPECT_NE(bad.message().find("known: cmdlog.write"), std::string::npos) << bad.message();
    EXPECT_FALSE(Faults::ArmFromSpec("cmdlog.write@x").ok());
    EXPECT_FALSE(Faults::ArmFromSpec("cmdlog.write@0").ok());
}

TEST_F(DurabilityTest, ADataDirectoryHasOneOwner) {
    TempDir dir;
    auto first = DirLock::Acquire(dir.sub("data"));
    ASSERT_TRUE(first.ok()) << first.status().message();
    auto second = DirLock::Acquire(dir.sub("data"));
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.status().message().find("in use by another surged (pid " + std::to_string(::getpid())),
              std::string::npos)
        << second.status().message();
    first->reset();
    EXPECT_TRUE(DirLock::Acquire(dir.sub("data")).ok());
}

// ---- snapshot files -----------------------------------------------------------------------------

// Writes a snapshot into dir/<id>: two rows files (chunks of the given payloads), an empty one, a
// CSV extra; returns the completed manifest.
SnapshotManifest WriteSnapshot(const std::string& root, const std::string& id, uint64_t cut,
                               const std::vector<std::string>& chunks, Status* status = nullptr) {
    std::promise<std::pair<Status, SnapshotManifest>> done;
    auto w = SnapshotWriter::Create(root + "/" + id, 1 << 20, nullptr);
    EXPECT_TRUE(w.ok()) << w.status().message();
    if (!w.ok()) return {};
    const size_t a = (*w)->AddFile("p0-t0.rows", "weird name\n%", 0);
    const size_t b = (*w)->AddFile("p1-t0.rows", "weird name\n%", 1);
    (*w)->AddFile("p0-t1.rows", "empty", 0);
    const size_t csv = (*w)->AddFile("t.csv", "weird name\n%", 0, false);
    for (size_t i = 0; i < chunks.size(); ++i) (*w)->Write(i % 2 ? b : a, chunks[i], i + 1);
    (*w)->Write(csv, "a,b\n1,2\n", 0);
    SnapshotManifest m;
    m.id = id;
    m.cut_lsn = cut;
    m.partitions = 2;
    m.created_micros = 1700000000000000;
    m.next_txn_id = 77;
    m.last_timestamp = -5;
    (*w)->Finish(m, FormatDdlHistory({"CREATE TABLE x (a INT);", "-- ddl 3\nodd\n"}),
                 [&](const Status& s, const SnapshotManifest& out) {
                     done.set_value({s, out});
                 });
    auto [s, out] = done.get_future().get();
    if (status) {
        *status = s;
    } else {
        EXPECT_TRUE(s.ok()) << s.message();
    }
    return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x01));
}

TEST_F(DurabilityTest, ASnapshotReadsBackChunkByChunkWithItsManifest) {
    TempDir dir;
    const std::vector<std::string> chunks = {"first", std::string(100000, 'x'), "", "third!"};
    SnapshotManifest written = WriteSnapshot(dir.str(), "s1", 42, chunks);
    auto m = ReadManifest(dir.sub("s1"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m->id, "s1");
    EXPECT_EQ(m->cut_lsn, 42u);
    EXPECT_EQ(m->partitions, 2u);
    EXPECT_EQ(m->next_txn_id, 77u);
    EXPECT_EQ(m->last_timestamp, -5);
    EXPECT_EQ(m->created_micros, 1700000000000000);
    ASSERT_EQ(m->files.size(), 4u);
    EXPECT_EQ(m->files[0].table, "weird name\n%");
    EXPECT_EQ(m->files[0].rows, 1u + 3u);  // chunks 0 and 2 (rows 1 and 3)
    EXPECT_EQ(m->files[1].rows, 2u + 4u);
    EXPECT_EQ(m->files[2].rows, 0u);
    EXPECT_FALSE(m->files[3].rows_file);
    EXPECT_EQ(m->total_rows(), 10u);
    EXPECT_EQ(FormatManifest(*m), FormatManifest(written));
    ASSERT_TRUE(VerifySnapshot(dir.sub("s1"), *m).ok());
    std::vector<std::string> seen;
    ASSERT_TRUE(ReadSnapshotRows(dir.sub("s1"), m->files[1], [&](std::string_view p, uint32_t rows) {
                    seen.push_back(std::string(p) + "/" + std::to_string(rows));
                    return Status::Ok();
                }).ok());
    EXPECT_EQ(seen, (std::vector<std::string>{std::string(100000, 'x') + "/2", "third!/4"}));
    auto catalog = ReadSnapshotCatalog(dir.sub("s1"), *m);
    ASSERT_TRUE(catalog.ok());
    auto history = ParseDdlHistory(*catalog);
    ASSERT_TRUE(history.ok()) << history.status().message();
    EXPECT_EQ(*history, (std::vector<std::string>{"CREATE TABLE x (a INT);", "-- ddl 3\nodd\n"}));
    std::ifstream csv(dir.sub("s1/t.csv"));
    EXPECT_EQ(std::string((std::istreambuf_iterator<char>(csv)), std::istreambuf_iterator<char>()), "a,b\n1,2\n");
    // A directory is written once.
    EXPECT_FALSE(SnapshotWriter::Create(dir.sub("s1"), 1 << 20, nullptr).ok());
}

TEST_F(DurabilityTest, EveryKindOfSnapshotDamageIsFoundAndNamed) {
    TempDir dir;
    WriteSnapshot(dir.str(), "s", 1, {"aaaa", "bbbb", "cccc"});
    auto m = ReadManifest(dir.sub("s"));
    ASSERT_TRUE(m.ok());
    auto expect_damaged = [&](const std::string& what, const std::string& needle) {
        auto again = ReadManifest(dir.sub("s"));
        Status s = again.ok() ? VerifySnapshot(dir.sub("s"), *again) : again.status();
        EXPECT_FALSE(s.ok()) << what;
        EXPECT_NE(s.message().find(needle), std::string::npos) << what << ": " << s.message();
    };
    const std::string rows = dir.sub("s/p0-t0.rows");
    // A flipped payload byte (past the 16-byte header and the 16-byte frame).
    FlipByte(rows, 16 + 16 + 1);
    expect_damaged("payload bit flip", "checksum of the chunk at byte 16");
    FlipByte(rows, 16 + 16 + 1);
    ASSERT_TRUE(VerifySnapshot(dir.sub("s"), *m).ok());
    // A frame that claims more bytes than the file has.
    FlipByte(rows, 16 + 3);
    expect_damaged("frame length", "past the end of the file");
    FlipByte(rows, 16 + 3);
    // A truncated file.
    fs::resize_file(rows, fs::file_size(rows) - 1);
    expect_damaged("truncated", "the MANIFEST says");
    WriteSnapshot(dir.str(), "t", 1, {"aaaa"});
    // catalog.sql changed.
    FlipByte(dir.sub("t/catalog.sql"), 3);
    auto mt = ReadManifest(dir.sub("t"));
    ASSERT_TRUE(mt.ok());
    Status s = VerifySnapshot(dir.sub("t"), *mt);
    EXPECT_NE(s.message().find("catalog.sql is damaged"), std::string::npos) << s.message();
    // The MANIFEST itself: any changed byte is caught by its checksum; a missing one means incomplete.
    FlipByte(dir.sub("t/MANIFEST"), 20);
    EXPECT_NE(ReadManifest(dir.sub("t")).status().message().find("checksum does not match"), std::string::npos);
    fs::remove(dir.sub("t/MANIFEST"));
    EXPECT_NE(ReadManifest(dir.sub("t")).status().message().find("not completed"), std::string::npos);
    // Manifests that parse badly.
    SnapshotManifest out;
    std::string error;
    EXPECT_FALSE(ParseManifest("", &out, &error));
    EXPECT_FALSE(ParseManifest("SURGE SNAPSHOT 9\nchecksum 0\n", &out, &error));
    std::string text = FormatManifest(*m);
    EXPECT_TRUE(ParseManifest(text, &out, &error)) << error;
    EXPECT_FALSE(ParseManifest(text.substr(0, text.size() - 1), &out, &error));
    // The schema history's framing.
    EXPECT_FALSE(ParseDdlHistory("-- ddl 10\nshort\n").ok());
    EXPECT_FALSE(ParseDdlHistory("CREATE TABLE x (a INT)").ok());
    EXPECT_TRUE(ParseDdlHistory("").ok());
}

TEST_F(DurabilityTest, SnapshotsAreListedOldestCutFirstWithIncompleteOnesMarked) {
    TempDir dir;
    WriteSnapshot(dir.str(), "b", 20, {"x"});
    WriteSnapshot(dir.str(), "a", 10, {"x"});
    fs::create_directories(dir.sub("half"));
    auto list = ListSnapshots(dir.str());
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 3u);
    EXPECT_FALSE((*list)[0].complete);
    EXPECT_NE((*list)[0].problem.find("no MANIFEST"), std::string::npos);
    EXPECT_EQ((*list)[1].manifest.id, "a");
    EXPECT_EQ((*list)[2].manifest.id, "b");
    EXPECT_TRUE(ListSnapshots(dir.sub("none"))->empty());
}

// Removing a snapshot takes its MANIFEST first: stopped anywhere after that, what is left is an
// incomplete snapshot (skipped by recovery, removed by retention), never a complete-looking one
// with files missing.
TEST_F(DurabilityTest, RemovingASnapshotMakesItIncompleteFirst) {
    TempDir dir;
    WriteSnapshot(dir.str(), "a", 10, {"x", "y"});
    WriteSnapshot(dir.str(), "b", 20, {"x", "y"});
    ASSERT_TRUE(Faults::Arm("snapshot.remove").ok());
    Status s = RemoveSnapshot(dir.sub("a"));
    EXPECT_NE(s.message().find("injected fault snapshot.remove"), std::string::npos) << s.message();
    EXPECT_TRUE(fs::exists(dir.sub("a/p0-t0.rows")));
    auto list = ListSnapshots(dir.str());
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_FALSE((*list)[0].complete);
    EXPECT_EQ((*list)[0].dir, dir.sub("a"));
    EXPECT_TRUE((*list)[1].complete);
    ASSERT_TRUE(RemoveSnapshot(dir.sub("a")).ok());
    ASSERT_TRUE(RemoveSnapshot(dir.sub("b")).ok());
    EXPECT_FALSE(fs::exists(dir.sub("a")));
    EXPECT_FALSE(fs::exists(dir.sub("b")));
    EXPECT_TRUE(ListSnapshots(dir.str())->empty());
    EXPECT_TRUE(RemoveSnapshot(dir.sub("gone")).ok());
}

TEST_F(DurabilityTest, SnapshotWriteAndFsyncFailuresFailTheSnapshot) {
    for (const char* point : {"snapshot.write", "snapshot.fsync"}) {
        SCOPED_TRACE(point);
        TempDir dir;
        ASSERT_TRUE(Faults::Arm(point).ok());
        Status s;
        WriteSnapshot(dir.str(), "s", 1, {"aaaa", "bbbb"}, &s);
        EXPECT_FALSE(s.ok());
        EXPECT_NE(s.message().find(std::string("fault ") + point), std::string::npos) << s.message();
        EXPECT_FALSE(fs::exists(dir.sub("s/MANIFEST")));
        Faults::DisarmAll();
    }
    // A corrupted chunk is written "successfully" and found when read.
    TempDir dir;
    ASSERT_TRUE(Faults::Arm("snapshot.corrupt").ok());
    WriteSnapshot(dir.str(), "s", 1, {"aaaa", "bbbb"});
    auto m = ReadManifest(dir.sub("s"));
    ASSERT_TRUE(m.ok());
    EXPECT_NE(VerifySnapshot(dir.sub("s"), *m).message().find("checksum of the chunk"), std::string::npos);
}

TEST_F(DurabilityTest, AWriterBehindTellsProducersAndCallsBackWhenDrained) {
    TempDir dir;
    std::atomic<int> drained{0};
    auto w = SnapshotWriter::Create(dir.sub("s"), 1000, [&] { ++drained; });
    ASSERT_TRUE(w.ok());
    const size_t f = (*w)->AddFile("p0-t0.rows", "t", 0);
    // The writer stalls on its first write, so the queue certainly passes its bound.
    ASSERT_TRUE(Faults::Arm("snapshot.stall").ok());
    for (int i = 0; i < 200; ++i) (*w)->Write(f, std::string(5000, 'r'), 1);
    EXPECT_TRUE((*w)->Behind());
    (*w)->NoteProducerPaused();
    EXPECT_EQ(drained.load(), 0);
    std::promise<Status> done;
    SnapshotManifest m;
    m.id = "s";
    m.partitions = 1;
    (*w)->Finish(m, "", [&](const Status& s, const SnapshotManifest&) { done.set_value(s); });
    EXPECT_TRUE(done.get_future().get().ok());
    EXPECT_FALSE((*w)->Behind());
    EXPECT_EQ(drained.load(), 1);  // once per pause
    auto back = ReadManifest(dir.sub("s"));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->total_rows(), 200u);
}

}  // namespace
}  // namespace surge::durability
