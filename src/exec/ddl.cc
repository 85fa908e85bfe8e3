// Schema changes. Each DDL statement builds the next catalog version and any new storage off to
// the side, and publishes both only when everything succeeded: a failed DDL changes nothing.
// Index and column changes rebuild the table's storage by copying its rows.
#include <algorithm>

#include "exec/engine_state.h"
#include "exec/view_maintainer.h"
#include "types/value_ops.h"

namespace surge::exec {

namespace {

// Whether an expression key's SQL text refers to column `name` (a parsed check, not a substring
// match: dropping column "a" must not trip over an index on "ab + 1").
bool ExpressionReadsColumn(const std::string& expr_sql, const std::string& name) {
    sql::ParsedExpression parsed = sql::ParseExpression(expr_sql);
    std::vector<const sql::Expr*> todo{parsed.expr};
    while (!todo.empty()) {
        const sql::Expr* e = todo.back();
        todo.pop_back();
        if (e->kind == sql::ExprKind::kColumnRef && e->name == name) return true;
        for (const sql::Expr* a : e->args) todo.push_back(a);
    }
    return false;
}

std::string At(sql::SourcePos p) { return " at " + std::to_string(p.line) + ":" + std::to_string(p.column); }

/// Computes expression key parts by evaluating bound expressions over the tuple's columns.
class ExpressionKeyExtractor : public storage::KeyExtractor {
  public:
    ExpressionKeyExtractor(const std::vector<catalog::ColumnDef>& columns, std::vector<sql::BoundExprPtr> parts)
        : layout_(columns), parts_(std::move(parts)), row_(columns.size()) {}
    void Extract(const char* tuple, int part, Value* out) const override {
        for (size_t c = 0; c < row_.size(); ++c) layout_.Read(tuple, static_cast<int>(c), &row_[c]);
        ExecContext ctx;
        Value v = Eval(*parts_[part], EvalRow{row_.data(), nullptr}, ctx);
        const SqlType& t = parts_[part]->type;
        *out = (v.is_null() || v.type() == t.id) ? v : CastValue(v, SqlType::Of(t.id));
    }

  private:
    storage::TupleLayout layout_;
    std::vector<sql::BoundExprPtr> parts_;
    mutable std::vector<Value> row_;
};

void CheckPartitionUniqueness(const catalog::TableDef& t, const catalog::IndexDef& idx) {
    if (!t.partition_column || idx.uniqueness != catalog::Uniqueness::kUnique) return;
    for (const auto& p : idx.key) {
        if (p.column == *t.partition_column) return;
    }
    ThrowSqlError(ErrorCode::kInvalidDefinition, "unique index \"" + idx.name + "\" on partitioned table \"" + t.name +
                                                     "\" must include the partition column \"" +
                                                     t.columns[*t.partition_column].name +
                                                     "\" (use ASSUMEUNIQUE to enforce uniqueness per partition only)");
}

catalog::ColumnDef MakeColumn(const sql::ColumnSpec& spec, const catalog::Catalog& cat) {
    catalog::ColumnDef c;
    c.name = spec.name;
    c.type = spec.type;
    c.nullable = !spec.not_null && !spec.primary_key;
    if (spec.default_value) {
        catalog::TableDef empty;
        sql::Planner planner(cat);
        auto bound = planner.BindTableExpression(*spec.default_value, empty, "a DEFAULT");
        ExecContext ctx;
        Value v = Eval(*bound, EvalRow{}, ctx);
        c.default_value = CoerceForColumn(v, c.type, c.name);
        if (c.default_value->is_null() && !c.nullable) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "column \"" + c.name + "\" is NOT NULL but its DEFAULT is NULL" + At(spec.pos));
        }
    }
    return c;
}

}  // namespace

std::unique_ptr<storage::Table> EngineState::BuildStorage(const catalog::Catalog& cat, const catalog::TableDef& def,
                                                          storage::Table* from, const std::vector<int>& column_map) {
    std::vector<storage::IndexSpec> specs;
    sql::Planner planner(cat);
    for (const auto& idx : cat.IndexesOf(def)) {
        storage::IndexSpec spec;
        spec.def = idx;
        if (!idx->columns_only()) {
            std::vector<sql::BoundExprPtr> parts(idx->key.size());
            for (size_t i = 0; i < idx->key.size(); ++i) {
                if (idx->key[i].column >= 0) continue;
                sql::ParsedExpression parsed = sql::ParseExpression(idx->key[i].expression);
                parts[i] = planner.BindTableExpression(*parsed.expr, def, "an index key");
            }
            spec.extractor = std::make_unique<ExpressionKeyExtractor>(def.columns, std::move(parts));
        }
        specs.push_back(std::move(spec));
    }
    auto table = std::make_unique<storage::Table>(cat.FindTable(def.name), std::move(specs));
    if (from) {
        // Copy with a private undo log: the copy is not part of any user transaction.
        storage::UndoLog copy_log;
        std::vector<Value> values(def.columns.size());
        Value scratch;
        storage::ScanCursor cursor;
        while (storage::TuplePtr t = from->NextLive(&cursor)) {
            for (size_t c = 0; c < def.columns.size(); ++c) {
                const auto& col = def.columns[c];
                if (column_map[c] >= 0) {
                    from->Read(t, column_map[c], &scratch);
                    values[c] = CoerceForColumn(scratch, col.type, col.name);
                } else {
                    values[c] = col.default_value ? *col.default_value : Value::Null(col.type.id);
                    if (values[c].is_null() && !col.nullable) {
                        ThrowSqlError(ErrorCode::kNotNullViolation,
                                      "column \"" + col.name + "\" is NOT NULL without a DEFAULT, and table \"" +
                                          def.name + "\" has rows");
                    }
                }
            }
            storage::TuplePtr copy = table->Insert(values.data(), copy_log);
            if (table->has_marks()) table->LoadMark(copy, from->Mark(t));  // still migrating
        }
        copy_log.Release();
    }
    return table;
}

void EngineState::RebuildTable(catalog::CatalogPtr next, const std::string& name, std::vector<int> column_map) {
    auto def = next->FindTable(name);
    if (column_map.empty()) {  // same columns: copy each to itself
        for (size_t i = 0; i < def->columns.size(); ++i) column_map.push_back(static_cast<int>(i));
    }
    auto& entry = tables_.at(def->id);
    auto storage = BuildStorage(*next, *def, entry.table.get(), column_map);
    undo_.Release();
    SetStorage(def->id, std::move(storage));
    Publish(std::move(next));
}

void EngineState::SetStorage(uint64_t id, std::unique_ptr<storage::Table> storage) {
    auto it = tables_.find(id);
    std::unique_ptr<storage::Table> old;
    if (it != tables_.end()) old = std::move(it->second.table);
    if (held_) {
        const bool created =
            std::find(held_->new_tables.begin(), held_->new_tables.end(), id) != held_->new_tables.end();
        bool kept = false;
        for (const auto& [kid, t] : held_->old_tables) kept = kept || kid == id;
        if (!old && !created) {
            held_->new_tables.push_back(id);
        } else if (old && !created && !kept) {
            // The state to restore. Its listeners are the view maintainers of the current
            // version, which RewireViews is about to destroy; a revert attaches fresh ones.
            old->ClearListeners();
            held_->old_tables.emplace_back(id, std::move(old));
        }
    }
    if (storage) {
        tables_[id].table = std::move(storage);
    } else if (it != tables_.end()) {
        tables_.erase(it);
    }
}

void EngineState::RevertHeldDdl(uint64_t version) {
    if (!held_) return;
    HeldDdl held = std::move(*held_);
    held_.reset();
    undo_.Release();
    plan_cache_.clear();
    procedure_cache_.clear();
    for (uint64_t id : held.new_tables) tables_.erase(id);
    for (auto& [id, table] : held.old_tables) tables_[id].table = std::move(table);
    auto b = held.catalog->Edit();
    b.set_version(version);
    Publish(b.Build());
}

void EngineState::Publish(catalog::CatalogPtr next) {
    catalog_ = std::move(next);
    RewireViews();
}

void EngineState::RewireViews() {
    for (auto& [id, entry] : tables_) {
        for (auto& m : entry.maintainers) entry.table->RemoveListener(m.get());
        entry.maintainers.clear();
        if (entry.exporter) entry.table->RemoveListener(entry.exporter.get());
        entry.exporter.reset();
    }
    // Exported changes: a replicated stream's or table's are taken from partition 0's copy only.
    for (const auto& [name, def] : catalog_->tables()) {
        if (!capture_ || def->export_target.empty() || def->export_ops == 0) continue;
        if (!def->partition_column && own_partition_ && *own_partition_ != 0) continue;
        auto& entry = tables_.at(def->id);
        entry.exporter = std::make_unique<ExportListener>(capture_, capture_->ChannelFor(def), def->export_ops,
                                                          &txn_id_, &now_micros_);
        entry.table->AddListener(entry.exporter.get());
    }
    for (const auto& [name, def] : catalog_->tables()) {
        if (!def->view) continue;
        auto source = catalog_->FindTable(def->view->source_table);
        auto& src_entry = tables_.at(source->id);
        sql::BoundExprPtr where;
        if (!def->view->where_sql.empty()) {
            sql::ParsedExpression parsed = sql::ParseExpression(def->view->where_sql);
            where = sql::Planner(*catalog_).BindTableExpression(*parsed.expr, *source, "a view's WHERE");
        }
        auto m = std::make_unique<ViewMaintainer>(def, src_entry.table.get(), tables_.at(def->id).table.get(),
                                                  std::move(where));
        src_entry.table->AddListener(m.get());
        src_entry.maintainers.push_back(std::move(m));
    }
}

void EngineState::RunDdl(const sql::Statement& stmt, ResultSet* out) {
    out->Clear();
    plan_cache_.clear();
    switch (stmt.kind) {
        case sql::StmtKind::kCreateTable:
            CreateTable(static_cast<const sql::CreateTableStatement&>(stmt));
            break;
        case sql::StmtKind::kDropTable:
            DropTable(static_cast<const sql::DropTableStatement&>(stmt));
            break;
        case sql::StmtKind::kCreateIndex:
            CreateIndex(static_cast<const sql::CreateIndexStatement&>(stmt));
            break;
        case sql::StmtKind::kDropIndex:
            DropIndex(static_cast<const sql::DropIndexStatement&>(stmt));
            break;
        case sql::StmtKind::kAlterTable:
            AlterTable(static_cast<const sql::AlterTableStatement&>(stmt));
            break;
        case sql::StmtKind::kPartitionTable:
            PartitionTable(static_cast<const sql::PartitionTableStatement&>(stmt));
            break;
        case sql::StmtKind::kCreateView:
            CreateView(static_cast<const sql::CreateViewStatement&>(stmt));
            break;
        case sql::StmtKind::kCreateProcedure:
            CreateProcedure(static_cast<const sql::CreateProcedureStatement&>(stmt));
            break;
        case sql::StmtKind::kDropProcedure:
            DropProcedure(static_cast<const sql::DropProcedureStatement&>(stmt));
            break;
        default:
            ThrowSqlError(ErrorCode::kInternal, "RunDdl: not a DDL statement");
    }
}

void EngineState::CreateTable(const sql::CreateTableStatement& s) {
    if (catalog_->HasRelation(s.name)) {
        if (s.if_not_exists && catalog_->FindTable(s.name)) return;
        ThrowSqlError(ErrorCode::kDuplicateObject, "table or view \"" + s.name + "\" already exists" + At(s.pos));
    }
    if (s.columns.empty())
        ThrowSqlError(ErrorCode::kInvalidDefinition, "a table needs at least one column" + At(s.pos));
    if (s.columns.size() > 1024) {
        ThrowSqlError(ErrorCode::kLimitExceeded, "a table may have at most 1024 columns" + At(s.pos));
    }
    catalog::TableDef def;
    def.name = s.name;
    def.stream = s.stream;
    def.export_target = s.export_target;
    if (s.stream) {
        // A stream keeps no rows, so it has nothing to index or to keep unique.
        for (const auto& spec : s.columns) {
            if (spec.primary_key || spec.unique || spec.assume_unique) {
                ThrowSqlError(ErrorCode::kInvalidDefinition, "stream \"" + s.name + "\" keeps no rows, so column \"" +
                                                                 spec.name + "\" cannot be a key" + At(spec.pos));
            }
        }
        if (!s.constraints.empty()) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "stream \"" + s.name + "\" keeps no rows, so it takes no key constraints" + At(s.pos));
        }
    }
    // A target must be configured (recovery, with no list, accepts any: the DDL ran before).
    auto check_target = [&](const std::string& target) {
        if (!export_targets_ ||
            std::find(export_targets_->begin(), export_targets_->end(), target) != export_targets_->end()) {
            return;
        }
        std::string known;
        for (const auto& t : *export_targets_) known += (known.empty() ? "" : ", ") + t;
        const std::string hint = known.empty()
                                     ? "none is configured; add [export.targets." + target + "] to surged's config file"
                                     : "configured: " + known;
        ThrowSqlError(ErrorCode::kUndefinedObject, std::string(s.stream ? "stream \"" : "table \"") + s.name +
                                                       "\": no export target \"" + target + "\" is configured (" +
                                                       hint + ")" + At(s.pos));
    };
    if (!s.export_target.empty()) {
        check_target(s.export_target);
        def.export_ops = s.export_ops ? s.export_ops : catalog::kExportInsert;
    }
    if (s.ttl && !s.ttl->migrate_target.empty()) {
        // The table's exported changes and its migrated rows are one stream (the table's name),
        // so they go to one target.
        if (!s.export_target.empty() && s.export_target != s.ttl->migrate_target) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "table \"" + s.name + "\" exports to target \"" + s.export_target +
                              "\" and migrates to target \"" + s.ttl->migrate_target +
                              "\"; a table's changes and migrated rows go to one target" + At(s.ttl->pos));
        }
        check_target(s.ttl->migrate_target);
        def.export_target = s.ttl->migrate_target;
    }
    for (const auto& spec : s.columns) {
        if (def.FindColumn(spec.name) >= 0) {
            ThrowSqlError(ErrorCode::kDuplicateObject,
                          "column \"" + spec.name + "\" specified more than once" + At(spec.pos));
        }
        def.columns.push_back(MakeColumn(spec, *catalog_));
    }
    if (s.ttl) {
        if (s.stream) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "stream \"" + s.name + "\" keeps no rows, so it takes no TTL" + At(s.ttl->pos));
        }
        const int c = def.FindColumn(s.ttl->column);
        if (c < 0) {
            ThrowSqlError(ErrorCode::kUndefinedColumn,
                          "TTL column \"" + s.ttl->column + "\" does not exist in \"" + s.name + "\"" + At(s.ttl->pos));
        }
        if (def.columns[static_cast<size_t>(c)].type.id != TypeId::kTimestamp) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "TTL column \"" + s.ttl->column + "\" must be a TIMESTAMP, not " +
                              TypeName(def.columns[static_cast<size_t>(c)].type) + At(s.ttl->pos));
        }
        catalog::TableDef::Ttl ttl;
        ttl.micros = s.ttl->micros;
        ttl.column = s.ttl->column;
        if (s.ttl->batch_size > 0) ttl.batch_size = static_cast<uint32_t>(s.ttl->batch_size);
        ttl.migrate_target = s.ttl->migrate_target;
        def.ttl = ttl;
    }
    // Key constraints become indexes: <table>_pkey, <table>_<cols>_key.
    std::vector<catalog::IndexDef> indexes;
    auto add_index = [&](catalog::Uniqueness u, const std::vector<std::string>& cols, std::string name) {
        catalog::IndexDef idx;
        idx.table = def.name;
        idx.uniqueness = u;
        std::string suffix;
        for (const auto& col : cols) {
            int c = def.FindColumn(col);
            if (c < 0) {
                ThrowSqlError(ErrorCode::kUndefinedColumn, "key column \"" + col + "\" does not exist" + At(s.pos));
            }
            if (u == catalog::Uniqueness::kPrimaryKey) def.columns[c].nullable = false;
            idx.key.push_back({c, {}, def.columns[c].type});
            suffix += "_" + col;
        }
        if (name.empty()) name = def.name + (u == catalog::Uniqueness::kPrimaryKey ? "_pkey" : suffix + "_key");
        idx.name = name;
        indexes.push_back(std::move(idx));
    };
    bool has_pk = false;
    for (const auto& spec : s.columns) {
        if (spec.primary_key) {
            if (has_pk)
                ThrowSqlError(ErrorCode::kInvalidDefinition, "multiple primary keys for table \"" + s.name + "\"");
            has_pk = true;
            add_index(catalog::Uniqueness::kPrimaryKey, {spec.name}, "");
        }
        if (spec.unique) add_index(catalog::Uniqueness::kUnique, {spec.name}, "");
        if (spec.assume_unique) add_index(catalog::Uniqueness::kAssumeUnique, {spec.name}, "");
    }
    for (const auto& c : s.constraints) {
        catalog::Uniqueness u = c.kind == sql::TableConstraint::Kind::kPrimaryKey ? catalog::Uniqueness::kPrimaryKey
                                : c.kind == sql::TableConstraint::Kind::kUnique   ? catalog::Uniqueness::kUnique
                                                                                  : catalog::Uniqueness::kAssumeUnique;
        if (u == catalog::Uniqueness::kPrimaryKey) {
            if (has_pk)
                ThrowSqlError(ErrorCode::kInvalidDefinition, "multiple primary keys for table \"" + s.name + "\"");
            has_pk = true;
        }
        add_index(u, c.columns, c.name);
    }
    if (s.stream && !s.partition_column.empty()) {
        const int c = def.FindColumn(s.partition_column);
        if (c < 0) {
            ThrowSqlError(ErrorCode::kUndefinedColumn, "partition column \"" + s.partition_column +
                                                           "\" does not exist in stream \"" + s.name + "\"" +
                                                           At(s.pos));
        }
        if (def.columns[c].nullable) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "partition column \"" + s.partition_column + "\" must be NOT NULL" + At(s.pos));
        }
        def.partition_column = c;
    }
    auto b = catalog_->Edit();
    b.AddTable(def);
    for (auto& idx : indexes) b.AddIndex(std::move(idx));
    auto next = b.Build();
    auto final_def = next->FindTable(def.name);
    auto storage = BuildStorage(*next, *final_def, nullptr, {});
    SetStorage(final_def->id, std::move(storage));
    Publish(std::move(next));
}

void EngineState::DropTable(const sql::DropTableStatement& s) {
    if (catalog_->FindQueryView(s.name)) {
        if (!s.is_view) {
            ThrowSqlError(ErrorCode::kInvalidDefinition, "\"" + s.name + "\" is a view; use DROP VIEW" + At(s.pos));
        }
        auto b = catalog_->Edit();
        b.DropQueryView(s.name);
        Publish(b.Build());
        return;
    }
    auto def = catalog_->FindTable(s.name);
    const char* kind = s.is_view ? "view" : s.is_stream ? "stream" : "table";
    if (!def || (s.is_view && !def->is_view()) || (s.is_stream && !def->is_stream())) {
        if (s.if_exists && !def) return;
        ThrowSqlError(ErrorCode::kUndefinedTable, std::string(kind) + " \"" + s.name + "\" does not exist" + At(s.pos));
    }
    if (!s.is_view && def->is_view()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "\"" + s.name + "\" is a view; use DROP VIEW" + At(s.pos));
    }
    if (!s.is_stream && def->is_stream()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "\"" + s.name + "\" is a stream; use DROP STREAM" + At(s.pos));
    }
    auto views = catalog_->ViewsOn(s.name);
    if (!views.empty()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop " + std::string(kind) + " \"" + s.name +
                                                         "\": materialized view \"" + views[0]->name +
                                                         "\" depends on it; drop the view first");
    }
    auto b = catalog_->Edit();
    b.DropTable(s.name);
    auto next = b.Build();
    undo_.Release();  // nothing may point into the dropped storage
    Publish(std::move(next));
    SetStorage(def->id, nullptr);
}

void EngineState::CreateIndex(const sql::CreateIndexStatement& s) {
    if (catalog_->FindIndex(s.name)) {
        if (s.if_not_exists) return;
        ThrowSqlError(ErrorCode::kDuplicateObject, "index \"" + s.name + "\" already exists" + At(s.pos));
    }
    auto table = catalog_->FindTable(s.table);
    if (!table) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + s.table + "\" does not exist" + At(s.pos));
    if (table->is_stream()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition,
                      "stream \"" + s.table + "\" keeps no rows, so it cannot be indexed" + At(s.pos));
    }
    catalog::IndexDef idx;
    idx.name = s.name;
    idx.table = s.table;
    idx.kind = s.hash ? catalog::IndexKind::kHash : catalog::IndexKind::kOrdered;
    idx.uniqueness = s.unique          ? catalog::Uniqueness::kUnique
                     : s.assume_unique ? catalog::Uniqueness::kAssumeUnique
                                       : catalog::Uniqueness::kNone;
    sql::Planner planner(*catalog_);
    for (size_t i = 0; i < s.keys.size(); ++i) {
        const sql::Expr* k = s.keys[i];
        if (k->kind == sql::ExprKind::kColumnRef && k->table.empty()) {
            int c = table->FindColumn(k->name);
            if (c < 0) {
                ThrowSqlError(ErrorCode::kUndefinedColumn,
                              "column \"" + k->name + "\" does not exist in table \"" + s.table + "\"" + At(k->pos));
            }
            idx.key.push_back({c, {}, table->columns[c].type, s.descending[i]});
            continue;
        }
        auto bound = planner.BindTableExpression(*k, *table, "an index key");
        if (bound->type.id == TypeId::kNull || bound->type.id == TypeId::kBoolean) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "index expression " + sql::ExprToSql(*k) + " has no storable type" + At(k->pos));
        }
        idx.key.push_back({-1, sql::ExprToSql(*k), bound->type, s.descending[i]});
    }
    CheckPartitionUniqueness(*table, idx);
    auto b = catalog_->Edit();
    b.AddIndex(std::move(idx));
    RebuildTable(b.Build(), s.table, {});
}

void EngineState::DropIndex(const sql::DropIndexStatement& s) {
    auto idx = catalog_->FindIndex(s.name);
    if (!idx) {
        if (s.if_exists) return;
        ThrowSqlError(ErrorCode::kUndefinedTable, "index \"" + s.name + "\" does not exist" + At(s.pos));
    }
    if (idx->is_primary_key()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition,
                      "cannot drop \"" + s.name + "\": it is the primary key of \"" + idx->table + "\"");
    }
    auto table = catalog_->FindTable(idx->table);
    if (table->is_view()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition,
                      "cannot drop \"" + s.name + "\": materialized view \"" + table->name + "\" needs it");
    }
    auto b = catalog_->Edit();
    b.DropIndex(s.name);
    RebuildTable(b.Build(), idx->table, {});
}

void EngineState::AlterTable(const sql::AlterTableStatement& s) {
    auto table = catalog_->FindTable(s.table);
    if (!table) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + s.table + "\" does not exist" + At(s.pos));
    if (table->is_view())
        ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot alter materialized view \"" + s.table + "\"");
    if (table->is_stream()) {
        ThrowSqlError(ErrorCode::kFeatureNotSupported,
                      "cannot alter stream \"" + s.table + "\"; drop it and create it again (it keeps no rows)");
    }
    catalog::TableDef def = *table;
    std::vector<int> map;
    auto b = catalog_->Edit();
    if (s.add) {
        if (def.FindColumn(s.column.name) >= 0) {
            ThrowSqlError(ErrorCode::kDuplicateObject,
                          "column \"" + s.column.name + "\" already exists in \"" + s.table + "\"" + At(s.pos));
        }
        if (s.column.primary_key || s.column.unique || s.column.assume_unique) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          "ALTER TABLE ADD COLUMN cannot declare a key; add the column, then CREATE UNIQUE INDEX");
        }
        for (size_t i = 0; i < def.columns.size(); ++i) map.push_back(static_cast<int>(i));
        def.columns.push_back(MakeColumn(s.column, *catalog_));
        map.push_back(-1);
        b.ReplaceTable(def);
    } else {
        int drop = def.FindColumn(s.drop_column);
        if (drop < 0) {
            ThrowSqlError(ErrorCode::kUndefinedColumn,
                          "column \"" + s.drop_column + "\" does not exist in \"" + s.table + "\"" + At(s.pos));
        }
        if (def.columns.size() == 1) {
            ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop the only column of \"" + s.table + "\"");
        }
        if (def.ttl && def.ttl->column == def.columns[static_cast<size_t>(drop)].name) {
            ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop \"" + s.drop_column + "\": \"" + s.table +
                                                             "\" uses it for its TTL (USING TTL ... ON COLUMN)");
        }
        if (def.partition_column && *def.partition_column == drop) {
            ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop \"" + s.drop_column +
                                                             "\": it is the partition "
                                                             "column of \"" +
                                                             s.table + "\"");
        }
        for (const auto& v : catalog_->ViewsOn(s.table)) {
            ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop a column of \"" + s.table +
                                                             "\": materialized view \"" + v->name +
                                                             "\" reads it; drop the view first");
        }
        // Indexes on the column must go first; shift the column numbers of the others.
        std::vector<catalog::IndexDef> shifted;
        for (const auto& idx : catalog_->IndexesOf(def)) {
            catalog::IndexDef copy = *idx;
            for (auto& part : copy.key) {
                bool uses =
                    part.column == drop || (part.column < 0 && ExpressionReadsColumn(part.expression, s.drop_column));
                if (uses) {
                    ThrowSqlError(ErrorCode::kInvalidDefinition, "cannot drop \"" + s.drop_column + "\": index \"" +
                                                                     idx->name + "\" uses it; drop the index first");
                }
                if (part.column > drop) --part.column;
            }
            shifted.push_back(std::move(copy));
        }
        for (const auto& idx : shifted) b.DropIndex(idx.name);
        def.columns.erase(def.columns.begin() + drop);
        if (def.partition_column && *def.partition_column > drop) --*def.partition_column;
        def.indexes.clear();
        b.ReplaceTable(def);
        for (auto& idx : shifted) b.AddIndex(std::move(idx));
        for (size_t i = 0; i < table->columns.size(); ++i) {
            if (static_cast<int>(i) != drop) map.push_back(static_cast<int>(i));
        }
    }
    RebuildTable(b.Build(), s.table, map);
}

void EngineState::PartitionTable(const sql::PartitionTableStatement& s) {
    auto table = catalog_->FindTable(s.table);
    if (!table) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + s.table + "\" does not exist" + At(s.pos));
    if (table->is_stream()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "stream \"" + s.table +
                                                         "\" is partitioned where it is created: CREATE STREAM " +
                                                         s.table + " PARTITION ON COLUMN c (...)");
    }
    if (table->partition_column) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "table \"" + s.table + "\" is already partitioned on \"" +
                                                         table->columns[*table->partition_column].name + "\"");
    }
    int c = table->FindColumn(s.column);
    if (c < 0) {
        ThrowSqlError(ErrorCode::kUndefinedColumn, "column \"" + s.column + "\" does not exist in \"" + s.table + "\"");
    }
    if (table->columns[c].nullable) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "partition column \"" + s.column + "\" must be NOT NULL");
    }
    catalog::TableDef def = *table;
    def.partition_column = c;
    for (const auto& idx : catalog_->IndexesOf(def)) CheckPartitionUniqueness(def, *idx);
    auto b = catalog_->Edit();
    b.ReplaceTable(def);
    RebuildTable(b.Build(), s.table, {});
}

void EngineState::CreateProcedure(const sql::CreateProcedureStatement& s) {
    if (catalog_->FindProcedure(s.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "procedure \"" + s.name + "\" already exists" + At(s.pos));
    }
    if (!s.body) {
        CreateNativeProcedure(s);
        return;
    }
    if (!sql::IsProcedureStatement(s.body->kind)) {
        ThrowSqlError(ErrorCode::kInvalidDefinition,
                      "a procedure body must be SELECT, INSERT, UPSERT, UPDATE or DELETE" + At(s.pos));
    }
    // Plan now so a broken body fails at definition time.
    auto planned = sql::Planner(*catalog_).Plan(*s.body);
    catalog::ProcedureDef def;
    def.name = s.name;
    def.sql = s.body->text;
    SetProcedurePartition(s, &def);
    if (s.partition_table && (s.partition_parameter < 0 || s.partition_parameter >= planned.param_count)) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "PARAMETER " + std::to_string(s.partition_parameter) +
                                                         " is out of range: the body has " +
                                                         std::to_string(planned.param_count) + " parameters");
    }
    auto b = catalog_->Edit();
    b.AddProcedure(std::move(def));
    Publish(b.Build());
}

void EngineState::CreateNativeProcedure(const sql::CreateProcedureStatement& s) {
    // The library is loaded, and its statements planned, by the server (proc/native.h), which
    // reverts this change if that fails.
    catalog::ProcedureDef def;
    def.name = s.name;
    def.library = s.library;
    def.class_name = s.class_name;
    SetProcedurePartition(s, &def);
    if (s.partition_table && s.partition_parameter < 0) {
        ThrowSqlError(ErrorCode::kInvalidDefinition,
                      "PARAMETER " + std::to_string(s.partition_parameter) + " is out of range" + At(s.pos));
    }
    auto b = catalog_->Edit();
    b.AddProcedure(std::move(def));
    Publish(b.Build());
}

void EngineState::SetProcedurePartition(const sql::CreateProcedureStatement& s, catalog::ProcedureDef* def) {
    if (!s.partition_table) return;
    auto t = catalog_->FindTable(*s.partition_table);
    if (!t) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + *s.partition_table + "\" does not exist");
    int c = t->FindColumn(*s.partition_column);
    if (c < 0) {
        ThrowSqlError(ErrorCode::kUndefinedColumn,
                      "column \"" + *s.partition_column + "\" does not exist in \"" + t->name + "\"");
    }
    if (!t->partition_column || *t->partition_column != c) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "procedure \"" + s.name + "\" is partitioned on " + t->name + "." +
                                                         *s.partition_column +
                                                         ", which is not the table's partition column");
    }
    def->partition_table = t->name;
    def->partition_column = *s.partition_column;
    def->partition_parameter = s.partition_parameter;
}

void EngineState::DropProcedure(const sql::DropProcedureStatement& s) {
    if (!catalog_->FindProcedure(s.name)) {
        if (s.if_exists) return;
        ThrowSqlError(ErrorCode::kUndefinedFunction, "procedure \"" + s.name + "\" does not exist" + At(s.pos));
    }
    auto b = catalog_->Edit();
    b.DropProcedure(s.name);
    procedure_cache_.erase(s.name);
    Publish(b.Build());
}

namespace {
/// Thrown by CreateMaterializedView when the query is not a shape it can keep up to date.
struct NotMaintainable {
    std::string why;
};
}  // namespace

void EngineState::CreateView(const sql::CreateViewStatement& s) {
    if (catalog_->HasRelation(s.name)) {
        ThrowSqlError(ErrorCode::kDuplicateObject, "table or view \"" + s.name + "\" already exists" + At(s.pos));
    }
    try {
        CreateMaterializedView(s);
    } catch (const NotMaintainable& e) {
        // A view over a stream can only be kept up to date as rows arrive: it cannot be a query.
        const bool over_stream = std::any_of(s.select->from.begin(), s.select->from.end(), [&](const sql::TableRef* r) {
            auto t = r->kind == sql::TableRef::Kind::kTable ? catalog_->FindTable(r->name) : nullptr;
            return t && t->is_stream();
        });
        if (s.materialized || over_stream) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          std::string(over_stream ? "view \"" : "materialized view \"") + s.name + "\": " + e.why +
                              " (supported: SELECT g1.., COUNT(*), COUNT/SUM/MIN/MAX(col).. FROM t [WHERE ..] "
                              "[GROUP BY g1..]; " +
                              (over_stream ? "a view over a stream is maintained as rows arrive, so it must have this "
                                             "shape)"
                                           : "CREATE VIEW without MATERIALIZED accepts any query)"));
        }
        CreateQueryView(s);
    }
}

void EngineState::CreateQueryView(const sql::CreateViewStatement& s) {
    catalog::QueryViewDef def;
    def.name = s.name;
    def.sql = s.text;
    def.column_names = s.column_names;
    sql::Planner(*catalog_).QueryViewColumns(def);  // the query must plan now (and carry no parameters)
    auto b = catalog_->Edit();
    b.AddQueryView(std::move(def));
    Publish(b.Build());
}

void EngineState::CreateMaterializedView(const sql::CreateViewStatement& s) {
    const sql::SelectStmt& q = *s.select;
    auto shape = [&](const std::string& why) { throw NotMaintainable{why}; };
    if (q.next || !q.order_by.empty() || q.limit || q.offset || q.distinct || q.having) {
        shape("set operations, ORDER BY, LIMIT, DISTINCT and HAVING are not allowed");
    }
    if (q.from.size() != 1 || q.from[0]->kind != sql::TableRef::Kind::kTable) shape("it must read exactly one table");
    auto source = catalog_->FindTable(q.from[0]->name);
    if (!source || source->is_view()) shape("its source must be a table, not a view");
    auto source_alias = q.from[0]->alias.empty() ? source->name : q.from[0]->alias;
    auto column_of = [&](const sql::Expr* e) -> int {
        if (e->kind != sql::ExprKind::kColumnRef || (!e->table.empty() && e->table != source_alias)) return -1;
        return source->FindColumn(e->name);
    };
    catalog::ViewDef vd;
    vd.source_table = source->name;
    vd.sql = s.text;
    for (const sql::Expr* e : q.group_by) {
        int c = column_of(e);
        if (c < 0) shape("GROUP BY items must be columns of " + source->name);
        vd.group_by.push_back(c);
    }
    catalog::TableDef def;
    def.name = s.name;
    const size_t g = vd.group_by.size();
    if (q.items.size() < g) shape("the GROUP BY columns must come first in the select list");
    if (!s.column_names.empty() && s.column_names.size() != q.items.size()) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "view column list has " + std::to_string(s.column_names.size()) +
                                                         " names for " + std::to_string(q.items.size()) + " columns");
    }
    bool has_count_star = false;
    for (size_t i = 0; i < q.items.size(); ++i) {
        const sql::Expr* e = q.items[i].expr;
        catalog::ColumnDef col;
        std::string auto_name;
        if (i < g) {
            if (column_of(e) != vd.group_by[i]) shape("the GROUP BY columns must come first, in GROUP BY order");
            col = source->columns[vd.group_by[i]];
            col.default_value.reset();
            auto_name = col.name;
        } else {
            if (e->kind != sql::ExprKind::kFunction || e->distinct || e->args.size() != 1) {
                shape("after the GROUP BY columns only aggregates may follow");
            }
            catalog::ViewDef::Agg agg;
            bool star = e->args[0]->kind == sql::ExprKind::kStar;
            int c = star ? -1 : column_of(e->args[0]);
            if (!star && c < 0) shape("aggregate arguments must be columns of " + source->name);
            if (e->name == "count") {
                agg.kind = star ? catalog::ViewAggKind::kCountStar : catalog::ViewAggKind::kCount;
                col.type = SqlType::Of(TypeId::kBigInt);
                col.nullable = false;
                auto_name = star ? "count_star" : "count_" + source->columns[c].name;
                has_count_star |= star;
            } else if (!star && (e->name == "sum" || e->name == "min" || e->name == "max")) {
                TypeId t = source->columns[c].type.id;
                agg.kind = e->name == "sum"   ? catalog::ViewAggKind::kSum
                           : e->name == "min" ? catalog::ViewAggKind::kMin
                                              : catalog::ViewAggKind::kMax;
                if (agg.kind == catalog::ViewAggKind::kSum) {
                    if (!IsNumeric(t)) shape("SUM needs a numeric column");
                    col.type = SqlType::Of(IsIntegral(t) ? TypeId::kBigInt : t);
                } else {
                    col.type = source->columns[c].type;
                }
                col.nullable = true;
                auto_name = e->name + "_" + source->columns[c].name;
            } else {
                shape(e->name + "() is not a maintainable aggregate");
            }
            agg.column = c;
            vd.aggregates.push_back(agg);
        }
        col.name = !s.column_names.empty()     ? s.column_names[i]
                   : !q.items[i].alias.empty() ? q.items[i].alias
                                               : auto_name;
        if (def.FindColumn(col.name) >= 0) {
            ThrowSqlError(ErrorCode::kDuplicateObject,
                          "view column \"" + col.name + "\" appears twice; name it with AS");
        }
        def.columns.push_back(std::move(col));
    }
    if (!has_count_star) shape("it must include COUNT(*), which tells when a group becomes empty");
    if (q.where) {
        sql::Planner(*catalog_).BindTableExpression(*q.where, *source, "a materialized view's WHERE");
        vd.where_sql = sql::ExprToSql(*q.where);
    }
    def.view = std::make_shared<const catalog::ViewDef>(std::move(vd));
    auto b = catalog_->Edit();
    b.AddTable(def);
    if (g > 0) {
        catalog::IndexDef idx;
        idx.name = s.name + "_group_key";
        idx.table = s.name;
        // Hash: every change to the source looks its group up; reads by group key are point
        // lookups too (ORDER BY the group columns sorts).
        idx.kind = catalog::IndexKind::kHash;
        idx.uniqueness = catalog::Uniqueness::kUnique;
        for (size_t i = 0; i < g; ++i) idx.key.push_back({static_cast<int>(i), {}, def.columns[i].type});
        b.AddIndex(std::move(idx));
    }
    auto next = b.Build();
    auto view_def = next->FindTable(s.name);
    auto storage = BuildStorage(*next, *view_def, nullptr, {});
    // Populate from the rows the source holds now.
    storage::Table* src = tables_.at(source->id).table.get();
    sql::BoundExprPtr where;
    if (!view_def->view->where_sql.empty()) {
        sql::ParsedExpression parsed = sql::ParseExpression(view_def->view->where_sql);
        where = sql::Planner(*next).BindTableExpression(*parsed.expr, *source, "a view's WHERE");
    }
    ViewMaintainer loader(view_def, src, storage.get(), std::move(where));
    storage::UndoLog load_log;
    storage::ScanCursor cursor;
    while (storage::TuplePtr t = src->NextLive(&cursor)) loader.OnInsert(*src, t, load_log);
    loader.EnsureRowWithoutGroups(load_log);
    load_log.Release();
    SetStorage(view_def->id, std::move(storage));
    Publish(std::move(next));
}

}  // namespace surge::exec
