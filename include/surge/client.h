// SurgeDB C++ client: call stored procedures on a surged over gRPC.
//
//   auto client = surge::client::Client::Connect("127.0.0.1:21212");
//   if (!client.ok()) { std::cerr << client.error() << "\n"; return 1; }
//   auto r = client->Call("Vote", {surge::client::Value(5551234567), surge::client::Value(2)});
//   if (!r.ok()) std::cerr << r.message << "\n";
//
// Call blocks; CallAsync is the throughput path: calls from any thread are batched onto one
// bidirectional stream, and each callback runs on a client thread when its response arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace surge::client {

/// A parameter or a result cell.
class Value {
  public:
    enum class Kind { kNull, kInt, kFloat, kDecimal, kVarchar, kVarbinary, kTimestamp, kBoolean };

    Value() = default;                                             ///< NULL
    Value(int64_t v) : kind_(Kind::kInt), i_(v) {}                 // NOLINT(google-explicit-constructor)
    Value(int v) : kind_(Kind::kInt), i_(v) {}                     // NOLINT(google-explicit-constructor)
    Value(double v) : kind_(Kind::kFloat), d_(v) {}                // NOLINT(google-explicit-constructor)
    Value(std::string_view s) : kind_(Kind::kVarchar), s_(s) {}    // NOLINT(google-explicit-constructor)
    Value(const char* s) : kind_(Kind::kVarchar), s_(s) {}         // NOLINT(google-explicit-constructor)
    Value(const std::string& s) : kind_(Kind::kVarchar), s_(s) {}  // NOLINT(google-explicit-constructor)
    static Value Null() { return Value(); }
    static Value Bytes(std::string b);
    /// Exact decimal text, e.g. "12.50".
    static Value Decimal(std::string text);
    /// Microseconds since 1970-01-01 UTC.
    static Value Timestamp(int64_t micros);
    static Value Boolean(bool b);

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::kNull; }
    int64_t as_int() const { return i_; }  ///< kInt, kTimestamp, kBoolean
    double as_double() const { return d_; }
    const std::string& as_string() const { return s_; }  ///< kVarchar, kVarbinary, kDecimal
    /// Display text: NULL, numbers, decimal text, strings as they are, bytes as hex, timestamps
    /// as "YYYY-MM-DD HH:MM:SS.ffffff".
    std::string ToString() const;
    bool operator==(const Value& o) const = default;

  private:
    Kind kind_ = Kind::kNull;
    int64_t i_ = 0;
    double d_ = 0;
    std::string s_;
};

struct Table {
    std::vector<std::string> column_names;
    std::vector<std::string> column_types;  ///< "BIGINT", "VARCHAR", ...
    std::vector<Value> cells;               ///< row-major
    size_t row_count() const { return column_names.empty() ? 0 : cells.size() / column_names.size(); }
    const Value& at(size_t row, size_t col) const { return cells[row * column_names.size() + col]; }
};

struct Response {
    /// OK, SQL_ERROR, UNKNOWN_PROCEDURE, INVALID_PARAMETER, USER_ABORT, OVERLOADED, SHUTTING_DOWN,
    /// TIMEOUT, MESSAGE_TOO_LARGE, INTERNAL, UNAVAILABLE (also for transport failures).
    std::string status = "OK";
    std::string message;
    std::string sqlstate;
    std::vector<Table> tables;
    uint64_t server_micros = 0;
    uint64_t txn_id = 0;
    bool ok() const { return status == "OK"; }
};

class Client {
  public:
    struct Options {
        int connect_timeout_ms = 5000;
        int call_timeout_ms = 60000;  ///< blocking calls
        /// Asynchronous calls: one still queued in the server after this long is answered TIMEOUT
        /// and not run (0: no limit).
        int async_timeout_ms = 0;
        /// Backpressure: CallAsync blocks while this many asynchronous calls are outstanding
        /// (except on a callback thread, which never blocks).
        size_t max_outstanding = 10000;
    };

    /// Connects and checks the server answers (@Ping). On failure, error() says why.
    static std::unique_ptr<Client> Connect(const std::string& address, std::string* error, Options options);
    static std::unique_ptr<Client> Connect(const std::string& address, std::string* error) {
        return Connect(address, error, Options());
    }
    ~Client();  ///< waits for outstanding async calls

    Response Call(const std::string& procedure, const std::vector<Value>& params = {});
    /// Queues a call on the shared stream; `done` runs once with its response (on a client
    /// thread; keep it short). Blocks while Options::max_outstanding calls are outstanding. If
    /// the connection drops, outstanding calls get UNAVAILABLE and the next call reconnects.
    void CallAsync(const std::string& procedure, std::vector<Value> params, std::function<void(Response)> done);
    /// CallAsync with a future for the response.
    std::future<Response> CallFuture(const std::string& procedure, std::vector<Value> params = {});
    /// Asynchronous calls sent and not yet answered.
    size_t outstanding() const;
    /// Waits until every CallAsync so far has completed.
    void Drain();
    const std::string& address() const;

  private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace surge::client
