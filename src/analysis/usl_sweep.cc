#include "analysis/usl_sweep.h"

#include <cmath>

#include <fmt/format.h>

namespace loadcell {

Result<UslSweep> SweepFromRun(const TestDefinition& def, const RunResults& r) {
  const ScenarioDef* sc = nullptr;
  for (const ScenarioDef& s : def.scenarios) {
    if (s.executor == ExecutorKind::kRampingVus) sc = &s;
  }
  if (sc == nullptr)
    return Error::InvalidArgument("--usl needs a ramping-vus scenario whose stages hold each VU level");
  // Hold stages: the target equals the level the stage starts from.
  struct Hold {
    double vus, from, to;
  };
  std::vector<Hold> holds;
  double level = static_cast<double>(sc->start_vus);
  double t = static_cast<double>(sc->start_time) / 1e9;
  for (const Stage& st : sc->stages) {
    double d = static_cast<double>(st.duration) / 1e9;
    if (st.target == level && st.target > 0 && d >= 2) holds.push_back({level, t + 1, t + d});  // 1 s settle
    level = st.target;
    t += d;
  }
  if (holds.empty())
    return Error::InvalidArgument("--usl: the ramping-vus stages never hold a VU level for 2 s or more");
  UslSweep out;
  std::vector<UslPoint> points;
  for (const Hold& h : holds) {
    UslStep step;
    step.vus = h.vus;
    step.from_s = h.from;
    step.to_s = h.to;
    double secs = 0, reqs = 0, iters = 0, iter_ms = 0;
    double elapsed = 0;
    for (const SeriesPoint& p : r.series) {
      double start = elapsed;
      elapsed += p.dur;
      if (start + 1e-6 < h.from || elapsed > h.to + 1e-6 || p.dur < 0.5) continue;
      secs += p.dur;
      reqs += static_cast<double>(p.all.reqs);
      iters += static_cast<double>(p.iterations);
      iter_ms += p.iteration_avg_ms * static_cast<double>(p.iterations);
    }
    if (secs < 1) {
      out.notes.push_back(fmt::format("step at {:g} VUs: no complete second measured", h.vus));
      continue;
    }
    step.throughput = reqs / secs;
    step.iterations_per_s = iters / secs;
    step.iteration_avg_ms = iters > 0 ? iter_ms / iters : 0;
    step.littles_n = step.iterations_per_s * step.iteration_avg_ms / 1000.0;
    step.littles_ok = std::abs(step.littles_n - h.vus) <= 0.10 * h.vus;
    if (!step.littles_ok) {
      out.notes.push_back(fmt::format(
          "Little's law disagrees at {:g} VUs: {:.2f} iterations/s × {:.2f} ms = {:.2f} VUs busy "
          "({:+.0f}%): VUs waited outside iterations (the generator or a start-up), or the "
          "step was too short to settle",
          h.vus, step.iterations_per_s, step.iteration_avg_ms, step.littles_n, 100 * (step.littles_n / h.vus - 1)));
    }
    out.steps.push_back(step);
    points.push_back({h.vus, step.throughput});
  }
  if (points.size() >= 3) {
    auto fit = FitUsl(points);
    if (fit.ok()) {
      out.fit = *fit;
    } else {
      out.notes.push_back("USL: " + fit.error().message);
    }
  } else {
    out.notes.push_back(fmt::format("USL: {} step(s) measured; a fit needs at least 3", points.size()));
  }
  return out;
}

// A step's fields, under their own names (nlohmann's generated to_json/from_json).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UslStep, vus, from_s, to_s, throughput, iterations_per_s, iteration_avg_ms,
                                   littles_n, littles_ok)

nlohmann::json UslSweepJson(const UslSweep& s) {
  nlohmann::json steps = nlohmann::json::array();
  std::vector<UslPoint> points;
  for (const UslStep& st : s.steps) {
    steps.push_back(st);
    points.push_back({st.vus, st.throughput});
  }
  return {{"steps", steps}, {"fit", s.fit ? UslJson(*s.fit, points) : nlohmann::json(nullptr)}, {"notes", s.notes}};
}

}  // namespace loadcell
