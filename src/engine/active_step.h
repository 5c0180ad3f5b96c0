// The seam between a VU and the protocol step it runs: an HTTP request (HTTP/1.1 on the
// VU's connection or HTTP/2 on a pool), a WebSocket session, a SQL query. The worker's
// event loop knows steps only through ActiveStep; adding a protocol means a connection
// class (protocol/) and a step that drives it (engine/), nothing else (docs/architecture.md).
#pragma once

#include <string>

#include "common/clock.h"
#include "load/faults.h"
#include "scenario/template.h"

namespace loadcell {

// What a step needs from the VU running it. Called on the worker's thread only.
class StepOwner {
 public:
  virtual TemplateContext& context() = 0;
  // Call the step's OnTimer at `at` (one pending wake: a new call replaces the old one).
  virtual void WakeAt(Nanos at) = 0;
  // The step is over: the VU continues its flow (or, when `end_iteration`, ends the
  // iteration there, as after a template that cannot render). The step must not touch
  // itself after this returns; the worker destroys it after the current event batch.
  virtual void StepDone(Nanos now, bool end_iteration) = 0;
  // The step recorded a failure (before its StepDone): an iteration in which every step
  // failed makes the VU back off before the next one.
  virtual void StepFailed() = 0;
  // A message for the end-of-run notes, once per `key` per worker.
  virtual void Note(const std::string& key, const std::string& message) = 0;
  // What the injected faults (`faults:`) acting on this VU's scenario at `now` do to the
  // step's next request, message or query (draws from the VU's generator), and whether
  // a blackhole is on now (what is sent or arrives is lost).
  virtual FaultDecision DecideFault(Nanos now) = 0;
  virtual bool FaultLost(Nanos now) = 0;

 protected:
  ~StepOwner() = default;
};

class ActiveStep {
 public:
  virtual ~ActiveStep() = default;
  virtual void Start(Nanos now) = 0;
  // The wake-up the step asked for (StepOwner::WakeAt) is due.
  virtual void OnTimer(Nanos now) = 0;
  // The worker's periodic scan (every 10 ms) while the step runs: for deadlines that are
  // cheaper to check there than to keep a timer for each (an HTTP request's timeout).
  virtual void OnScan(Nanos now) { (void)now; }
  // The iteration was cut (graceful stop, ramp-down, the end of the run): stop now without
  // calling StepDone.
  virtual void Abort(Nanos now) = 0;
};

}  // namespace loadcell
