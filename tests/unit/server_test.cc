// Tests for server/ pieces that need no network: option parsing (flags, TOML, errors), wire
// conversions, and the latency histogram behind @Statistics PROCEDURE.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "exec/engine.h"
#include "server/adhoc_route.h"
#include "server/convert.h"
#include "server/options.h"
#include "server/stats.h"
#include "sql/parser.h"
#include "types/decimal.h"

namespace surge::server {
namespace {

TEST(OptionsTest, DefaultsFlagsAndErrors) {
    auto o = ParseOptions({});
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->port, 21212);
    EXPECT_EQ(o->host, "127.0.0.1");
    EXPECT_EQ(o->data_dir, "./surgedb-data");
    EXPECT_EQ(o->partitions, 0u);
    EXPECT_EQ(o->cpu_scheduling, "batch");
    EXPECT_TRUE(o->huge_pages);
    o = ParseOptions(
        {"--port", "9000", "--partitions=4", "--schema", "s.sql", "--cpu-scheduling", "normal", "--huge-pages=off"});
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ(o->port, 9000);
    EXPECT_EQ(o->partitions, 4u);
    EXPECT_EQ(o->schema_file, "s.sql");
    EXPECT_EQ(o->cpu_scheduling, "normal");
    EXPECT_FALSE(o->huge_pages);
    for (auto bad : std::vector<std::vector<std::string>>{{"--port", "0"},
                                                          {"--port", "x"},
                                                          {"--partitions", "0"},
                                                          {"--nope", "1"},
                                                          {"--port"},
                                                          {"stray"},
                                                          {"--cpu-scheduling", "fifo"},
                                                          {"--huge-pages", "yes"}}) {
        auto r = ParseOptions(bad);
        EXPECT_FALSE(r.ok()) << bad[0];
    }
}

TEST(OptionsTest, ConfigFileThenFlags) {
    auto path = std::filesystem::temp_directory_path() / "surged-options-test.toml";
    {
        std::ofstream f(path);
        f << "[server]\nport = 9100\ndata_dir = \"/tmp/x\"\nqueue_capacity = 5\n";
    }
    auto o = ParseOptions({"--config", path.string(), "--port", "9200"});
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ(o->port, 9200);  // flags win
    EXPECT_EQ(o->data_dir, "/tmp/x");
    EXPECT_EQ(o->queue_capacity, 5u);
    {
        std::ofstream f(path);
        f << "[server]\nport = \"many\"\n";
    }
    o = ParseOptions({"--config", path.string()});
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.status().message().find("port"), std::string::npos);
    {
        std::ofstream f(path);
        f << "[server\nport = 1\n";
    }
    o = ParseOptions({"--config", path.string()});
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.status().message().find(":1:"), std::string::npos) << o.status().message();
    std::filesystem::remove(path);
}

TEST(ConvertTest, ParamsDecodeAndRejectWithTheirPosition) {
    google::protobuf::RepeatedPtrField<v1::Value> in;
    in.Add()->set_int_(-5);
    in.Add()->set_decimal("12.5");
    in.Add()->set_varchar("x");
    in.Add()->set_null(v1::BIGINT);
    std::vector<Value> out;
    ASSERT_TRUE(DecodeParams(in, &out).ok());
    EXPECT_EQ(out[0].AsInt(), -5);
    EXPECT_EQ(out[1].ToString(), "12.500000000000");
    EXPECT_TRUE(out[3].is_null());
    EXPECT_EQ(out[3].type(), TypeId::kBigInt);
    in.Add()->set_decimal("twelve");
    Status s = DecodeParams(in, &out);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidParameter);
    EXPECT_NE(s.message().find("parameter 5"), std::string::npos) << s.message();
    google::protobuf::RepeatedPtrField<v1::Value> unset;
    unset.Add();
    EXPECT_EQ(DecodeParams(unset, &out).code(), ErrorCode::kInvalidParameter);
}

TEST(ConvertTest, ResultsAreColumnarWithANullBitmap) {
    exec::ResultSet rs;
    rs.columns = {{"a", SqlType::Of(TypeId::kBigInt)}, {"s", SqlType{TypeId::kVarchar, 10}}};
    for (int i = 0; i < 10; ++i) {
        rs.values.push_back(i == 3 ? Value::Null(TypeId::kBigInt) : Value::BigInt(i));
        rs.values.push_back(Value::Varchar(std::to_string(i)));
    }
    v1::Table t;
    EncodeResult(rs, &t);
    EXPECT_EQ(t.row_count(), 10u);
    ASSERT_EQ(t.data_size(), 2);
    EXPECT_EQ(t.data(0).ints_size(), 10);
    EXPECT_EQ(t.data(0).nulls().size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(t.data(0).nulls()[0]), 1u << 3);
    EXPECT_TRUE(t.data(1).nulls().empty());
    EXPECT_EQ(t.data(1).strings(7), "7");
}

TEST(ConvertTest, SerializedAnswersParseAsAResponseBatch) {
    exec::ResultSet small;
    small.columns = {{"n", SqlType::Of(TypeId::kInteger)}};
    small.values = {Value::Integer(7)};
    exec::ResultSet large;  // past the per-thread scratch table's row bound
    large.columns = {{"s", SqlType{TypeId::kVarchar, 300}}};
    for (int i = 0; i < 3000; ++i) large.values.push_back(Value::Varchar(std::string(i % 300, 'x')));
    std::string results;
    AppendResultWire(small, &results);
    AppendResultWire(large, &results);
    AppendResultWire(small, &results);

    std::string wire;
    const Status ok = Status::Ok();
    const Status dup(ErrorCode::kUniqueViolation, "duplicate key (7) in index pk");
    AppendResponseWire({41, &ok, v1::OK, 9001, 250}, results, &wire);
    AppendResponseWire({42, &dup, v1::OK, 0, 3}, results, &wire);  // an error answers no rows
    AppendResponseWire({43, &ok, v1::TIMEOUT, 0, 1}, {}, &wire);

    v1::ResponseBatch batch;
    ASSERT_TRUE(batch.ParseFromString(wire));
    ASSERT_EQ(batch.responses_size(), 3);
    const v1::Response& a = batch.responses(0);
    EXPECT_EQ(a.client_handle(), 41u);
    EXPECT_EQ(a.status().code(), v1::OK);
    EXPECT_EQ(a.txn_id(), 9001u);
    EXPECT_EQ(a.server_micros(), 250u);
    ASSERT_EQ(a.results_size(), 3);
    v1::Table expected;
    EncodeResult(large, &expected);
    EXPECT_EQ(a.results(1).SerializeAsString(), expected.SerializeAsString());
    EXPECT_EQ(a.results(0).row_count(), 1u);
    EXPECT_EQ(a.results(2).data(0).ints(0), 7);
    const v1::Response& b = batch.responses(1);
    EXPECT_EQ(b.client_handle(), 42u);
    EXPECT_EQ(b.status().code(), v1::SQL_ERROR);
    EXPECT_EQ(b.status().sqlstate(), "23505");
    EXPECT_EQ(b.status().message(), "duplicate key (7) in index pk");
    EXPECT_EQ(b.results_size(), 0);
    const v1::Response& c = batch.responses(2);
    EXPECT_EQ(c.status().code(), v1::TIMEOUT);
    EXPECT_EQ(c.server_micros(), 1u);
}

// The answers are written straight to the wire format; they must be the bytes protobuf serializes
// for the same messages (every column kind, NULLs, empty strings, negative and large integers,
// no rows, a column without a name).
TEST(ConvertTest, WireAnswersAreTheBytesProtobufSerializes) {
    exec::ResultSet rs;
    rs.columns = {{"i", SqlType::Of(TypeId::kBigInt)},     {"t", SqlType::Of(TypeId::kTinyInt)},
                  {"f", SqlType::Of(TypeId::kFloat)},      {"s", SqlType{TypeId::kVarchar, 300}},
                  {"b", SqlType{TypeId::kVarbinary, 300}}, {"d", SqlType::Of(TypeId::kDecimal)},
                  {"ts", SqlType::Of(TypeId::kTimestamp)}, {"ok", SqlType::Of(TypeId::kBoolean)},
                  {"", SqlType::Of(TypeId::kInteger)}};
    const int64_t ints[] = {0, -1, 1, INT64_MIN, INT64_MAX, 300, -300};
    for (int r = 0; r < 21; ++r) {
        const bool null = r % 5 == 2;
        auto or_null = [&](TypeId t, Value v) { return null ? Value::Null(t) : v; };
        rs.values.push_back(or_null(TypeId::kBigInt, Value::BigInt(ints[r % 7])));
        rs.values.push_back(Value::Int(TypeId::kTinyInt, r - 10));
        rs.values.push_back(or_null(TypeId::kFloat, Value::Float(r * -1.25)));
        rs.values.push_back(Value::Varchar(std::string(r * 13 % 200, static_cast<char>('a' + r))));
        rs.values.push_back(or_null(TypeId::kVarbinary, Value::Varbinary(std::string(r % 3, '\0'))));
        rs.values.push_back(or_null(TypeId::kDecimal, Value::Dec(Decimal::Parse(std::to_string(r) + ".25"))));
        rs.values.push_back(Value::Timestamp(1'700'000'000'000'000 + r));
        rs.values.push_back(Value::Bool(r % 2 == 0));
        rs.values.push_back(Value::Integer(r));
    }
    exec::ResultSet empty;
    empty.columns = {{"n", SqlType::Of(TypeId::kInteger)}, {"s", SqlType{TypeId::kVarchar, 5}}};

    for (const exec::ResultSet* table : {&rs, &empty}) {
        std::string wire;
        AppendResultWire(*table, &wire);
        v1::Response expected;
        EncodeResult(*table, expected.add_results());
        EXPECT_EQ(wire, expected.SerializeAsString());
    }

    std::string results;
    AppendResultWire(rs, &results);
    AppendResultWire(empty, &results);
    const Status ok = Status::Ok();
    const Status dup(ErrorCode::kUniqueViolation, "duplicate key (7) in index pk");
    const ResponseHead heads[] = {{41, &ok, v1::OK, 9001, 250},
                                  {0, &ok, v1::OK, 0, 0},
                                  {1ull << 40, &dup, v1::OK, 17, 3},
                                  {43, &ok, v1::TIMEOUT, 0, 1}};
    for (const ResponseHead& head : heads) {
        std::string wire;
        AppendResponseWire(head, results, &wire);
        v1::ResponseBatch expected;
        v1::Response* r = expected.add_responses();
        r->set_client_handle(head.client_handle);
        EncodeStatus(*head.status, r->mutable_status());
        if (head.code != v1::OK) r->mutable_status()->set_code(head.code);
        if (head.status->ok()) {
            EncodeResult(rs, r->add_results());
            EncodeResult(empty, r->add_results());
        }
        r->set_server_micros(head.server_micros);
        r->set_txn_id(head.txn_id);
        EXPECT_EQ(wire, expected.SerializeAsString()) << head.client_handle;
    }
}

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithBoundedError) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100000; ++i) {
        uint64_t v = rng() >> (rng() % 64);
        int b = LatencyHistogram::Bucket(v);
        ASSERT_GE(b, 0);
        ASSERT_LT(b, LatencyHistogram::kBuckets);
        ASSERT_LE(v, LatencyHistogram::UpperBound(b));
        if (b > 0) {
            ASSERT_GT(v, LatencyHistogram::UpperBound(b - 1));
        }
        if (v >= 8) {
            ASSERT_LE(static_cast<double>(LatencyHistogram::UpperBound(b) - v), 0.125 * static_cast<double>(v));
        }
    }
    LatencyHistogram h;
    for (uint64_t v = 1; v <= 1000; ++v) h.Add(v);
    EXPECT_EQ(h.count(), 1000u);
    EXPECT_EQ(h.max(), 1000u);
    EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 500, 64);
    EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 990, 64);
    EXPECT_EQ(h.Percentile(1.0), 1000u);
}

TEST(StatsTest, ShardsMergePerProcedure) {
    Stats stats(3);
    for (int i = 0; i < 100; ++i) stats.Record(i % 3, "vote", i % 10 != 0, 100 + i);
    stats.Record(2, "@Ping", true, 3);
    exec::ResultSet rs = stats.Procedures();
    ASSERT_EQ(rs.row_count(), 2u);
    EXPECT_EQ(rs.at(0, 0).AsString(), "@Ping");
    EXPECT_EQ(rs.at(1, 0).AsString(), "vote");
    EXPECT_EQ(rs.at(1, 1).AsInt(), 100);
    EXPECT_EQ(rs.at(1, 2).AsInt(), 10);
    EXPECT_LE(rs.at(1, 4).AsInt(), rs.at(1, 5).AsInt());
    EXPECT_LE(rs.at(1, 5).AsInt(), rs.at(1, 6).AsInt());
    EXPECT_EQ(rs.at(1, 7).AsInt(), 199);
}

TEST(AdHocRouteTest, PinsOnlyStatementsProvablyOnOnePartition) {
    exec::Engine e;
    exec::ResultSet rs;
    ASSERT_TRUE(e.Execute("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, g INTEGER, s VARCHAR(5)); "
                          "PARTITION TABLE t ON COLUMN id; CREATE TABLE r (k INTEGER PRIMARY KEY); "
                          "CREATE VIEW v (g, n) AS SELECT g, COUNT(*) FROM t GROUP BY g",
                          &rs)
                    .ok());
    auto cat = e.catalog();
    const std::vector<Value> params = {Value::BigInt(42), Value::Varchar("x")};
    auto pin = [&](const std::string& text) -> std::string {
        sql::ParseResult parsed = sql::Parse(text);
        auto v = SinglePartitionValue(*cat, *parsed.statements[0], params);
        return v ? v->ToString() : "multi";
    };
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = 7"), "7");
    EXPECT_EQ(pin("SELECT COUNT(*) FROM t WHERE g > 1 AND 9 = id ORDER BY 1"), "9");
    EXPECT_EQ(pin("SELECT s FROM t WHERE id = ?"), "42");
    EXPECT_EQ(pin("UPDATE t SET g = g + 1 WHERE id = 3 AND s = 'a'"), "3");
    EXPECT_EQ(pin("DELETE FROM t WHERE id = ?"), "42");
    EXPECT_EQ(pin("INSERT INTO t VALUES (5, 1, 'a')"), "5");
    EXPECT_EQ(pin("INSERT INTO t (s, id) VALUES (?, 8)"), "8");
    // Not provably one partition:
    EXPECT_EQ(pin("SELECT * FROM t"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = 1 OR id = 2"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t WHERE id > 1"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = (SELECT MAX(id) FROM t)"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = 1 AND g IN (SELECT k FROM r)"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t a JOIN t b ON a.id = b.id WHERE a.id = 1"), "multi");
    EXPECT_EQ(pin("SELECT id FROM t WHERE id = 1 UNION SELECT id FROM t WHERE id = 2"), "multi");
    EXPECT_EQ(pin("SELECT * FROM r WHERE k = 1"), "multi");
    EXPECT_EQ(pin("SELECT * FROM v WHERE g = 1"), "multi");
    EXPECT_EQ(pin("INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b')"), "multi");
    EXPECT_EQ(pin("INSERT INTO t SELECT * FROM t WHERE id = 1"), "multi");
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = 'seven'"), "multi");  // the multi-partition run reports it
    EXPECT_EQ(pin("SELECT * FROM t WHERE id = NULL"), "multi");
    EXPECT_EQ(pin("TRUNCATE TABLE t"), "multi");
}

}  // namespace
}  // namespace surge::server
