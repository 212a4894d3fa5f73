// The environment pages: the overview of every environment, one
// environment (what runs, the hold, the rollback form, the latest attempts)
// and its paginated history. Pure: HTML out of the records the store and
// pipeline return.
#ifndef SHAPIN_DEPLOY_SVC_CONSOLE_ENVIRONMENT_PAGES_H_
#define SHAPIN_DEPLOY_SVC_CONSOLE_ENVIRONMENT_PAGES_H_

#include <optional>
#include <string>
#include <vector>

#include "common/pagination.h"
#include "deploy-svc/console/page_layout.h"
#include "deploy-svc/deployment_record.h"
#include "deploy-svc/deployment_store.h"

namespace shapin::console {

// What the console knows about one environment.
struct EnvironmentStatus {
  std::string name;
  std::string target;  // local | akash-console | akash-cli
  // The newest successful deployment; unset when nothing ran yet.
  std::optional<deploy::DeploymentRecord> current = std::nullopt;
  // The newest attempt of any outcome (shown when it is not `current`).
  std::optional<deploy::DeploymentRecord> latest = std::nullopt;
  deploy::HoldRecord hold = {};
  // Set when the store could not answer for this environment.
  std::string error = "";
};

std::string RenderEnvironmentsPage(const PageContext& ctx,
                                   const std::vector<EnvironmentStatus>& envs);

struct EnvironmentView {
  EnvironmentStatus status;
  // From the rollback catalog (canonical images), newest first; the one
  // running now is left out.
  std::vector<deploy::RollbackCandidate> targets;
  std::vector<deploy::DeploymentRecord> recent;  // newest first
  bool more_history = false;
};

std::string RenderEnvironmentPage(const PageContext& ctx,
                                  const EnvironmentView& view);

// One page of history; `page` as ListDeployments returned it.
std::string RenderHistoryPage(const PageContext& ctx,
                              const std::string& environment,
                              const Page<deploy::DeploymentRecord>& page,
                              bool first_page);

}  // namespace shapin::console

#endif  // SHAPIN_DEPLOY_SVC_CONSOLE_ENVIRONMENT_PAGES_H_
