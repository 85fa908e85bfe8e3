// libFuzzer target: tokenizer + parser + binder/planner. Each input is SQL text. It is parsed; each
// query or DML statement is planned against a fixed schema (SCHEMA below), and each DDL statement
// runs on a scratch engine holding that schema (DDL binds index expressions, view queries and
// procedure bodies). Statements are never executed against data, so an input cannot make the
// fuzzer slow by asking for a huge join. Any SqlError is an expected outcome; a crash, a sanitizer
// report or another exception type is a bug.
//
//   build-fuzz/tests/fuzz/sql_fuzz build-fuzz/tests/fuzz/corpus -max_total_time=30
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "catalog/catalog.h"
#include "common/status.h"
#include "exec/engine.h"
#include "sql/parser.h"
#include "sql/planner.h"

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(10) NOT NULL, score INTEGER DEFAULT 5, price DECIMAL);
CREATE TABLE u (a INTEGER NOT NULL, b VARCHAR(20), c FLOAT, d TIMESTAMP, e VARBINARY(8), PRIMARY KEY (a));
CREATE INDEX u_b ON u (b, c);
CREATE INDEX u_expr ON u (a + 1) USING HASH;
PARTITION TABLE u ON COLUMN a;
CREATE VIEW v (name, n, total) AS SELECT name, COUNT(*), SUM(score) FROM t GROUP BY name;
)";

void Load(surge::exec::Engine& engine) {
    surge::exec::ResultSet rs;
    surge::Status s = engine.Execute(kSchema, &rs);
    if (!s.ok()) {
        std::fprintf(stderr, "fuzz schema: %s\n", s.ToString().c_str());
        std::abort();
    }
}

// Statements the engine binds itself (DDL, and EXPLAIN of anything) rather than the planner.
bool ForEngine(surge::sql::StmtKind k) { return surge::sql::IsSchemaChange(k) || k == surge::sql::StmtKind::kExplain; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static surge::exec::Engine* base = [] {
        auto* e = new surge::exec::Engine();
        Load(*e);
        return e;
    }();
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        surge::sql::ParseResult parsed = surge::sql::Parse(text);
        surge::catalog::CatalogPtr catalog = base->catalog();
        bool has_ddl = false;
        for (const surge::sql::Statement* stmt : parsed.statements) {
            if (ForEngine(stmt->kind)) {
                has_ddl = true;
                continue;
            }
            try {
                surge::sql::Planner planner(*catalog);
                surge::sql::PlannedStatement planned = planner.Plan(*stmt);
                (void)planned;
            } catch (const surge::SqlError&) {
            }
        }
        if (has_ddl) {
            // DDL binds through the engine; a scratch engine keeps the base schema unchanged. The
            // DDL statements run in order (each from its own text), so later ones see earlier ones.
            surge::exec::Engine scratch;
            Load(scratch);
            surge::exec::ResultSet rs;
            for (const surge::sql::Statement* stmt : parsed.statements) {
                if (ForEngine(stmt->kind)) (void)scratch.Execute(stmt->text, &rs);
            }
        }
    } catch (const surge::SqlError&) {
    }
    return 0;
}
