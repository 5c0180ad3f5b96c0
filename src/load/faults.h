// Which injected faults (`faults:` in the test) act on a scenario's connections at a given
// moment of the test's timeline. Pure: the engine asks at each request, read and event;
// overlapping faults combine (latencies add, the largest reset probability, the smallest
// bandwidth).
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "scenario/definition.h"

namespace loadcell {

struct ActiveFaults {
  bool blackhole = false;         // nothing sent or received: requests are lost (time out)
  Nanos latency = 0, jitter = 0;  // each request held latency ± jitter before it is sent
  double reset = 0;               // probability that a request's connection is reset
  int64_t bandwidth = 0;          // received bytes per second per connection (0: unlimited)
  bool any() const { return blackhole || latency > 0 || jitter > 0 || reset > 0 || bandwidth > 0; }
};

// `offset`: time since the test's start.
ActiveFaults FaultsAt(const std::vector<FaultDef>& faults, Nanos offset, const std::string& scenario);

// A hold for a latency fault: latency + uniform(-jitter, +jitter), `u` uniform in [0, 1).
Nanos FaultDelay(const ActiveFaults& f, double u);

// What the faults acting on it do to one request, message or query — the one decision
// every protocol takes: a blackhole loses it; else a reset fails it with probability
// `reset`; else a latency fault holds it. What "lost", "reset" and "held" mean on the wire
// stays with the protocol's step.
struct FaultDecision {
  enum class Action { kPass, kLose, kReset, kHold };
  Action action = Action::kPass;
  Nanos hold = 0;  // kHold: for how long
};

// `uniform()` is a draw in [0, 1) from the VU's generator, taken only when a probability
// or a jitter needs one (and in this order), so that a seed replays the same run.
template <class Uniform>
FaultDecision DecideFault(const ActiveFaults& f, Uniform&& uniform) {
  if (f.blackhole) return {FaultDecision::Action::kLose, 0};
  if (f.reset > 0 && uniform() < f.reset) return {FaultDecision::Action::kReset, 0};
  if (f.latency > 0 || f.jitter > 0) return {FaultDecision::Action::kHold, FaultDelay(f, uniform())};
  return {};
}

}  // namespace loadcell
