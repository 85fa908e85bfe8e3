// The PostgreSQL target (see pg_sink.h).
#include "export/pg_sink.h"

#include <libpq-fe.h>

#include "export/format.h"
#include "storage/row_codec.h"
#include "types/value_ops.h"

namespace surge::exports {
namespace {

Status Bad(const std::string& target, const std::string& what) {
    return Status(ErrorCode::kInvalidParameter, "export target \"" + target + "\": " + what);
}

std::string PgType(SqlType t) {
    switch (t.id) {
        case TypeId::kBoolean:
            return "boolean";
        case TypeId::kTinyInt:
        case TypeId::kSmallInt:
            return "smallint";
        case TypeId::kInteger:
            return "integer";
        case TypeId::kBigInt:
            return "bigint";
        case TypeId::kFloat:
            return "double precision";
        case TypeId::kDecimal:
            return "numeric(38,12)";
        case TypeId::kVarbinary:
            return "bytea";
        case TypeId::kTimestamp:
            return "timestamp";
        default:
            return "text";
    }
}

// One COPY ... CSV field: as export CSV, except bytea in PostgreSQL's hex form and floats'
// infinities spelled as PostgreSQL reads them.
void AppendCopyField(const Value& v, std::string* out) {
    if (!v.is_null() && v.type() == TypeId::kVarbinary) {
        static constexpr char kHex[] = "0123456789abcdef";
        *out += "\\x";
        for (unsigned char c : v.AsString()) {
            *out += kHex[c >> 4];
            *out += kHex[c & 15];
        }
        return;
    }
    if (!v.is_null() && v.type() == TypeId::kFloat) {
        const std::string s = FormatDouble(v.AsDouble());
        *out += s == "Inf" ? "Infinity" : s == "-Inf" ? "-Infinity" : s;
        return;
    }
    AppendCsvField(v, out);
}

// libpq's messages end in newlines and may hold several lines: one line for logs and statistics.
std::string OneLine(std::string why) {
    for (char& c : why) c = (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
    while (!why.empty() && why.back() == ' ') why.pop_back();
    std::string out;
    for (char c : why) {
        if (c == ' ' && !out.empty() && out.back() == ' ') continue;
        out += c;
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<PgSink>> PgSink::Create(const TargetConfig& config) {
    std::unique_ptr<PgSink> sink(new PgSink());
    sink->name_ = config.name;
    for (const auto& [key, value] : config.settings) {
        if (key == "conninfo") {
            sink->conninfo_ = value;
        } else if (key == "table") {
            if (value.empty()) return Bad(config.name, "table is empty");
            sink->table_pattern_ = value;
        } else if (key == "create_table") {
            if (value != "true" && value != "false") {
                return Bad(config.name, "create_table is true or false, got \"" + value + "\"");
            }
            sink->create_table_ = value == "true";
        } else {
            return Bad(config.name, "unknown setting \"" + key +
                                        "\" for a postgresql target (it takes conninfo, table and create_table)");
        }
    }
    if (sink->conninfo_.empty())
        return Bad(config.name, "a postgresql target needs conninfo = \"host=... dbname=...\"");
    // Check the connection string's syntax now; connecting is the target thread's (and retried).
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(sink->conninfo_.c_str(), &err);
    if (!opts) {
        const std::string why = OneLine(err ? err : "out of memory");
        if (err) PQfreemem(err);
        return Bad(config.name, "conninfo: " + why);
    }
    PQconninfoFree(opts);
    return sink;
}

PgSink::~PgSink() { Disconnect(); }

void PgSink::Disconnect() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    prepared_.clear();
}

Status PgSink::Connect() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    Disconnect();
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        const std::string why = OneLine(PQerrorMessage(conn_));
        Disconnect();
        return Status(ErrorCode::kIoError, "postgresql export: cannot connect: " + why);
    }
    return Status::Ok();
}

std::string PgSink::Quote(const std::string& identifier) {
    char* q = PQescapeIdentifier(conn_, identifier.c_str(), identifier.size());
    std::string out = q ? q : "\"" + identifier + "\"";
    if (q) PQfreemem(q);
    return out;
}

Status PgSink::Exec(const std::string& sql, const char* what) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    const std::string why = OneLine(PQresultErrorMessage(res));
    PQclear(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    if (PQstatus(conn_) != CONNECTION_OK) Disconnect();
    return Status(ErrorCode::kIoError, std::string("postgresql export: ") + what + ": " + why);
}

Status PgSink::Prepare(const std::string& table, const SpoolSchema& schema) {
    if (prepared_.count(table)) return Status::Ok();
    if (create_table_) {
        std::string ddl = "CREATE TABLE IF NOT EXISTS " + Quote(table) +
                          " (surge_txn_id bigint NOT NULL, surge_timestamp timestamp NOT NULL, surge_partition "
                          "integer NOT NULL, surge_seq bigint NOT NULL, surge_op text NOT NULL";
        for (const auto& c : schema.columns) ddl += ", " + Quote(c.name) + " " + PgType(c.type);
        ddl += ", PRIMARY KEY (surge_partition, surge_seq))";
        Status s = Exec(ddl, ("creating table " + table).c_str());
        if (!s.ok()) return s;
    }
    Status s = Exec("CREATE TEMP TABLE IF NOT EXISTS " + Quote("surge_stage_" + table) + " (LIKE " + Quote(table) +
                        ") ON COMMIT DELETE ROWS",
                    ("the staging table for " + table).c_str());
    if (!s.ok()) return s;
    prepared_.insert(table);
    return Status::Ok();
}

Status PgSink::Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) {
    if (rows.empty()) return Status::Ok();
    Status s = Connect();
    if (!s.ok()) return s;
    std::string table = table_pattern_;
    for (size_t at; (at = table.find("{stream}")) != std::string::npos;) table.replace(at, 8, stream);
    // Rows of one batch may straddle a schema change: each run of one schema is staged alone.
    s = Exec("BEGIN", "BEGIN");
    if (!s.ok()) return s;
    for (size_t start = 0; start < rows.size() && s.ok();) {
        const SpoolSchema* schema = rows[start].schema;
        size_t end = start;
        while (end < rows.size() && (rows[end].schema == schema || rows[end].schema->Same(*schema))) ++end;
        s = Prepare(table, *schema);
        if (!s.ok()) break;
        const std::string stage = Quote("surge_stage_" + table);
        copy_.clear();
        for (size_t i = start; i < end; ++i) {
            const SpoolRow& r = rows[i];
            values_.resize(schema->columns.size());
            size_t pos = 0;
            if (!storage::DecodeRow(schema->layout, r.row, &pos, values_.data()) || pos != r.row.size()) {
                s = Status(ErrorCode::kIoError, "postgresql export: a spooled row of stream \"" + std::string(stream) +
                                                    "\" (seq " + std::to_string(r.seq) + ") does not decode");
                break;
            }
            copy_ += std::to_string(r.txn_id) + "," + FormatTimestamp(r.timestamp) + "," + std::to_string(partition) +
                     "," + std::to_string(r.seq) + "," + std::string(exec::ExportOpName(r.op));
            for (const Value& v : values_) {
                copy_ += ',';
                AppendCopyField(v, &copy_);
            }
            copy_ += '\n';
        }
        if (!s.ok()) break;
        PGresult* res = PQexec(conn_, ("COPY " + stage + " FROM STDIN WITH (FORMAT csv)").c_str());
        const bool copying = PQresultStatus(res) == PGRES_COPY_IN;
        std::string why = PQresultErrorMessage(res);
        PQclear(res);
        if (!copying) {
            s = Status(ErrorCode::kIoError, "postgresql export: COPY into " + table + ": " + OneLine(why));
            break;
        }
        const bool sent = PQputCopyData(conn_, copy_.data(), static_cast<int>(copy_.size())) == 1 &&
                          PQputCopyEnd(conn_, nullptr) == 1;
        res = PQgetResult(conn_);
        const bool copied = sent && PQresultStatus(res) == PGRES_COMMAND_OK;
        why = sent ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
        PQclear(res);
        while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);
        if (!copied) {
            s = Status(ErrorCode::kIoError, "postgresql export: COPY into " + table + ": " + OneLine(why));
            break;
        }
        s = Exec("INSERT INTO " + Quote(table) + " SELECT * FROM " + stage + " ON CONFLICT DO NOTHING",
                 ("inserting into " + table).c_str());
        start = end;
    }
    if (!s.ok()) {
        if (conn_) (void)Exec("ROLLBACK", "ROLLBACK");
        prepared_.clear();  // tables made in the rolled-back transaction are gone
        return s;
    }
    s = Exec("COMMIT", "COMMIT");
    if (!s.ok()) return s;
    written_ += rows.size();
    return Status::Ok();
}

void PgSink::Abandon() {
    written_ = 0;
    if (conn_ && PQstatus(conn_) != CONNECTION_OK) Disconnect();
}

}  // namespace surge::exports
