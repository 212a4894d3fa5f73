// ServiceProcess: a real build-svc or deploy-svc binary running as a child
// of a fault test, with a generated config, so the test can SIGKILL it like
// a crash and start it again.
//
// The service runs in its own process group with stdout/stderr appended to
// a log file (shown by LogTail() when a test fails). Kill() sends SIGKILL to
// the service alone, as a crash would: the builder processes it started
// survive as orphans, which is what recovery must deal with. The destructor
// (and Stop()) sends SIGTERM to the whole group, then SIGKILL, so a test
// never leaves processes behind even when the product fails to.
//
//   SHAPIN_ASSIGN_OR_RETURN(auto svc, ServiceProcess::Start({
//       .binary = SHAPIN_BUILD_SVC_BINARY, .config_path = yaml,
//       .log_path = log, .grpc_address = "127.0.0.1:12345"}));
//   BuildService::NewStub(svc->channel())->GetBuild(…);
//   svc->Kill();
#ifndef SHAPIN_TESTS_FAULTS_SERVICE_PROCESS_H_
#define SHAPIN_TESTS_FAULTS_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace shapin::faults {

struct ServiceProcessOptions {
  std::string binary = "";
  std::string config_path = "";
  std::string log_path = "";
  std::string grpc_address = "";  // host:port from the config
  absl::Duration ready_timeout = absl::Seconds(60);
};

class ServiceProcess {
 public:
  // Starts the binary and waits until its gRPC port accepts connections.
  // UNAVAILABLE with the log's tail when it exits or is not ready in time.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      ServiceProcessOptions options);
  ~ServiceProcess();

  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // SIGKILL to the service process only; waits until it is gone.
  void Kill();
  // SIGTERM to the group, SIGKILL after `grace`; waits.
  void Stop(absl::Duration grace = absl::Seconds(15));
  bool Exited();
  // The last `lines` lines of the service's log.
  std::string LogTail(int lines = 40) const;

 private:
  explicit ServiceProcess(ServiceProcessOptions options)
      : options_(std::move(options)) {}
  absl::Status Spawn();

  ServiceProcessOptions options_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace shapin::faults

#endif  // SHAPIN_TESTS_FAULTS_SERVICE_PROCESS_H_
