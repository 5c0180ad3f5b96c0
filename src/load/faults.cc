#include "load/faults.h"

#include <algorithm>
#include <cmath>

namespace loadcell {

ActiveFaults FaultsAt(const std::vector<FaultDef>& faults, Nanos offset, const std::string& scenario) {
  ActiveFaults a;
  for (const FaultDef& f : faults) {
    if (offset < f.at || offset >= f.at + f.duration) continue;
    if (!f.scenario.empty() && f.scenario != scenario) continue;
    switch (f.kind) {
      case FaultDef::Kind::kBlackhole: a.blackhole = true; break;
      case FaultDef::Kind::kLatency:
        a.latency += f.latency;
        a.jitter += f.jitter;
        break;
      case FaultDef::Kind::kReset: a.reset = std::max(a.reset, f.probability); break;
      case FaultDef::Kind::kBandwidth: a.bandwidth = a.bandwidth == 0 ? f.rate : std::min(a.bandwidth, f.rate); break;
    }
  }
  return a;
}

Nanos FaultDelay(const ActiveFaults& f, double u) {
  double d = static_cast<double>(f.latency) + (2 * u - 1) * static_cast<double>(f.jitter);
  return std::max<Nanos>(0, std::llround(d));
}

}  // namespace loadcell
