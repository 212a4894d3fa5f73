#include "common/auth/call_auth.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/method_roles.h"
#include "common/auth/token_hash.h"
#include "common/log.h"
#include "grpcpp/security/auth_context.h"

namespace shapin::auth {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

constexpr absl::string_view kBearer = "bearer ";

// Outcomes attached to calls in flight, keyed by their ServerContext. The
// owner (the call's interceptor) is stored too, so a late erase of a finished
// call never removes the entry of a new call at a reused address.
class CallOutcomes {
 public:
  static CallOutcomes& Global() {
    static auto* outcomes = new CallOutcomes();
    return *outcomes;
  }

  void Put(const void* call, const void* owner,
           absl::StatusOr<Identity> outcome) {
    absl::MutexLock lock(&mu_);
    entries_.insert_or_assign(call, Entry{owner, std::move(outcome)});
  }

  void Erase(const void* call, const void* owner) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(call);
    if (it != entries_.end() && it->second.owner == owner) entries_.erase(it);
  }

  absl::StatusOr<Identity> Get(const void* call) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(call);
    if (it == entries_.end()) {
      return absl::UnauthenticatedError(
          "no authentication on this server (AuthInterceptorFactory missing)");
    }
    return it->second.outcome;
  }

 private:
  struct Entry {
    const void* owner;
    absl::StatusOr<Identity> outcome;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<const void*, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

CallCredentials CredentialsOf(
    std::multimap<grpc::string_ref, grpc::string_ref>* metadata,
    const grpc::ServerContextBase& context) {
  CallCredentials c;
  if (metadata != nullptr) {
    auto it = metadata->find("authorization");
    if (it != metadata->end()) {
      c.authorization = std::string(it->second.data(), it->second.size());
    }
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> cn =
        auth->FindPropertyValues("x509_common_name");
    if (!cn.empty()) {
      c.client_common_name = std::string(cn.front().data(), cn.front().size());
    }
  }
  return c;
}

class AuthInterceptor : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(grpc::experimental::ServerRpcInfo* info,
                  std::shared_ptr<const AuthPolicy> policy)
      : info_(info),
        call_(info->server_context()),
        policy_(std::move(policy)) {}

  // Runs while ServerRpcInfo is torn down: uses only its own copy of the key.
  ~AuthInterceptor() override { CallOutcomes::Global().Erase(call_, this); }

  void Intercept(InterceptorBatchMethods* methods) override {
    const absl::string_view method = info_->method();
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA) &&
        !IsOpenMethod(method)) {
      absl::StatusOr<Identity> outcome =
          AuthorizeCall(*policy_, method,
                        CredentialsOf(methods->GetRecvInitialMetadata(),
                                      *info_->server_context()));
      if (!outcome.ok()) {
        // absl and gRPC status codes are the same numbers.
        refused_ =
            grpc::Status(static_cast<grpc::StatusCode>(outcome.status().code()),
                         std::string(outcome.status().message()));
      }
      CallOutcomes::Global().Put(call_, this, std::move(outcome));
    }
    // A handler that skipped AuthorizedCaller: its reply is replaced by an
    // empty message (it goes out in the same batch as the status) and its
    // status by the refusal.
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE) &&
        refused_) {
      grpc::ByteBuffer* reply = methods->GetSerializedSendMessage();
      if (reply != nullptr) reply->Clear();
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        refused_) {
      const grpc::Status sent = methods->GetSendStatus();
      if (sent.error_code() != refused_->error_code()) {
        LogError("auth_check_missing",
                 {{"method", method},
                  {"handler_code", static_cast<int>(sent.error_code())}});
        methods->ModifySendStatus(*refused_);
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  const grpc::ServerContextBase* call_;
  std::shared_ptr<const AuthPolicy> policy_;
  std::optional<grpc::Status> refused_;
};

}  // namespace

absl::StatusOr<Identity> Authenticate(const AuthPolicy& policy,
                                      const CallCredentials& credentials) {
  if (credentials.authorization) {
    const std::string& value = *credentials.authorization;
    if (value.size() <= kBearer.size() ||
        !absl::StartsWithIgnoreCase(value, kBearer)) {
      return absl::UnauthenticatedError(
          "authorization metadata: expected \"Bearer\" and a token");
    }
    absl::string_view token = absl::StripAsciiWhitespace(
        absl::string_view(value).substr(kBearer.size()));
    return AuthenticateTokenSha256(policy, TokenSha256Hex(token));
  }
  if (credentials.client_common_name) {
    std::optional<Identity> who =
        policy.identities.FindByCommonName(*credentials.client_common_name);
    if (!who) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate CN \"",
                       credentials.client_common_name->substr(0, 256),
                       "\" is not mapped to an identity (auth.tokens_file "
                       "client_certificates)"));
    }
    return *who;
  }
  if (!policy.required) return Identity{"anonymous", RoleSet::All()};
  return absl::UnauthenticatedError(
      "no credentials: send the metadata \"authorization\" with "
      "\"Bearer\" and a token");
}

absl::StatusOr<Identity> AuthenticateTokenSha256(const AuthPolicy& policy,
                                                 absl::string_view sha256_hex) {
  std::optional<Identity> who = policy.identities.FindByTokenSha256(sha256_hex);
  if (policy.database_tokens != nullptr) {
    // Both sets are always searched: the time taken does not tell which
    // one holds the token.
    std::optional<Identity> stored =
        policy.database_tokens->FindByTokenSha256(sha256_hex);
    if (!who) who = std::move(stored);
  }
  if (!who) {
    return absl::UnauthenticatedError(
        "authorization metadata: unknown token (see auth.tokens_file and "
        "shapin-tokens list)");
  }
  return *who;
}

absl::Status RequireRole(const Identity& caller, Role role,
                         absl::string_view what) {
  if (caller.roles.Has(role)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller \"", caller.name, "\" lacks role ", RoleName(role),
                   " (needed for ", what, ")"));
}

absl::StatusOr<Identity> AuthorizeCall(const AuthPolicy& policy,
                                       absl::string_view full_method,
                                       const CallCredentials& credentials) {
  absl::StatusOr<Identity> caller = Authenticate(policy, credentials);
  if (!caller.ok() || IsOpenMethod(full_method)) return caller;
  std::optional<Role> role = RequiredRole(full_method);
  if (!role) {
    return absl::PermissionDeniedError(
        absl::StrCat(full_method, " has no authorization rule"));
  }
  absl::string_view name = full_method;
  name.remove_prefix(std::min(name.rfind('/') + 1, name.size()));
  if (absl::Status s = RequireRole(*caller, *role, name); !s.ok()) return s;
  return caller;
}

absl::StatusOr<Identity> AuthorizedCaller(
    const grpc::ServerContextBase* context) {
  return CallOutcomes::Global().Get(context);
}

grpc::experimental::Interceptor*
AuthInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new AuthInterceptor(info, policy_);
}

}  // namespace shapin::auth
