#include "common/proto_time.h"

namespace shapin {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t) {
  const int64_t micros = absl::ToUnixMicros(t);
  google::protobuf::Timestamp ts;
  // Floor division so that times before 1970 keep nanos in [0, 1e9).
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rest * 1000));
  return ts;
}

}  // namespace shapin
