// build-svc: builds clean, SHA-tagged images and records them in PostgreSQL.
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "build-svc/adapters/buildah_builder.h"
#include "build-svc/adapters/git_source_fetcher.h"
#include "build-svc/adapters/postgres_build_change_feed.h"
#include "build-svc/adapters/postgres_build_store.h"
#include "build-svc/adapters/registry_image_publisher.h"
#include "build-svc/adapters/registry_image_signer.h"
#include "build-svc/adapters/worker_directory.h"
#include "build-svc/build_metrics.h"
#include "build-svc/build_pipeline.h"
#include "build-svc/build_recovery.h"
#include "build-svc/build_service.h"
#include "build-svc/build_worker.h"
#include "common/image_ref.h"
#include "common/registry_options.h"
#include "common/service_main.h"
#include "common/status_macros.h"

namespace shapin::build {
namespace {

// "NAME=value" (validated by the configuration) → {NAME, value}.
std::vector<std::pair<std::string, std::string>> SplitBuildArgs(
    const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    out.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
  }
  return out;
}

// The signer when build.signing.key_file is set, else none. A key that
// cannot be read or is not an unencrypted P-256 key is a start-up error
// naming the key (never its contents).
absl::StatusOr<std::unique_ptr<ImageSigner>> SignerFromConfig(
    const BuildConfig& c, registry::RegistryClient& client) {
  if (c.signing_key_file.empty()) return std::unique_ptr<ImageSigner>();
  std::ifstream in(c.signing_key_file);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration key build.signing.key_file: cannot read ",
                     c.signing_key_file));
  }
  std::stringstream pem;
  pem << in.rdbuf();
  absl::StatusOr<signature::PrivateKey> key =
      signature::PrivateKey::FromPem(pem.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "configuration key build.signing.key_file: ", c.signing_key_file, ": ",
        key.status().message()));
  }
  return std::unique_ptr<ImageSigner>(new RegistryImageSigner(
      client, *std::move(key),
      {.builder_id = c.signing_builder_id, .temp_dir = ""}));
}

TagPolicyConfig Repositories(const Config& c) {
  return {.protected_branches = c.build.protected_branches,
          .canonical_repository = c.registry.canonical_repository,
          .staging_repository = c.registry.staging_repository};
}

// Each runner and its heartbeat use a connection at a time; two more for
// the gRPC edge (the waiters' threads and the unary reads). The change
// feed's LISTEN connection is outside the pool.
int MinPoolSize(int workers) { return 2 * workers + 2; }

// How long a claimed build stays a worker's without a renewal.
constexpr absl::Duration kBuildLease = absl::Seconds(30);

// Threads that read builds for waiting SubmitBuild/WatchBuild calls (each
// read is one short query; a call costs nothing while its build is quiet).
constexpr int kWaiterThreads = 2;

class BuildWiring : public ServiceWiring {
 public:
  static absl::StatusOr<std::unique_ptr<BuildWiring>> Create(
      ServiceContext& ctx) {
    const Config& c = ctx.config;
    if (c.database.pool_size < MinPoolSize(c.build.workers)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "configuration key database.pool_size: build-svc with "
          "build.workers=",
          c.build.workers, " needs at least ", MinPoolSize(c.build.workers),
          " connections, got ", c.database.pool_size));
    }
    SHAPIN_ASSIGN_OR_RETURN(
        registry::RegistryClientOptions registry_options,
        RegistryOptionsFromConfig(c.registry, /*read_only=*/false));
    // Base images may come from the same registries over plain HTTP when
    // those are loopback or listed as insecure.
    std::vector<std::string> insecure = c.registry.insecure_hosts;
    for (const std::string& repo :
         {c.registry.canonical_repository, c.registry.staging_repository}) {
      SHAPIN_ASSIGN_OR_RETURN(ImageRef ref, ImageRef::Parse(repo));
      insecure.push_back(ref.registry());
    }
    SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<registry::RegistryClient> client,
                            registry::RegistryClient::Create(registry_options));
    SHAPIN_ASSIGN_OR_RETURN(std::unique_ptr<ImageSigner> signer,
                            SignerFromConfig(c.build, *client));
    // This process works in its own locked directory; what dead processes
    // left beside it (builds, orphaned builders, storage) is recovered
    // before this one starts claiming.
    const std::string worker_id = DefaultWorkerId();
    SHAPIN_ASSIGN_OR_RETURN(
        WorkerDirectory work_dir,
        WorkerDirectory::Claim(c.build.work_dir, worker_id));
    PostgresBuildStore store(ctx.pool);
    RecoverDeadWorkers(store, c.build.work_dir, WorkerOptions{}.max_attempts);
    return std::unique_ptr<BuildWiring>(
        new BuildWiring(ctx, std::move(client), std::move(insecure),
                        std::move(work_dir), worker_id, std::move(signer)));
  }

  ~BuildWiring() override { worker_.Stop(); }

  std::vector<ServedService> services() override {
    return {{&service_, v1::BuildService::service_full_name()}};
  }

 private:
  BuildWiring(ServiceContext& ctx,
              std::unique_ptr<registry::RegistryClient> client,
              std::vector<std::string> insecure, WorkerDirectory work_dir,
              const std::string& worker_id, std::unique_ptr<ImageSigner> signer)
      : work_dir_(std::move(work_dir)),
        store_(ctx.pool),
        metrics_(ctx.metrics),
        client_(std::move(client)),
        publisher_(*client_),
        signer_(std::move(signer)),
        builder_(
            BuildahBuilder::Options{.storage_parent_dir = work_dir_.path()}),
        pipeline_(store_, fetcher_, builder_, publisher_, metrics_,
                  {.work_dir = work_dir_.path(),
                   .timeout = ctx.config.build.timeout,
                   .insecure_registries = std::move(insecure),
                   .build_args = SplitBuildArgs(ctx.config.build.build_args),
                   .lease = kBuildLease,
                   .signer = signer_.get(),
                   .sbom_path = ctx.config.build.sbom_path}),
        worker_(store_, pipeline_, metrics_,
                {.worker_id = worker_id,
                 .concurrency = ctx.config.build.workers,
                 .lease = kBuildLease}),
        adoption_(store_, publisher_, Repositories(ctx.config)),
        waiters_(kWaiterThreads),
        service_(
            store_,
            {.tags = Repositories(ctx.config),
             .allowed_source_schemes = ctx.config.build.allowed_source_schemes,
             .default_source_url = ctx.config.build.default_source_url},
            adoption_, waiters_, [this] { worker_.Nudge(); }),
        feed_(PostgresBuildChangeFeed::Start(
            ctx.config.database.url, {.on_change =
                                          [this](const BuildChange& change) {
                                            waiters_.OnBuildChanged(change);
                                            if (change.frees_work())
                                              worker_.Nudge();
                                          },
                                      .on_missed =
                                          [this] {
                                            waiters_.OnChangesMissed();
                                            worker_.Nudge();
                                          }})) {
    worker_.Start();
  }

  WorkerDirectory work_dir_;  // outlives every build using it
  PostgresBuildStore store_;
  BuildMetrics metrics_;
  std::unique_ptr<registry::RegistryClient> client_;
  RegistryImagePublisher publisher_;
  std::unique_ptr<ImageSigner> signer_;  // null: signing off
  GitSourceFetcher fetcher_;
  BuildahBuilder builder_;
  BuildPipeline pipeline_;
  BuildWorker worker_;
  ImageAdoption adoption_;
  BuildWaiters waiters_;  // outlives the server's last call
  BuildServiceImpl service_;
  // Last: stopped first, its handlers use the waiters and the worker.
  std::unique_ptr<PostgresBuildChangeFeed> feed_;
};

}  // namespace
}  // namespace shapin::build

int main(int argc, char** argv) {
  return shapin::RunServiceMain(
      shapin::Service::kBuild, "build-svc", argc, argv,
      [](shapin::ServiceContext& ctx)
          -> absl::StatusOr<std::unique_ptr<shapin::ServiceWiring>> {
        auto wiring = shapin::build::BuildWiring::Create(ctx);
        if (!wiring.ok()) return wiring.status();
        return std::unique_ptr<shapin::ServiceWiring>(std::move(*wiring));
      });
}
