// bench/preflight_latency: deploy-svc preflight latency on loopback —
// ResolveImage and Deploy(dry_run) for one signed image, sequential and with
// N concurrent clients (one thread and one channel each) — next to
// `skopeo inspect` of the same image in the same run.
//
//   set -a; . .stack/env; set +a
//   bench/preflight_latency --sha=<40 hex> --environment=local
//       [--sequential=200] [--clients=50] [--per-client=20] [--skopeo-runs=5]
//
// Needs DEPLOY_ADDR and CANONICAL_REPOSITORY (the stack's env file); sends
// SHAPIN_TOKEN as a bearer token when set. Fails when the image does not
// resolve as signed (signature_status "verified"), so the numbers are always
// those of the full verification path. Prints markdown rows.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "common/subprocess.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::string sha;
  std::string environment = "local";
  int sequential = 200;
  int clients = 50;
  int per_client = 20;
  int skopeo_runs = 5;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto str = [&](absl::string_view name, std::string* out) {
      std::string prefix = absl::StrCat("--", name, "=");
      if (!absl::StartsWith(a, prefix)) return false;
      *out = std::string(a.substr(prefix.size()));
      return true;
    };
    auto num = [&](absl::string_view name, int* out) {
      std::string v;
      if (!str(name, &v)) return false;
      if (!absl::SimpleAtoi(v, out) || *out <= 0) {
        std::fprintf(stderr, "bad value in %s\n", argv[i]);
        std::exit(2);
      }
      return true;
    };
    if (str("sha", &f.sha) || str("environment", &f.environment) ||
        num("sequential", &f.sequential) || num("clients", &f.clients) ||
        num("per-client", &f.per_client) ||
        num("skopeo-runs", &f.skopeo_runs)) {
      continue;
    }
    std::fprintf(stderr, "unknown flag %s\n", argv[i]);
    std::exit(2);
  }
  if (f.sha.size() != 40) {
    std::fprintf(stderr, "--sha=<40 hex> is required\n");
    std::exit(2);
  }
  return f;
}

// One preflight call; `which` is "resolve" or "dry_run".
grpc::Status Call(const BenchClient& client, v1::DeployService::Stub& stub,
                  const Flags& flags, const std::string& which) {
  grpc::ClientContext ctx;
  client.Prepare(ctx, absl::Seconds(30));
  if (which == "resolve") {
    v1::ResolveImageRequest req;
    req.set_image_sha(flags.sha);
    v1::ResolvedImage resp;
    return stub.ResolveImage(&ctx, req, &resp);
  }
  v1::DeployRequest req;
  req.set_environment(flags.environment);
  req.set_image_sha(flags.sha);
  req.set_dry_run(true);
  req.set_requested_by("bench");
  v1::Deployment resp;
  return stub.Deploy(&ctx, req, &resp);
}

LatencyStats Sequential(const std::string& addr, const Flags& flags,
                        const std::string& which) {
  BenchClient client(addr);
  auto stub = v1::DeployService::NewStub(client.channel());
  for (int i = 0; i < 5; ++i) {  // warm-up: connection, pools, caches
    CheckOk(Call(client, *stub, flags, which), which);
  }
  LatencyStats stats;
  for (int i = 0; i < flags.sequential; ++i) {
    absl::Time start = absl::Now();
    grpc::Status s = Call(client, *stub, flags, which);
    stats.Add(absl::Now() - start);
    CheckOk(s, which);
  }
  return stats;
}

// `flags.clients` threads, each with its own channel, all released at once.
LatencyStats Concurrent(const std::string& addr, const Flags& flags,
                        const std::string& which, double* calls_per_second,
                        int* failed, std::string* error) {
  std::vector<LatencyStats> per_thread(flags.clients);
  std::vector<int> errors(flags.clients, 0);
  std::vector<std::string> last_error(flags.clients);
  std::vector<std::unique_ptr<BenchClient>> clients;
  std::vector<std::unique_ptr<v1::DeployService::Stub>> stubs;
  for (int i = 0; i < flags.clients; ++i) {
    clients.push_back(std::make_unique<BenchClient>(addr, i + 1));
    stubs.push_back(v1::DeployService::NewStub(clients.back()->channel()));
    CheckOk(Call(*clients.back(), *stubs.back(), flags, which), which);
  }
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.clients; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < flags.per_client; ++i) {
        absl::Time s0 = absl::Now();
        grpc::Status s = Call(*clients[t], *stubs[t], flags, which);
        per_thread[t].Add(absl::Now() - s0);
        if (!s.ok()) {  // counted and reported, not fatal: see the summary
          ++errors[t];
          last_error[t] =
              absl::StrCat("code ", s.error_code(), ": ", s.error_message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  LatencyStats all;
  for (const LatencyStats& s : per_thread) all.Merge(s);
  *failed = 0;
  for (int t = 0; t < flags.clients; ++t) {
    *failed += errors[t];
    if (errors[t] > 0) *error = last_error[t];
  }
  *calls_per_second = static_cast<double>(all.count()) / secs;
  return all;
}

LatencyStats SkopeoInspect(const std::string& image, int runs) {
  LatencyStats stats;
  for (int i = 0; i < runs; ++i) {
    SubprocessOptions so;
    so.argv = {"skopeo", "inspect", "--tls-verify=false",
               absl::StrCat("docker://", image)};
    so.env_allow = {"HOME", "TMPDIR", "PATH"};
    so.timeout = absl::Minutes(1);
    absl::Time start = absl::Now();
    absl::StatusOr<SubprocessResult> r = RunSubprocess(so);
    stats.Add(absl::Now() - start);
    CheckOk(r.status(), "skopeo inspect");
    CheckOk(r->CheckSuccess("skopeo inspect"), "skopeo inspect");
  }
  return stats;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  const std::string addr = RequiredEnv("DEPLOY_ADDR");
  const std::string repo = RequiredEnv("CANONICAL_REPOSITORY");

  {  // The numbers only mean something for a verified image.
    BenchClient client(addr);
    auto stub = v1::DeployService::NewStub(client.channel());
    grpc::ClientContext ctx;
    client.Prepare(ctx, absl::Seconds(30));
    v1::ResolveImageRequest req;
    req.set_image_sha(flags.sha);
    v1::ResolvedImage resp;
    CheckOk(stub->ResolveImage(&ctx, req, &resp), "ResolveImage");
    if (resp.signature_status() != "verified") {
      std::fprintf(stderr,
                   "image %s resolves with signature_status=%s (%s), not "
                   "verified: configure deploy.signature.public_key_files\n",
                   resp.image_ref().c_str(), resp.signature_status().c_str(),
                   resp.signature_reason().c_str());
      return 1;
    }
    std::printf("image: %s (signature verified, digest_check %s)\n",
                resp.image_ref().c_str(), resp.digest_check().c_str());
  }

  std::printf("| metric | target | measured | load avg |\n|---|---|---|---|\n");
  for (const std::string which : {"resolve", "dry_run"}) {
    const std::string name =
        which == "resolve" ? "`ResolveImage`" : "`Deploy(dry_run)`";
    LatencyStats seq = Sequential(addr, flags, which);
    std::printf("| %s sequential | p95 ≤ 25 ms | %s | %s |\n", name.c_str(),
                seq.Summary().c_str(), LoadAverage().c_str());
    std::fflush(stdout);
    double rate = 0;
    int failed = 0;
    std::string error;
    LatencyStats conc = Concurrent(addr, flags, which, &rate, &failed, &error);
    const std::string failures =
        failed == 0 ? ""
                    : absl::StrCat(", **", failed, " of ", conc.count(),
                                   " failed** (last: ", error, ")");
    std::printf(
        "| %s, %d concurrent clients | p99 ≤ 100 ms | %s, %.0f calls/s%s "
        "| %s |\n",
        name.c_str(), flags.clients, conc.Summary().c_str(), rate,
        failures.c_str(), LoadAverage().c_str());
    std::fflush(stdout);
  }
  LatencyStats sk =
      SkopeoInspect(absl::StrCat(repo, ":", flags.sha), flags.skopeo_runs);
  std::printf(
      "| `skopeo inspect` of the same image (one process each) | "
      "baseline | %s | %s |\n",
      sk.Summary().c_str(), LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
