// Rendering a generated database as the statements that create and load it.
#include "difftest/database.h"

namespace surge::difftest {

std::vector<std::string> Database::LoadScript() const {
    std::vector<std::string> out;
    for (const Table& t : tables) {
        std::string ddl = "CREATE TABLE " + t.name + " (";
        for (size_t c = 0; c < t.columns.size(); c++) {
            if (c > 0) ddl += ", ";
            ddl += t.columns[c].name + " " + t.columns[c].type;
            if (int(c) == t.primary_key) ddl += " PRIMARY KEY";
        }
        out.push_back(ddl + ")");
        for (size_t i = 0; i < t.indexes.size(); i++) {
            std::string idx = "CREATE INDEX " + t.name + "_i" + std::to_string(i) + " ON " + t.name + " (";
            for (size_t k = 0; k < t.indexes[i].size(); k++) {
                if (k > 0) idx += ", ";
                idx += t.columns[t.indexes[i][k]].name;
            }
            out.push_back(idx + ")");
        }
        if (t.rows.empty()) continue;
        std::string ins = "INSERT INTO " + t.name + " VALUES ";
        for (size_t r = 0; r < t.rows.size(); r++) {
            if (r > 0) ins += ", ";
            ins += '(';
            for (size_t c = 0; c < t.rows[r].size(); c++) {
                if (c > 0) ins += ", ";
                ins += t.rows[r][c];
            }
            ins += ')';
        }
        out.push_back(ins);
    }
    return out;
}

const Table* Database::Find(const std::string& name) const {
    for (const Table& t : tables) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

}  // namespace surge::difftest
