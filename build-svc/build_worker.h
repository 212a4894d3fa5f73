// BuildWorker: the threads of one build-svc process that take builds from
// the shared queue and run them.
//
// `concurrency` runner threads each claim a build (BuildStore::Claim), run
// it (BuildPipeline) and record the result (BuildStore::Finish). An idle
// runner sleeps until Nudge() — called when a build is queued or one ends,
// in any process (the change feed, build_change.h) — with a slow poll as a
// safety net, so an idle worker sends almost no queries. While a build
// runs, a heartbeat renews its lease about every second, stores new log
// lines, and notices a cancel request or a lost lease. One runner also
// reaps builds whose workers died (their leases ran out) every
// `reap_interval`: they are requeued, or failed after `max_attempts`
// claims.
//
//   BuildWorker worker(store, pipeline, metrics, {.worker_id = "host-123"});
//   worker.Start();
//   …
//   worker.Stop();  // running builds are stopped and left to be requeued
#ifndef SHAPIN_BUILD_SVC_BUILD_WORKER_H_
#define SHAPIN_BUILD_SVC_BUILD_WORKER_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "build-svc/build_metrics.h"
#include "build-svc/build_pipeline.h"
#include "build-svc/build_store.h"

namespace shapin::build {

struct WorkerOptions {
  // Unique across processes; default: host name, pid and start time.
  std::string worker_id = "";
  int concurrency = 1;
  // A build whose worker has not renewed it for this long is reaped.
  absl::Duration lease = absl::Seconds(30);
  // How often an idle runner looks for work unless nudged first: a safety
  // net for a change feed that is down.
  absl::Duration poll_interval = absl::Seconds(30);
  // How often expired leases are looked for (and the queue depth gauge
  // updated); no notification says a lease ran out.
  absl::Duration reap_interval = absl::Seconds(5);
  int max_attempts = 3;
};

// host name + pid + start time: unique enough across machines and restarts.
std::string DefaultWorkerId();

class BuildWorker {
 public:
  // All references must outlive the worker.
  BuildWorker(BuildStore& store, BuildPipeline& pipeline, BuildMetrics& metrics,
              WorkerOptions options);
  ~BuildWorker();

  void Start();
  // Stops claiming, stops running builds (left to be requeued), joins.
  void Stop();
  // A build was queued or one ended: idle runners look now rather than at
  // their next poll.
  void Nudge();

  const std::string& worker_id() const { return options_.worker_id; }

 private:
  void RunnerLoop(int index);
  void RunClaimed(const BuildRecord& build);

  BuildStore& store_;
  BuildPipeline& pipeline_;
  BuildMetrics& metrics_;
  WorkerOptions options_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t nudges_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> runners_;
};

}  // namespace shapin::build

#endif  // SHAPIN_BUILD_SVC_BUILD_WORKER_H_
