// Conversion of deploy-svc domain records to shapin.v1 messages.
#ifndef SHAPIN_DEPLOY_SVC_DEPLOY_PROTO_H_
#define SHAPIN_DEPLOY_SVC_DEPLOY_PROTO_H_

#include "deploy-svc/deployment_record.h"
#include "shapin/v1/deploy.pb.h"

namespace shapin::deploy {

shapin::v1::Deployment ToProto(const DeploymentRecord& deployment);

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_DEPLOY_PROTO_H_
