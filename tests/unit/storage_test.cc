// Tests for storage/: tuple layout, key encoding order, tables with ordered and hash indexes,
// constraint checks that leave no trace, undo/release of every write kind, listeners, memory
// accounting, and a randomized comparison against a std::map model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/index.h"
#include "storage/index_key.h"
#include "storage/key_encoding.h"
#include "storage/row_codec.h"
#include "storage/table.h"
#include "storage/tuple.h"
#include "storage/undo_log.h"

namespace surge::storage {
namespace {

using catalog::ColumnDef;
using catalog::IndexDef;
using catalog::IndexKind;
using catalog::TableDef;
using catalog::Uniqueness;

// ---- helpers ------------------------------------------------------------------------------------

ColumnDef Col(std::string name, TypeId t, bool nullable = true) {
    ColumnDef c;
    c.name = std::move(name);
    c.type = SqlType::Of(t);
    if (t == TypeId::kVarchar || t == TypeId::kVarbinary) c.type.length = kDefaultVarLength;
    c.nullable = nullable;
    return c;
}

std::shared_ptr<TableDef> MakeDef(std::string name, std::vector<ColumnDef> columns) {
    auto def = std::make_shared<TableDef>();
    def->name = std::move(name);
    def->columns = std::move(columns);
    return def;
}

std::shared_ptr<IndexDef> MakeIndexDef(const TableDef& table, std::string name, IndexKind kind, Uniqueness u,
                                       std::vector<int> columns) {
    auto def = std::make_shared<IndexDef>();
    def->name = std::move(name);
    def->table = table.name;
    def->kind = kind;
    def->uniqueness = u;
    for (int c : columns) {
        catalog::IndexKeyPart part;
        part.column = c;
        part.type = table.columns[c].type;
        def->key.push_back(part);
    }
    return def;
}

IndexSpec Spec(std::shared_ptr<IndexDef> def, std::unique_ptr<KeyExtractor> extractor = nullptr) {
    IndexSpec s;
    s.def = std::move(def);
    s.extractor = std::move(extractor);
    return s;
}

template <typename... Specs>
std::unique_ptr<Table> MakeTable(std::shared_ptr<TableDef> def, Specs... specs) {
    std::vector<IndexSpec> v;
    (v.push_back(std::move(specs)), ...);
    return std::make_unique<Table>(std::move(def), std::move(v));
}

Value Int(int64_t v) { return Value::Integer(static_cast<int32_t>(v)); }
Value Big(int64_t v) { return Value::BigInt(v); }
Value Str(std::string_view s) { return Value::Varchar(s); }
Value Null(TypeId t) { return Value::Null(t); }
Value Dec(int64_t raw) { return Value::Dec(Decimal::FromRaw(raw)); }

// A text form that distinguishes every value exactly (floats by bits, strings with NULs).
std::string Repr(const Value& v) {
    if (v.is_null()) return "NULL";
    switch (v.type()) {
        case TypeId::kFloat: {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%a", v.AsDouble());
            return buf;
        }
        case TypeId::kDecimal: {
            auto raw = v.AsDecimal().raw();
            return "dec:" + std::to_string(static_cast<int64_t>(raw >> 64)) + ":" +
                   std::to_string(static_cast<uint64_t>(raw));
        }
        case TypeId::kVarchar:
        case TypeId::kVarbinary: {
            std::string out = "'";
            for (char c : v.AsString()) {
                if (c == '\0') {
                    out += "\\0";
                } else {
                    out += c;
                }
            }
            return out + "'";
        }
        default:
            return std::to_string(v.AsInt());
    }
}

std::string RowStr(const Table& t, const char* tuple) {
    std::string s;
    for (size_t c = 0; c < t.layout().column_count(); ++c) {
        if (c > 0) s += "|";
        s += Repr(t.Get(tuple, static_cast<int>(c)));
    }
    return s;
}

std::string RowStr(const std::vector<Value>& values) {
    std::string s;
    for (size_t c = 0; c < values.size(); ++c) {
        if (c > 0) s += "|";
        s += Repr(values[c]);
    }
    return s;
}

std::multiset<std::string> Rows(const Table& t) {
    std::multiset<std::string> rows;
    ScanCursor cursor;
    while (const char* tuple = t.NextLive(&cursor)) rows.insert(RowStr(t, tuple));
    return rows;
}

std::vector<TuplePtr> Collect(IndexCursor& c) {
    std::vector<TuplePtr> out;
    while (TuplePtr t = c.Next()) out.push_back(t);
    return out;
}

std::vector<std::string> CollectRows(const Table& t, IndexCursor& c) {
    std::vector<std::string> out;
    while (TuplePtr tuple = c.Next()) out.push_back(RowStr(t, tuple));
    return out;
}

/// Encodes the first values.size() key parts of index.
std::string Key(const Index& index, const std::vector<Value>& values) {
    std::string k;
    for (size_t i = 0; i < values.size(); ++i) EncodeKeyPart(values[i], index.part_type(i), &k);
    return k;
}

std::vector<std::string> Prefix(const Table& t, const Index& index, const std::vector<Value>& values) {
    IndexCursor c;
    index.ScanPrefix(Key(index, values), &c);
    auto rows = CollectRows(t, c);
    std::sort(rows.begin(), rows.end());
    return rows;
}

/// Every index holds exactly the live rows, in key order for ordered indexes.
void ExpectIndexesConsistent(const Table& t) {
    std::set<const char*> live;
    ScanCursor cursor;
    while (const char* tuple = t.NextLive(&cursor)) live.insert(tuple);
    ASSERT_EQ(live.size(), t.row_count());
    for (size_t i = 0; i < t.index_count(); ++i) {
        const Index& index = t.index(i);
        SCOPED_TRACE(index.name());
        EXPECT_EQ(index.size(), live.size());
        std::string key, prev;
        bool has_null;
        if (index.ordered()) {
            IndexCursor c;
            index.ScanAll(false, &c);
            std::set<const char*> seen;
            bool first = true;
            while (TuplePtr tuple = c.Next()) {
                EXPECT_TRUE(live.count(tuple)) << "index points at a row that is not live";
                EXPECT_TRUE(seen.insert(tuple).second) << "row indexed twice";
                index.BuildKey(tuple, &key, &has_null);
                if (!first) {
                    EXPECT_LE(prev, key);
                }
                prev = key;
                first = false;
            }
            EXPECT_EQ(seen.size(), live.size());
        }
        for (const char* tuple : live) {
            index.BuildKey(tuple, &key, &has_null);
            IndexCursor c;
            index.ScanPrefix(key, &c);
            auto found = Collect(c);
            EXPECT_NE(std::find(found.begin(), found.end(), tuple), found.end()) << "row missing from index";
            if (index.unique() && !has_null) {
                EXPECT_EQ(found.size(), 1u);
                EXPECT_EQ(index.FindUnique(key), tuple);
            }
        }
    }
}

template <typename F>
ErrorCode CodeOf(F&& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const SqlError& e) {
        if (message) *message = e.what();
        return e.code();
    }
    return ErrorCode::kOk;
}

// ---- tuple layout and key encoding --------------------------------------------------------------

TEST(TupleLayoutTest, SlotsAreAlignedAndSizeIsAMultipleOfTheWidestAlignment) {
    std::vector<ColumnDef> cols = {
        Col("a", TypeId::kTinyInt), Col("b", TypeId::kBigInt),    Col("c", TypeId::kSmallInt),
        Col("d", TypeId::kDecimal), Col("e", TypeId::kInteger),   Col("f", TypeId::kVarchar),
        Col("g", TypeId::kFloat),   Col("h", TypeId::kTimestamp), Col("i", TypeId::kVarbinary)};
    TupleLayout layout(cols);
    const uint32_t widths[] = {1, 8, 2, 16, 4, 8, 8, 8, 8};
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    for (int c = 0; c < 9; ++c) {
        const uint32_t align = std::min<uint32_t>(widths[c], 8);
        EXPECT_EQ(layout.offset(c) % align, 0u) << c;
        EXPECT_GE(layout.offset(c), 1u + 2u) << c;  // after flags and a 2-byte bitmap
        EXPECT_LE(layout.offset(c) + widths[c], layout.size()) << c;
        spans.push_back({layout.offset(c), layout.offset(c) + widths[c]});
    }
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].second, spans[i].first) << "slots overlap";
    EXPECT_EQ(layout.size() % 8, 0u);
    EXPECT_TRUE(layout.has_var_columns());
    EXPECT_TRUE(layout.is_var(5));
    EXPECT_FALSE(layout.is_var(6));
    // Narrow columns fill the gap the header (3 bytes) leaves before the first 8-byte slot at 16.
    EXPECT_EQ(layout.size(), 16u + 5 * 8 + 16);
}

TEST(TupleLayoutTest, NoVarColumns) {
    TupleLayout layout({Col("a", TypeId::kTinyInt), Col("b", TypeId::kSmallInt)});
    EXPECT_FALSE(layout.has_var_columns());
    EXPECT_EQ(layout.size() % 2, 0u);
    EXPECT_LE(layout.size(), 6u);
}

TEST(KeyEncodingTest, OrderMatchesSqlOrder) {
    auto expect_sorted = [](const std::vector<Value>& values, TypeId type) {
        for (size_t i = 1; i < values.size(); ++i) {
            std::string a, b;
            EncodeKeyPart(values[i - 1], type, &a);
            EncodeKeyPart(values[i], type, &b);
            EXPECT_LT(a, b) << Repr(values[i - 1]) << " vs " << Repr(values[i]);
        }
    };
    expect_sorted({Null(TypeId::kBigInt), Big(std::numeric_limits<int64_t>::min()), Big(-1000), Big(-1), Big(0), Big(1),
                   Big(255), Big(256), Big(std::numeric_limits<int64_t>::max())},
                  TypeId::kBigInt);
    const double inf = std::numeric_limits<double>::infinity();
    expect_sorted({Null(TypeId::kFloat), Value::Float(-inf), Value::Float(-1e300), Value::Float(-1.5),
                   Value::Float(-1e-300), Value::Float(0.0), Value::Float(1e-300), Value::Float(1.5),
                   Value::Float(1e300), Value::Float(inf), Value::Float(std::nan(""))},
                  TypeId::kFloat);
    expect_sorted({Null(TypeId::kDecimal), Dec(-1000000000000000000), Dec(-1), Dec(0), Dec(1), Dec(1000000000000)},
                  TypeId::kDecimal);
    using namespace std::string_literals;
    expect_sorted({Null(TypeId::kVarchar), Str(""), Str("\0"s), Str("\0\0"s), Str("\0a"s), Str("a"), Str("a\0"s),
                   Str("a\0b"s), Str("a\x01"s), Str("ab"), Str("b"), Str("\xff")},
                  TypeId::kVarchar);
}

TEST(KeyEncodingTest, NegativeZeroAndNaNsEncodeAlike) {
    std::string a, b, c, d;
    EncodeKeyPart(Value::Float(0.0), TypeId::kFloat, &a);
    EncodeKeyPart(Value::Float(-0.0), TypeId::kFloat, &b);
    EXPECT_EQ(a, b);
    EncodeKeyPart(Value::Float(std::nan("")), TypeId::kFloat, &c);
    EncodeKeyPart(Value::Float(-std::nan("1")), TypeId::kFloat, &d);
    EXPECT_EQ(c, d);
}

TEST(KeyEncodingTest, IntegralKeysAcceptAnyIntegralValueAndMultiPartPrefixes) {
    std::string a, b;
    EncodeKeyPart(Value::Int(TypeId::kTinyInt, -3), TypeId::kBigInt, &a);
    EncodeKeyPart(Big(-3), TypeId::kBigInt, &b);
    EXPECT_EQ(a, b);
    // (1, 'x') and (1, NULL) both start with the encoding of (1); the successor bounds them.
    std::string p, k1, k2;
    EncodeKeyPart(Int(1), TypeId::kInteger, &p);
    k1 = p;
    EncodeKeyPart(Str("x"), TypeId::kVarchar, &k1);
    k2 = p;
    EncodeKeyPart(Null(TypeId::kVarchar), TypeId::kVarchar, &k2);
    EXPECT_LT(k2, k1);
    EXPECT_LT(k1, PrefixSuccessor(p));
    std::string two;
    EncodeKeyPart(Int(2), TypeId::kInteger, &two);
    EXPECT_LT(PrefixSuccessor(p), two);
    EXPECT_EQ(CodeOf([] {
                  std::string s;
                  EncodeKeyPart(Str("x"), TypeId::kBigInt, &s);
              }),
              ErrorCode::kInternal);
}

// ---- inserts and reads --------------------------------------------------------------------------

std::shared_ptr<TableDef> AllTypesDef() {
    return MakeDef("all", {Col("ti", TypeId::kTinyInt), Col("si", TypeId::kSmallInt), Col("i", TypeId::kInteger),
                           Col("bi", TypeId::kBigInt), Col("f", TypeId::kFloat), Col("d", TypeId::kDecimal),
                           Col("vc", TypeId::kVarchar), Col("vb", TypeId::kVarbinary), Col("ts", TypeId::kTimestamp)});
}

// Rows of AllTypesDef: the extremes of every width, NULs inside strings, a long string (row 1,
// column 6), a row of NULLs and a mixed one.
std::vector<std::vector<Value>> AllTypesRows(const std::string& long_string) {
    using namespace std::string_literals;
    return {
        {Value::Int(TypeId::kTinyInt, -128), Value::Int(TypeId::kSmallInt, -32768), Int(-2147483648LL),
         Big(std::numeric_limits<int64_t>::min()), Value::Float(-0.5), Dec(-123456789012345678), Str("h\0llo"s),
         Value::Varbinary("\x00\xff\x01"s), Value::Timestamp(-1)},
        {Value::Int(TypeId::kTinyInt, 127), Value::Int(TypeId::kSmallInt, 32767), Int(2147483647),
         Big(std::numeric_limits<int64_t>::max()), Value::Float(1e308), Dec(1), Str(long_string), Value::Varbinary(""),
         Value::Timestamp(1700000000000000)},
        {Null(TypeId::kTinyInt), Null(TypeId::kSmallInt), Null(TypeId::kInteger), Null(TypeId::kBigInt),
         Null(TypeId::kFloat), Null(TypeId::kDecimal), Null(TypeId::kVarchar), Null(TypeId::kVarbinary),
         Null(TypeId::kTimestamp)},
        {Value::Int(TypeId::kTinyInt, -1), Null(TypeId::kSmallInt), Int(-7), Null(TypeId::kBigInt),
         Value::Float(std::numeric_limits<double>::infinity()), Null(TypeId::kDecimal), Str(""),
         Null(TypeId::kVarbinary), Null(TypeId::kTimestamp)},
    };
}

TEST(TableTest, InsertAndReadAllTypesIncludingNullsAndLongStrings) {
    auto table = MakeTable(AllTypesDef());
    UndoLog undo;
    using namespace std::string_literals;
    const std::string long_string(200000, 'x');
    const std::vector<std::vector<Value>> rows = AllTypesRows(long_string);
    std::vector<TuplePtr> tuples;
    for (const auto& r : rows) tuples.push_back(table->Insert(r.data(), undo));
    undo.Release();
    ASSERT_EQ(table->row_count(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
        EXPECT_EQ(RowStr(*table, tuples[r]), RowStr(rows[r]));
        for (size_t c = 0; c < rows[r].size(); ++c) {
            Value v = table->Get(tuples[r], static_cast<int>(c));
            EXPECT_EQ(v.type(), table->layout().type(static_cast<int>(c)));
            EXPECT_EQ(v.is_null(), rows[r][c].is_null());
        }
    }
    // Integral reads sign-extend by width.
    EXPECT_EQ(table->layout().GetInt(tuples[0], 0), -128);
    EXPECT_EQ(table->layout().GetInt(tuples[0], 1), -32768);
    EXPECT_EQ(table->layout().GetInt(tuples[0], 2), -2147483648LL);
    EXPECT_EQ(table->layout().GetInt(tuples[3], 0), -1);
    // Read reuses the Value: reading a long string then an int then a string again.
    Value v;
    table->Read(tuples[1], 6, &v);
    EXPECT_EQ(v.AsString().size(), long_string.size());
    table->Read(tuples[1], 2, &v);
    EXPECT_EQ(v.AsInt(), 2147483647);
    table->Read(tuples[0], 6, &v);
    EXPECT_EQ(v.AsString(), "h\0llo"s);
    table->Read(tuples[2], 6, &v);
    EXPECT_TRUE(v.is_null());
    EXPECT_EQ(v.type(), TypeId::kVarchar);
    EXPECT_GE(table->memory_bytes(), long_string.size());
    EXPECT_EQ(Rows(*table).size(), rows.size());
}

// Index keys of plain columns are encoded straight from the row's slots (no Value in between):
// byte for byte what EncodeKeyPart makes of the value read back, for every type, NULLs, NULs in
// strings and the extremes of every width.
TEST(IndexKeyTest, KeysFromSlotsEqualKeysFromValues) {
    auto def = AllTypesDef();
    auto idx = [&](int c) {
        return Spec(MakeIndexDef(*def, "k" + std::to_string(c), IndexKind::kOrdered, Uniqueness::kNone, {c}));
    };
    auto multi = Spec(MakeIndexDef(*def, "km", IndexKind::kHash, Uniqueness::kNone, {8, 6, 0, 4, 7, 3}));
    auto table =
        MakeTable(def, idx(0), idx(1), idx(2), idx(3), idx(4), idx(5), idx(6), idx(7), idx(8), std::move(multi));
    UndoLog undo;
    for (const auto& r : AllTypesRows(std::string(300, 'x'))) {
        TuplePtr t = table->Insert(r.data(), undo);
        for (size_t i = 0; i < table->index_count(); ++i) {
            const Index& index = table->index(i);
            std::string expected;
            bool expected_null = false;
            for (const auto& part : index.def().key) {
                Value v = table->Get(t, part.column);
                expected_null |= v.is_null();
                EncodeKeyPart(v, part.type.id, &expected);
            }
            std::string got;
            bool has_null = false;
            index.BuildKey(t, &got, &has_null);
            EXPECT_EQ(got, expected) << index.name();
            EXPECT_EQ(has_null, expected_null) << index.name();
        }
    }
    ExpectIndexesConsistent(*table);
}

TEST(TableTest, ManyRowsSpanBlocks) {
    auto def = MakeDef("t", {Col("id", TypeId::kBigInt, false), Col("s", TypeId::kVarchar)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "pk_t", IndexKind::kOrdered, Uniqueness::kPrimaryKey, {0})));
    UndoLog undo;
    // 24-byte tuples: the first 8 blocks of 256 KiB hold 87,376 rows, then 2 MiB blocks (mapped for
    // huge pages) follow: 200,000 rows take both kinds.
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        std::vector<Value> row = {Big(i), Str(std::to_string(i))};
        table->Insert(row.data(), undo);
    }
    undo.Release();
    EXPECT_EQ(table->row_count(), static_cast<size_t>(n));
    ScanCursor cursor;
    size_t count = 0;
    int64_t expect = 0;
    while (TuplePtr t = table->NextLive(&cursor)) {
        EXPECT_EQ(table->Get(t, 0).AsInt(), expect++);  // slots are handed out in order
        ++count;
    }
    EXPECT_EQ(count, static_cast<size_t>(n));
    ASSERT_EQ(table->block_count(), 10u);  // 8 x 256 KiB (10,922 slots each), then 2 x 2 MiB
    size_t slots_total = 0, large_slots = 0;
    for (size_t b = 0; b < table->block_count(); ++b) {
        size_t slots;
        TuplePtr base = table->block(b, &slots);
        ASSERT_NE(base, nullptr);
        if (b >= 8) {
            EXPECT_EQ(reinterpret_cast<uintptr_t>(base) % (2u << 20), 0u) << b;  // huge-page aligned
            if (b + 1 < table->block_count()) {
                EXPECT_EQ(slots, (2u << 20) / 24) << b;
            }
            large_slots += slots;
        } else {
            EXPECT_EQ(slots, (256u << 10) / 24) << b;
        }
        slots_total += slots;
    }
    EXPECT_EQ(slots_total, static_cast<size_t>(n));
    EXPECT_GT(large_slots, 0u);
    EXPECT_GE(table->memory_bytes(), 8 * (256u << 10) + 2 * (2u << 20));
    // Rows in the large blocks are found through the index and their var data reads back.
    for (int i : {0, 87375, 87376, 150000, n - 1}) {
        TuplePtr t = table->index(0).FindUnique(Key(table->index(0), {Big(i)}));
        ASSERT_NE(t, nullptr) << i;
        EXPECT_EQ(table->Get(t, 1).AsString(), std::to_string(i));
    }
    EXPECT_EQ(table->primary_key(), &table->index(0));
    EXPECT_EQ(table->FindIndex("pk_t"), &table->index(0));
    EXPECT_EQ(table->FindIndex("nope"), nullptr);
    ExpectIndexesConsistent(*table);
}

TEST(TableTest, FailedInsertIntoAFullBlockLeavesNoNewBlock) {
    auto def = MakeDef("f", {Col("id", TypeId::kBigInt, false)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "pk_f", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})));
    UndoLog undo;
    // Fill the first block exactly: the next row would need a new one.
    size_t per_block = 0;
    for (int64_t i = 0;; ++i) {
        std::vector<Value> row = {Big(i)};
        table->Insert(row.data(), undo);
        size_t slots;
        table->block(0, &slots);
        if (table->block_count() > 1) FAIL() << "the first block should fill before a second one starts";
        if (slots == table->row_count() && slots * table->layout().size() + table->layout().size() > (256u << 10)) {
            per_block = slots;
            break;
        }
    }
    undo.Release();
    const size_t memory = table->memory_bytes();
    std::vector<Value> dup = {Big(7)};
    EXPECT_EQ(CodeOf([&] { table->Insert(dup.data(), undo); }), ErrorCode::kUniqueViolation);
    EXPECT_EQ(table->block_count(), 1u);
    EXPECT_EQ(table->memory_bytes(), memory);
    EXPECT_EQ(table->row_count(), per_block);
    // The next row starts the second block, in its first slot.
    std::vector<Value> next = {Big(-1)};
    TuplePtr t = table->Insert(next.data(), undo);
    size_t slots;
    EXPECT_EQ(table->block(1, &slots), t);
    EXPECT_EQ(slots, 1u);
    // A failed insert that reused a freed slot puts it back on the free list: the next row gets it.
    undo.Release();
    TuplePtr freed = table->index(0).FindUnique(Key(table->index(0), {Big(3)}));
    table->Delete(freed, undo);
    undo.Release();
    EXPECT_EQ(CodeOf([&] { table->Insert(dup.data(), undo); }), ErrorCode::kUniqueViolation);
    std::vector<Value> again = {Big(3)};
    EXPECT_EQ(table->Insert(again.data(), undo), freed);
    ExpectIndexesConsistent(*table);
}

// ---- constraint violations leave no trace ----------------------------------------------------

struct KvFixture : ::testing::Test {
    // t(id INTEGER NOT NULL PRIMARY KEY, name VARCHAR UNIQUE (hash), grp INTEGER, note VARCHAR)
    // with a non-unique ordered index on (grp, note).
    void SetUp() override {
        def = MakeDef("t", {Col("id", TypeId::kInteger, false), Col("name", TypeId::kVarchar),
                            Col("grp", TypeId::kInteger), Col("note", TypeId::kVarchar)});
        table = MakeTable(def, Spec(MakeIndexDef(*def, "pk_t", IndexKind::kOrdered, Uniqueness::kPrimaryKey, {0})),
                          Spec(MakeIndexDef(*def, "t_name", IndexKind::kHash, Uniqueness::kUnique, {1})),
                          Spec(MakeIndexDef(*def, "t_grp_note", IndexKind::kOrdered, Uniqueness::kNone, {2, 3})));
    }
    TuplePtr Insert(int64_t id, std::optional<std::string> name, std::optional<int64_t> grp,
                    std::optional<std::string> note) {
        auto row = Row(id, name, grp, note);
        return table->Insert(row.data(), undo);
    }
    static std::vector<Value> Row(int64_t id, std::optional<std::string> name, std::optional<int64_t> grp,
                                  std::optional<std::string> note) {
        return {Int(id), name ? Str(*name) : Null(TypeId::kVarchar), grp ? Int(*grp) : Null(TypeId::kInteger),
                note ? Str(*note) : Null(TypeId::kVarchar)};
    }
    TuplePtr Find(int64_t id) { return table->index(0).FindUnique(Key(table->index(0), {Int(id)})); }

    struct Snapshot {
        size_t rows, memory;
        std::vector<size_t> index_sizes;
        std::multiset<std::string> contents;
        bool operator==(const Snapshot&) const = default;
    };
    Snapshot Snap() {
        Snapshot s{table->row_count(), table->memory_bytes(), {}, Rows(*table)};
        for (size_t i = 0; i < table->index_count(); ++i) s.index_sizes.push_back(table->index(i).size());
        return s;
    }

    std::shared_ptr<TableDef> def;
    std::unique_ptr<Table> table;
    UndoLog undo;
};

TEST_F(KvFixture, NotNullViolationLeavesNoTrace) {
    Insert(1, "a", 1, "x");
    const auto before = Snap();
    const size_t undo_size = undo.size();
    auto row = Row(2, std::string(1000, 'n'), 1, std::string(1000, 'y'));
    row[0] = Null(TypeId::kInteger);
    std::string msg;
    EXPECT_EQ(CodeOf([&] { table->Insert(row.data(), undo); }, &msg), ErrorCode::kNotNullViolation);
    EXPECT_EQ(msg, "NULL value in column \"id\" of table \"t\" violates NOT NULL");
    EXPECT_EQ(Snap(), before);
    EXPECT_EQ(undo.size(), undo_size);
    // Also on update.
    EXPECT_EQ(CodeOf([&] { table->Update(Find(1), row.data(), undo); }), ErrorCode::kNotNullViolation);
    EXPECT_EQ(Snap(), before);
    ExpectIndexesConsistent(*table);
}

TEST_F(KvFixture, UniqueViolationLeavesNoTrace) {
    Insert(5, "five", 1, "x");
    Insert(6, "six", 1, "y");
    const auto before = Snap();
    const size_t undo_size = undo.size();
    std::string msg;
    // Duplicate primary key, with long var data that must not leak (ASan checks).
    EXPECT_EQ(CodeOf([&] { Insert(5, std::string(5000, 'q'), 2, std::string(3000, 'z')); }, &msg),
              ErrorCode::kUniqueViolation);
    EXPECT_EQ(msg, "duplicate key (5) violates unique index \"pk_t\" on table \"t\"");
    EXPECT_EQ(Snap(), before);
    // Duplicate in the second unique index, after the first one passed.
    EXPECT_EQ(CodeOf([&] { Insert(7, "six", 2, std::string(3000, 'z')); }, &msg), ErrorCode::kUniqueViolation);
    EXPECT_EQ(msg, "duplicate key ('six') violates unique index \"t_name\" on table \"t\"");
    EXPECT_EQ(Snap(), before);
    EXPECT_EQ(undo.size(), undo_size);
    ExpectIndexesConsistent(*table);
    // The index itself refuses a duplicate too and stays unchanged.
    TuplePtr five = Find(5);
    EXPECT_EQ(CodeOf([&] { table->index(0).Insert(five); }), ErrorCode::kUniqueViolation);
    EXPECT_EQ(table->index(0).size(), 2u);
}

TEST_F(KvFixture, NullsRepeatInUniqueIndexes) {
    Insert(1, std::nullopt, 1, "a");
    Insert(2, std::nullopt, 1, "b");
    Insert(3, std::nullopt, 2, "c");
    EXPECT_EQ(table->index(1).size(), 3u);
    // An ordered unique index with a NULL part lets the rest repeat too.
    auto def2 = MakeDef("u", {Col("a", TypeId::kInteger), Col("b", TypeId::kInteger)});
    auto t2 = MakeTable(def2, Spec(MakeIndexDef(*def2, "u_ab", IndexKind::kOrdered, Uniqueness::kUnique, {0, 1})),
                        Spec(MakeIndexDef(*def2, "u_b", IndexKind::kHash, Uniqueness::kUnique, {1})));
    std::vector<Value> r1 = {Int(1), Null(TypeId::kInteger)};
    t2->Insert(r1.data(), undo);
    t2->Insert(r1.data(), undo);
    std::vector<Value> r2 = {Int(1), Int(2)};
    t2->Insert(r2.data(), undo);
    EXPECT_EQ(CodeOf([&] { t2->Insert(r2.data(), undo); }), ErrorCode::kUniqueViolation);
    EXPECT_EQ(t2->row_count(), 3u);
    EXPECT_EQ(Prefix(*t2, t2->index(0), {Int(1)}).size(), 3u);
    EXPECT_EQ(Prefix(*t2, t2->index(0), {Int(1), Null(TypeId::kInteger)}).size(), 2u);
    EXPECT_EQ(Prefix(*t2, t2->index(1), {Null(TypeId::kInteger)}).size(), 2u);
    ExpectIndexesConsistent(*t2);
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(t2->row_count(), 0u);
    EXPECT_EQ(table->row_count(), 0u);
    ExpectIndexesConsistent(*t2);
}

TEST_F(KvFixture, NonUniqueOrderedPrefixScansOnMultiColumnKeys) {
    Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    Insert(3, "c", 1, "x");
    Insert(4, "d", 2, "x");
    Insert(5, "e", std::nullopt, "x");
    Insert(6, "f", 1, std::nullopt);
    const Index& idx = table->index(2);
    EXPECT_EQ(Prefix(*table, idx, {Int(1)}).size(), 4u);
    EXPECT_EQ(Prefix(*table, idx, {Int(1), Str("x")}), (std::vector<std::string>{"1|'a'|1|'x'", "3|'c'|1|'x'"}));
    EXPECT_EQ(Prefix(*table, idx, {Int(1), Null(TypeId::kVarchar)}), (std::vector<std::string>{"6|'f'|1|NULL"}));
    EXPECT_EQ(Prefix(*table, idx, {Null(TypeId::kInteger)}), (std::vector<std::string>{"5|'e'|NULL|'x'"}));
    EXPECT_TRUE(Prefix(*table, idx, {Int(3)}).empty());
    EXPECT_TRUE(Prefix(*table, idx, {Int(1), Str("xx")}).empty());
    // Order within the index: grp NULL first, then 1 (NULL, x, x, y), then 2.
    IndexCursor c;
    idx.ScanAll(false, &c);
    std::vector<int64_t> ids;
    while (TuplePtr t = c.Next()) ids.push_back(table->Get(t, 0).AsInt());
    ASSERT_EQ(ids.size(), 6u);
    EXPECT_EQ(ids[0], 5);
    EXPECT_EQ(ids[1], 6);
    EXPECT_EQ(std::set<int64_t>(ids.begin() + 2, ids.begin() + 4), (std::set<int64_t>{1, 3}));
    EXPECT_EQ(ids[4], 2);
    EXPECT_EQ(ids[5], 4);
    idx.ScanAll(true, &c);
    std::vector<int64_t> rev;
    while (TuplePtr t = c.Next()) rev.push_back(table->Get(t, 0).AsInt());
    std::reverse(rev.begin(), rev.end());
    EXPECT_EQ(rev, ids);
    // The unique primary key: a full key is a point lookup, an unknown key finds nothing.
    EXPECT_EQ(Prefix(*table, table->index(0), {Int(4)}), (std::vector<std::string>{"4|'d'|2|'x'"}));
    EXPECT_TRUE(Prefix(*table, table->index(0), {Int(40)}).empty());
}

// ---- range scans --------------------------------------------------------------------------------

// Checks every combination of bounds against a model: the sorted values filtered by comparison.
template <typename T, typename MakeValue>
void CheckRanges(TypeId type, const std::vector<T>& values, const std::vector<T>& bounds, MakeValue make, bool unique) {
    auto def = MakeDef("r", {Col("k", type), Col("id", TypeId::kInteger)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "r_k", IndexKind::kOrdered,
                                                  unique ? Uniqueness::kUnique : Uniqueness::kNone, {0})));
    UndoLog undo;
    std::vector<std::pair<T, int>> model;
    int id = 0;
    for (const T& v : values) {
        std::vector<Value> row = {make(v), Int(id)};
        table->Insert(row.data(), undo);
        model.push_back({v, id++});
        if (!unique) {  // duplicates
            row[1] = Int(id);
            table->Insert(row.data(), undo);
            model.push_back({v, id++});
        }
    }
    const Index& idx = table->index(0);
    for (size_t li = 0; li <= bounds.size(); ++li) {
        for (size_t ui = 0; ui <= bounds.size(); ++ui) {
            for (int flags = 0; flags < 8; ++flags) {
                KeyRange range;
                range.has_lower = li < bounds.size();
                range.has_upper = ui < bounds.size();
                range.lower_inclusive = flags & 1;
                range.upper_inclusive = flags & 2;
                const bool reverse = flags & 4;
                if (range.has_lower) range.lower = Key(idx, {make(bounds[li])});
                if (range.has_upper) range.upper = Key(idx, {make(bounds[ui])});
                std::vector<T> expected_keys;
                for (const auto& [v, i] : model) {
                    if (range.has_lower && (range.lower_inclusive ? v < bounds[li] : !(bounds[li] < v))) continue;
                    if (range.has_upper && (range.upper_inclusive ? bounds[ui] < v : !(v < bounds[ui]))) continue;
                    expected_keys.push_back(v);
                }
                std::sort(expected_keys.begin(), expected_keys.end());
                if (reverse) std::reverse(expected_keys.begin(), expected_keys.end());
                IndexCursor c;
                idx.ScanRange(range, reverse, &c);
                std::vector<std::string> got, want;
                while (TuplePtr t = c.Next()) got.push_back(Repr(table->Get(t, 0)));
                for (const T& v : expected_keys) want.push_back(Repr(make(v)));
                EXPECT_EQ(got, want) << "lower " << (range.has_lower ? Repr(make(bounds[li])) : "-") << " upper "
                                     << (range.has_upper ? Repr(make(bounds[ui])) : "-") << " flags " << flags;
            }
        }
    }
}

TEST(RangeScanTest, NegativeIntegers) {
    std::vector<int64_t> values = {-1000, -5, -1, 0, 1, 7, 300, 65536};
    std::vector<int64_t> bounds = {-2000, -5, -2, 0, 7, 8, 65536, 70000};
    CheckRanges<int64_t>(
        TypeId::kBigInt, values, bounds, [](int64_t v) { return Big(v); }, true);
    CheckRanges<int64_t>(
        TypeId::kBigInt, values, bounds, [](int64_t v) { return Big(v); }, false);
}

TEST(RangeScanTest, Floats) {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> values = {-inf, -2.5, -1e-10, 0.0, 1e-10, 3.25, 1e100, inf};
    std::vector<double> bounds = {-3.0, -2.5, 0.0, 1.0, 3.25, inf};
    CheckRanges<double>(
        TypeId::kFloat, values, bounds, [](double v) { return Value::Float(v); }, true);
    CheckRanges<double>(
        TypeId::kFloat, values, bounds, [](double v) { return Value::Float(v); }, false);
}

TEST(RangeScanTest, StringsWithEmbeddedNuls) {
    using namespace std::string_literals;
    std::vector<std::string> values = {""s, "\0"s, "a"s, "a\0"s, "a\0\0"s, "a\0b"s, "ab"s, "ab\0"s, "b"s, "\xff"s};
    std::vector<std::string> bounds = {""s, "\0"s, "a"s, "a\0"s, "a\0a"s, "ab"s, "abc"s, "c"s};
    CheckRanges<std::string>(
        TypeId::kVarchar, values, bounds, [](const std::string& v) { return Str(v); }, true);
    CheckRanges<std::string>(
        TypeId::kVarchar, values, bounds, [](const std::string& v) { return Str(v); }, false);
}

TEST(RangeScanTest, Decimals) {
    std::vector<int64_t> values = {-5000000000000, -1, 0, 1, 1500000000000, 999999999999999999};
    std::vector<int64_t> bounds = {-5000000000001, -1, 0, 2, 1500000000000, 999999999999999999};
    CheckRanges<int64_t>(
        TypeId::kDecimal, values, bounds, [](int64_t v) { return Dec(v); }, true);
    CheckRanges<int64_t>(
        TypeId::kDecimal, values, bounds, [](int64_t v) { return Dec(v); }, false);
}

TEST(RangeScanTest, PrefixBoundsOnMultiColumnKeys) {
    auto def = MakeDef("m", {Col("a", TypeId::kInteger), Col("b", TypeId::kInteger)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "m_ab", IndexKind::kOrdered, Uniqueness::kUnique, {0, 1})));
    UndoLog undo;
    for (int a = 1; a <= 3; ++a) {
        for (int b = 1; b <= 3; ++b) {
            std::vector<Value> row = {Int(a), Int(b)};
            table->Insert(row.data(), undo);
        }
    }
    const Index& idx = table->index(0);
    auto scan = [&](std::optional<std::vector<Value>> lo, bool lo_inc, std::optional<std::vector<Value>> hi,
                    bool hi_inc, bool reverse) {
        KeyRange r;
        if (lo) r.lower = Key(idx, *lo), r.has_lower = true, r.lower_inclusive = lo_inc;
        if (hi) r.upper = Key(idx, *hi), r.has_upper = true, r.upper_inclusive = hi_inc;
        IndexCursor c;
        idx.ScanRange(r, reverse, &c);
        std::vector<std::string> out;
        while (TuplePtr t = c.Next()) out.push_back(RowStr(*table, t));
        return out;
    };
    using V = std::vector<std::string>;
    // a = 2 AND b > 1 (lower is the full key, exclusive; upper is the prefix (2), inclusive).
    EXPECT_EQ(scan(std::vector<Value>{Int(2), Int(1)}, false, std::vector<Value>{Int(2)}, true, false),
              (V{"2|2", "2|3"}));
    // a > 2: everything after the prefix.
    EXPECT_EQ(scan(std::vector<Value>{Int(2)}, false, std::nullopt, true, false), (V{"3|1", "3|2", "3|3"}));
    // a < 2 descending.
    EXPECT_EQ(scan(std::nullopt, true, std::vector<Value>{Int(2)}, false, true), (V{"1|3", "1|2", "1|1"}));
    // a >= 2 AND a <= 2, reverse.
    EXPECT_EQ(scan(std::vector<Value>{Int(2)}, true, std::vector<Value>{Int(2)}, true, true), (V{"2|3", "2|2", "2|1"}));
    // Empty: lower above upper.
    EXPECT_TRUE(scan(std::vector<Value>{Int(3)}, true, std::vector<Value>{Int(1)}, true, false).empty());
    EXPECT_TRUE(scan(std::vector<Value>{Int(3)}, true, std::vector<Value>{Int(1)}, true, true).empty());
    EXPECT_TRUE(scan(std::vector<Value>{Int(2)}, false, std::vector<Value>{Int(2)}, true, false).empty());
}

// ---- hash indexes -------------------------------------------------------------------------------

TEST(IndexKeyTest, InlineAndHeapKeysCopyMoveAndOrderLikeBytes) {
    std::vector<std::string> texts = {
        "", std::string(1, '\0'), "a", std::string(IndexKey::kInline, 'x'), std::string(IndexKey::kInline + 1, 'x'),
        std::string(100, '\xff'), std::string("\x80") + "abc",
        // Differences inside and after the first 8-byte word.
        "abcdefgh1", "abcdefgh2", "abcdefgi", "abcdefgh", std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9),
        std::string("\x01\x02\x03\x04\x05\x06\x07\x09", 8), std::string("\x02\x01\x00\x00\x00\x00\x00\x00\xff", 9)};
    std::vector<IndexKey> keys;
    for (const auto& t : texts) keys.emplace_back(t);
    for (size_t i = 0; i < texts.size(); ++i) {
        EXPECT_EQ(keys[i].view(), texts[i]);
        EXPECT_EQ(keys[i].heap_bytes(), texts[i].size() > IndexKey::kInline ? texts[i].size() : 0u);
        IndexKey copy = keys[i];
        EXPECT_EQ(copy.view(), texts[i]);
        IndexKey moved = std::move(copy);
        EXPECT_EQ(moved.view(), texts[i]);
        EXPECT_EQ(copy.view(), "");  // NOLINT(bugprone-use-after-move): moved-from keys are empty
        copy = moved;
        EXPECT_EQ(copy.view(), texts[i]);
        for (size_t j = 0; j < texts.size(); ++j) {
            // Unsigned byte order, as memcmp and the key encoding need.
            const int want = std::string_view(texts[i]).compare(texts[j]);
            const absl::weak_ordering got = IndexKeyLess()(keys[i], keys[j]);
            EXPECT_EQ(got < 0, want < 0) << i << " vs " << j;
            EXPECT_EQ(got == 0, want == 0) << i << " vs " << j;
            EXPECT_EQ(got > 0, want > 0) << i << " vs " << j;
            EXPECT_EQ(CompareKeys(texts[i], texts[j]) < 0, want < 0) << i << " vs " << j;
            EXPECT_EQ(IndexKeyEq()(keys[i], std::string_view(texts[j])), i == j);
        }
        EXPECT_EQ(IndexKeyHash()(keys[i]), IndexKeyHash()(std::string_view(texts[i])));
    }
}

TEST(HashIndexTest, UniqueAndNonUniqueLookups) {
    auto def = MakeDef("h", {Col("id", TypeId::kBigInt, false), Col("g", TypeId::kVarchar)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "h_id", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})),
                           Spec(MakeIndexDef(*def, "h_g", IndexKind::kHash, Uniqueness::kNone, {1})));
    UndoLog undo;
    std::map<std::string, std::set<int64_t>> groups;
    for (int i = 0; i < 500; ++i) {
        std::string g = "g" + std::to_string(i % 7);
        std::vector<Value> row = {Big(i), Str(g)};
        table->Insert(row.data(), undo);
        groups[g].insert(i);
    }
    const Index& pk = table->index(0);
    const Index& g = table->index(1);
    EXPECT_FALSE(pk.ordered());
    for (int i = 0; i < 500; i += 37) {
        TuplePtr t = pk.FindUnique(Key(pk, {Big(i)}));
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(table->Get(t, 0).AsInt(), i);
        IndexCursor c;
        pk.ScanPrefix(Key(pk, {Big(i)}), &c);
        EXPECT_EQ(Collect(c), std::vector<TuplePtr>{t});
    }
    EXPECT_EQ(pk.FindUnique(Key(pk, {Big(1000)})), nullptr);
    for (const auto& [name, ids] : groups) {
        IndexCursor c;
        g.ScanPrefix(Key(g, {Str(name)}), &c);
        std::set<int64_t> got;
        while (TuplePtr t = c.Next()) got.insert(table->Get(t, 0).AsInt());
        EXPECT_EQ(got, ids);
    }
    IndexCursor c;
    g.ScanPrefix(Key(g, {Str("nope")}), &c);
    EXPECT_EQ(c.Next(), nullptr);
    EXPECT_EQ(CodeOf([&] { g.ScanAll(false, &c); }), ErrorCode::kInternal);
    // Delete half of one group and check the rest is still found.
    ScanCursor sc;
    std::vector<TuplePtr> victims;
    while (TuplePtr t = table->NextLive(&sc)) {
        if (table->Get(t, 0).AsInt() % 14 == 0) victims.push_back(t);
    }
    for (TuplePtr t : victims) table->Delete(t, undo);
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(table->row_count(), 0u);
    EXPECT_EQ(pk.size(), 0u);
    EXPECT_EQ(g.size(), 0u);
}

// Sets Index's incremental-growth minimum for a scope.
struct GrowthMinimum {
    explicit GrowthMinimum(size_t n) { Index::SetIncrementalGrowthMinimum(n); }
    ~GrowthMinimum() { Index::SetIncrementalGrowthMinimum(0); }
};

// A large hash index grows by moving its entries to a table twice the size a few per insert;
// meanwhile lookups, duplicates, deletes (also of the entry the move would take next), buckets and
// undo see one index.
TEST(HashIndexTest, NextTableIsFaultedInAheadOfTheMove) {
    // The new table of a move is mapped from 5/8 of the old one's capacity and faulted in a part
    // at a time, all of it by the move, which then builds its table in that memory. Tables of
    // 131 071 and 262 143 slots grow into ones large enough to be mapped (>= 2 MiB).
    GrowthMinimum minimum(32);
    auto def = MakeDef("nt", {Col("id", TypeId::kBigInt, false)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "nt_id", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})));
    const Index& pk = table->index(0);
    UndoLog undo;
    size_t reservations_seen = 0, largest_step = 0;
    int64_t i = 0;
    for (; i < 400'000 && pk.moves_into_reserved_tables() < 2; ++i) {
        const size_t parts = pk.next_table().parts(), touched = pk.next_table().touched_parts();
        const bool was_growing = pk.growing();
        std::vector<Value> row = {Big(i)};
        table->Insert(row.data(), undo);
        if (pk.growing() && !was_growing && parts > 0) {  // this insert began a move
            EXPECT_EQ(touched, parts) << i;               // all faulted in before it
            EXPECT_TRUE(pk.next_table().empty()) << i;    // and taken by the new table
            ++reservations_seen;
        } else if (!pk.next_table().empty()) {
            largest_step = std::max(largest_step, pk.next_table().touched_parts() - (parts ? touched : 0));
        }
    }
    EXPECT_EQ(pk.moves_into_reserved_tables(), 2u);
    EXPECT_EQ(reservations_seen, 2u);
    EXPECT_LE(largest_step, 1u);  // one part per insert at most: the cost is spread
    for (int64_t k = 0; k < i; k += 997) ASSERT_NE(pk.FindUnique(Key(pk, {Big(k)})), nullptr) << k;
    ExpectIndexesConsistent(*table);
    undo.Release();
}

TEST(HashIndexTest, GrowsIncrementallyWithoutLosingEntries) {
    GrowthMinimum minimum(32);
    auto def = MakeDef("hg", {Col("id", TypeId::kBigInt, false), Col("g", TypeId::kVarchar)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "hg_id", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})),
                           Spec(MakeIndexDef(*def, "hg_g", IndexKind::kHash, Uniqueness::kNone, {1})));
    const Index& pk = table->index(0);
    const Index& g = table->index(1);
    UndoLog undo;
    std::map<int64_t, TuplePtr> rows;
    std::mt19937_64 rng(7);
    size_t growing_inserts = 0, growing_deletes = 0, growing_duplicates = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<Value> row = {Big(i), Str("g" + std::to_string(i % 13))};
        const bool growing = pk.growing();
        rows[i] = table->Insert(row.data(), undo);
        growing_inserts += growing;
        if (i % 5 == 4) {  // delete an earlier row, at random
            auto it = rows.begin();
            std::advance(it, static_cast<long>(rng() % rows.size()));
            growing_deletes += pk.growing();
            table->Delete(it->second, undo);
            rows.erase(it);
        }
        if (i % 97 == 0 && !rows.empty()) {  // a key that exists, wherever its entry is now
            std::vector<Value> dup = {Big(rows.begin()->first), Str("x")};
            growing_duplicates += pk.growing();
            const size_t before = pk.size();
            EXPECT_EQ(CodeOf([&] { table->Insert(dup.data(), undo); }), ErrorCode::kUniqueViolation);
            EXPECT_EQ(pk.size(), before);
        }
    }
    EXPECT_GT(growing_inserts, 1000u);
    EXPECT_GT(growing_deletes, 100u);
    EXPECT_GT(growing_duplicates, 5u);
    for (const auto& [id, t] : rows) ASSERT_EQ(pk.FindUnique(Key(pk, {Big(id)})), t) << id;
    EXPECT_EQ(pk.FindUnique(Key(pk, {Big(20000)})), nullptr);
    size_t in_groups = 0;
    for (int k = 0; k < 13; ++k) {
        IndexCursor c;
        g.ScanPrefix(Key(g, {Str("g" + std::to_string(k))}), &c);
        while (TuplePtr t = c.Next()) {
            EXPECT_EQ(table->Get(t, 0).AsInt() % 13, k);
            ++in_groups;
        }
    }
    EXPECT_EQ(in_groups, rows.size());
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(table->row_count(), 0u);
    EXPECT_EQ(pk.size(), 0u);
    EXPECT_EQ(g.size(), 0u);
}

// Hash entries hold no key: one tuple, or a bucket once a key has several (non-unique keys, NULLs
// in a unique index); probes compare against keys built from the tuples, also while the table grows.
TEST(HashIndexTest, EntriesMoveBetweenOneTupleAndBucketsAndSurviveGrowth) {
    auto def =
        MakeDef("hb", {Col("id", TypeId::kBigInt, false), Col("g", TypeId::kVarchar), Col("u", TypeId::kInteger)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "hb_id", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})),
                           Spec(MakeIndexDef(*def, "hb_g", IndexKind::kHash, Uniqueness::kNone, {1})),
                           Spec(MakeIndexDef(*def, "hb_u", IndexKind::kHash, Uniqueness::kUnique, {2})));
    const Index& pk = table->index(0);
    const Index& g = table->index(1);
    const Index& u = table->index(2);
    UndoLog undo;
    auto group = [&](const std::string& name) {
        IndexCursor c;
        g.ScanPrefix(Key(g, {Str(name)}), &c);
        std::set<int64_t> ids;
        while (TuplePtr t = c.Next()) ids.insert(table->Get(t, 0).AsInt());
        return ids;
    };
    // A key longer than an inline key, shared by 1, 2, then 12 rows (a set), then back down.
    const std::string shared(40, 's');
    std::vector<TuplePtr> rows;
    for (int i = 0; i < 12; ++i) {
        std::vector<Value> row = {Big(i), Str(shared),
                                  Value::Null(TypeId::kInteger)};  // NULLs repeat in a unique index
        rows.push_back(table->Insert(row.data(), undo));
        EXPECT_EQ(group(shared).size(), static_cast<size_t>(i + 1));
    }
    EXPECT_EQ(u.size(), 12u);
    for (int i = 11; i >= 0; --i) {
        table->Delete(rows[static_cast<size_t>(i)], undo);
        std::set<int64_t> want;
        for (int j = 0; j < i; ++j) want.insert(j);
        EXPECT_EQ(group(shared), want) << i;
    }
    ExpectIndexesConsistent(*table);
    undo.UndoAll();  // the deletes and inserts, newest first
    EXPECT_EQ(pk.size(), 0u);
    EXPECT_EQ(g.size(), 0u);
    // Growth: 100,000 keys, every one found afterwards, none that was not inserted.
    for (int i = 0; i < 100000; ++i) {
        std::vector<Value> row = {Big(i * 7), Str("k" + std::to_string(i % 1000)), Int(i)};
        table->Insert(row.data(), undo);
    }
    undo.Release();
    for (int i = 0; i < 100000; i += 13) {
        TuplePtr t = pk.FindUnique(Key(pk, {Big(i * 7)}));
        ASSERT_NE(t, nullptr) << i;
        EXPECT_EQ(table->Get(t, 2).AsInt(), i);
        EXPECT_EQ(u.FindUnique(Key(u, {Int(i)})), t);
        EXPECT_EQ(pk.FindUnique(Key(pk, {Big(i * 7 + 1)})), nullptr);
    }
    EXPECT_EQ(group("k7").size(), 100u);
    std::vector<Value> dup = {Big(5), Str("x"), Int(1)};
    EXPECT_EQ(CodeOf([&] { table->Insert(dup.data(), undo); }), ErrorCode::kUniqueViolation);  // u = 1 is taken
    ExpectIndexesConsistent(*table);
}

// ---- updates ------------------------------------------------------------------------------------

TEST_F(KvFixture, UpdateWithChangedAndUnchangedKeys) {
    TuplePtr t1 = Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    undo.Release();
    // Change only the non-unique index key.
    auto row = Row(1, "a", 2, "z");
    table->Update(t1, row.data(), undo);
    EXPECT_EQ(RowStr(*table, t1), RowStr(row));
    EXPECT_EQ(Prefix(*table, table->index(2), {Int(2)}), (std::vector<std::string>{"1|'a'|2|'z'"}));
    EXPECT_TRUE(Prefix(*table, table->index(2), {Int(1), Str("x")}).empty());
    ExpectIndexesConsistent(*table);
    // Change the primary key and the hash unique key.
    row = Row(10, "aa", 2, "z");
    table->Update(t1, row.data(), undo);
    EXPECT_EQ(Find(10), t1);
    EXPECT_EQ(Find(1), nullptr);
    ExpectIndexesConsistent(*table);
    // Nothing changes (same values): no index touched, still consistent.
    table->Update(t1, row.data(), undo);
    EXPECT_EQ(RowStr(*table, t1), RowStr(row));
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(RowStr(*table, t1), "1|'a'|1|'x'");
    EXPECT_EQ(Find(1), t1);
    EXPECT_EQ(Find(10), nullptr);
    ExpectIndexesConsistent(*table);
}

TEST_F(KvFixture, UniqueConflictOnUpdateLeavesNoTrace) {
    TuplePtr t1 = Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    undo.Release();
    const auto before = Snap();
    std::string msg;
    auto row = Row(2, std::string(4000, 'L'), 3, std::string(4000, 'M'));
    EXPECT_EQ(CodeOf([&] { table->Update(t1, row.data(), undo); }, &msg), ErrorCode::kUniqueViolation);
    EXPECT_EQ(msg, "duplicate key (2) violates unique index \"pk_t\" on table \"t\"");
    row = Row(1, "b", 3, std::string(4000, 'M'));
    EXPECT_EQ(CodeOf([&] { table->Update(t1, row.data(), undo); }, &msg), ErrorCode::kUniqueViolation);
    EXPECT_EQ(msg, "duplicate key ('b') violates unique index \"t_name\" on table \"t\"");
    EXPECT_EQ(Snap(), before);
    EXPECT_TRUE(undo.empty());
    ExpectIndexesConsistent(*table);
    // Keeping one's own unique key is not a conflict.
    row = Row(1, "a", 5, "w");
    table->Update(t1, row.data(), undo);
    EXPECT_EQ(RowStr(*table, t1), "1|'a'|5|'w'");
}

TEST_F(KvFixture, RepeatedUpdatesOfSharedVarDataReleaseOnce) {
    // Update 1 keeps `name` (its VarData is shared with the before-image); update 2 replaces it.
    // Release must free the old `name` exactly once (ASan would catch a double free or leak).
    TuplePtr t = Insert(1, std::string(100, 'a'), 1, std::string(100, 'n'));
    undo.Release();
    const size_t base = table->memory_bytes();
    auto r1 = Row(1, std::string(100, 'a'), 2, std::string(100, 'm'));
    table->Update(t, r1.data(), undo);
    auto r2 = Row(1, std::string(100, 'b'), 2, std::string(100, 'm'));
    table->Update(t, r2.data(), undo);
    auto r3 = Row(1, std::nullopt, 3, std::nullopt);
    table->Update(t, r3.data(), undo);
    auto r4 = Row(1, std::string(100, 'a'), 1, std::string(100, 'n'));
    table->Update(t, r4.data(), undo);
    undo.Release();
    EXPECT_EQ(RowStr(*table, t), RowStr(r4));
    EXPECT_EQ(table->memory_bytes(), base);
    // The same sequence undone restores the original and frees everything the updates allocated.
    table->Update(t, r1.data(), undo);
    table->Update(t, r2.data(), undo);
    table->Update(t, r3.data(), undo);
    table->Update(t, r1.data(), undo);
    undo.UndoAll();
    EXPECT_EQ(RowStr(*table, t), RowStr(r4));
    EXPECT_EQ(table->memory_bytes(), base);
    ExpectIndexesConsistent(*table);
}

// ---- delete, undo, release ----------------------------------------------------------------------

TEST_F(KvFixture, DeleteThenUndo) {
    TuplePtr t1 = Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    undo.Release();
    const auto before = Snap();
    table->Delete(t1, undo);
    EXPECT_EQ(table->row_count(), 1u);
    EXPECT_EQ(Find(1), nullptr);
    EXPECT_EQ(TupleLayout::Flags(t1), kTuplePendingDelete);
    EXPECT_EQ(RowStr(*table, t1), "1|'a'|1|'x'");  // bytes still readable
    ExpectIndexesConsistent(*table);
    EXPECT_EQ(CodeOf([&] { table->Delete(t1, undo); }), ErrorCode::kInternal);
    // The key is free again while the delete is pending.
    Insert(1, "a", 9, "again");
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(Snap(), before);
    EXPECT_EQ(Find(1), t1);
    ExpectIndexesConsistent(*table);
}

TEST_F(KvFixture, UndoOfMixedSequenceRestoresRowsAndIndexes) {
    for (int i = 0; i < 20; ++i) Insert(i, "n" + std::to_string(i), i % 3, "note" + std::to_string(i % 4));
    undo.Release();
    const auto before = Snap();
    std::vector<std::string> index_order;
    auto order = [&] {
        std::vector<std::string> out;
        IndexCursor c;
        table->index(2).ScanAll(false, &c);
        while (TuplePtr t = c.Next()) out.push_back(RowStr(*table, t));
        table->index(0).ScanAll(true, &c);
        while (TuplePtr t = c.Next()) out.push_back(RowStr(*table, t));
        return out;
    };
    index_order = order();
    Insert(100, "x", 1, "y");
    auto r = Row(3, "renamed", 7, std::string(300, 'z'));
    table->Update(Find(3), r.data(), undo);
    table->Delete(Find(4), undo);
    r = Row(44, "n5", 0, std::nullopt);
    table->Update(Find(5), r.data(), undo);  // moves pk 5 -> 44 and keeps name "n5"
    table->Delete(Find(100), undo);
    Insert(4, "n4", 1, "reinsert");  // reuses a key deleted in this transaction
    r = Row(4, "n4b", 1, "again");
    table->Update(Find(4), r.data(), undo);
    table->Delete(Find(44), undo);
    Insert(5, "n5", 2, "back");
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(Snap(), before);
    EXPECT_EQ(order(), index_order);
    ExpectIndexesConsistent(*table);
}

TEST_F(KvFixture, ReleaseFreesSlotsAndMemoryReturnsToBaseline) {
    Insert(0, "keep", 0, "keep");
    undo.Release();
    const size_t baseline = table->memory_bytes();
    std::set<TuplePtr> slots;
    for (int i = 1; i <= 1000; ++i) {
        slots.insert(Insert(i, "name" + std::to_string(i), i % 10, std::string(100 + i % 50, 'v')));
    }
    undo.Release();
    const size_t full = table->memory_bytes();
    EXPECT_GT(full, baseline + 1000 * 100);
    for (int i = 1; i <= 1000; ++i) table->Delete(Find(i), undo);
    EXPECT_EQ(table->row_count(), 1u);
    undo.Release();
    EXPECT_EQ(table->memory_bytes(), baseline);
    ExpectIndexesConsistent(*table);
    // Freed slots are reused: the next 1000 rows land in the same slots, no new block.
    for (int i = 1; i <= 1000; ++i) {
        EXPECT_TRUE(slots.count(Insert(i, "name" + std::to_string(i), i % 10, std::string(100 + i % 50, 'v'))));
    }
    undo.Release();
    EXPECT_EQ(table->memory_bytes(), full);
    // Undone inserts free their slots and var data at once.
    const size_t undo_base = table->memory_bytes();
    for (int i = 2000; i < 2100; ++i) Insert(i, std::to_string(i), 1, std::string(1000, 'u'));
    undo.UndoAll();
    EXPECT_EQ(table->memory_bytes(), undo_base);
    EXPECT_EQ(table->row_count(), 1001u);
}

TEST_F(KvFixture, UndoToMarkIsPartial) {
    Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    const auto after_first = Snap();
    const size_t mark = undo.Mark();
    auto r = Row(1, "a2", 2, std::string(2000, 'q'));
    table->Update(Find(1), r.data(), undo);
    table->Delete(Find(2), undo);
    Insert(3, "c", 3, "z");
    EXPECT_EQ(undo.size(), mark + 3);
    undo.UndoTo(mark);
    EXPECT_EQ(undo.size(), mark);
    EXPECT_EQ(Snap(), after_first);
    ExpectIndexesConsistent(*table);
    // The transaction goes on after the statement rollback, then commits.
    const size_t mark2 = undo.Mark();
    r = Row(2, "b", 5, "later");
    table->Update(Find(2), r.data(), undo);
    Insert(4, "d", 4, "w");
    EXPECT_EQ(undo.size(), mark2 + 2);
    undo.Release();
    EXPECT_TRUE(undo.empty());
    EXPECT_EQ(Rows(*table), (std::multiset<std::string>{"1|'a'|1|'x'", "2|'b'|5|'later'", "4|'d'|4|'w'"}));
    ExpectIndexesConsistent(*table);
}

TEST_F(KvFixture, TruncateAndUndo) {
    for (int i = 0; i < 50; ++i) Insert(i, std::to_string(i), i % 5, std::string(i, 'x'));
    undo.Release();
    const auto before = Snap();
    table->Truncate(undo);
    EXPECT_EQ(table->row_count(), 0u);
    for (size_t i = 0; i < table->index_count(); ++i) EXPECT_EQ(table->index(i).size(), 0u);
    ScanCursor c;
    EXPECT_EQ(table->NextLive(&c), nullptr);
    undo.UndoAll();
    EXPECT_EQ(Snap(), before);
    ExpectIndexesConsistent(*table);
    table->Truncate(undo);
    undo.Release();
    EXPECT_EQ(table->row_count(), 0u);
    EXPECT_LT(table->memory_bytes(), before.memory);
}

// ---- big before-images --------------------------------------------------------------------------

TEST(UndoLogTest, ImagesLargerThanAChunk) {
    std::vector<ColumnDef> cols;
    for (int i = 0; i < 9000; ++i) cols.push_back(Col("c" + std::to_string(i), TypeId::kBigInt));
    cols.push_back(Col("s", TypeId::kVarchar));
    auto def = MakeDef("wide", cols);
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "wide_pk", IndexKind::kOrdered, Uniqueness::kUnique, {0})));
    ASSERT_GT(table->layout().size(), 64u * 1024);
    UndoLog undo;
    std::vector<Value> row(cols.size());
    for (size_t i = 0; i + 1 < cols.size(); ++i) row[i] = Big(static_cast<int64_t>(i));
    row.back() = Str("first");
    TuplePtr t = table->Insert(row.data(), undo);
    undo.Release();
    const std::string original = RowStr(*table, t);
    const size_t mark = undo.Mark();
    row[0] = Big(-1);
    row.back() = Str("second");
    table->Update(t, row.data(), undo);
    const size_t mark2 = undo.Mark();
    row[5] = Big(55);
    table->Update(t, row.data(), undo);
    undo.UndoTo(mark2);
    EXPECT_EQ(table->Get(t, 5).AsInt(), 5);
    EXPECT_EQ(table->Get(t, 0).AsInt(), -1);
    undo.UndoTo(mark);
    EXPECT_EQ(RowStr(*table, t), original);
    ExpectIndexesConsistent(*table);
}

// ---- listeners ----------------------------------------------------------------------------------

// Keeps a per-group count in a second table, like a COUNT(*) GROUP BY view, and logs each call.
class CountingListener : public TableListener {
  public:
    explicit CountingListener(Table* view) : view_(view) {}
    void OnInsert(Table& table, const char* tuple, UndoLog& undo) override {
        log.push_back("I " + RowStr(table, tuple));
        Adjust(table.Get(tuple, 2), +1, undo);
    }
    void OnDelete(Table& table, const char* tuple, UndoLog& undo) override {
        log.push_back("D " + RowStr(table, tuple));
        Adjust(table.Get(tuple, 2), -1, undo);
    }
    void OnUpdate(Table& table, const char* before, const char* after, UndoLog& undo) override {
        log.push_back("U " + RowStr(table, before) + " -> " + RowStr(table, after));
        Adjust(table.Get(before, 2), -1, undo);
        Adjust(table.Get(after, 2), +1, undo);
    }
    std::vector<std::string> log;

  private:
    void Adjust(const Value& group, int delta, UndoLog& undo) {
        const Index& idx = view_->index(0);
        std::string key;
        EncodeKeyPart(group, TypeId::kInteger, &key);
        IndexCursor c;
        idx.ScanPrefix(key, &c);
        TuplePtr row = c.Next();
        if (row == nullptr) {
            std::vector<Value> v = {group, Big(delta)};
            view_->Insert(v.data(), undo);
            return;
        }
        const int64_t count = view_->Get(row, 1).AsInt() + delta;
        if (count == 0) {
            view_->Delete(row, undo);
        } else {
            std::vector<Value> v = {group, Big(count)};
            view_->Update(row, v.data(), undo);
        }
    }
    Table* view_;
};

TEST_F(KvFixture, ListenersSeeBeforeAndAfterAndTheirWritesUndoWithTheBase) {
    auto vdef = MakeDef("v", {Col("grp", TypeId::kInteger), Col("n", TypeId::kBigInt, false)});
    auto view = MakeTable(vdef, Spec(MakeIndexDef(*vdef, "v_pk", IndexKind::kOrdered, Uniqueness::kUnique, {0})));
    CountingListener listener(view.get());
    table->AddListener(&listener);
    Insert(1, "a", 1, "x");
    Insert(2, "b", 1, "y");
    Insert(3, "c", std::nullopt, "z");
    undo.Release();
    EXPECT_EQ(Rows(*view), (std::multiset<std::string>{"1|2", "NULL|1"}));
    const auto view_before = Rows(*view);
    const auto base_before = Snap();

    auto r = Row(1, "a", 2, "x");
    table->Update(Find(1), r.data(), undo);
    table->Delete(Find(2), undo);
    Insert(4, "d", 2, "w");
    EXPECT_EQ(Rows(*view), (std::multiset<std::string>{"2|2", "NULL|1"}));
    ASSERT_EQ(listener.log.size(), 6u);
    EXPECT_EQ(listener.log[3], "U 1|'a'|1|'x' -> 1|'a'|2|'x'");
    EXPECT_EQ(listener.log[4], "D 2|'b'|1|'y'");
    EXPECT_EQ(listener.log[5], "I 4|'d'|2|'w'");
    // Undo reverts the view's writes (recorded after the base write) first, and calls no listener.
    undo.UndoAll();
    EXPECT_EQ(listener.log.size(), 6u);
    EXPECT_EQ(Rows(*view), view_before);
    EXPECT_EQ(Snap(), base_before);
    ExpectIndexesConsistent(*view);
    ExpectIndexesConsistent(*table);

    table->RemoveListener(&listener);
    Insert(9, "z", 1, "q");
    EXPECT_EQ(listener.log.size(), 6u);
}

// ---- expression indexes -------------------------------------------------------------------------

// Key = a * 2 as BIGINT; throws for a = 13 (stands in for an overflow while computing a key).
class DoubledExtractor : public KeyExtractor {
  public:
    explicit DoubledExtractor(std::vector<ColumnDef> cols) : layout_(cols) {}
    void Extract(const char* tuple, int part, Value* out) const override {
        if (layout_.IsNull(tuple, 1)) {
            out->SetNull(TypeId::kBigInt);
            return;
        }
        const int64_t a = layout_.GetInt(tuple, 1);
        if (a == 13) ThrowSqlError(ErrorCode::kNumericOutOfRange, "unlucky");
        out->SetInt(TypeId::kBigInt, a * 2);
    }

  private:
    TupleLayout layout_;
};

TEST(ExpressionIndexTest, ExtractorKeysAndFailuresLeaveNoTrace) {
    auto def =
        MakeDef("e", {Col("id", TypeId::kInteger, false), Col("a", TypeId::kInteger), Col("s", TypeId::kVarchar)});
    auto expr_def = std::make_shared<IndexDef>();
    expr_def->name = "e_a2";
    expr_def->table = "e";
    expr_def->kind = IndexKind::kOrdered;
    catalog::IndexKeyPart part;
    part.expression = "a * 2";
    part.type = SqlType::Of(TypeId::kBigInt);
    expr_def->key.push_back(part);
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "e_pk", IndexKind::kHash, Uniqueness::kPrimaryKey, {0})),
                           Spec(expr_def, std::make_unique<DoubledExtractor>(def->columns)));
    UndoLog undo;
    for (int i = 0; i < 10; ++i) {
        std::vector<Value> row = {Int(i), Int(10 - i), Str(std::string(50, 'e'))};
        table->Insert(row.data(), undo);
    }
    const Index& idx = table->index(1);
    KeyRange range;
    range.has_lower = range.has_upper = true;
    range.lower = Key(idx, {Big(4)});
    range.upper = Key(idx, {Big(8)});
    IndexCursor c;
    idx.ScanRange(range, false, &c);
    std::vector<int64_t> ids;
    while (TuplePtr t = c.Next()) ids.push_back(table->Get(t, 0).AsInt());
    EXPECT_EQ(ids, (std::vector<int64_t>{8, 7, 6}));  // a = 2, 3, 4

    const size_t rows = table->row_count(), memory = table->memory_bytes(), entries = idx.size();
    std::vector<Value> bad = {Int(100), Int(13), Str(std::string(500, 'b'))};
    EXPECT_EQ(CodeOf([&] { table->Insert(bad.data(), undo); }), ErrorCode::kNumericOutOfRange);
    EXPECT_EQ(table->row_count(), rows);
    EXPECT_EQ(table->memory_bytes(), memory);
    EXPECT_EQ(idx.size(), entries);
    EXPECT_EQ(table->index(0).size(), entries);
    bad[0] = Int(0);
    TuplePtr t0 = table->index(0).FindUnique(Key(table->index(0), {Int(0)}));
    EXPECT_EQ(CodeOf([&] { table->Update(t0, bad.data(), undo); }), ErrorCode::kNumericOutOfRange);
    EXPECT_EQ(table->memory_bytes(), memory);
    ExpectIndexesConsistent(*table);
    undo.UndoAll();
    EXPECT_EQ(table->row_count(), 0u);
}

// ---- randomized model check ---------------------------------------------------------------------

struct ModelRow {
    int64_t id;
    std::optional<int64_t> a;
    std::optional<std::string> s;
    bool operator==(const ModelRow&) const = default;
};
using Model = std::map<int64_t, ModelRow>;

TEST(RandomizedTest, MatchesAStdMapModel) {
    GrowthMinimum minimum(4);  // the hash indexes grow incrementally from a few entries on
    // r(id BIGINT NOT NULL PK ordered, a INTEGER, s VARCHAR UNIQUE hash) + ordered (a, s)
    // non-unique + hash a non-unique + ordered unique s.
    auto def =
        MakeDef("r", {Col("id", TypeId::kBigInt, false), Col("a", TypeId::kInteger), Col("s", TypeId::kVarchar)});
    auto table = MakeTable(def, Spec(MakeIndexDef(*def, "r_pk", IndexKind::kOrdered, Uniqueness::kPrimaryKey, {0})),
                           Spec(MakeIndexDef(*def, "r_s", IndexKind::kHash, Uniqueness::kUnique, {2})),
                           Spec(MakeIndexDef(*def, "r_as", IndexKind::kOrdered, Uniqueness::kNone, {1, 2})),
                           Spec(MakeIndexDef(*def, "r_a", IndexKind::kHash, Uniqueness::kNone, {1})),
                           Spec(MakeIndexDef(*def, "r_s2", IndexKind::kOrdered, Uniqueness::kUnique, {2})));
    UndoLog undo;
    std::mt19937_64 rng(12345);
    auto rnd = [&](int n) { return static_cast<int>(rng() % n); };
    auto random_row = [&]() {
        ModelRow r;
        r.id = rnd(60) - 30;
        if (rnd(5) != 0) r.a = rnd(8) - 4;
        if (rnd(4) != 0) {
            std::string s(rnd(3) == 0 ? 40 + rnd(40) : rnd(3), 'a');
            for (char& ch : s) ch = static_cast<char>("ab\0"[rnd(3)]);
            s += std::to_string(rnd(50));
            r.s = s;
        }
        return r;
    };
    auto values = [](const ModelRow& r) {
        return std::vector<Value>{Big(r.id), r.a ? Int(*r.a) : Null(TypeId::kInteger),
                                  r.s ? Str(*r.s) : Null(TypeId::kVarchar)};
    };
    auto conflicts = [](const Model& m, const ModelRow& r, std::optional<int64_t> self) {
        for (const auto& [id, row] : m) {
            if (self && id == *self) continue;
            if (id == r.id) return true;
            if (r.s && row.s == r.s) return true;
        }
        return false;
    };
    auto rows_of = [&](const Model& m) {
        std::multiset<std::string> out;
        for (const auto& [id, r] : m) out.insert(RowStr(values(r)));
        return out;
    };
    const Index& pk = table->index(0);
    auto find = [&](int64_t id) { return pk.FindUnique(Key(pk, {Big(id)})); };

    Model committed, current;
    size_t base_memory = table->memory_bytes();
    for (int txn = 0; txn < 1000; ++txn) {
        std::optional<std::pair<size_t, Model>> mark;
        const int ops = 1 + rnd(30);
        for (int op = 0; op < ops; ++op) {
            if (!mark && rnd(10) == 0) mark.emplace(undo.Mark(), current);
            const int kind = rnd(10);
            if (kind < 4) {  // insert
                ModelRow r = random_row();
                auto v = values(r);
                const bool expect_conflict = conflicts(current, r, std::nullopt);
                const ErrorCode code = CodeOf([&] { table->Insert(v.data(), undo); });
                ASSERT_EQ(code, expect_conflict ? ErrorCode::kUniqueViolation : ErrorCode::kOk);
                if (!expect_conflict) current[r.id] = r;
            } else if (kind < 7 && !current.empty()) {  // update
                auto it = std::next(current.begin(), rnd(static_cast<int>(current.size())));
                ModelRow r = random_row();
                if (rnd(2) == 0) r.id = it->first;  // keep the key half the time
                if (rnd(3) == 0) r.s = it->second.s;
                auto v = values(r);
                const bool expect_conflict = conflicts(current, r, it->first);
                TuplePtr t = find(it->first);
                ASSERT_NE(t, nullptr);
                const ErrorCode code = CodeOf([&] { table->Update(t, v.data(), undo); });
                ASSERT_EQ(code, expect_conflict ? ErrorCode::kUniqueViolation : ErrorCode::kOk);
                if (!expect_conflict) {
                    current.erase(it);
                    current[r.id] = r;
                }
            } else if (kind < 9 && !current.empty()) {  // delete
                auto it = std::next(current.begin(), rnd(static_cast<int>(current.size())));
                TuplePtr t = find(it->first);
                ASSERT_NE(t, nullptr);
                table->Delete(t, undo);
                current.erase(it);
            } else if (mark && rnd(2) == 0) {  // statement rollback
                undo.UndoTo(mark->first);
                current = mark->second;
                mark.reset();
            }
        }
        ASSERT_EQ(Rows(*table), rows_of(current)) << "txn " << txn;
        if (rnd(3) == 0) {
            undo.UndoAll();
            current = committed;
        } else {
            undo.Release();
            committed = current;
        }
        ASSERT_EQ(table->row_count(), current.size());
        ASSERT_EQ(Rows(*table), rows_of(current)) << "txn " << txn;
        if (txn % 20 == 0) ExpectIndexesConsistent(*table);
        if (current.empty()) {
            // Blocks stay allocated; everything else returns to zero.
            ASSERT_EQ(table->memory_bytes() % (256 * 1024), 0u) << "txn " << txn;
        }
    }
    ExpectIndexesConsistent(*table);
    table->Truncate(undo);
    undo.Release();
    EXPECT_EQ(table->row_count(), 0u);
    EXPECT_EQ(table->memory_bytes() % (256 * 1024), 0u);
    EXPECT_GE(table->memory_bytes(), base_memory);
}

// ---- snapshots: row encoding and copy-on-write ---------------------------------------------------

/// Decodes rows encoded back to back; fails the test on malformed bytes or a count mismatch.
std::multiset<std::string> DecodeRows(const Table& t, const std::string& bytes, uint64_t rows) {
    std::multiset<std::string> out;
    std::vector<Value> values(t.layout().column_count());
    size_t pos = 0;
    while (pos < bytes.size()) {
        const size_t at = pos;
        if (!DecodeRow(t.layout(), bytes, &pos, values.data())) {
            ADD_FAILURE() << "malformed row at byte " << at;
            break;
        }
        out.insert(RowStr(values));
    }
    EXPECT_EQ(out.size(), rows);
    return out;
}

TEST(RowCodecTest, RoundTripsEveryTypeAndRejectsEveryTruncation) {
    auto table = MakeTable(AllTypesDef());
    UndoLog undo;
    using namespace std::string_literals;
    std::vector<std::vector<Value>> rows = {
        {Value::Int(TypeId::kTinyInt, -128), Value::Int(TypeId::kSmallInt, -32768), Int(-2147483648LL),
         Big(std::numeric_limits<int64_t>::min()), Value::Float(-0.5), Dec(-123456789012345678), Str("h\0llo"s),
         Value::Varbinary("\x00\xff\x01"s), Value::Timestamp(-1)},
        {Null(TypeId::kTinyInt), Null(TypeId::kSmallInt), Null(TypeId::kInteger), Null(TypeId::kBigInt),
         Null(TypeId::kFloat), Null(TypeId::kDecimal), Null(TypeId::kVarchar), Null(TypeId::kVarbinary),
         Null(TypeId::kTimestamp)},
        {Value::Int(TypeId::kTinyInt, 7), Null(TypeId::kSmallInt), Int(-7), Big(1), Value::Float(-0.0), Dec(5), Str(""),
         Null(TypeId::kVarbinary), Value::Timestamp(1700000000000000)},
    };
    std::vector<Value> values(table->layout().column_count());
    for (const auto& r : rows) {
        TuplePtr t = table->Insert(r.data(), undo);
        std::string bytes;
        EncodeRow(table->layout(), t, &bytes);
        size_t pos = 0;
        ASSERT_TRUE(DecodeRow(table->layout(), bytes, &pos, values.data()));
        EXPECT_EQ(pos, bytes.size());
        EXPECT_EQ(RowStr(values), RowStr(r));
        for (size_t c = 0; c < values.size(); ++c) EXPECT_EQ(values[c].type(), r[c].type());
        for (size_t cut = 0; cut < bytes.size(); ++cut) {
            size_t p = 0;
            EXPECT_FALSE(DecodeRow(table->layout(), std::string_view(bytes).substr(0, cut), &p, values.data()))
                << "a row cut to " << cut << " of " << bytes.size() << " bytes decoded";
        }
    }
    undo.Release();
}

TEST(TableTest, MigrationMarksAreUndoneClearedByUpdatesAndCarriedBySnapshots) {
    auto def = MakeDef("m", {Col("id", TypeId::kBigInt, false), Col("note", TypeId::kVarchar)});
    def->ttl = TableDef::Ttl{3'600'000'000, "id", 10, "billing"};
    Table table(def, {});
    ASSERT_TRUE(table.has_marks());
    EXPECT_EQ(table.layout().size() % 8, 0u);
    UndoLog undo;
    std::vector<TuplePtr> rows;
    for (int64_t i = 0; i < 4; ++i) {
        std::vector<Value> v = {Value::BigInt(i), Value::Varchar("n" + std::to_string(i))};
        rows.push_back(table.Insert(v.data(), undo));
    }
    undo.Release();
    for (TuplePtr t : rows) EXPECT_EQ(table.Mark(t), 0u);
    // Set and rolled back; set and committed.
    table.SetMark(rows[0], 5, undo);
    EXPECT_EQ(table.Mark(rows[0]), 5u);
    undo.UndoAll();
    EXPECT_EQ(table.Mark(rows[0]), 0u);
    table.SetMark(rows[0], 7, undo);
    table.SetMark(rows[1], 8, undo);
    table.SetMark(rows[2], 9, undo);
    undo.Release();
    // An update clears the mark (and its rollback brings it back).
    std::vector<Value> changed = {Value::BigInt(1), Value::Varchar("changed")};
    table.Update(rows[1], changed.data(), undo);
    EXPECT_EQ(table.Mark(rows[1]), 0u);
    undo.UndoAll();
    EXPECT_EQ(table.Mark(rows[1]), 8u);
    EXPECT_EQ(table.Get(rows[1], 1).ToString(), "n1");
    // A snapshot has each row with its mark as of its start, though marks change while it runs.
    table.BeginSnapshot();
    table.SetMark(rows[3], 11, undo);  // preserved with mark 0
    table.Update(rows[2], changed.data(), undo);
    undo.Release();
    std::string out;
    uint64_t n = 0;
    while (!table.SnapshotScan(&out, out.size() + 64, &n)) {
    }
    table.EndSnapshot();
    ASSERT_EQ(n, 4u);
    std::map<int64_t, uint64_t> marks;
    std::vector<Value> values(2);
    size_t pos = 0;
    for (uint64_t r = 0; r < n; ++r) {
        uint64_t mark = 99;
        ASSERT_TRUE(DecodeSnapshotRow(table.layout(), out, &pos, values.data(), &mark));
        marks[values[0].AsInt()] = mark;
    }
    EXPECT_EQ(pos, out.size());
    EXPECT_EQ(marks, (std::map<int64_t, uint64_t>{{0, 7}, {1, 8}, {2, 9}, {3, 0}}));
    EXPECT_EQ(table.Mark(rows[2]), 0u);
    EXPECT_EQ(table.Mark(rows[3]), 11u);
    // A table without MIGRATE has no marks, and its snapshot rows carry none.
    Table plain(MakeDef("p", {Col("id", TypeId::kBigInt, false)}), {});
    EXPECT_FALSE(plain.has_marks());
}

TEST_F(KvFixture, SnapshotScanSeesTheCutWhileRowsChangeAndRollBack) {
    std::set<int64_t> ids;
    for (int64_t i = 0; i < 3000; ++i) {
        Insert(i, "n" + std::to_string(i), i % 7,
               i % 5 == 0 ? std::optional<std::string>() : std::string(i % 300, 'x'));
        ids.insert(i);
    }
    undo.Release();
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE("snapshot " + std::to_string(round + 1));
        const auto cut = Rows(*table);
        table->BeginSnapshot();
        EXPECT_TRUE(table->snapshot_active());
        std::mt19937 rng(7 + round);
        std::string out;
        uint64_t rows = 0;
        int64_t next_id = 100000 * (round + 1);
        bool done = false;
        while (!done) {
            done = table->SnapshotScan(&out, out.size() + 2048, &rows);
            // A few committed writes between slices: updates, deletes, inserts.
            for (int k = 0; k < 5; ++k) {
                auto it = ids.begin();
                std::advance(it, rng() % ids.size());
                const int64_t id = *it;
                switch (rng() % 3) {
                    case 0: {
                        auto row = Row(id, "u" + std::to_string(id) + "-" + std::to_string(round), 99, "changed");
                        table->Update(Find(id), row.data(), undo);
                        break;
                    }
                    case 1:
                        table->Delete(Find(id), undo);
                        ids.erase(it);
                        break;
                    default:
                        Insert(next_id, "i" + std::to_string(next_id), 1, "new");
                        ids.insert(next_id++);
                        break;
                }
            }
            undo.Release();
            // And a transaction that changes rows, then rolls back.
            const int64_t id = *ids.begin();
            auto row = Row(id, std::nullopt, 5, "rolled back");
            table->Update(Find(id), row.data(), undo);
            table->Delete(Find(*ids.rbegin()), undo);
            undo.UndoAll();
        }
        EXPECT_EQ(DecodeRows(*table, out, rows), cut);
        EXPECT_EQ(table->snapshot_preserved_bytes(), 0u);
        table->EndSnapshot();
        EXPECT_FALSE(table->snapshot_active());
        ExpectIndexesConsistent(*table);
        // After the snapshot, writes copy nothing.
        auto row = Row(*ids.begin(), "after", 1, "after");
        table->Update(Find(*ids.begin()), row.data(), undo);
        undo.Release();
        EXPECT_EQ(table->snapshot_preserved_bytes(), 0u);
    }
}

}  // namespace
}  // namespace surge::storage
