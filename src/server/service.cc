// gRPC handlers (see service.h).
#include "server/service.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <deque>
#include <memory>
#include <mutex>

namespace surge::server {

// One client stream. Reads batches; each invocation completes independently (possibly out of
// order); completed responses are written in batches, one write outstanding at a time. The
// stream finishes once the client has half-closed and every response is written.
class StreamReactor final : public grpc::ServerBidiReactor<v1::InvocationBatch, v1::ResponseBatch> {
  public:
    StreamReactor(Database& db, Service& service) : db_(db), service_(service) { StartRead(&in_); }

    /// Ends the stream once what it carried is answered (shutdown).
    void Close() {
        std::lock_guard<std::mutex> lock(mu_);
        reads_done_ = true;
        MaybeFinishLocked();
    }

    void OnReadDone(bool ok) override {
        if (!ok) {
            std::lock_guard<std::mutex> lock(mu_);
            reads_done_ = true;
            MaybeFinishLocked();
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finished_) return;  // closed for shutdown: the client fails these itself
            pending_ += static_cast<size_t>(in_.invocations_size());
        }
        for (const auto& inv : in_.invocations()) {
            auto holder = std::make_shared<v1::Response>();
            db_.Invoke(inv, holder.get(), [this, holder] { Completed(std::move(*holder)); });
        }
        in_.Clear();
        StartRead(&in_);
    }

    void OnWriteDone(bool ok) override {
        std::lock_guard<std::mutex> lock(mu_);
        writing_ = false;
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

  private:
    void Completed(v1::Response response) {
        std::unique_lock<std::mutex> lock(mu_);
        --pending_;
        if (done_) {
            if (pending_ == 0) {
                lock.unlock();
                delete this;
            }
            return;
        }
        if (!broken_) ready_.push_back(std::move(response));
        if (!writing_ && !broken_) {
            StartNextWriteLocked();
        } else {
            MaybeFinishLocked();
        }
    }

    void StartNextWriteLocked() {
        out_.Clear();
        for (auto& r : ready_) *out_.add_responses() = std::move(r);
        ready_.clear();
        writing_ = true;
        StartWrite(&out_);
    }

    void MaybeFinishLocked() {
        if (finished_ || writing_ || pending_ > 0 || !reads_done_) return;
        if (!ready_.empty() && !broken_) return;
        finished_ = true;
        Finish(grpc::Status::OK);
    }

    Database& db_;
    Service& service_;
    v1::InvocationBatch in_;
    v1::ResponseBatch out_;
    std::mutex mu_;
    std::deque<v1::Response> ready_;
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

grpc::ServerBidiReactor<v1::InvocationBatch, v1::ResponseBatch>* Service::Stream(grpc::CallbackServerContext*) {
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
