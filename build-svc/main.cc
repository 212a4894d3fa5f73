// build-svc: builds clean, SHA-tagged images and records them in PostgreSQL.
#include <memory>

#include "build-svc/adapters/postgres_build_store.h"
#include "build-svc/build_service.h"
#include "common/service_main.h"

namespace shapin::build {
namespace {

class BuildWiring : public ServiceWiring {
 public:
  explicit BuildWiring(ServiceContext& ctx)
      : store_(ctx.pool), service_(store_) {}
  std::vector<ServedService> services() override {
    return {{&service_, v1::BuildService::service_full_name()}};
  }

 private:
  PostgresBuildStore store_;
  BuildServiceImpl service_;
};

}  // namespace
}  // namespace shapin::build

int main(int argc, char** argv) {
  return shapin::RunServiceMain(
      shapin::Service::kBuild, "build-svc", argc, argv,
      [](shapin::ServiceContext& ctx)
          -> absl::StatusOr<std::unique_ptr<shapin::ServiceWiring>> {
        return std::make_unique<shapin::build::BuildWiring>(ctx);
      });
}
