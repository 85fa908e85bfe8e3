// The gRPC service (callback API): unary Call and the bidirectional Stream of invocation batches.
// Handlers never block: an invocation is handed to the Database, and its completion (on a
// partition or coordinator thread) finishes the RPC or queues the response on the stream.
#pragma once

#include "server/database.h"
#include "surge/v1/surge.grpc.pb.h"

namespace surge::server {

class Service final : public v1::Surge::CallbackService {
  public:
    explicit Service(Database& db) : db_(db) {}

    grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context, const v1::Invocation* request,
                                   v1::Response* response) override;
    grpc::ServerBidiReactor<v1::InvocationBatch, v1::ResponseBatch>* Stream(
        grpc::CallbackServerContext* context) override;

  private:
    Database& db_;
};

}  // namespace surge::server
