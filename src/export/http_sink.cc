// The HTTP target (see http_sink.h), on Boost.Beast.
#include "export/http_sink.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "export/format.h"
#include "storage/row_codec.h"

namespace surge::exports {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

Status Bad(const TargetConfig& c, const std::string& what) {
    return Status(ErrorCode::kInvalidParameter, "export target \"" + c.name + "\": " + what);
}

Result<uint64_t> Number(const TargetConfig& c, const std::string& key, const std::string& text, uint64_t max) {
    uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 12;
    for (char ch : text) ok = ok && ch >= '0' && ch <= '9';
    if (ok) v = std::stoull(text);
    if (!ok || v < 1 || v > max) {
        return Bad(c, key + " wants a whole number from 1 to " + std::to_string(max) + ", got \"" + text + "\"");
    }
    return v;
}

}  // namespace

// One keep-alive connection, with every step bounded by the timeout (Beast's timeouts apply to
// asynchronous operations, so each step runs asynchronously on a private io_context).
struct HttpSink::Connection {
    net::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    bool open = false;

    void Run() {
        ioc.restart();
        ioc.run();
    }
};

HttpSink::HttpSink() = default;
HttpSink::~HttpSink() = default;

Result<std::unique_ptr<HttpSink>> HttpSink::Create(const TargetConfig& config) {
    std::unique_ptr<HttpSink> sink(new HttpSink());
    for (const auto& [key, value] : config.settings) {
        if (key == "url") {
            sink->url_ = value;
        } else if (key == "format") {
            if (value != "csv" && value != "jsonl") return Bad(config, "format is csv or jsonl, got \"" + value + "\"");
            sink->csv_ = value == "csv";
        } else if (key == "batch_rows") {
            auto v = Number(config, key, value, 100'000);
            if (!v.ok()) return v.status();
            sink->batch_rows_ = *v;
        } else if (key == "timeout_ms") {
            auto v = Number(config, key, value, 600'000);
            if (!v.ok()) return v.status();
            sink->timeout_ = std::chrono::milliseconds(*v);
        } else if (key.rfind("header.", 0) == 0 && key.size() > 7) {
            sink->headers_[key.substr(7)] = value;
        } else {
            return Bad(config, "unknown setting \"" + key +
                                   "\" for an http target (it takes url, format, batch_rows, timeout_ms and "
                                   "header.<Name>)");
        }
    }
    const std::string& url = sink->url_;
    if (url.empty()) return Bad(config, "an http target needs url = \"http://host:port/path\"");
    if (url.rfind("https://", 0) == 0) {
        return Bad(config, "https is not supported yet (url " + url +
                               "); use http, for example through a local TLS-terminating proxy");
    }
    if (url.rfind("http://", 0) != 0) return Bad(config, "url must start with http://, got \"" + url + "\"");
    std::string rest = url.substr(7);
    const size_t slash = rest.find('/');
    if (slash != std::string::npos) {
        sink->path_ = rest.substr(slash);
        rest.resize(slash);
    }
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']') == std::string::npos) {
        sink->port_ = rest.substr(colon + 1);
        rest.resize(colon);
        auto port = Number(config, "the url's port", sink->port_, 65535);
        if (!port.ok()) return port.status();
    }
    if (rest.empty()) return Bad(config, "url names no host: \"" + url + "\"");
    sink->host_ = rest;
    sink->conn_ = std::make_unique<Connection>();
    return sink;
}

Status HttpSink::Post(std::string_view stream, uint32_t partition, uint64_t first_seq, uint64_t last_seq,
                      const std::string& body) {
    Connection& c = *conn_;
    beast::error_code ec;
    auto failed = [&](const std::string& what) {
        beast::error_code ignored;
        c.stream.socket().close(ignored);
        c.open = false;
        return Status(ErrorCode::kIoError, "http export to " + url_ + ": " + what);
    };
    if (!c.open) {
        tcp::resolver resolver(c.ioc);
        auto endpoints = resolver.resolve(host_, port_, ec);
        if (ec) return failed("cannot resolve " + host_ + ": " + ec.message());
        c.stream.expires_after(timeout_);
        c.stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
        c.Run();
        if (ec) return failed("cannot connect: " + ec.message());
        c.open = true;
        c.buffer.clear();
    }
    http::request<http::string_body> req{http::verb::post, path_, 11};
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "surged-export");
    req.set(http::field::content_type, csv_ ? "text/csv" : "application/x-ndjson");
    req.set("X-Surge-Stream", std::string(stream));
    req.set("X-Surge-Partition", std::to_string(partition));
    req.set("X-Surge-First-Seq", std::to_string(first_seq));
    req.set("X-Surge-Last-Seq", std::to_string(last_seq));
    for (const auto& [name, value] : headers_) req.set(name, value);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    c.stream.expires_after(timeout_);
    http::async_write(c.stream, req, [&](beast::error_code e, size_t) { ec = e; });
    c.Run();
    if (ec) return failed("cannot send: " + ec.message());
    http::response<http::string_body> res;
    c.stream.expires_after(timeout_);
    http::async_read(c.stream, c.buffer, res, [&](beast::error_code e, size_t) { ec = e; });
    c.Run();
    if (ec) return failed("no answer: " + ec.message());
    if (!res.keep_alive()) {
        beast::error_code ignored;
        c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c.stream.socket().close(ignored);
        c.open = false;
    }
    const unsigned code = res.result_int();
    if (code < 200 || code > 299) {
        std::string text = res.body().substr(0, 200);
        for (char& ch : text) ch = (ch == '\n' || ch == '\r') ? ' ' : ch;
        return Status(ErrorCode::kIoError, "http export to " + url_ + ": answered " + std::to_string(code) + " " +
                                               std::string(res.reason()) + (text.empty() ? "" : ": " + text));
    }
    return Status::Ok();
}

Status HttpSink::Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) {
    for (size_t start = 0; start < rows.size(); start += batch_rows_) {
        const size_t end = std::min(rows.size(), start + batch_rows_);
        body_.clear();
        for (size_t i = start; i < end; ++i) {
            const SpoolRow& r = rows[i];
            values_.resize(r.schema->columns.size());
            size_t pos = 0;
            if (!storage::DecodeRow(r.schema->layout, r.row, &pos, values_.data()) || pos != r.row.size()) {
                return Status(ErrorCode::kIoError, "http export: a spooled row of stream \"" + std::string(stream) +
                                                       "\" (seq " + std::to_string(r.seq) + ") does not decode");
            }
            RowView v{stream, partition, r.seq, r.txn_id, r.timestamp, r.op, &r.schema->columns, values_.data()};
            if (csv_) {
                AppendCsvRow(v, &body_);
            } else {
                AppendJsonRow(v, &body_);
            }
        }
        Status s = Post(stream, partition, rows[start].seq, rows[end - 1].seq, body_);
        if (!s.ok()) return s;
        written_ += end - start;
    }
    return Status::Ok();
}

void HttpSink::Abandon() {
    written_ = 0;
    beast::error_code ignored;
    conn_->stream.socket().close(ignored);
    conn_->open = false;
}

}  // namespace surge::exports
