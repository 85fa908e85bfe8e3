// The gRPC service (callback API): unary Call and the bidirectional Stream of invocation batches.
// Handlers never block: an invocation is handed to the Database, and its completion (on a
// partition or coordinator thread) finishes the RPC or queues the response on the stream.
#pragma once

#include <mutex>
#include <set>

#include "server/database.h"
#include "surge/v1/surge.grpc.pb.h"

namespace surge::server {

class StreamReactor;

// Both methods take raw bytes: a malformed request gets INVALID_ARGUMENT with a message (gRPC's
// own parsing answers UNIMPLEMENTED, which misleads), and a stream's answers are written as the
// bytes the threads that finished the calls serialized (ResponseSink).
class Service final
    : public v1::Surge::WithRawCallbackMethod_Call<v1::Surge::WithRawCallbackMethod_Stream<v1::Surge::Service>> {
  public:
    explicit Service(Database& db) : db_(db) {}
    /// After the server's Wait(). Takes the lock so that the streams' last Forget (on a gRPC
    /// thread, whose synchronization a TSan build cannot see inside libgrpc) happens before.
    ~Service() override {
        std::lock_guard<std::mutex> lock(mu_);
        streams_.clear();
    }

    grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
    grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(grpc::CallbackServerContext* context) override;

    /// Shutdown: every stream, open or opened from now on, ends (OK) as soon as the calls it
    /// carried are answered, instead of waiting for its client to close it.
    void CloseStreams();

  private:
    friend class StreamReactor;
    void Forget(StreamReactor* s);

    Database& db_;
    std::mutex mu_;
    std::set<StreamReactor*> streams_;
    bool closing_ = false;
};

}  // namespace surge::server
