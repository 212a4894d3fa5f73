#include "bench/bench_client.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace shapin::bench {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::string(v);
}

std::string RequiredEnv(const char* name) {
  std::string v = EnvOr(name, "");
  if (v.empty()) {
    std::fprintf(stderr, "%s is not set (source the stack's env file)\n", name);
    std::exit(2);
  }
  return v;
}

BenchClient::BenchClient(const std::string& address, int channel_index)
    : token_(EnvOr("SHAPIN_TOKEN", "")) {
  grpc::ChannelArguments args;
  // Distinct arguments keep gRPC from sharing one subchannel between them.
  args.SetInt("shapin.bench.channel", channel_index);
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args);
}

void BenchClient::Prepare(grpc::ClientContext& ctx,
                          absl::Duration deadline) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!token_.empty()) {
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  }
}

void CheckOk(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: gRPC code %d: %s\n", what.c_str(),
               static_cast<int>(s.error_code()), s.error_message().c_str());
  std::exit(1);
}

void CheckOk(const absl::Status& s, const std::string& what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

}  // namespace shapin::bench
