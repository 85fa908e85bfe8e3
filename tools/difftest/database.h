// The schema and data a differential test runs its queries against: tables with their rows and
// indexes, and the UPDATE/DELETE statements applied after loading. Kept structured (not as a
// script) so the reducer can drop rows, indexes and statements one at a time.
#pragma once

#include <string>
#include <vector>

#include "difftest/sql_tree.h"

namespace surge::difftest {

struct Column {
    std::string name;
    Kind kind = Kind::kInt;
    std::string type;    ///< declared type: INTEGER, BIGINT, FLOAT, VARCHAR(n)
    int max_length = 0;  ///< VARCHAR(n): n
};

struct Table {
    std::string name;
    std::vector<Column> columns;
    int primary_key = -1;                        ///< column index, or -1
    std::vector<std::vector<std::string>> rows;  ///< SQL literals, one per column
    std::vector<std::vector<int>> indexes;       ///< column indexes of each secondary index
};

struct Database {
    std::vector<Table> tables;
    std::vector<Dml> dml;  ///< run after the tables are loaded, each compared on its own

    /// CREATE TABLE, CREATE INDEX and INSERT statements, in order (the same text for both engines).
    std::vector<std::string> LoadScript() const;
    const Table* Find(const std::string& name) const;
};

}  // namespace surge::difftest
