#include "output/progress.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace loadcell {

Progress::Progress(const RunMeta& meta, FILE* out, bool terminal, int plain_every)
    : meta_(meta), out_(out), terminal_(terminal), plain_every_(std::max(1, plain_every)) {}

void Progress::OnSecond(const SeriesPoint& point, const MetricStore& /*interval*/) {
  elapsed_ += point.dur;
  vus_ = point.vus;
  reqs_ += point.all.reqs;
  failed_ += point.all.failed;
  last_reqs_ = point.all.reqs;
  last_dur_ = point.dur > 0 ? point.dur : 1;
  last_p95_ = point.all.p95;
  for (const auto& [s, n] : point.iterations_by_scenario) iterations_[s] += n;
  vus_by_scenario_ = point.vus_by_scenario;
  if (terminal_) {
    std::string text = Render();
    // Move up over the previous drawing and clear each line as it is redrawn.
    std::string frame = drawn_lines_ > 0 ? fmt::format("\x1b[{}A", drawn_lines_) : "";
    int lines = 0;
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      frame += "\r\x1b[2K" + text.substr(start, nl - start) + "\n";
      ++lines;
      start = nl + 1;
    }
    drawn_lines_ = lines;
    std::fputs(frame.c_str(), out_);
  } else if (point.t % plain_every_ == 0) {
    double total = 0;
    for (const ScenarioInfo& s : meta_.scenarios) total = std::max(total, s.planned_s);
    int64_t iters = 0;
    for (const auto& [_, n] : iterations_) iters += n;
    std::fprintf(out_, "loadcell: %.0fs/%.0fs vus=%g iterations=%lld reqs=%lld (%.1f/s) failed=%.2f%% p95=%.2fms\n",
                 elapsed_, total, vus_, static_cast<long long>(iters), static_cast<long long>(reqs_),
                 static_cast<double>(last_reqs_) / last_dur_,
                 reqs_ ? 100.0 * static_cast<double>(failed_) / static_cast<double>(reqs_) : 0.0, last_p95_);
  }
  std::fflush(out_);
}

std::string Progress::Render() const {
  std::string out;
  for (const ScenarioInfo& s : meta_.scenarios) {
    double planned = s.planned_s > 0 ? s.planned_s : 1;
    double frac = std::clamp(elapsed_ / planned, 0.0, 1.0);
    int width = 20;
    int done = static_cast<int>(std::floor(frac * width));
    std::string bar = std::string(static_cast<size_t>(done), '=') + (done < width ? ">" : "") +
                      std::string(static_cast<size_t>(std::max(0, width - done - 1)), ' ');
    auto it = iterations_.find(s.name);
    auto vus = vus_by_scenario_.find(s.name);
    out += fmt::format("  {:<16} [{}] {:>5.0f}s/{:.0f}s  {:>5g} VUs  {} iterations\n", s.name, bar,
                       std::min(elapsed_, planned), planned, vus == vus_by_scenario_.end() ? 0.0 : vus->second,
                       it == iterations_.end() ? 0 : it->second);
  }
  out += fmt::format("  {:<16} vus {:g}  {} reqs  {:.1f}/s  failed {:.2f}%  p95 {:.2f} ms\n", "total", vus_, reqs_,
                     static_cast<double>(last_reqs_) / last_dur_,
                     reqs_ ? 100.0 * static_cast<double>(failed_) / static_cast<double>(reqs_) : 0.0, last_p95_);
  return out;
}

}  // namespace loadcell
