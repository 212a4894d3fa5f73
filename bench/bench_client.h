// Shared plumbing of the gRPC benchmarks: a channel to a stack address and
// a ClientContext that carries the bearer token when one is configured.
//
//   BenchClient build(EnvOr("BUILD_ADDR", "127.0.0.1:50051"));
//   auto stub = shapin::v1::BuildService::NewStub(build.channel());
//   grpc::ClientContext ctx;
//   build.Prepare(ctx, absl::Seconds(5));
//   grpc::Status s = stub->ListBuilds(&ctx, req, &resp);
//
// The token comes from SHAPIN_TOKEN (scripts/stack writes it to .stack/env
// once auth is enabled); without it calls go unauthenticated, which is what
// a stack without auth expects.
#ifndef SHAPIN_BENCH_BENCH_CLIENT_H_
#define SHAPIN_BENCH_BENCH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace shapin::bench {

// The environment variable `name`, or `fallback` when unset or empty.
std::string EnvOr(const char* name, const std::string& fallback);

// Exits with status 2 naming `name` when the variable is unset or empty.
std::string RequiredEnv(const char* name);

class BenchClient {
 public:
  // `address` is host:port, plaintext (the stack runs on loopback).
  // `channel_index` > 0 gives a distinct channel (own TCP connection), so
  // concurrent load generators do not all share one HTTP/2 connection.
  explicit BenchClient(const std::string& address, int channel_index = 0);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Deadline and, when SHAPIN_TOKEN is set, `authorization: Bearer …`.
  void Prepare(grpc::ClientContext& ctx, absl::Duration deadline) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
};

// Aborts the benchmark (exit 1) when `s` is not OK, naming `what`.
void CheckOk(const grpc::Status& s, const std::string& what);
void CheckOk(const absl::Status& s, const std::string& what);

}  // namespace shapin::bench

#endif  // SHAPIN_BENCH_BENCH_CLIENT_H_
