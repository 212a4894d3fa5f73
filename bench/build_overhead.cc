// bench/build_overhead: the control plane's cost on top of the build itself.
// For each commit, build-svc end to end (SubmitBuild with wait: fetch, clean
// `buildah bud`, OCI layout, push by digest, verify, tag, record) next to the
// same `buildah bud` (same flags, same storage driver) + `buildah push` to
// the same registry run by hand on a checkout of the same commit. The two
// alternate which goes first; the ratio is median(build-svc) / median(hand).
//
//   set -a; . .stack/env; set +a
//   bench/build_overhead --repo=DIR --shas=SHA1,SHA2,… --label="sample app"
//       [--base-image=REGISTRY/shapin/busybox-base:1] [--rss-pid=PID]
//
// --rss-pid: build-svc's pid; its resident set (VmRSS in /proc/PID/status)
// is sampled every 20 ms during each build-svc build and the peak is
// reported (the high-water mark VmHWM too, which covers the whole process
// life).
//
// One run per SHA (each SHA is built once by build-svc: a new commit, a new
// tag). DIR is a work tree made by bench/make-bench-repo; build-svc fetches it
// as file://DIR. Needs BUILD_ADDR and REGISTRY; sends SHAPIN_TOKEN when set.
// Prints one line per run and a markdown row.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "common/subprocess.h"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::bench {
namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string repo;
  std::vector<std::string> shas;
  std::string label = "image";
  std::string base_image;
  int rss_pid = 0;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--repo=")) {
      f.repo = fs::absolute(std::string(a)).string();
    } else if (absl::ConsumePrefix(&a, "--shas=")) {
      f.shas = absl::StrSplit(a, ',', absl::SkipEmpty());
    } else if (absl::ConsumePrefix(&a, "--label=")) {
      f.label = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--base-image=")) {
      f.base_image = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--rss-pid=")) {
      if (!absl::SimpleAtoi(a, &f.rss_pid)) {
        std::fprintf(stderr, "bad --rss-pid\n");
        std::exit(2);
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (f.repo.empty() || f.shas.empty()) {
    std::fprintf(stderr, "--repo and --shas are required\n");
    std::exit(2);
  }
  return f;
}

SubprocessResult Run(std::vector<std::string> argv, const fs::path& home,
                     const std::string& what) {
  SubprocessOptions so;
  so.argv = std::move(argv);
  so.env_allow = {"PATH"};
  so.env = {{"HOME", (home / "home").string()},
            {"TMPDIR", (home / "tmp").string()},
            {"LC_ALL", "C"}};
  so.timeout = absl::Minutes(30);
  absl::StatusOr<SubprocessResult> r = RunSubprocess(so);
  CheckOk(r.status(), what);
  CheckOk(r->CheckSuccess(what), what);
  return *std::move(r);
}

// buildah bud + push by hand, as build-svc's builder runs them (clean build,
// vfs, chroot isolation, gzip), but straight to the registry.
double HandBuild(const Flags& flags, const std::string& sha,
                 const std::string& registry, int run) {
  fs::path work = fs::temp_directory_path() /
                  absl::StrCat("shapin-bench-hand-", ::getpid(), "-", run);
  fs::remove_all(work);
  fs::create_directories(work / "home");
  fs::create_directories(work / "tmp");
  const std::string ctx = (work / "ctx").string();
  Run({"git", "clone", "-q", "--no-checkout", flags.repo, ctx}, work, "clone");
  Run({"git", "-C", ctx, "checkout", "-q", "--detach", sha}, work, "checkout");
  SubprocessResult ct =
      Run({"git", "-C", ctx, "show", "-s", "--format=%ct", sha}, work, "show");
  const std::string commit_time(absl::StripAsciiWhitespace(ct.stdout_data));
  const std::vector<std::string> global = {
      "buildah", absl::StrCat("--root=", (work / "root").string()),
      absl::StrCat("--runroot=", (work / "run").string()),
      "--storage-driver=vfs"};
  auto with_global = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = global;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  const std::string tag = absl::StrCat(registry, "/bench/hand:", sha);

  absl::Time start = absl::Now();
  Run(with_global({"bud", "--isolation=chroot", "--platform=linux/amd64",
                   "--no-cache", "--layers=false", "--pull=always",
                   absl::StrCat("--timestamp=", commit_time),
                   "--identity-label=false", "--format=oci", "--rm",
                   "--force-rm", "--tls-verify=false",
                   absl::StrCat("--build-arg=BASE_IMAGE=", flags.base_image),
                   absl::StrCat("--build-arg=GIT_SHA=", sha), "-t", "hand",
                   "--file=Dockerfile", "--", ctx}),
      work, "buildah bud");
  Run(with_global({"push", "--tls-verify=false", "--compression-format", "gzip",
                   "hand", absl::StrCat("docker://", tag)}),
      work, "buildah push");
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  std::error_code ec;
  fs::remove_all(work, ec);
  return secs;
}

// A "VmRSS:"-style field of /proc/PID/status, in KiB; 0 when unreadable.
int64_t StatusKib(int pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (!absl::ConsumePrefix(&v, field)) continue;
    int64_t kib = 0;
    (void)absl::SimpleAtoi(
        absl::StripSuffix(absl::StripAsciiWhitespace(v), " kB"), &kib);
    return kib;
  }
  return 0;
}

// Samples VmRSS of a process on a thread until stopped; keeps the peak.
class RssSampler {
 public:
  explicit RssSampler(int pid) : pid_(pid) {
    if (pid_ <= 0) return;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        peak_ = std::max(peak_.load(), StatusKib(pid_, "VmRSS:"));
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
  }
  // Peak KiB seen.
  int64_t Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    return peak_.load();
  }
  ~RssSampler() { Stop(); }

 private:
  int pid_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{0};
  std::thread thread_;
};

double ServiceBuild(const Flags& flags, const std::string& sha,
                    int64_t* peak_rss_kib) {
  RssSampler rss(flags.rss_pid);
  BenchClient client(RequiredEnv("BUILD_ADDR"));
  auto stub = v1::BuildService::NewStub(client.channel());
  grpc::ClientContext ctx;
  client.Prepare(ctx, absl::Minutes(30));
  v1::SubmitBuildRequest req;
  req.set_git_sha(sha);
  req.set_branch("main");
  req.set_source_url(absl::StrCat("file://", flags.repo));
  req.set_wait(true);
  req.set_requested_by("bench");
  v1::Build resp;
  absl::Time start = absl::Now();
  CheckOk(stub->SubmitBuild(&ctx, req, &resp), "SubmitBuild");
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  *peak_rss_kib = rss.Stop();
  if (resp.state() != v1::BUILD_STATE_SUCCEEDED) {
    std::fprintf(stderr, "build %s of %s ended in state %d: %s %s\n",
                 resp.build_id().c_str(), sha.c_str(),
                 static_cast<int>(resp.state()), resp.error_code().c_str(),
                 resp.error_message().c_str());
    std::exit(1);
  }
  return secs;
}

// "9.1/7.6, 9.6/8.9 s": each run's build-svc / hand time.
std::string Runs(const std::vector<double>& service,
                 const std::vector<double>& hand) {
  std::string out;
  for (size_t i = 0; i < service.size(); ++i) {
    absl::StrAppendFormat(&out, "%s%.2f/%.2f", i == 0 ? "" : ", ", service[i],
                          hand[i]);
  }
  return out + " s";
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  const std::string registry = RequiredEnv("REGISTRY");
  if (flags.base_image.empty()) {
    flags.base_image = absl::StrCat(registry, "/shapin/busybox-base:1");
  }
  std::vector<double> service, hand;
  int64_t peak_rss_kib = 0;
  for (size_t i = 0; i < flags.shas.size(); ++i) {
    const std::string& sha = flags.shas[i];
    double s = 0, h = 0;
    int64_t rss_kib = 0;
    if (i % 2 == 0) {
      s = ServiceBuild(flags, sha, &rss_kib);
      h = HandBuild(flags, sha, registry, static_cast<int>(i));
    } else {
      h = HandBuild(flags, sha, registry, static_cast<int>(i));
      s = ServiceBuild(flags, sha, &rss_kib);
    }
    service.push_back(s);
    hand.push_back(h);
    peak_rss_kib = std::max(peak_rss_kib, rss_kib);
    std::fprintf(stderr,
                 "%s run %zu: build-svc %.2f s, by hand %.2f s, build-svc "
                 "peak RSS %.1f MiB (load %s)\n",
                 flags.label.c_str(), i + 1, s, h, rss_kib / 1024.0,
                 LoadAverage().c_str());
  }
  double ms = Median(service), mh = Median(hand);
  std::string rss;
  if (flags.rss_pid > 0) {
    rss = absl::StrFormat(
        "; build-svc peak RSS %.1f MiB during its builds (VmHWM %.1f MiB)",
        peak_rss_kib / 1024.0, StatusKib(flags.rss_pid, "VmHWM:") / 1024.0);
  }
  std::printf(
      "| %s: build-svc submit → SUCCEEDED / hand `buildah bud` + "
      "`buildah push` (median of %zu) | %.2f s / %.2f s = **%.3f** "
      "(runs %s)%s | %s |\n",
      flags.label.c_str(), flags.shas.size(), ms, mh, mh > 0 ? ms / mh : 0.0,
      Runs(service, hand).c_str(), rss.c_str(), LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
