// The PostgreSQL target (libpq): each stream's rows go to a table, one transaction per batch of a
// (stream, partition): COPY into a temporary staging table, then INSERT ... ON CONFLICT DO
// NOTHING into the table, whose primary key is (surge_partition, surge_seq). So a batch delivered
// again after a crash or a failure adds nothing twice: the table holds each row exactly once.
//
//   [export.targets.NAME]
//   type = "postgresql"
//   conninfo = "host=127.0.0.1 port=5432 dbname=billing user=surge"   # required (libpq)
//   table = "{stream}"        # the table's name; {stream} is the stream's name
//   create_table = true       # create a missing table (else it must exist)
//
// The table: surge_txn_id BIGINT, surge_timestamp TIMESTAMP, surge_partition INTEGER, surge_seq
// BIGINT, surge_op TEXT, then the stream's columns (TINYINT/SMALLINT -> smallint, INTEGER ->
// integer, BIGINT -> bigint, FLOAT -> double precision, DECIMAL -> numeric(38,12), VARCHAR -> text,
// VARBINARY -> bytea, TIMESTAMP -> timestamp), PRIMARY KEY (surge_partition, surge_seq).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "export/sink.h"

struct pg_conn;

namespace surge::exports {

class PgSink final : public Sink {
  public:
    static Result<std::unique_ptr<PgSink>> Create(const TargetConfig& config);
    ~PgSink() override;

    Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) override;
    Result<uint64_t> Durable(bool force) override { return written_; }
    uint64_t DurableSoFar() override { return written_; }
    void Abandon() override;

  private:
    PgSink() = default;
    Status Connect();
    void Disconnect();
    /// Runs a statement that returns no rows; the error names it.
    Status Exec(const std::string& sql, const char* what);
    /// Makes sure the table exists (created if allowed) and the staging table for it.
    Status Prepare(const std::string& table, const SpoolSchema& schema);
    std::string Quote(const std::string& identifier);

    std::string name_;
    std::string conninfo_;
    std::string table_pattern_ = "{stream}";
    bool create_table_ = true;
    pg_conn* conn_ = nullptr;
    std::set<std::string> prepared_;  ///< tables checked on this connection
    uint64_t written_ = 0;
    std::string copy_;
    std::vector<Value> values_;
};

}  // namespace surge::exports
