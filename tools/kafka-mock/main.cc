// surge-kafka-mock: a Kafka cluster for tests, from librdkafka's built-in mock brokers, driven
// over stdin/stdout so that a test in another process (tests/integration/test_export_kafka.py)
// can point surged's kafka target at it, break it, and read back what arrived.
//
//   surge-kafka-mock [--brokers N]
//
// First line out: "bootstrap HOST:PORT,...". Then one command per input line, each answered by
// one line ("ok", "error <why>") or, for dump, by message lines and "end <count>":
//   topic NAME PARTITIONS    create a topic
//   down ID | up ID          take a broker (1..N, or -1 for all) down or back up
//   errors N CODE            the next N produce requests fail with Kafka error CODE (e.g. 6)
//   dump TOPIC               every message in the topic, from the start, one JSON object per line:
//                            {"partition":P,"offset":O,"key":"..."|null,"value":"..."}
//   quit
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string Json(const char* data, size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(data[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// Every message of a topic, read from the beginning of each partition until its end.
std::string Dump(const std::string& bootstrap, const std::string& topic, size_t* count) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "surge-kafka-mock-dump", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) return std::string("error ") + err + "\n";
    std::string out;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        *count = 0;
        return "";  // no such topic yet: nothing arrived
    }
    const int partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    int at_end = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (at_end < partitions && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ++at_end;
        } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::ostringstream line;
            line << "{\"partition\":" << m->partition << ",\"offset\":" << m->offset
                 << ",\"key\":" << (m->key ? Json(static_cast<const char*>(m->key), m->key_len) : "null")
                 << ",\"value\":" << Json(static_cast<const char*>(m->payload), m->len) << "}\n";
            out += line.str();
            ++*count;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int brokers = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--brokers") == 0) brokers = std::atoi(argv[i + 1]);
    }
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        std::fprintf(stderr, "surge-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (!cluster) {
        std::fprintf(stderr, "surge-kafka-mock: cannot create the mock cluster\n");
        return 1;
    }
    const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    std::cout << "bootstrap " << bootstrap << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        if (cmd == "quit") break;
        if (cmd == "topic") {
            std::string name;
            int partitions = 1;
            in >> name >> partitions;
            const auto e = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
            std::cout << (e ? std::string("error ") + rd_kafka_err2str(e) : "ok") << std::endl;
        } else if (cmd == "down" || cmd == "up") {
            int id = -1;
            in >> id;
            const auto e =
                cmd == "down" ? rd_kafka_mock_broker_set_down(cluster, id) : rd_kafka_mock_broker_set_up(cluster, id);
            std::cout << (e ? std::string("error ") + rd_kafka_err2str(e) : "ok") << std::endl;
        } else if (cmd == "errors") {
            size_t n = 0;
            int code = 0;
            in >> n >> code;
            std::vector<rd_kafka_resp_err_t> errs(n, static_cast<rd_kafka_resp_err_t>(code));
            rd_kafka_mock_push_request_errors_array(cluster, 0 /* Produce */, n, errs.data());
            std::cout << "ok" << std::endl;
        } else if (cmd == "dump") {
            std::string topic;
            in >> topic;
            size_t count = 0;
            std::cout << Dump(bootstrap, topic, &count) << "end " << count << std::endl;
        } else {
            std::cout << "error unknown command \"" << cmd << "\"" << std::endl;
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}
