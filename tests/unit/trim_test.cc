// Operator::Trim: a cached plan that ran over many rows gives back its buffers (sorted and
// materialized rows, hash tables, window inputs) when the statement ends. This binary replaces
// operator new and delete to count the bytes they hold, which is why it is a program of its own.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "exec/engine.h"
#include "exec/operators.h"

namespace {
std::atomic<long long> g_live_bytes{0};
}  // namespace

// GCC sees free() of operator new's pointer; here operator new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    void* p = std::malloc(n == 0 ? 1 : n);
    if (!p) throw std::bad_alloc();
    g_live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
    if (!p) return;
    g_live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
    std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return operator new(n);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }
#pragma GCC diagnostic pop

namespace surge::exec {
namespace {

constexpr int kRows = 100'000;

class TrimTest : public ::testing::Test {
  protected:
    void SetUp() override {
        SetTrimThreshold(64 << 10);  // 64 MiB by default: more rows than a unit test should load
        Run("CREATE TABLE t (id INTEGER NOT NULL, g INTEGER, v INTEGER)");
        Run("CREATE TABLE u (id INTEGER NOT NULL, w INTEGER)");
        ResultSet rs;
        for (int i = 0; i < kRows; ++i) {
            std::vector<Value> row = {Value::Integer(i), Value::Integer(i % 7), Value::Integer((i * 7919) % kRows)};
            ASSERT_TRUE(db_.Execute("INSERT INTO t VALUES (?, ?, ?)", &rs, row).ok());
            std::vector<Value> urow = {Value::Integer(i), Value::Integer(i)};
            ASSERT_TRUE(db_.Execute("INSERT INTO u VALUES (?, ?)", &rs, urow).ok());
        }
    }
    void TearDown() override { SetTrimThreshold(0); }
    void Run(const std::string& sql) {
        ResultSet rs;
        Status s = db_.Execute(sql, &rs);
        ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
    }
    /// Bytes still held after running sql (its answer freed), beyond what was held before.
    long long HeldAfter(const std::string& sql, size_t expect_rows) {
        const long long before = g_live_bytes.load();
        {
            ResultSet rs;
            Status s = db_.Execute(sql, &rs);
            EXPECT_TRUE(s.ok()) << sql << ": " << s.ToString();
            EXPECT_EQ(rs.row_count(), expect_rows) << sql;
        }
        return g_live_bytes.load() - before;
    }
    Engine db_;
};

TEST_F(TrimTest, LargeQueriesLeaveNoBuffersInTheirCachedPlans) {
    // Each query's operators hold megabytes while it runs (100 000 rows of Values); once it has
    // answered, its cached plan keeps at most a few small buffers.
    constexpr long long kSmall = 256 << 10;
    const std::vector<std::pair<std::string, size_t>> queries = {
        {"SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v), LAG(v) OVER (ORDER BY id) FROM t", kRows},
        {"SELECT id, v FROM t ORDER BY v", kRows},
        {"SELECT t.id, w FROM t JOIN u ON t.v = u.w", kRows},
        {"SELECT DISTINCT v FROM t", kRows},
        {"SELECT id FROM t UNION SELECT id FROM u", kRows},
        // A right join keeps the right side's rows (a nested loop: a small left side).
        {"SELECT COUNT(*) FROM (SELECT id FROM t WHERE id < 10) AS l RIGHT JOIN (SELECT id FROM u WHERE w < 5000) AS s "
         "ON l.id = s.id",
         1},
    };
    for (const auto& [sql, rows] : queries) {
        EXPECT_LT(HeldAfter(sql, rows), kSmall) << sql;
        EXPECT_LT(HeldAfter(sql, rows), kSmall) << sql << " (run from the cached plan)";
    }
}

}  // namespace
}  // namespace surge::exec
