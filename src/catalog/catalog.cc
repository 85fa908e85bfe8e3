// Catalog versions: copy-on-write maps of shared, immutable definitions.
#include "catalog/catalog.h"

#include "common/status.h"

namespace surge::catalog {

bool IndexDef::columns_only() const {
    for (const auto& p : key) {
        if (p.column < 0) return false;
    }
    return true;
}

int TableDef::FindColumn(std::string_view folded_name) const {
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == folded_name) return static_cast<int>(i);
    }
    return -1;
}

const char* TableType(const TableDef& t) {
    if (t.is_view()) return "MATERIALIZED VIEW";
    if (t.is_stream()) return t.partition_column ? "PARTITIONED STREAM" : "REPLICATED STREAM";
    return t.partition_column ? "PARTITIONED" : "REPLICATED";
}

CatalogPtr Catalog::Empty() { return std::make_shared<const Catalog>(); }

template <typename Map>
static auto FindIn(const Map& m, std::string_view name) -> typename Map::mapped_type {
    auto it = m.find(name);
    return it == m.end() ? nullptr : it->second;
}

std::shared_ptr<const TableDef> Catalog::FindTable(std::string_view name) const { return FindIn(tables_, name); }
std::shared_ptr<const IndexDef> Catalog::FindIndex(std::string_view name) const { return FindIn(indexes_, name); }
std::shared_ptr<const ProcedureDef> Catalog::FindProcedure(std::string_view name) const {
    return FindIn(procedures_, name);
}

std::shared_ptr<const QueryViewDef> Catalog::FindQueryView(std::string_view name) const {
    return FindIn(query_views_, name);
}

std::vector<std::shared_ptr<const TableDef>> Catalog::ViewsOn(std::string_view table) const {
    std::vector<std::shared_ptr<const TableDef>> out;
    for (const auto& [name, def] : tables_) {
        if (def->view && def->view->source_table == table) out.push_back(def);
    }
    return out;
}

std::vector<std::shared_ptr<const IndexDef>> Catalog::IndexesOf(const TableDef& table) const {
    std::vector<std::shared_ptr<const IndexDef>> out;
    for (const auto& n : table.indexes) {
        if (auto idx = FindIndex(n)) out.push_back(std::move(idx));
    }
    return out;
}

Catalog::Builder Catalog::Edit() const { return Builder(*this); }

Catalog::Builder::Builder(const Catalog& base) : next_(base) { next_.version_ = base.version_ + 1; }

void Catalog::Builder::AddTable(TableDef def) {
    if (next_.HasRelation(def.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "table or view \"" + def.name + "\" already exists");
    }
    def.id = next_.next_table_id_++;
    std::string name = def.name;
    next_.tables_.emplace(std::move(name), std::make_shared<const TableDef>(std::move(def)));
}

void Catalog::Builder::ReplaceTable(TableDef def) {
    auto it = next_.tables_.find(def.name);
    if (it == next_.tables_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + def.name + "\" does not exist");
    }
    if (def.id == 0) def.id = it->second->id;
    it->second = std::make_shared<const TableDef>(std::move(def));
}

void Catalog::Builder::DropTable(std::string_view name) {
    auto it = next_.tables_.find(name);
    if (it == next_.tables_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + std::string(name) + "\" does not exist");
    }
    for (const auto& idx : it->second->indexes) next_.indexes_.erase(idx);
    next_.tables_.erase(it);
}

void Catalog::Builder::AddIndex(IndexDef def) {
    if (next_.indexes_.count(def.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "index \"" + def.name + "\" already exists");
    }
    auto t = next_.tables_.find(def.table);
    if (t == next_.tables_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + def.table + "\" does not exist");
    }
    TableDef table = *t->second;
    if (def.is_primary_key()) {
        table.indexes.insert(table.indexes.begin(), def.name);
    } else {
        table.indexes.push_back(def.name);
    }
    t->second = std::make_shared<const TableDef>(std::move(table));
    std::string name = def.name;
    next_.indexes_.emplace(std::move(name), std::make_shared<const IndexDef>(std::move(def)));
}

void Catalog::Builder::DropIndex(std::string_view name) {
    auto it = next_.indexes_.find(name);
    if (it == next_.indexes_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "index \"" + std::string(name) + "\" does not exist");
    }
    auto t = next_.tables_.find(it->second->table);
    if (t != next_.tables_.end()) {
        TableDef table = *t->second;
        std::erase(table.indexes, std::string(name));
        t->second = std::make_shared<const TableDef>(std::move(table));
    }
    next_.indexes_.erase(it);
}

void Catalog::Builder::AddProcedure(ProcedureDef def) {
    if (next_.procedures_.count(def.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "procedure \"" + def.name + "\" already exists");
    }
    std::string name = def.name;
    next_.procedures_.emplace(std::move(name), std::make_shared<const ProcedureDef>(std::move(def)));
}

void Catalog::Builder::DropProcedure(std::string_view name) {
    auto it = next_.procedures_.find(name);
    if (it == next_.procedures_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedFunction, "procedure \"" + std::string(name) + "\" does not exist");
    }
    next_.procedures_.erase(it);
}

void Catalog::Builder::AddQueryView(QueryViewDef def) {
    if (next_.HasRelation(def.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "table or view \"" + def.name + "\" already exists");
    }
    std::string name = def.name;
    next_.query_views_.emplace(std::move(name), std::make_shared<const QueryViewDef>(std::move(def)));
}

void Catalog::Builder::DropQueryView(std::string_view name) {
    auto it = next_.query_views_.find(name);
    if (it == next_.query_views_.end()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "view \"" + std::string(name) + "\" does not exist");
    }
    next_.query_views_.erase(it);
}

CatalogPtr Catalog::Builder::Build() { return std::make_shared<const Catalog>(next_); }

}  // namespace surge::catalog
