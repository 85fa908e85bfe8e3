// gRPC handlers (see service.h).
#include "server/service.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <memory>
#include <mutex>
#include <vector>

namespace surge::server {

// One client stream. Reads batches and hands each to the Database, which answers the calls in
// groups (possibly out of order: a partition's calls together), each group already serialized;
// the groups waiting are written as one message, one write outstanding at a time. The stream
// finishes once the client has half-closed and every response is written.
class StreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>, public ResponseSink {
  public:
    StreamReactor(Database& db, Service& service) : db_(db), service_(service) { StartRead(&in_); }

    /// Ends the stream once what it carried is answered (shutdown).
    void Close() {
        std::lock_guard<std::mutex> lock(mu_);
        reads_done_ = true;
        MaybeFinishLocked();
    }

    void OnReadDone(bool ok) override {
        const bool malformed =
            ok && !grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::InvocationBatch>(&in_, &batch_).ok();
        if (!ok || malformed) {
            std::lock_guard<std::mutex> lock(mu_);
            if (malformed) {  // none of it runs; the stream ends once the calls before it are answered
                end_status_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "malformed request: not a surge.v1.InvocationBatch message; the stream "
                                           "is closed after answering the calls before it");
            }
            reads_done_ = true;
            MaybeFinishLocked();
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finished_) return;  // closed for shutdown: the client fails these itself
            pending_ += static_cast<size_t>(batch_.invocations_size());
        }
        db_.InvokeBatch(batch_, this);
        batch_.Clear();
        StartRead(&in_);
    }

    void OnWriteDone(bool ok) override {
        std::lock_guard<std::mutex> lock(mu_);
        writing_ = false;
        out_.Clear();
        if (!ok) broken_ = true;  // the client went away: drop what is left
        if (!broken_ && !ready_.empty()) {
            StartNextWriteLocked();
        } else {
            MaybeFinishLocked();
        }
    }

    void OnDone() override {
        service_.Forget(this);
        std::unique_lock<std::mutex> lock(mu_);
        done_ = true;
        // Completions may still arrive for calls in flight; the last one deletes the reactor.
        if (pending_ == 0) {
            lock.unlock();
            delete this;
        }
    }

    void OnCancel() override {
        std::lock_guard<std::mutex> lock(mu_);
        broken_ = true;
    }

    void Deliver(std::string wire, size_t responses) override {
        // The slice owns the bytes (no copy); made outside the lock.
        auto* bytes = new std::string(std::move(wire));
        grpc::Slice slice(
            bytes->data(), bytes->size(), [](void* p) { delete static_cast<std::string*>(p); }, bytes);
        std::unique_lock<std::mutex> lock(mu_);
        pending_ -= responses;
        if (done_) {
            if (pending_ == 0) {
                lock.unlock();
                delete this;
            }
            return;
        }
        if (broken_) return MaybeFinishLocked();
        ready_.push_back(std::move(slice));
        if (!writing_) {
            StartNextWriteLocked();
        } else {
            MaybeFinishLocked();
        }
    }

  private:
    void StartNextWriteLocked() {
        grpc::ByteBuffer message(ready_.data(), ready_.size());
        out_.Swap(&message);
        ready_.clear();
        writing_ = true;
        StartWrite(&out_);
    }

    void MaybeFinishLocked() {
        if (finished_ || writing_ || pending_ > 0 || !reads_done_) return;
        if (!ready_.empty() && !broken_) return;
        finished_ = true;
        Finish(end_status_);
    }

    Database& db_;
    Service& service_;
    grpc::ByteBuffer in_;
    v1::InvocationBatch batch_;
    grpc::ByteBuffer out_;
    std::mutex mu_;
    std::vector<grpc::Slice> ready_;  ///< serialized answers waiting for the write under way
    grpc::Status end_status_;         ///< how the stream ends (OK unless the client sent garbage)
    size_t pending_ = 0;
    bool reads_done_ = false;
    bool writing_ = false;
    bool finished_ = false;
    bool broken_ = false;
    bool done_ = false;
};

grpc::ServerUnaryReactor* Service::Call(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    struct Exchange {
        v1::Invocation invocation;
        v1::Response response;
    };
    auto* x = new Exchange();
    grpc::ByteBuffer copy(*request);
    grpc::Status parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::Invocation>(&copy, &x->invocation);
    if (!parsed.ok()) {
        delete x;
        reactor->Finish(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed request: not a surge.v1.Invocation message"));
        return reactor;
    }
    db_.Invoke(x->invocation, &x->response, [reactor, response, x] {
        bool own = false;
        grpc::Status s = grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::Response>(x->response, response, &own);
        delete x;
        reactor->Finish(s);
    });
    return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Service::Stream(grpc::CallbackServerContext*) {
    auto* s = new StreamReactor(db_, *this);
    std::lock_guard<std::mutex> lock(mu_);
    streams_.insert(s);
    if (closing_) s->Close();
    return s;
}

void Service::CloseStreams() {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    for (StreamReactor* s : streams_) s->Close();
}

void Service::Forget(StreamReactor* s) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.erase(s);
}

}  // namespace surge::server
