// The C++ client (see include/surge/client.h).
#include "surge/client.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <absl/container/flat_hash_map.h>

#include "surge/v1/surge.grpc.pb.h"

namespace surge::client {

Value Value::Bytes(std::string b) {
    Value v;
    v.kind_ = Kind::kVarbinary;
    v.s_ = std::move(b);
    return v;
}
Value Value::Decimal(std::string text) {
    Value v;
    v.kind_ = Kind::kDecimal;
    v.s_ = std::move(text);
    return v;
}
Value Value::Timestamp(int64_t micros) {
    Value v;
    v.kind_ = Kind::kTimestamp;
    v.i_ = micros;
    return v;
}
Value Value::Boolean(bool b) {
    Value v;
    v.kind_ = Kind::kBoolean;
    v.i_ = b ? 1 : 0;
    return v;
}

std::string Value::ToString() const {
    switch (kind_) {
        case Kind::kNull:
            return "NULL";
        case Kind::kInt:
            return std::to_string(i_);
        case Kind::kFloat: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", d_);
            double back = 0;
            for (int prec = 1; prec <= 17; ++prec) {  // shortest text that reads back exactly
                std::snprintf(buf, sizeof buf, "%.*g", prec, d_);
                std::sscanf(buf, "%lf", &back);
                if (back == d_) break;
            }
            return buf;
        }
        case Kind::kDecimal:
        case Kind::kVarchar:
            return s_;
        case Kind::kVarbinary: {
            static const char* kHex = "0123456789ABCDEF";
            std::string out;
            for (unsigned char c : s_) {
                out += kHex[c >> 4];
                out += kHex[c & 15];
            }
            return out;
        }
        case Kind::kTimestamp: {
            int64_t secs = i_ / 1000000, us = i_ % 1000000;
            if (us < 0) {
                us += 1000000;
                --secs;
            }
            std::time_t t = static_cast<std::time_t>(secs);
            std::tm tm{};
            gmtime_r(&t, &tm);
            char buf[48];
            std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", tm.tm_year + 1900, tm.tm_mon + 1,
                          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us));
            return buf;
        }
        case Kind::kBoolean:
            return i_ ? "true" : "false";
    }
    return "?";
}

namespace {

void Encode(const Value& v, v1::Value* out) {
    switch (v.kind()) {
        case Value::Kind::kNull:
            out->set_null(v1::TYPE_UNSPECIFIED);
            break;
        case Value::Kind::kInt:
            out->set_int_(v.as_int());
            break;
        case Value::Kind::kFloat:
            out->set_float_(v.as_double());
            break;
        case Value::Kind::kDecimal:
            out->set_decimal(v.as_string());
            break;
        case Value::Kind::kVarchar:
            out->set_varchar(v.as_string());
            break;
        case Value::Kind::kVarbinary:
            out->set_varbinary(v.as_string());
            break;
        case Value::Kind::kTimestamp:
            out->set_timestamp(v.as_int());
            break;
        case Value::Kind::kBoolean:
            out->set_boolean(v.as_int() != 0);
            break;
    }
}

Table Decode(const v1::Table& t) {
    Table out;
    const size_t rows = t.row_count();
    const size_t cols = static_cast<size_t>(t.columns_size());
    for (const auto& c : t.columns()) {
        out.column_names.push_back(c.name());
        out.column_types.push_back(v1::Type_Name(c.type()));
    }
    out.cells.resize(rows * cols);
    for (size_t c = 0; c < cols && c < static_cast<size_t>(t.data_size()); ++c) {
        const v1::ColumnData& d = t.data(static_cast<int>(c));
        const v1::Type type = t.columns(static_cast<int>(c)).type();
        const std::string& nulls = d.nulls();
        for (size_t r = 0; r < rows; ++r) {
            if (!nulls.empty() && (static_cast<unsigned char>(nulls[r / 8]) >> (r % 8)) & 1) continue;  // NULL
            Value& cell = out.cells[r * cols + c];
            const int i = static_cast<int>(r);
            switch (type) {
                case v1::FLOAT:
                    if (i < d.floats_size()) cell = Value(d.floats(i));
                    break;
                case v1::DECIMAL:
                    if (i < d.strings_size()) cell = Value::Decimal(d.strings(i));
                    break;
                case v1::VARCHAR:
                    if (i < d.strings_size()) cell = Value(d.strings(i));
                    break;
                case v1::VARBINARY:
                    if (i < d.binaries_size()) cell = Value::Bytes(d.binaries(i));
                    break;
                case v1::TIMESTAMP:
                    if (i < d.ints_size()) cell = Value::Timestamp(d.ints(i));
                    break;
                case v1::BOOLEAN:
                    if (i < d.ints_size()) cell = Value::Boolean(d.ints(i) != 0);
                    break;
                default:
                    if (i < d.ints_size()) cell = Value(static_cast<int64_t>(d.ints(i)));
                    break;
            }
        }
    }
    return out;
}

// The status code's name ("OK", "SQL_ERROR", ...): looked up in the enum's descriptor once,
// not per response. A code this client does not know (a newer server's) is "STATUS_<n>".
std::string StatusName(v1::StatusCode code) {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (int c = v1::StatusCode_MIN; c <= v1::StatusCode_MAX; ++c) n.push_back(v1::StatusCode_Name(c));
        return n;
    }();
    if (code >= v1::StatusCode_MIN && code <= v1::StatusCode_MAX) return names[static_cast<size_t>(code)];
    return "STATUS_" + std::to_string(static_cast<int>(code));
}

Response FromWire(const v1::Response& r) {
    Response out;
    out.status = StatusName(r.status().code());
    out.message = r.status().message();
    out.sqlstate = r.status().sqlstate();
    out.server_micros = r.server_micros();
    out.txn_id = r.txn_id();
    for (const auto& t : r.results()) out.tables.push_back(Decode(t));
    return out;
}

Response TransportFailure(const grpc::Status& s) {
    Response out;
    switch (s.error_code()) {
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            out.status = "MESSAGE_TOO_LARGE";
            break;
        case grpc::StatusCode::DEADLINE_EXCEEDED:
            out.status = "TIMEOUT";
            break;
        default:
            out.status = "UNAVAILABLE";
            break;
    }
    out.message = "gRPC " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
    return out;
}

}  // namespace

// True on a thread while it runs a call's callback (CallAsync does not block there: the
// callbacks it would wait for may need this very thread).
thread_local bool in_callback = false;

struct Client::Impl {
    class Stream;

    std::string address;
    Options options;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Surge::Stub> stub;

    std::mutex mu;
    std::condition_variable cv;
    absl::flat_hash_map<uint64_t, std::function<void(Response)>> waiting;  // async calls in flight
    uint64_t next_handle = 1;
    Stream* stream = nullptr;  // live stream, or null
    size_t streams_alive = 0;
    size_t running_callbacks = 0;  // taken out of `waiting`, callback not yet returned

    void Fail(absl::flat_hash_map<uint64_t, std::function<void(Response)>> calls, const Response& why) {
        in_callback = true;
        for (auto& [h, cb] : calls) cb(why);
        in_callback = false;
        // Notify under the lock: once it is released the client may be destroyed.
        std::lock_guard<std::mutex> lock(mu);
        running_callbacks -= calls.size();
        cv.notify_all();
    }
};

// One bidirectional stream. Deletes itself in OnDone.
class Client::Impl::Stream : public grpc::ClientBidiReactor<v1::InvocationBatch, v1::ResponseBatch> {
  public:
    // Lifetime: a hold, taken before StartCall, keeps OnDone (which deletes the stream) from
    // running while a caller may still start an operation on it. It is removed once the read side
    // has ended (kDead in state_) and no caller is between choosing this stream and starting its write.
    explicit Stream(Impl* owner) : owner_(owner) {
        owner_->stub->async()->Stream(&ctx_, this);
        AddHold();
        StartRead(&in_);
    }
    void Begin() { StartCall(); }
    void EnterLocked() { state_.fetch_add(kStarting); }
    /// After a caller's Start: drops the hold if the stream has ended meanwhile. One atomic step,
    /// no lock: whichever of the last caller and the ended read side comes second sees the other
    /// and releases (and only it may touch the stream afterwards).
    void Leave() {
        if (state_.fetch_sub(kStarting) == (kStarting | kDead)) RemoveHold();
    }
    // Enqueue and Close are called with owner_->mu held; they return what to start once it is
    // released (gRPC operations are never started under the lock, so a reaction that needs the
    // lock cannot deadlock against its caller).
    enum class Next { kNothing, kWrite, kWritesDone };
    /// The next invocation to send, to fill in (a cleared message of an earlier batch, when there
    /// is one: encoding it allocates nothing); then EnqueuedLocked.
    v1::Invocation* AddLocked() { return pending_.add_invocations(); }
    Next EnqueuedLocked() { return writing_ ? Next::kNothing : PrepareWriteLocked(); }
    Next CloseLocked() {
        closing_ = true;
        if (writing_ || done_writing_) return Next::kNothing;
        done_writing_ = true;
        return Next::kWritesDone;
    }
    void Start(Next next) {
        if (next == Next::kWrite) StartWrite(&out_);
        if (next == Next::kWritesDone) StartWritesDone();
    }

    void OnWriteDone(bool ok) override {
        Next next = Next::kNothing;
        {
            std::lock_guard<std::mutex> lock(owner_->mu);
            writing_ = false;
            if (!ok) return;  // the stream is failing; OnDone reports it
            if (pending_.invocations_size() > 0) {
                next = PrepareWriteLocked();
            } else if (closing_ && !done_writing_) {
                done_writing_ = true;
                next = Next::kWritesDone;
            }
        }
        Start(next);
    }
    void OnReadDone(bool ok) override {
        if (!ok) {
            {
                std::lock_guard<std::mutex> lock(owner_->mu);
                if (owner_->stream == this) owner_->stream = nullptr;  // new calls open a new stream
            }
            if (state_.fetch_or(kDead) == 0) RemoveHold();  // no caller between EnterLocked and Leave
            return;
        }
        // One lock to take the batch's callbacks, one to say they ran.
        answered_.clear();
        {
            std::lock_guard<std::mutex> lock(owner_->mu);
            for (const auto& r : in_.responses()) {
                auto it = owner_->waiting.find(r.client_handle());
                if (it == owner_->waiting.end()) continue;
                answered_.emplace_back(std::move(it->second), &r);
                owner_->waiting.erase(it);
            }
            owner_->running_callbacks += answered_.size();
        }
        if (!answered_.empty()) {
            in_callback = true;
            for (auto& [cb, r] : answered_) cb(FromWire(*r));
            in_callback = false;
            const size_t n = answered_.size();
            answered_.clear();
            std::lock_guard<std::mutex> lock(owner_->mu);
            owner_->running_callbacks -= n;
            owner_->cv.notify_all();
        }
        in_.Clear();
        StartRead(&in_);
    }
    void OnDone(const grpc::Status& s) override {
        absl::flat_hash_map<uint64_t, std::function<void(Response)>> lost;
        {
            std::lock_guard<std::mutex> lock(owner_->mu);
            if (owner_->stream == this) owner_->stream = nullptr;
            // Calls sent on this stream without an answer: transport failure.
            for (uint64_t h : sent_) {
                auto it = owner_->waiting.find(h);
                if (it != owner_->waiting.end()) {
                    lost.emplace(h, std::move(it->second));
                    owner_->waiting.erase(it);
                }
            }
            for (const auto& inv : pending_.invocations()) {
                auto it = owner_->waiting.find(inv.client_handle());
                if (it != owner_->waiting.end()) {
                    lost.emplace(inv.client_handle(), std::move(it->second));
                    owner_->waiting.erase(it);
                }
            }
            owner_->running_callbacks += lost.size();
        }
        Response why = TransportFailure(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed") : s);
        owner_->Fail(std::move(lost), why);
        // Delete before telling the client: the ClientContext holds a channel reference, and the
        // channel's last reference must not drop on this gRPC thread (gRPC cannot shut a channel
        // down from its own callback thread; grpc/grpc#32584).
        Impl* owner = owner_;
        delete this;
        std::lock_guard<std::mutex> lock(owner->mu);
        --owner->streams_alive;
        owner->cv.notify_all();
    }

  private:
    Next PrepareWriteLocked() {
        out_.Clear();
        out_.Swap(&pending_);
        for (const auto& inv : out_.invocations()) sent_.push_back(inv.client_handle());
        if (sent_.size() > 4096) {  // forget handles already answered
            std::vector<uint64_t> still;
            for (uint64_t h : sent_) {
                if (owner_->waiting.count(h)) still.push_back(h);
            }
            sent_.swap(still);
        }
        writing_ = true;
        return Next::kWrite;
    }

    Impl* owner_;
    grpc::ClientContext ctx_;
    v1::InvocationBatch out_, pending_;
    v1::ResponseBatch in_;
    std::vector<std::pair<std::function<void(Response)>, const v1::Response*>> answered_;  // OnReadDone's
    std::vector<uint64_t> sent_;
    bool writing_ = false;
    bool closing_ = false;
    bool done_writing_ = false;
    // kDead once the read side has ended, plus kStarting per caller between EnterLocked and Leave.
    static constexpr uint64_t kDead = 1, kStarting = 2;
    std::atomic<uint64_t> state_{0};
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
    Drain();
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (impl_->stream) {
        Impl::Stream* stream = impl_->stream;
        impl_->stream = nullptr;
        stream->EnterLocked();
        auto next = stream->CloseLocked();
        lock.unlock();
        stream->Start(next);
        stream->Leave();
        lock.lock();
    }
    impl_->cv.wait(lock, [&] { return impl_->streams_alive == 0; });
}

std::unique_ptr<Client> Client::Connect(const std::string& address, std::string* error, Options options) {
    auto impl = std::make_unique<Impl>();
    impl->address = address;
    impl->options = options;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(64 << 20);
    // Each Client is its own connection (gRPC would otherwise share one between channels).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Reconnect promptly after the server comes back (gRPC's default backoff grows to 2 minutes).
    // (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also takes it as the minimum connect timeout,
    // and a short one fails every attempt on a loaded machine.)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    impl->channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    impl->stub = v1::Surge::NewStub(impl->channel);
    auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(options.connect_timeout_ms);
    if (!impl->channel->WaitForConnected(deadline)) {
        if (error) *error = "cannot connect to surged at " + address + " (is it running?)";
        return nullptr;
    }
    std::unique_ptr<Client> client(new Client(std::move(impl)));
    Response ping = client->Call("@Ping");
    if (!ping.ok()) {
        if (error) *error = "surged at " + address + " did not answer @Ping: " + ping.message;
        return nullptr;
    }
    return client;
}

const std::string& Client::address() const { return impl_->address; }

Response Client::Call(const std::string& procedure, const std::vector<Value>& params) {
    v1::Invocation inv;
    inv.set_procedure(procedure);
    for (const auto& p : params) Encode(p, inv.add_params());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(impl_->options.call_timeout_ms));
    v1::Response r;
    grpc::Status s = impl_->stub->Call(&ctx, inv, &r);
    if (!s.ok()) return TransportFailure(s);
    return FromWire(r);
}

void Client::CallAsync(const std::string& procedure, std::vector<Value> params, std::function<void(Response)> done) {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (!in_callback) {
        impl_->cv.wait(lock,
                       [&] { return impl_->waiting.size() < std::max<size_t>(1, impl_->options.max_outstanding); });
    }
    const uint64_t handle = impl_->next_handle++;
    impl_->waiting.emplace(handle, std::move(done));
    bool fresh = false;
    if (!impl_->stream) {
        impl_->stream = new Impl::Stream(impl_.get());
        ++impl_->streams_alive;
        fresh = true;
    }
    Impl::Stream* stream = impl_->stream;
    // Encoded in place, under the lock: the batch's messages are reused from the last write.
    v1::Invocation* inv = stream->AddLocked();
    inv->set_procedure(procedure);
    for (const auto& p : params) Encode(p, inv->add_params());
    if (impl_->options.async_timeout_ms > 0)
        inv->set_timeout_ms(static_cast<uint32_t>(impl_->options.async_timeout_ms));
    inv->set_client_handle(handle);
    auto next = stream->EnqueuedLocked();
    // Most calls join a batch whose write is in flight (its completion sends them) and do not
    // touch the stream once the lock is released: only a caller that starts something on it
    // takes a hold on its lifetime (an atomic step on a line the other callers share).
    if (!fresh && next == Impl::Stream::Next::kNothing) return;
    stream->EnterLocked();
    lock.unlock();
    if (fresh) stream->Begin();
    stream->Start(next);
    stream->Leave();
}

std::future<Response> Client::CallFuture(const std::string& procedure, std::vector<Value> params) {
    auto promise = std::make_shared<std::promise<Response>>();
    std::future<Response> f = promise->get_future();
    CallAsync(procedure, std::move(params), [promise](Response r) { promise->set_value(std::move(r)); });
    return f;
}

size_t Client::outstanding() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->waiting.size();
}

void Client::Drain() {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait(lock, [&] { return impl_->waiting.empty() && impl_->running_callbacks == 0; });
}

}  // namespace surge::client
