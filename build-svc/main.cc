// build-svc: builds clean, SHA-tagged images and records them in PostgreSQL.
#include <memory>

#include "absl/strings/str_cat.h"
#include "build-svc/adapters/buildah_builder.h"
#include "build-svc/adapters/git_source_fetcher.h"
#include "build-svc/adapters/postgres_build_store.h"
#include "build-svc/adapters/registry_image_publisher.h"
#include "build-svc/build_metrics.h"
#include "build-svc/build_pipeline.h"
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

// A publish lock holds a connection while the pipeline uses another.
int MinPoolSize(int workers) { return 2 * workers + 2; }

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
    return std::unique_ptr<BuildWiring>(
        new BuildWiring(ctx, std::move(client), std::move(insecure)));
  }

  ~BuildWiring() override { worker_.Stop(); }

  std::vector<ServedService> services() override {
    return {{&service_, v1::BuildService::service_full_name()}};
  }

 private:
  BuildWiring(ServiceContext& ctx,
              std::unique_ptr<registry::RegistryClient> client,
              std::vector<std::string> insecure)
      : store_(ctx.pool),
        metrics_(ctx.metrics),
        client_(std::move(client)),
        publisher_(*client_),
        builder_(BuildahBuilder::Options{.storage_parent_dir =
                                             ctx.config.build.work_dir}),
        pipeline_(store_, fetcher_, builder_, publisher_, metrics_,
                  {.work_dir = ctx.config.build.work_dir,
                   .timeout = ctx.config.build.timeout,
                   .insecure_registries = std::move(insecure),
                   .build_args = SplitBuildArgs(ctx.config.build.build_args)}),
        worker_(store_, pipeline_, metrics_,
                {.concurrency = ctx.config.build.workers}),
        service_(
            store_,
            {.tags = {.protected_branches = ctx.config.build.protected_branches,
                      .canonical_repository =
                          ctx.config.registry.canonical_repository,
                      .staging_repository =
                          ctx.config.registry.staging_repository},
             .allowed_source_schemes = ctx.config.build.allowed_source_schemes,
             .default_source_url = ctx.config.build.default_source_url},
            [this] { worker_.Nudge(); }) {
    worker_.Start();
  }

  PostgresBuildStore store_;
  BuildMetrics metrics_;
  std::unique_ptr<registry::RegistryClient> client_;
  RegistryImagePublisher publisher_;
  GitSourceFetcher fetcher_;
  BuildahBuilder builder_;
  BuildPipeline pipeline_;
  BuildWorker worker_;
  BuildServiceImpl service_;
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
