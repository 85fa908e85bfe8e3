// Procedure resolution: SQL procedures, CRUD procedures and system procedure names (see
// procedures.h).
#include "proc/procedures.h"

#include <algorithm>

#include "sql/planner.h"
#include "types/value_ops.h"

namespace surge::proc {
namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string Quoted(const std::string& ident) {
    std::string out = "\"";
    for (char c : ident) {
        out += c;
        if (c == '"') out += '"';
    }
    return out + "\"";
}

// The primary key's column numbers, or empty.
std::vector<int> PrimaryKeyColumns(const catalog::Catalog& cat, const catalog::TableDef& t) {
    for (const auto& idx : cat.IndexesOf(t)) {
        if (!idx->is_primary_key()) continue;
        std::vector<int> cols;
        for (const auto& part : idx->key) {
            if (part.column < 0) return {};
            cols.push_back(part.column);
        }
        return cols;
    }
    return {};
}

Result<CallPlan> ResolveCrud(const catalog::Catalog& cat, const std::string& table_name, const std::string& op) {
    auto t = cat.FindTable(table_name);
    if (!t || t->is_view()) {
        return Status(ErrorCode::kUndefinedFunction,
                      "procedure \"" + table_name + "." + op + "\" does not exist: no table \"" + table_name + "\"");
    }
    std::vector<int> pk = PrimaryKeyColumns(cat, *t);
    const bool needs_pk = op != "insert";
    if (needs_pk && pk.empty()) {
        return Status(ErrorCode::kUndefinedFunction, "procedure \"" + table_name + "." + op +
                                                         "\" does not exist: table \"" + table_name +
                                                         "\" has no primary key");
    }
    const std::string tq = Quoted(t->name);
    const size_t n = t->columns.size();
    std::string all_params;
    for (size_t i = 0; i < n; ++i) all_params += i ? ", ?" : "?";
    std::string pk_where;
    for (size_t i = 0; i < pk.size(); ++i) {
        pk_where += (i ? " AND " : "") + Quoted(t->columns[pk[i]].name) + " = ?";
    }
    CallPlan plan;
    plan.name = t->name + "." + op;
    std::optional<size_t> pparam;  // which parameter carries the partition column
    if (op == "insert" || op == "upsert") {
        plan.sql = (op == "insert" ? "INSERT INTO " : "UPSERT INTO ") + tq + " VALUES (" + all_params + ")";
        if (t->partition_column) pparam = static_cast<size_t>(*t->partition_column);
    } else if (op == "select" || op == "delete") {
        plan.sql = (op == "select" ? "SELECT * FROM " : "DELETE FROM ") + tq + " WHERE " + pk_where;
        plan.read_only = op == "select";
        if (t->partition_column) {
            auto pos = std::find(pk.begin(), pk.end(), *t->partition_column);
            if (pos != pk.end()) pparam = static_cast<size_t>(pos - pk.begin());
        }
    } else if (op == "update") {
        // Every column's new value, then the primary key of the row to change (VoltDB's order).
        std::string set;
        for (size_t i = 0; i < n; ++i) set += (i ? ", " : "") + Quoted(t->columns[i].name) + " = ?";
        plan.sql = "UPDATE " + tq + " SET " + set + " WHERE " + pk_where;
        if (t->partition_column) {
            auto pos = std::find(pk.begin(), pk.end(), *t->partition_column);
            if (pos != pk.end()) pparam = n + static_cast<size_t>(pos - pk.begin());
        }
    } else {
        return Status(ErrorCode::kUndefinedFunction,
                      "procedure \"" + table_name + "." + op +
                          "\" does not exist: tables have insert, select, update, upsert and delete");
    }
    if (pparam) {
        plan.partition_param = pparam;
        plan.partition_type = t->columns[*t->partition_column].type;
        plan.partition_table = t->name;
    }
    return plan;
}

}  // namespace

const std::vector<std::string>& SystemProcedureNames() {
    static const std::vector<std::string> names = {
        "@AdHoc",           "@Explain",      "@ExplainProc",  "@Ping",       "@Shutdown",      "@SnapshotDelete",
        "@SnapshotRestore", "@SnapshotSave", "@SnapshotScan", "@Statistics", "@SystemCatalog", "@TtlDelete"};
    return names;
}

Result<CallPlan> ResolveCall(const catalog::Catalog& cat, std::string_view name) {
    if (!name.empty() && name[0] == '@') {
        const std::string lower = Lower(name);
        for (const auto& sys : SystemProcedureNames()) {
            if (Lower(sys) == lower) {
                CallPlan plan;
                plan.kind = CallPlan::Kind::kSystem;
                plan.name = sys;
                return plan;
            }
        }
        std::string list;
        for (const auto& sys : SystemProcedureNames()) list += (list.empty() ? "" : ", ") + sys;
        return Status(ErrorCode::kUndefinedFunction,
                      "system procedure \"" + std::string(name) + "\" does not exist (there are " + list + ")");
    }
    const std::string folded = Lower(name);
    if (auto def = cat.FindProcedure(folded)) {
        CallPlan plan;
        plan.kind = def->is_native() ? CallPlan::Kind::kNative : CallPlan::Kind::kStatement;
        plan.defined = true;
        plan.name = def->name;
        plan.sql = def->sql;
        if (def->partition_table) {
            auto t = cat.FindTable(*def->partition_table);
            int col = t && def->partition_column ? t->FindColumn(*def->partition_column) : -1;
            if (!t || col < 0) {
                return Status(ErrorCode::kUndefinedTable,
                              "procedure \"" + def->name + "\" is partitioned on " + *def->partition_table + "." +
                                  def->partition_column.value_or("?") + ", which no longer exists");
            }
            if (t->partition_column && *t->partition_column == col) {
                plan.partition_param = static_cast<size_t>(def->partition_parameter);
                plan.partition_type = t->columns[col].type;
                plan.partition_table = t->name;
            }
        }
        return plan;
    }
    size_t dot = folded.rfind('.');
    if (dot != std::string::npos && dot > 0) return ResolveCrud(cat, folded.substr(0, dot), folded.substr(dot + 1));
    return Status(ErrorCode::kUndefinedFunction, "procedure \"" + std::string(name) + "\" does not exist");
}

bool StillDefined(const catalog::Catalog& cat, const CallPlan& plan) {
    if (!plan.defined) return true;
    auto def = cat.FindProcedure(plan.name);
    return def && def->sql == plan.sql;
}

Result<Value> PartitionValue(const CallPlan& plan, std::span<const Value> params) {
    if (!plan.partition_param) return Status(ErrorCode::kInternal, plan.name + " is not single-partition");
    const size_t i = *plan.partition_param;
    if (i >= params.size()) {
        return Status(ErrorCode::kInvalidParameter, "procedure " + plan.name + " is partitioned on parameter " +
                                                        std::to_string(i + 1) + " but was called with " +
                                                        std::to_string(params.size()) + " parameters");
    }
    try {
        return CoerceForColumn(params[i], plan.partition_type, "");
    } catch (const SqlError& e) {
        return Status(ErrorCode::kInvalidParameter, "partition parameter " + std::to_string(i + 1) + " of " +
                                                        plan.name + ": " + e.status().message());
    }
}

Status SystemCatalog(const catalog::Catalog& cat, std::string_view selector, exec::ResultSet* out) {
    const std::string sel = Lower(selector);
    const SqlType text{TypeId::kVarchar, 1024};
    const SqlType num = SqlType::Of(TypeId::kInteger);
    out->Clear();
    auto cols = [&](std::initializer_list<std::pair<const char*, SqlType>> list) {
        for (const auto& [n, t] : list) out->columns.push_back({n, t});
    };
    auto str = [](const std::string& s) { return Value::Varchar(s); };
    // A query view's columns are those its query plans to now; none if it no longer plans.
    auto view_columns = [&](const catalog::QueryViewDef& v) -> std::optional<std::vector<sql::OutputColumn>> {
        try {
            return sql::Planner(cat).QueryViewColumns(v);
        } catch (const SqlError&) {
            return std::nullopt;
        }
    };
    if (sel == "tables" || sel == "views") {
        cols({{"table_name", text}, {"table_type", text}, {"partition_column", text}, {"column_count", num}});
        for (const auto& [name, t] : cat.tables()) {
            if ((sel == "views") != t->is_view() || t->is_stream()) continue;
            out->values.push_back(str(t->name));
            out->values.push_back(str(catalog::TableType(*t)));
            out->values.push_back(t->partition_column ? str(t->columns[*t->partition_column].name)
                                                      : Value::Null(TypeId::kVarchar));
            out->values.push_back(Value::Integer(static_cast<int32_t>(t->columns.size())));
        }
        if (sel == "views") {
            for (const auto& [name, v] : cat.query_views()) {
                auto vc = view_columns(*v);
                out->values.push_back(str(v->name));
                out->values.push_back(str("VIEW"));
                out->values.push_back(Value::Null(TypeId::kVarchar));
                out->values.push_back(vc ? Value::Integer(static_cast<int32_t>(vc->size()))
                                         : Value::Null(TypeId::kInteger));
            }
        }
    } else if (sel == "streams") {
        cols({{"stream_name", text}, {"partition_column", text}, {"export_target", text}, {"column_count", num}});
        for (const auto& [name, t] : cat.tables()) {
            if (!t->is_stream()) continue;
            out->values.push_back(str(t->name));
            out->values.push_back(t->partition_column ? str(t->columns[*t->partition_column].name)
                                                      : Value::Null(TypeId::kVarchar));
            out->values.push_back(t->export_target.empty() ? Value::Null(TypeId::kVarchar) : str(t->export_target));
            out->values.push_back(Value::Integer(static_cast<int32_t>(t->columns.size())));
        }
    } else if (sel == "columns") {
        cols({{"table_name", text},
              {"column_name", text},
              {"ordinal", num},
              {"type", text},
              {"nullable", text},
              {"default", text}});
        for (const auto& [name, t] : cat.tables()) {
            for (size_t i = 0; i < t->columns.size(); ++i) {
                const auto& c = t->columns[i];
                out->values.push_back(str(t->name));
                out->values.push_back(str(c.name));
                out->values.push_back(Value::Integer(static_cast<int32_t>(i + 1)));
                out->values.push_back(str(TypeName(c.type)));
                out->values.push_back(str(c.nullable ? "YES" : "NO"));
                out->values.push_back(c.default_value ? str(c.default_value->ToString())
                                                      : Value::Null(TypeId::kVarchar));
            }
        }
        for (const auto& [name, v] : cat.query_views()) {
            auto vc = view_columns(*v);
            for (size_t i = 0; vc && i < vc->size(); ++i) {
                out->values.push_back(str(v->name));
                out->values.push_back(str((*vc)[i].name));
                out->values.push_back(Value::Integer(static_cast<int32_t>(i + 1)));
                out->values.push_back(str(TypeName((*vc)[i].type)));
                out->values.push_back(str("YES"));
                out->values.push_back(Value::Null(TypeId::kVarchar));
            }
        }
    } else if (sel == "indexes") {
        cols({{"table_name", text}, {"index_name", text}, {"kind", text}, {"uniqueness", text}, {"key", text}});
        for (const auto& [name, idx] : cat.indexes()) {
            auto t = cat.FindTable(idx->table);
            std::string key;
            for (const auto& part : idx->key) {
                if (!key.empty()) key += ", ";
                key += part.column >= 0 && t ? t->columns[part.column].name : part.expression;
                if (part.descending) key += " DESC";
            }
            static const char* kUniq[] = {"NONE", "UNIQUE", "ASSUMEUNIQUE", "PRIMARY KEY"};
            out->values.push_back(str(idx->table));
            out->values.push_back(str(idx->name));
            out->values.push_back(str(idx->kind == catalog::IndexKind::kHash ? "HASH" : "ORDERED"));
            out->values.push_back(str(kUniq[static_cast<int>(idx->uniqueness)]));
            out->values.push_back(str(key));
        }
    } else if (sel == "procedures") {
        cols({{"procedure_name", text}, {"kind", text}, {"partition", text}, {"statement", text}});
        for (const auto& [name, p] : cat.procedures()) {
            out->values.push_back(str(p->name));
            out->values.push_back(str(p->is_native() ? "NATIVE" : "SQL"));
            out->values.push_back(p->partition_table
                                      ? str(*p->partition_table + "." + p->partition_column.value_or("") +
                                            " (parameter " + std::to_string(p->partition_parameter + 1) + ")")
                                      : Value::Null(TypeId::kVarchar));
            out->values.push_back(
                str(p->is_native() ? "LIBRARY '" + p->library + "' CLASS '" + p->class_name + "'" : p->sql));
        }
        for (const auto& [name, t] : cat.tables()) {
            if (t->is_view()) continue;
            const bool has_pk = !PrimaryKeyColumns(cat, *t).empty();
            for (const char* op : {"insert", "select", "update", "upsert", "delete"}) {
                if (!has_pk && std::string(op) != "insert") continue;
                auto plan = ResolveCrud(cat, t->name, op);
                if (!plan.ok()) continue;
                out->values.push_back(str(plan->name));
                out->values.push_back(str("CRUD"));
                out->values.push_back(plan->partition_param
                                          ? str(t->name + "." + t->columns[*t->partition_column].name + " (parameter " +
                                                std::to_string(*plan->partition_param + 1) + ")")
                                          : Value::Null(TypeId::kVarchar));
                out->values.push_back(str(plan->sql));
            }
        }
        for (const auto& sys : SystemProcedureNames()) {
            out->values.push_back(str(sys));
            out->values.push_back(str("SYSTEM"));
            out->values.push_back(Value::Null(TypeId::kVarchar));
            out->values.push_back(Value::Null(TypeId::kVarchar));
        }
    } else {
        return Status(ErrorCode::kInvalidParameter, "@SystemCatalog selector \"" + std::string(selector) +
                                                        "\" is not one of TABLES, VIEWS, STREAMS, COLUMNS, INDEXES, "
                                                        "PROCEDURES");
    }
    return Status::Ok();
}

}  // namespace surge::proc
