// bench/history_scale: history RPC latency as the tables grow. Seeds builds,
// images and deployments straight into the real schema with SQL
// (generate_series) up to each scale, then times ListBuilds, ListDeployments
// (first page and a page deep in the history through its keyset token),
// ListRollbackTargets and GetCurrent through the running build-svc and
// deploy-svc, and EXPLAINs the store's queries to catch sequential scans.
//
//   set -a; . .stack/env; set +a
//   bench/history_scale [--scales=1000,10000,100000] [--samples=200]
//       [--environment=local]
//
// Each RPC gets --samples calls per scale, or as many as fit in 30 s (at
// least 20) when it is slow. Needs DATABASE_URL, BUILD_ADDR, DEPLOY_ADDR,
// CANONICAL_REPOSITORY; sends SHAPIN_TOKEN when set. Seeded rows are marked
// requested_by='bench-seed' and stay (run it against a throwaway stack). Run it
// after benchmarks that deploy to the same environment: the seeded history
// becomes its history. Prints markdown rows.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_client.h"
#include "bench/latency_stats.h"
#include "pqxx/pqxx"
#include "shapin/v1/build.grpc.pb.h"
#include "shapin/v1/deploy.grpc.pb.h"

namespace shapin::bench {
namespace {

struct Flags {
  std::vector<int> scales = {1000, 10000, 100000};
  int samples = 200;
  std::string environment = "local";
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--scales=")) {
      f.scales.clear();
      for (absl::string_view s : absl::StrSplit(a, ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(s, &n) || n <= 0) {
          std::fprintf(stderr, "bad scale %s\n", std::string(s).c_str());
          std::exit(2);
        }
        f.scales.push_back(n);
      }
    } else if (absl::ConsumePrefix(&a, "--samples=")) {
      if (!absl::SimpleAtoi(a, &f.samples) || f.samples <= 0) std::exit(2);
    } else if (absl::ConsumePrefix(&a, "--environment=")) {
      f.environment = std::string(a);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  return f;
}

// Rows with ids (from, to] of each table: one build per commit, its image in
// the canonical repository, and one deployment of it (every 5th a dry run,
// every 7th failed, some to a second environment) — roughly what a busy
// service accumulates.
void Seed(pqxx::connection& c, const std::string& repo,
          const std::string& environment, int from, int to) {
  pqxx::work tx(c);
  // 40 hex: md5 gives 32, a second md5 the other 8. The offset keeps seeded
  // SHAs apart from anything the other benchmarks built.
  const std::string sha = "md5('seed' || g) || left(md5('seed2' || g), 8)";
  const std::string digest = "'sha256:' || md5('d' || g) || md5('e' || g)";
  tx.exec_params0(
      absl::StrCat(
          "INSERT INTO builds (git_sha, branch, source_url, dockerfile,"
          " context, repository, repository_type, state, phase, outcome,"
          " digest, digest_verification, requested_by, created_at,"
          " started_at, finished_at, build_duration_seconds)"
          " SELECT ",
          sha,
          ","
          " CASE WHEN g % 10 = 0 THEN 'feature-' || (g % 97) ELSE 'main' END,"
          " 'file:///seed', 'Dockerfile', '.', $1, 'canonical', 'succeeded',"
          " 'done', 'published', ",
          digest,
          ", 'ok', 'bench-seed',"
          " now() - make_interval(secs => $3 - g),"
          " now() - make_interval(secs => $3 - g),"
          " now() - make_interval(secs => $3 - g), 1.0"
          " FROM generate_series($2::int + 1, $3::int) g"),
      repo, from, to);
  tx.exec_params0(
      absl::StrCat(
          "INSERT INTO images (repository, repository_type, git_sha, digest,"
          " size_bytes, branch, build_id, built_at, signature_status)"
          " SELECT b.repository, 'canonical', b.git_sha, b.digest, 1000000,"
          " b.branch, b.build_id, b.created_at, 'unverified'"
          " FROM builds b WHERE b.requested_by = 'bench-seed'"
          " AND b.build_id > (SELECT COALESCE(MAX(build_id), 0) FROM images"
          "   WHERE repository = $1)"
          " ORDER BY b.build_id"),
      repo);
  tx.exec_params0(
      absl::StrCat(
          "INSERT INTO deployments (environment, kind, image_sha, digest,"
          " image_ref, state, signature_status, signature_reason, target,"
          " target_ref, rendered_manifest, requested_by, dry_run, created_at,"
          " started_at, finished_at, duration_seconds)"
          " SELECT CASE WHEN g % 4 = 0 THEN 'bench-other' ELSE $1 END,"
          " 'deploy', ",
          sha, ", ", digest, ", $2 || ':' || ", sha, " || '@' || ", digest,
          ","
          " CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'succeeded' END,"
          " 'unverified', 'no_signature', 'local', 'seed-' || g,"
          " repeat('x', 400), 'bench-seed', g % 5 = 0,"
          " now() - make_interval(secs => $4 - g),"
          " now() - make_interval(secs => $4 - g),"
          " now() - make_interval(secs => $4 - g), 2.0"
          " FROM generate_series($3::int + 1, $4::int) g"),
      environment, repo, from, to);
  tx.commit();
  pqxx::nontransaction nt(c);
  nt.exec0("ANALYZE builds");
  nt.exec0("ANALYZE images");
  nt.exec0("ANALYZE deployments");
}

// The store queries (adapters/postgres_*_store.cc) with this run's values;
// returns the plan nodes that scan a table sequentially.
std::vector<std::string> SeqScans(pqxx::connection& c, const std::string& repo,
                                  const std::string& environment) {
  const std::map<std::string, std::string> queries = {
      {"ListBuilds",
       "SELECT build_id FROM builds WHERE build_id < 2147483647"
       " ORDER BY build_id DESC LIMIT 51"},
      {"ListBuilds(branch)",
       "SELECT build_id FROM builds WHERE branch = 'main'"
       " ORDER BY build_id DESC LIMIT 51"},
      {"ListDeployments",
       "SELECT deployment_id FROM deployments WHERE environment = $1"
       " ORDER BY deployment_id DESC LIMIT 51"},
      {"GetCurrent",
       "SELECT deployment_id FROM deployments WHERE environment = $1"
       " AND state = 'succeeded' AND NOT dry_run"
       " ORDER BY deployment_id DESC LIMIT 1"},
      {"ListRollbackTargets",
       "SELECT i.git_sha,"
       " (SELECT max(d.finished_at) FROM deployments d"
       "   WHERE d.environment = $1 AND d.image_sha = i.git_sha"
       "   AND d.state = 'succeeded' AND NOT d.dry_run)"
       " FROM images i WHERE i.repository = $2"
       " ORDER BY i.image_id DESC LIMIT 50"},
  };
  std::vector<std::string> found;
  pqxx::nontransaction tx(c);
  for (const auto& [name, sql] : queries) {
    // Each query binds the values it uses ($1 = environment, $2 = repo).
    const std::string explain = absl::StrCat("EXPLAIN ", sql);
    pqxx::result plan = absl::StrContains(sql, "$2")
                            ? tx.exec_params(explain, environment, repo)
                        : absl::StrContains(sql, "$1")
                            ? tx.exec_params(explain, environment)
                            : tx.exec(explain);
    for (const pqxx::row& row : plan) {
      std::string line = row[0].as<std::string>();
      if (absl::StrContains(line, "Seq Scan")) {
        found.push_back(absl::StrCat(name, ": ", line));
      }
    }
  }
  return found;
}

struct Rpcs {
  BenchClient build;
  BenchClient deploy;
  std::unique_ptr<v1::BuildService::Stub> builds;
  std::unique_ptr<v1::DeployService::Stub> deploys;
  std::string environment;
};

// Walks `pages` pages of ListDeployments and returns the token of the next.
std::string DeepDeploymentToken(Rpcs& r, int pages) {
  std::string token;
  for (int i = 0; i < pages; ++i) {
    grpc::ClientContext ctx;
    r.deploy.Prepare(ctx, absl::Seconds(30));
    v1::ListDeploymentsRequest req;
    req.set_environment(r.environment);
    req.set_page_token(token);
    v1::ListDeploymentsResponse resp;
    CheckOk(r.deploys->ListDeployments(&ctx, req, &resp), "ListDeployments");
    if (resp.next_page_token().empty()) break;
    token = resp.next_page_token();
  }
  return token;
}

grpc::Status CallRpc(Rpcs& r, const std::string& name,
                     const std::string& deep_token) {
  grpc::ClientContext ctx;
  if (name == "ListBuilds") {
    r.build.Prepare(ctx, absl::Seconds(30));
    v1::ListBuildsRequest req;
    v1::ListBuildsResponse resp;
    return r.builds->ListBuilds(&ctx, req, &resp);
  }
  r.deploy.Prepare(ctx, absl::Seconds(30));
  if (name == "ListDeployments" || name == "ListDeployments(page 20)") {
    v1::ListDeploymentsRequest req;
    req.set_environment(r.environment);
    if (name != "ListDeployments") req.set_page_token(deep_token);
    v1::ListDeploymentsResponse resp;
    return r.deploys->ListDeployments(&ctx, req, &resp);
  }
  if (name == "ListRollbackTargets") {
    v1::ListRollbackTargetsRequest req;
    req.set_environment(r.environment);
    v1::ListRollbackTargetsResponse resp;
    return r.deploys->ListRollbackTargets(&ctx, req, &resp);
  }
  v1::GetCurrentRequest req;
  req.set_environment(r.environment);
  v1::Deployment resp;
  return r.deploys->GetCurrent(&ctx, req, &resp);
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  const std::string repo_ref = RequiredEnv("CANONICAL_REPOSITORY");
  // images.repository holds the configured canonical repository verbatim.
  pqxx::connection db(RequiredEnv("DATABASE_URL"));
  Rpcs r{BenchClient(RequiredEnv("BUILD_ADDR")),
         BenchClient(RequiredEnv("DEPLOY_ADDR")), nullptr, nullptr,
         flags.environment};
  r.builds = v1::BuildService::NewStub(r.build.channel());
  r.deploys = v1::DeployService::NewStub(r.deploy.channel());

  const std::vector<std::string> rpcs = {"ListBuilds", "ListDeployments",
                                         "ListDeployments(page 20)",
                                         "ListRollbackTargets", "GetCurrent"};
  std::map<std::string, std::vector<double>> p95;  // per rpc, per scale
  int seeded = 0;
  std::printf(
      "| rows (builds = images = deployments) | RPC | latency | "
      "load avg |\n|---|---|---|---|\n");
  for (int scale : flags.scales) {
    if (scale > seeded) {
      absl::Time start = absl::Now();
      Seed(db, repo_ref, flags.environment, seeded, scale);
      std::fprintf(stderr, "seeded %d..%d in %.1f s\n", seeded, scale,
                   absl::ToDoubleSeconds(absl::Now() - start));
      seeded = scale;
    }
    const std::string deep = DeepDeploymentToken(r, 20);
    for (const std::string& rpc : rpcs) {
      for (int i = 0; i < 3; ++i) CheckOk(CallRpc(r, rpc, deep), rpc);
      LatencyStats stats;
      // A slow RPC gets fewer samples (at least 20) rather than hours.
      const absl::Time budget_end = absl::Now() + absl::Seconds(30);
      for (int i = 0; i < flags.samples; ++i) {
        if (i >= 20 && absl::Now() > budget_end) break;
        absl::Time start = absl::Now();
        grpc::Status s = CallRpc(r, rpc, deep);
        stats.Add(absl::Now() - start);
        CheckOk(s, rpc);
      }
      p95[rpc].push_back(stats.PercentileMs(95));
      std::printf("| %d | `%s` | %s | %s |\n", scale, rpc.c_str(),
                  stats.Summary().c_str(), LoadAverage().c_str());
      std::fflush(stdout);
    }
  }
  std::printf(
      "\n| RPC | target | p95 at each scale (ms) | largest / smallest |"
      "\n|---|---|---|---|\n");
  for (const std::string& rpc : rpcs) {
    const std::vector<double>& v = p95[rpc];
    std::vector<std::string> cells;
    for (size_t i = 0; i < v.size(); ++i) {
      cells.push_back(absl::StrFormat("%d: %.2f", flags.scales[i], v[i]));
    }
    std::printf("| `%s` | p95 ≤ 10 ms, flat | %s | %.2f× |\n", rpc.c_str(),
                absl::StrJoin(cells, ", ").c_str(),
                v.front() > 0 ? v.back() / v.front() : 0.0);
  }
  std::vector<std::string> scans = SeqScans(db, repo_ref, flags.environment);
  std::printf("\nEXPLAIN at %d rows: %s\n", seeded,
              scans.empty() ? "no sequential scans in the history queries"
                            : absl::StrJoin(scans, "; ").c_str());
  return 0;
}

}  // namespace
}  // namespace shapin::bench

int main(int argc, char** argv) { return shapin::bench::Main(argc, argv); }
