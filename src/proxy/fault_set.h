// The faults of `loadcell proxy`: the same kinds as a test's `faults:` (blackhole, latency
// with jitter, reset with probability, bandwidth), placed between two services instead of
// on loadcell's own connections. Faults come from the command line (on the proxy's own
// timeline) or from its HTTP control API (active from when they are added); the relay
// thread asks which are active, the API thread adds and removes them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "load/faults.h"
#include "scenario/definition.h"

namespace loadcell {

struct ProxyFault {
  int64_t id = 0;
  FaultDef def;                // kind and its parameters; `at`/`duration` on the proxy's timeline
  bool until_removed = false;  // no duration: active until DELETE
};

// "kind=latency,latency=100ms,jitter=10ms,at=5s,duration=10s" (--fault), or the same keys
// as a JSON object (the API). Without `duration`, a fault lasts until it is removed.
Result<ProxyFault> ParseProxyFault(const std::string& spec);
Result<ProxyFault> ProxyFaultFromJson(const nlohmann::json& j);
nlohmann::json ProxyFaultJson(const ProxyFault& f, Nanos now);

class FaultSet {
 public:
  explicit FaultSet(Nanos start) : start_(start) {}
  // Returns the new fault's id. A fault from the API starts at `now` when it has no `at`.
  int64_t Add(ProxyFault f);
  bool Remove(int64_t id);
  std::vector<ProxyFault> List() const;
  ActiveFaults At(Nanos now) const;
  Nanos start() const { return start_; }

 private:
  mutable std::mutex mu_;
  Nanos start_;
  int64_t next_id_ = 1;
  std::vector<ProxyFault> faults_;
};

}  // namespace loadcell
