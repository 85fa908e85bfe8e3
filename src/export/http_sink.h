// The HTTP target: rows are POSTed to a webhook in batches, as JSON Lines (or CSV lines), one
// request per batch of a (stream, partition), in sequence order. A 2xx answer acknowledges the
// batch; anything else (or no answer within the timeout) is retried with backoff from the first
// unacknowledged row, so a webhook sees at-least-once delivery and can drop repeats by
// (stream, partition, seq).
//
//   [export.targets.NAME]
//   type = "http"
//   url = "http://host:port/path"   # required; http only
//   format = "jsonl"                # or "csv" (lines without a header)
//   batch_rows = 1000               # rows per request at most
//   timeout_ms = 10000              # connect, send and answer, each
//   header.Authorization = "Bearer ..."   # extra request headers
//
// Each request carries X-Surge-Stream, X-Surge-Partition, X-Surge-First-Seq and X-Surge-Last-Seq.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "export/sink.h"

namespace surge::exports {

class HttpSink final : public Sink {
  public:
    static Result<std::unique_ptr<HttpSink>> Create(const TargetConfig& config);
    ~HttpSink() override;

    Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) override;
    Result<uint64_t> Durable(bool force) override { return written_; }
    uint64_t DurableSoFar() override { return written_; }
    void Abandon() override;

  private:
    struct Connection;
    HttpSink();
    Status Post(std::string_view stream, uint32_t partition, uint64_t first_seq, uint64_t last_seq,
                const std::string& body);

    std::string url_, host_, port_ = "80", path_ = "/";
    bool csv_ = false;
    size_t batch_rows_ = 1000;
    std::chrono::milliseconds timeout_{10'000};
    std::map<std::string, std::string> headers_;
    std::unique_ptr<Connection> conn_;
    uint64_t written_ = 0;  ///< rows every request of which was answered 2xx
    std::string body_;
    std::vector<Value> values_;
};

}  // namespace surge::exports
