// bench/queue_throughput: how many small builds build-svc gets through per
// minute with its configured workers, and what the queue costs per build.
// Submits every SHA at once (no wait), polls until all have ended, then
// reads the server's own timestamps from the build records.
//
//   set -a; . .stack/env; set +a
//   bench/queue_throughput --repo=DIR --shas-file=FILE --workers=2
//
// FILE holds one SHA per line (bench/make-bench-repo's output); build-svc
// must run with build.workers equal to --workers (SHAPIN_BUILD_WORKERS).
// Scheduling overhead per build = (wall × workers − Σ(finished − started)) /
// builds: worker time spent outside any build (claiming, polling the queue,
// ramp-up and tail included). Needs BUILD_ADDR; sends SHAPIN_TOKEN when set.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::string repo;
  std::string shas_file;
  int workers = 2;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--repo=")) {
      f.repo = std::filesystem::absolute(std::string(a)).string();
    } else if (absl::ConsumePrefix(&a, "--shas-file=")) {
      f.shas_file = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--workers=")) {
      if (!absl::SimpleAtoi(a, &f.workers) || f.workers <= 0) std::exit(2);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (f.repo.empty() || f.shas_file.empty()) {
    std::fprintf(stderr, "--repo and --shas-file are required\n");
    std::exit(2);
  }
  return f;
}

bool Ended(v1::BuildState s) {
  return s == v1::BUILD_STATE_SUCCEEDED || s == v1::BUILD_STATE_FAILED ||
         s == v1::BUILD_STATE_CANCELED;
}

double Seconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + t.nanos() / 1e9;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  std::vector<std::string> shas;
  {
    std::ifstream in(flags.shas_file);
    for (std::string line; std::getline(in, line);) {
      if (line.size() == 40) shas.push_back(line);
    }
  }
  if (shas.empty()) {
    std::fprintf(stderr, "no SHAs in %s\n", flags.shas_file.c_str());
    return 2;
  }
  BenchClient client(RequiredEnv("BUILD_ADDR"));
  auto stub = v1::BuildService::NewStub(client.channel());

  absl::Time start = absl::Now();
  std::vector<std::string> ids;
  for (const std::string& sha : shas) {
    grpc::ClientContext ctx;
    client.Prepare(ctx, absl::Seconds(30));
    v1::SubmitBuildRequest req;
    req.set_git_sha(sha);
    req.set_branch("main");
    req.set_source_url(absl::StrCat("file://", flags.repo));
    req.set_requested_by("bench");
    v1::Build resp;
    CheckOk(stub->SubmitBuild(&ctx, req, &resp), "SubmitBuild");
    ids.push_back(resp.build_id());
  }
  double submit_secs = absl::ToDoubleSeconds(absl::Now() - start);

  std::vector<v1::Build> done(ids.size());
  size_t next = 0;  // builds end roughly in order: poll the oldest open one
  while (next < ids.size()) {
    grpc::ClientContext ctx;
    client.Prepare(ctx, absl::Seconds(30));
    v1::GetBuildRequest req;
    req.set_build_id(ids[next]);
    CheckOk(stub->GetBuild(&ctx, req, &done[next]), "GetBuild");
    if (Ended(done[next].state())) {
      ++next;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  int failed = 0;
  double first_created = 1e300, last_finished = 0, busy = 0, tool = 0;
  for (const v1::Build& b : done) {
    if (b.state() != v1::BUILD_STATE_SUCCEEDED) {
      ++failed;
      std::fprintf(stderr, "build %s: state %d %s %s\n", b.build_id().c_str(),
                   static_cast<int>(b.state()), b.error_code().c_str(),
                   b.error_message().c_str());
    }
    first_created = std::min(first_created, Seconds(b.created_at()));
    last_finished = std::max(last_finished, Seconds(b.finished_at()));
    busy += Seconds(b.finished_at()) - Seconds(b.started_at());
    tool += b.build_duration_seconds() + b.push_duration_seconds();
  }
  const double n = static_cast<double>(done.size());
  const double wall = last_finished - first_created;
  const double idle = (wall * flags.workers - busy) / n;
  std::printf(
      "| %zu builds through %d workers (%d failed) | %.1f builds/min "
      "(wall %.1f s, submitting took %.2f s) | %s |\n",
      done.size(), flags.workers, failed, n / wall * 60.0, wall, submit_secs,
      LoadAverage().c_str());
  std::printf(
      "| per build: started → finished | %.2f s mean (buildah + push as "
      "recorded by build-svc: %.2f s) | |\n",
      busy / n, tool / n);
  std::printf(
      "| scheduling overhead per build (worker time outside any "
      "build) | %.3f s | |\n",
      idle);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
