// bench/waiting_callers: many CI jobs waiting on their builds at once.
//
// --callers jobs each submit one of the SHAs (round-robin, so several wait
// on builds of one commit: the first publishes, the others reuse it) and
// wait until the build ends: most with SubmitBuild(wait), --watchers of
// them with SubmitBuild then WatchBuild to the end (`shapin build submit
// --watch`). All are sent at once and waited on concurrently, from one
// thread per caller over --callers/50 channels.
//
//   set -a; . .stack/env; set +a
//   bench/waiting_callers --repo=DIR --shas-file=FILE --callers=500
//     --watchers=100 --build-pid=$(cat .stack/pids/build-svc.pid)
//
// Prints markdown rows (| metric | measured | load avg |): wall time and
// failures by status code; builds requeued or abandoned meanwhile (lease
// expiries, from `events`); the most build-svc threads and database
// sessions seen (sampled every 0.5 s); database transactions
// (pg_stat_database commits + rollbacks, the sampler's own subtracted) in
// all, per second and per caller — read 11 s after the last caller
// returned, since PostgreSQL reports an idle session's counts up to 10 s
// late; build-svc CPU per caller. Needs BUILD_ADDR and DATABASE_URL; sends
// SHAPIN_TOKEN when set. Exit 1 when a caller failed.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "pqxx/pqxx"
#include "shapin/v1/build.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::string repo;
  std::string shas_file;
  int callers = 500;
  int watchers = 100;
  pid_t build_pid = 0;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    int n = 0;
    if (absl::ConsumePrefix(&a, "--repo=")) {
      f.repo = std::filesystem::absolute(std::string(a)).string();
    } else if (absl::ConsumePrefix(&a, "--shas-file=")) {
      f.shas_file = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--callers=") &&
               absl::SimpleAtoi(a, &n) && n > 0) {
      f.callers = n;
    } else if (absl::ConsumePrefix(&a, "--watchers=") &&
               absl::SimpleAtoi(a, &n) && n >= 0) {
      f.watchers = n;
    } else if (absl::ConsumePrefix(&a, "--build-pid=") &&
               absl::SimpleAtoi(a, &n) && n > 0) {
      f.build_pid = n;
    } else {
      std::fprintf(stderr, "bad flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (f.repo.empty() || f.shas_file.empty() || f.build_pid == 0) {
    std::fprintf(stderr, "--repo, --shas-file and --build-pid are required\n");
    std::exit(2);
  }
  f.watchers = std::min(f.watchers, f.callers);
  return f;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

int Threads(pid_t pid) {
  for (absl::string_view line :
       absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/status")), '\n')) {
    int n = 0;
    if (absl::ConsumePrefix(&line, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) {
      return n;
    }
  }
  return 0;
}

// utime + stime of `pid`, in seconds.
double CpuSeconds(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> f =
      absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
  double utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &utime) ||
      !absl::SimpleAtod(f[12], &stime)) {
    return 0;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t Scalar(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

constexpr char kTransactionsSql[] =
    "SELECT xact_commit + xact_rollback FROM pg_stat_database"
    " WHERE datname = current_database()";
constexpr char kLeaseEventsSql[] =
    "SELECT count(*) FROM events"
    " WHERE kind IN ('build_requeued', 'build_abandoned')";
constexpr char kSessionsSql[] =
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()";

bool Ended(v1::BuildState s) {
  return s == v1::BUILD_STATE_SUCCEEDED || s == v1::BUILD_STATE_FAILED ||
         s == v1::BUILD_STATE_CANCELED;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::vector<std::string> shas;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(flags.shas_file), '\n', absl::SkipEmpty())) {
    if (line.size() == 40) shas.emplace_back(line);
  }
  if (shas.empty()) {
    std::fprintf(stderr, "no SHAs in %s\n", flags.shas_file.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<BenchClient>> channels;
  for (int i = 0; i < (flags.callers + 49) / 50; ++i) {
    channels.push_back(
        std::make_unique<BenchClient>(RequiredEnv("BUILD_ADDR"), i + 1));
  }
  pqxx::connection db(RequiredEnv("DATABASE_URL"));
  const int64_t transactions_before = Scalar(db, kTransactionsSql);
  const int64_t lease_events_before = Scalar(db, kLeaseEventsSql);
  const double cpu_before = CpuSeconds(flags.build_pid);
  const int idle_threads = Threads(flags.build_pid);

  // The sampler: most threads and sessions while the callers wait.
  std::atomic<bool> done{false};
  std::atomic<int> max_threads{idle_threads}, max_sessions{0};
  int64_t sampler_queries = 0;
  std::thread sampler([&] {
    pqxx::connection c(RequiredEnv("DATABASE_URL"));
    while (!done.load()) {
      max_threads = std::max(max_threads.load(), Threads(flags.build_pid));
      max_sessions = std::max<int>(max_sessions.load(),
                                   static_cast<int>(Scalar(c, kSessionsSql)));
      ++sampler_queries;
      absl::SleepFor(absl::Milliseconds(500));
    }
  });

  absl::Mutex mu;
  std::map<std::string, int> failures;  // by status code or build state
  LatencyStats waited;
  const absl::Time start = absl::Now();
  std::vector<std::thread> callers;
  for (int i = 0; i < flags.callers; ++i) {
    callers.emplace_back([&, i] {
      const BenchClient& client = *channels[i % channels.size()];
      auto stub = v1::BuildService::NewStub(client.channel());
      const bool watch = i < flags.watchers;
      const absl::Time began = absl::Now();
      v1::SubmitBuildRequest req;
      req.set_git_sha(shas[i % shas.size()]);
      req.set_branch("main");
      req.set_source_url(absl::StrCat("file://", flags.repo));
      req.set_requested_by("bench");
      req.set_wait(!watch);
      v1::Build build;
      grpc::Status s;
      {
        grpc::ClientContext ctx;
        client.Prepare(ctx, absl::Minutes(30));
        s = stub->SubmitBuild(&ctx, req, &build);
      }
      if (s.ok() && watch) {
        grpc::ClientContext ctx;
        client.Prepare(ctx, absl::Minutes(30));
        v1::WatchBuildRequest w;
        w.set_build_id(build.build_id());
        auto stream = stub->WatchBuild(&ctx, w);
        v1::BuildEvent event;
        while (stream->Read(&event)) build = event.build();
        s = stream->Finish();
      }
      absl::MutexLock lock(&mu);
      waited.Add(absl::Now() - began);
      if (!s.ok()) {
        ++failures[absl::StrCat("status ", s.error_code(), " ",
                                s.error_message().substr(0, 60))];
      } else if (!Ended(build.state()) ||
                 build.state() != v1::BUILD_STATE_SUCCEEDED) {
        ++failures[absl::StrCat("build ", v1::BuildState_Name(build.state()),
                                " ", build.error_code())];
      }
    });
  }
  for (std::thread& t : callers) t.join();
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = CpuSeconds(flags.build_pid) - cpu_before;
  done = true;
  sampler.join();
  // Idle sessions report their counts up to 10 s late.
  absl::SleepFor(absl::Seconds(11));
  const int64_t transactions =
      Scalar(db, kTransactionsSql) - transactions_before - sampler_queries - 2;
  const int64_t lease_events =
      Scalar(db, kLeaseEventsSql) - lease_events_before;

  int failed = 0;
  for (const auto& [what, n] : failures) {
    failed += n;
    std::fprintf(stderr, "failed: %d × %s\n", n, what.c_str());
  }
  const std::string load = LoadAverage();
  const double n = static_cast<double>(flags.callers);
  std::printf(
      "| %d callers (%d SubmitBuild wait, %d submit + WatchBuild) on %zu "
      "commits | all answered in %.1f s; %d failed | %s |\n",
      flags.callers, flags.callers - flags.watchers, flags.watchers,
      shas.size(), wall, failed, load.c_str());
  std::printf("| time a caller waited | p50 %.1f s, p95 %.1f s | |\n",
              waited.PercentileMs(50) / 1000, waited.PercentileMs(95) / 1000);
  std::printf("| builds requeued or abandoned (lease expiries) | %lld | |\n",
              static_cast<long long>(lease_events));
  std::printf(
      "| build-svc threads | %d idle, at most %d with the callers waiting | "
      "|\n",
      idle_threads, max_threads.load());
  std::printf(
      "| database sessions (both services, pools and change feed) | at most %d "
      "| |\n",
      max_sessions.load());
  std::printf(
      "| database transactions | %lld in all: %.0f/s, %.1f per caller | |\n",
      static_cast<long long>(transactions), transactions / wall,
      transactions / n);
  std::printf("| build-svc CPU | %.2f s: %.1f ms per caller | |\n", cpu,
              cpu * 1000 / n);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
