// Hands results of a blocking gRPC call (a stream's events, or one unary
// reply) from the thread that waits on it to the thread that draws progress,
// so the display can keep ticking while nothing arrives.
//
//   EventQueue<v1::BuildEvent> queue;
//   std::thread reader([&] {
//     v1::BuildEvent e;
//     while (stream->Read(&e)) queue.Push(e);
//     queue.Close(stream->Finish());
//   });
//   for (;;) {
//     EventQueue<v1::BuildEvent>::Batch b =
//     queue.Wait(absl::Milliseconds(200));
//     ... draw b.events ...
//     if (b.closed) break;          // b.status is the call's status
//   }
//   reader.join();
#ifndef SHAPIN_CLI_EVENT_QUEUE_H_
#define SHAPIN_CLI_EVENT_QUEUE_H_

#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace shapin::cli {

template <typename Event>
class EventQueue {
 public:
  struct Batch {
    std::vector<Event> events;
    // The producer is done; `status` is the call's outcome. Only set on the
    // batch that also holds the last events.
    bool closed = false;
    grpc::Status status;
  };

  void Push(Event e) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(e));
  }

  void Close(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    status_ = std::move(status);
  }

  // Waits up to `timeout` for events or the close, then takes what is there
  // (possibly nothing).
  Batch Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &EventQueue::Ready), timeout);
    Batch b;
    b.events = std::move(events_);
    events_.clear();
    b.closed = closed_;
    if (closed_) b.status = status_;
    return b;
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || !events_.empty();
  }

  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shapin::cli

#endif  // SHAPIN_CLI_EVENT_QUEUE_H_
