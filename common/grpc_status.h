// The one mapping from absl::Status to grpc::Status, used at the gRPC edge.
//
// Codes map 1:1 (absl's codes are gRPC's); handlers never invent codes. The
// message passes through the logger's redaction so that no registered secret
// reaches a caller.
//
//   absl::StatusOr<Build> build = service_.Get(id);
//   if (!build.ok()) return ToGrpcStatus(build.status());
#ifndef SHAPIN_COMMON_GRPC_STATUS_H_
#define SHAPIN_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace shapin {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace shapin

#endif  // SHAPIN_COMMON_GRPC_STATUS_H_
