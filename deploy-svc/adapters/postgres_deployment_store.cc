#include "deploy-svc/adapters/postgres_deployment_store.h"

#include "absl/strings/str_cat.h"
#include "common/postgres_rows.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace shapin::deploy {
namespace {

constexpr char kColumns[] =
    "deployment_id, environment, kind, image_sha, digest, image_ref,"
    " previous_sha, previous_digest, state, error_code, error_message,"
    " signature_status, signature_reason, provenance_status, target,"
    " target_ref, array_to_json(endpoints)::text, rendered_manifest,"
    " requested_by, reason, dry_run, extract(epoch from created_at),"
    " extract(epoch from started_at), extract(epoch from finished_at),"
    " duration_seconds";

// endpoints arrive as a JSON array (array_to_json), so text with any
// characters survives the trip.
std::vector<std::string> EndpointsFromJson(const std::string& json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  std::vector<std::string> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<DeploymentRecord> FromRow(const pqxx::row& row) {
  SHAPIN_ASSIGN_OR_RETURN(GitSha sha, ShaColumn(row, 3));
  DeploymentRecord d(sha);
  d.deployment_id = row[0].as<int64_t>();
  d.environment = row[1].as<std::string>();
  std::optional<DeploymentKind> kind = ParseDeploymentKind(TextColumn(row, 2));
  if (!kind) return CorruptColumn(row, 2);
  d.kind = *kind;
  SHAPIN_ASSIGN_OR_RETURN(d.digest, OptionalDigestColumn(row, 4));
  d.image_ref = TextColumn(row, 5);
  d.previous_sha = TextColumn(row, 6);
  d.previous_digest = TextColumn(row, 7);
  std::optional<DeploymentState> state =
      ParseDeploymentState(TextColumn(row, 8));
  if (!state) return CorruptColumn(row, 8);
  d.state = *state;
  d.error_code = TextColumn(row, 9);
  d.error_message = TextColumn(row, 10);
  d.signature_status = TextColumn(row, 11);
  d.signature_reason = TextColumn(row, 12);
  d.provenance_status = TextColumn(row, 13);
  d.target = TextColumn(row, 14);
  d.target_ref = TextColumn(row, 15);
  d.endpoints = EndpointsFromJson(TextColumn(row, 16));
  d.rendered_manifest = TextColumn(row, 17);
  d.requested_by = TextColumn(row, 18);
  d.reason = TextColumn(row, 19);
  d.dry_run = row[20].as<bool>();
  d.created_at = *OptionalTimeColumn(row, 21);
  d.started_at = OptionalTimeColumn(row, 22);
  d.finished_at = OptionalTimeColumn(row, 23);
  d.duration_seconds = OptionalDoubleColumn(row, 24);
  return d;
}

}  // namespace

absl::StatusOr<std::vector<DeploymentRecord>> PostgresDeploymentStore::Select(
    const std::string& where_sql,
    const std::vector<std::optional<std::string>>& params, int limit) {
  std::vector<DeploymentRecord> out;
  SHAPIN_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) -> absl::Status {
    pqxx::read_transaction tx(c);
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM deployments WHERE ", where_sql,
                     " ORDER BY deployment_id DESC LIMIT ", limit),
        pqxx::prepare::make_dynamic_params(params));
    for (const pqxx::row& row : rows) {
      SHAPIN_ASSIGN_OR_RETURN(DeploymentRecord d, FromRow(row));
      out.push_back(std::move(d));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Page<DeploymentRecord>> PostgresDeploymentStore::ListDeployments(
    const std::string& environment, const PageRequest& page) {
  std::vector<std::optional<std::string>> params = {
      environment.empty() ? std::nullopt : std::optional(environment),
      page.before_id ? std::optional(absl::StrCat(*page.before_id))
                     : std::nullopt};
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("($1::text IS NULL OR environment = $1)"
             " AND ($2::bigint IS NULL OR deployment_id < $2)",
             params, page.page_size + 1));
  Page<DeploymentRecord> result;
  for (DeploymentRecord& d : rows) {
    if (static_cast<int>(result.items.size()) == page.page_size) {
      result.next_before_id = result.items.back().deployment_id;
      break;
    }
    result.items.push_back(std::move(d));
  }
  return result;
}

absl::StatusOr<DeploymentRecord> PostgresDeploymentStore::GetDeployment(
    int64_t deployment_id) {
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("deployment_id = $1", {absl::StrCat(deployment_id)}, 1));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("deployment ", deployment_id, " not found"));
  }
  return std::move(rows.front());
}

absl::StatusOr<DeploymentRecord> PostgresDeploymentStore::GetCurrent(
    const std::string& environment) {
  SHAPIN_ASSIGN_OR_RETURN(
      std::vector<DeploymentRecord> rows,
      Select("environment = $1 AND state = 'succeeded' AND NOT dry_run",
             {environment}, 1));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "environment ", environment, " has no successful deployment yet"));
  }
  return std::move(rows.front());
}

}  // namespace shapin::deploy
