// absl::Time ↔ google.protobuf.Timestamp at the gRPC edges.
#ifndef SHAPIN_COMMON_PROTO_TIME_H_
#define SHAPIN_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace shapin {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);

}  // namespace shapin

#endif  // SHAPIN_COMMON_PROTO_TIME_H_
