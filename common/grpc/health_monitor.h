// Health that means it (issue 17): a service registers a ReadinessProbe for
// each thing it needs (Redis, the database it writes, a peer service); the
// monitor checks them all about once a second and sets the server's
// grpc.health.v1 status: NOT_SERVING while any probe has failed for longer
// than its grace period, SERVING otherwise. What the probes found is served
// as teleclaude.mesh.v1.Readiness (readiness_service.h) and exported as
// metrics (metrics_endpoint.h).
//
//   HealthMonitor monitor({.program = "telec-egress"});
//   monitor.Add(std::make_unique<RedisProbe>(redis_options), absl::ZeroDuration());
//   monitor.Add(std::make_unique<PeerServiceProbe>("installer", addr), absl::Seconds(30));
//   monitor.CheckNow();                       // before the server answers anything
//   server = GrpcServer::Start(addr, {&service, monitor.service()}, options);
//   monitor.Start(server.get());
//
// A probe that fails within its grace period is logged at most at VLOG(1):
// services started in any order wait for each other quietly. Crossing the
// grace period logs one warning; recovering logs one line.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_HEALTH_MONITOR_H_
#define TELECLAUDE_MESH_COMMON_GRPC_HEALTH_MONITOR_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/readiness_probe.h"
#include "teleclaude/mesh/v1/readiness.grpc.pb.h"

namespace teleclaude::mesh {

struct HealthMonitorOptions {
  std::string program = "this service";  // for log lines: "telec-egress"
  absl::Duration interval = absl::Seconds(1);
};

// Thread-safe: Add() before Start(); every other method from any thread.
class HealthMonitor {
 public:
  explicit HealthMonitor(HealthMonitorOptions options);
  ~HealthMonitor();  // Stop()
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Registers a probe. `grace`: how long it may fail without interruption
  // before the service stops serving (zero: at its first failure).
  // REQUIRES: Start() not called yet.
  void Add(std::unique_ptr<ReadinessProbe> probe, absl::Duration grace);

  // Runs every probe once on the calling thread (so the state is known
  // before the server answers its first health check).
  void CheckNow();

  // Sets `server`'s health to the current state and starts the thread that
  // re-checks every interval and updates it on every change. `server` must
  // outlive Stop(). Call once.
  void Start(GrpcServer* server);
  // Stops and joins the thread. Idempotent.
  void Stop();

  // No probe is failing past its grace period.
  bool serving() const;
  // Every probe's last result, in registration order.
  v1::GetReadinessResponse Report() const;

  // The Readiness gRPC service over this monitor (to pass to
  // GrpcServer::Start); owned by the monitor.
  grpc::Service* service();

 private:
  struct Entry {
    std::unique_ptr<ReadinessProbe> probe;
    absl::Duration grace;
  };
  // The last result of one probe.
  struct State {
    bool checked = false;
    absl::Status last;
    absl::Duration round_trip;
    absl::Time checked_at;
    absl::Time failing_since = absl::InfinitePast();  // InfinitePast while ok
    bool warned = false;                              // a warning was logged for this outage
  };

  // Checks every probe once (probes run without mu_ held) and applies the
  // overall state to server_ when it changed.
  void CheckAll();
  bool ServingLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  const HealthMonitorOptions options_;
  std::unique_ptr<grpc::Service> service_;
  // Added before Start(); fixed afterwards. A probe's Check() runs under
  // check_mu_ only (one CheckAll() at a time), never under mu_.
  std::vector<Entry> probes_;
  absl::Mutex check_mu_;
  mutable absl::Mutex mu_;
  std::vector<State> states_ ABSL_GUARDED_BY(mu_);  // parallel to probes_
  GrpcServer* server_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool applied_serving_ ABSL_GUARDED_BY(mu_) = true;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_HEALTH_MONITOR_H_
