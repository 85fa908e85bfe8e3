// The Kafka target (see kafka_sink.h).
#include "export/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "export/format.h"
#include "storage/row_codec.h"

namespace surge::exports {
namespace {

constexpr int kFlushMs = 10'000;  // at shutdown, how long delivery may still take
constexpr uint64_t kIndexBits = 40;

Status Bad(const TargetConfig& c, const std::string& what) {
    return Status(ErrorCode::kInvalidParameter, "export target \"" + c.name + "\": " + what);
}

// The opaque of a message: its generation and index.
void* Opaque(uint64_t generation, uint64_t index) {
    return reinterpret_cast<void*>(static_cast<uintptr_t>((generation << kIndexBits) | index));
}

}  // namespace

Result<std::unique_ptr<KafkaSink>> KafkaSink::Create(const TargetConfig& config) {
    std::unique_ptr<KafkaSink> sink(new KafkaSink());
    sink->config_ = config;
    bool brokers = false;
    for (const auto& [key, value] : config.settings) {
        if (key == "brokers") {
            brokers = !value.empty();
        } else if (key == "topic") {
            if (value.empty()) return Bad(config, "topic is empty");
            sink->topic_pattern_ = value;
        } else if (key == "format") {
            if (value != "csv" && value != "jsonl") return Bad(config, "format is csv or jsonl, got \"" + value + "\"");
            sink->csv_ = value == "csv";
        } else if (key.rfind("kafka.", 0) != 0) {
            return Bad(config, "unknown setting \"" + key +
                                   "\" for a kafka target (it takes brokers, topic, format and kafka.<librdkafka "
                                   "property>)");
        }
    }
    if (!brokers) return Bad(config, "a kafka target needs brokers = \"host:port,...\"");
    Status s = sink->Connect();
    if (!s.ok()) return s;
    return sink;
}

KafkaSink::~KafkaSink() { Disconnect(); }

Status KafkaSink::Connect() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& key, const std::string& value) -> Status {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            return Bad(config_, "librdkafka property " + key + " = \"" + value + "\": " + err);
        }
        return Status::Ok();
    };
    Status s = set("enable.idempotence", "true");
    if (s.ok()) s = set("acks", "all");
    if (s.ok()) s = set("linger.ms", "5");
    // librdkafka's 300 s would hide a dead cluster for five minutes: fail (and retry) sooner.
    if (s.ok()) s = set("message.timeout.ms", "30000");
    for (const auto& [key, value] : config_.settings) {
        if (!s.ok()) break;
        if (key == "brokers") s = set("bootstrap.servers", value);
        if (key.rfind("kafka.", 0) == 0) s = set(key.substr(6), value);
    }
    if (!s.ok()) {
        rd_kafka_conf_destroy(conf);
        return s;
    }
    rd_kafka_conf_set_dr_msg_cb(
        conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) { OnDelivery(rk, m, opaque); });
    // librdkafka's own log lines go to the server's log, not to stderr.
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
        const auto* self = static_cast<const KafkaSink*>(rd_kafka_opaque(rk));
        const std::string& name = self ? self->config_.name : std::string();
        // Debug lines (7) come only when kafka.debug asks for them: shown like info lines.
        if (level <= 4) {
            spdlog::warn("export target \"{}\": librdkafka {}: {}", name, fac, buf);
        } else {
            spdlog::info("export target \"{}\": librdkafka {}: {}", name, fac, buf);
        }
    });
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);  // takes conf, also on failure
    if (!rk_) return Bad(config_, std::string("cannot create the Kafka producer: ") + err);
    return Status::Ok();
}

void KafkaSink::Disconnect() {
    if (!rk_) return;
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_, 1000);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
}

void KafkaSink::OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque) {
    auto* self = static_cast<KafkaSink*>(opaque);
    const auto tag = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
    if ((tag >> kIndexBits) != self->generation_) return;  // from before an Abandon
    const uint64_t index = tag & ((uint64_t{1} << kIndexBits) - 1);
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (self->error_.empty()) {
            self->error_ = std::string("Kafka did not take a message for topic ") + rd_kafka_topic_name(msg->rkt) +
                           ": " + rd_kafka_err2str(msg->err);
        }
        return;
    }
    if (index >= self->durable_ && index - self->durable_ < self->done_.size())
        self->done_[index - self->durable_] = true;
}

Status KafkaSink::Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) {
    if (!rk_) {
        Status s = Connect();
        if (!s.ok()) return s;
    }
    std::string topic = topic_pattern_;
    for (size_t at; (at = topic.find("{stream}")) != std::string::npos;) topic.replace(at, 8, stream);
    for (const SpoolRow& r : rows) {
        values_.resize(r.schema->columns.size());
        size_t pos = 0;
        if (!storage::DecodeRow(r.schema->layout, r.row, &pos, values_.data()) || pos != r.row.size()) {
            return Status(ErrorCode::kIoError, "kafka export: a spooled row of stream \"" + std::string(stream) +
                                                   "\" (seq " + std::to_string(r.seq) + ") does not decode");
        }
        RowView v{stream, partition, r.seq, r.txn_id, r.timestamp, r.op, &r.schema->columns, values_.data()};
        value_.clear();
        if (csv_) {
            AppendCsvRow(v, &value_);
            value_.pop_back();  // the message is the line, without its newline
        } else {
            AppendJsonRow(v, &value_);
            value_.pop_back();
        }
        const int pc = r.schema->partition_column;
        const bool keyed = pc >= 0 && !values_[static_cast<size_t>(pc)].is_null();
        key_ = keyed ? values_[static_cast<size_t>(pc)].ToString() : std::string();
        const uint64_t index = written_;
        for (;;) {
            const rd_kafka_resp_err_t err =
                rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(value_.data(), value_.size()),
                                  RD_KAFKA_V_KEY(keyed ? key_.data() : nullptr, keyed ? key_.size() : 0),
                                  RD_KAFKA_V_OPAQUE(Opaque(generation_, index)), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                return Status(ErrorCode::kIoError, "kafka export to topic " + topic + ": " + rd_kafka_err2str(err));
            }
            rd_kafka_poll(rk_, 100);  // the producer's queue is full: wait for deliveries
            if (!error_.empty()) return Status(ErrorCode::kIoError, error_);
        }
        ++written_;
        done_.push_back(false);
    }
    rd_kafka_poll(rk_, 0);
    return Status::Ok();
}

Result<uint64_t> KafkaSink::Durable(bool force) {
    if (!rk_) return durable_;
    if (force) {
        rd_kafka_flush(rk_, kFlushMs);
    } else {
        rd_kafka_poll(rk_, 0);
    }
    char reason[256];
    if (rd_kafka_fatal_error(rk_, reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status(ErrorCode::kIoError, std::string("the Kafka producer failed: ") + reason);
    }
    if (!error_.empty()) return Status(ErrorCode::kIoError, error_);
    return DurableSoFar();
}

uint64_t KafkaSink::DurableSoFar() {
    while (!done_.empty() && done_.front()) {
        done_.pop_front();
        ++durable_;
    }
    return durable_;
}

void KafkaSink::Abandon() {
    // What is still queued or in flight will be produced again (after the acknowledged rows):
    // drop it. A producer that failed fatally is replaced.
    char reason[8];
    const bool fatal = rk_ && rd_kafka_fatal_error(rk_, reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR;
    if (rk_) {
        rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk_, 0);
    }
    if (fatal) Disconnect();
    ++generation_;
    written_ = durable_ = 0;
    done_.clear();
    error_.clear();
}

}  // namespace surge::exports
