#include "cli/relative_time.h"

#include "google/protobuf/util/time_util.h"

namespace shapin::cli {

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(ts));
}

}  // namespace shapin::cli
