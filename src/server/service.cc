// gRPC handlers (see service.h).
#include "server/service.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <memory>
#include <mutex>
#include <vector>

namespace surge::server {

// One client stream. Reads batches and hands each to the Database, which answers the calls in
// groups (possibly out of order: a partition's calls together); answers are written in batches,
// one write outstanding at a time. The stream finishes once the client has half-closed and every
// response is written.
class StreamReactor final : public grpc::ServerBidiReactor<v1::InvocationBatch, v1::ResponseBatch>,
                            public ResponseSink {
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
        db_.InvokeBatch(in_, this);
        in_.Clear();
        StartRead(&in_);
    }

    void OnWriteDone(bool ok) override {
        std::lock_guard<std::mutex> lock(mu_);
        writing_ = false;
        KeepSparesLocked();
        if (!ok) broken_ = true;  // the client went away: drop what is left
        if (!broken_ && !ready_.responses().empty()) {
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

    void Deliver(v1::ResponseBatch& responses) override {
        auto* list = responses.mutable_responses();
        const int n = list->size();
        std::unique_lock<std::mutex> lock(mu_);
        pending_ -= static_cast<size_t>(n);
        if (done_) {
            if (pending_ == 0) {
                lock.unlock();
                delete this;
            }
            return;
        }
        if (broken_) return MaybeFinishLocked();
        if (ready_.responses().empty()) {
            ready_.Swap(&responses);
        } else {
            // Moves the messages, not their contents (no arena: each is its own allocation).
            thread_local std::vector<v1::Response*> moved;
            moved.resize(static_cast<size_t>(n));
            list->ExtractSubrange(0, n, moved.data());
            for (v1::Response* r : moved) ready_.mutable_responses()->AddAllocated(r);
        }
        if (!writing_) {
            StartNextWriteLocked();
        } else {
            MaybeFinishLocked();
        }
    }

    void TakeSpares(size_t n, std::vector<v1::Response*>* out) override {
        const size_t first = out->size();
        {
            std::lock_guard<std::mutex> lock(mu_);
            while (n-- > 0 && !spares_.empty()) {
                out->push_back(spares_.back().release());
                spares_.pop_back();
            }
        }
        for (size_t i = first; i < out->size(); ++i) (*out)[i]->Clear();  // outside the lock
    }

  private:
    // Written responses are kept (up to kMaxSpares, and only small ones: a cleared message keeps
    // its nested messages' capacity) for the next reads' answers.
    static constexpr size_t kMaxSpares = 8192;
    void KeepSparesLocked() {
        auto* list = out_.mutable_responses();
        const int n = list->size();
        if (n == 0) return;
        thread_local std::vector<v1::Response*> written;
        written.resize(static_cast<size_t>(n));
        list->ExtractSubrange(0, n, written.data());
        for (v1::Response* r : written) {
            const bool small = r->results_size() == 0 || (r->results_size() == 1 && r->results(0).row_count() <= 16);
            if (small && spares_.size() < kMaxSpares) {
                spares_.emplace_back(r);
            } else {
                delete r;
            }
        }
    }

    void StartNextWriteLocked() {
        out_.Clear();
        out_.Swap(&ready_);
        writing_ = true;
        StartWrite(&out_);
    }

    void MaybeFinishLocked() {
        if (finished_ || writing_ || pending_ > 0 || !reads_done_) return;
        if (!ready_.responses().empty() && !broken_) return;
        finished_ = true;
        Finish(grpc::Status::OK);
    }

    Database& db_;
    Service& service_;
    v1::InvocationBatch in_;
    v1::ResponseBatch out_;
    std::mutex mu_;
    v1::ResponseBatch ready_;                            ///< answers waiting for the write under way
    std::vector<std::unique_ptr<v1::Response>> spares_;  ///< written responses, for reuse
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
