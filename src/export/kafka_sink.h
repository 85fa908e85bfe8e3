// The Kafka target (librdkafka): each row is one message, on a topic per stream, keyed by the
// row's partition column (so a key's rows keep their order in one Kafka partition). A row is
// acknowledged once Kafka has acknowledged it and every row written before it.
//
//   [export.targets.NAME]
//   type = "kafka"
//   brokers = "host1:9092,host2:9092"   # required (bootstrap.servers)
//   topic = "surge.{stream}"            # default "{stream}": the stream's name
//   format = "jsonl"                    # the message value: jsonl (default) or csv
//   kafka.<property> = "..."            # any librdkafka producer property, e.g. kafka.linger.ms
//
// Defaults that differ from librdkafka's: enable.idempotence = true (no duplicates or reordering
// from the producer's own retries), acks = all, linger.ms = 5, message.timeout.ms = 30000 (a
// message Kafka has not taken by then fails, and the target retries from the acknowledged row).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "export/sink.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace surge::exports {

class KafkaSink final : public Sink {
  public:
    static Result<std::unique_ptr<KafkaSink>> Create(const TargetConfig& config);
    ~KafkaSink() override;

    Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) override;
    Result<uint64_t> Durable(bool force) override;
    uint64_t DurableSoFar() override;
    void Abandon() override;

  private:
    KafkaSink() = default;
    Status Connect();
    void Disconnect();
    static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);

    TargetConfig config_;
    std::string topic_pattern_ = "{stream}";
    bool csv_ = false;
    rd_kafka_s* rk_ = nullptr;
    uint64_t generation_ = 0;  ///< delivery reports of messages from before an Abandon are ignored
    uint64_t written_ = 0;     ///< messages produced since the last Abandon
    uint64_t durable_ = 0;     ///< every message before this one is acknowledged
    std::deque<bool> done_;    ///< acknowledged, for messages durable_ ..
    std::string error_;        ///< the first delivery failure since the last Abandon
    std::string value_, key_;
    std::vector<Value> values_;
};

}  // namespace surge::exports
