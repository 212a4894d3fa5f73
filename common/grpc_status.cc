#include "common/grpc_status.h"

#include <string>

#include "common/log.h"

namespace shapin {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numeric values by
  // design (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      Logger::Global().Redact(status.message()));
}

}  // namespace shapin
