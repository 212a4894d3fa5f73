// Conversion between build-svc domain records and shapin.v1 messages.
#ifndef SHAPIN_BUILD_SVC_BUILD_PROTO_H_
#define SHAPIN_BUILD_SVC_BUILD_PROTO_H_

#include "build-svc/build_record.h"
#include "shapin/v1/build.pb.h"

namespace shapin::build {

shapin::v1::Build ToProto(const BuildRecord& build);
shapin::v1::Image ToProto(const ImageRecord& image);
shapin::v1::RepositoryType ToProto(RepositoryType type);
// UNSPECIFIED means canonical (GetImage, AdoptImage).
RepositoryType FromProto(shapin::v1::RepositoryType type);

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_PROTO_H_
