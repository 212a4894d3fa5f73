// Times of the API's messages for tables: RelativeTime and ShortDuration
// (common/human_time.h) and protobuf Timestamps as absl::Time.
//
//   RelativeTime(FromProto(build.created_at()), absl::Now())  // "3m ago"
#ifndef SHAPIN_CLI_RELATIVE_TIME_H_
#define SHAPIN_CLI_RELATIVE_TIME_H_

#include <string>

#include "absl/time/time.h"
#include "common/human_time.h"
#include "google/protobuf/timestamp.pb.h"

namespace shapin::cli {

using ::shapin::RelativeTime;
using ::shapin::ShortDuration;

// A protobuf Timestamp as absl::Time; an unset (zero) timestamp is
// absl::InfinitePast(), which RelativeTime prints as "-".
absl::Time FromProto(const google::protobuf::Timestamp& ts);

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_RELATIVE_TIME_H_
