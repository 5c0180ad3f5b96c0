#include "engine/quick_run.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "engine/h2_worker.h"
#include "engine/start_gate.h"
#include "engine/worker.h"
#include "metrics/hdr_codec.h"
#include "metrics/series.h"
#include "net/resolver.h"
#include "net/transport.h"

namespace loadcell {
namespace {

// Workers publish here; the collecting thread drains. One lock per worker per second.
class Collector final : public SnapshotSink {
 public:
  void Publish(IntervalSnapshot s) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(s));
    }
    cv_.notify_one();
  }
  std::deque<IntervalSnapshot> Drain(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !queue_.empty(); });
    std::deque<IntervalSnapshot> out;
    out.swap(queue_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IntervalSnapshot> queue_;
};

QuickSecond MakePoint(int64_t second, const Shard& s, double length_s) {
  QuickSecond p;
  p.second = second;
  p.start_s = static_cast<double>(second);
  p.length_s = length_s;
  p.counters = {s.counters.requests, s.counters.failed, s.counters.total_failures(), s.counters.bytes_in,
                s.counters.bytes_out};
  p.inflight = s.inflight;
  p.p50_us = s.duration.ValueAtPercentile(50);
  p.p90_us = s.duration.ValueAtPercentile(90);
  p.p99_us = s.duration.ValueAtPercentile(99);
  p.max_us = s.duration.max();
  p.duration_hdr = EncodeHdrBase64(s.duration);
  return p;
}

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

Result<RunResult> ExecuteRun(const QuickPlan& plan, const std::atomic<bool>& interrupted, const LiveFn& live) {
  // Each of quick's points carries its interval's histogram (~1.5 KiB compressed): half
  // as many points as run keeps hold RSS flat within 1% over a 10-minute run.
  const size_t series_cap = std::max<size_t>(4, SeriesCap() / 2);
  auto endpoint = Resolve(plan.url.host, plan.url.port);
  if (!endpoint.ok()) return endpoint.error();
  std::unique_ptr<TlsContext> tls;
  if (plan.url.tls()) {
    auto ctx = TlsContext::Create(!plan.insecure,
                                  plan.h2_request ? std::vector<std::string>{"h2"} : std::vector<std::string>{});
    if (!ctx.ok()) return ctx.error();
    tls.reset(*ctx);
  }

  RunResult result;
  result.totals = Shard(plan.histograms);
  QuickMeta& m = result.meta;
  m.version = LOADCELL_VERSION;
  m.command_line = plan.command_line;
  m.hostname = Hostname();
  m.url = fmt::format("{}://{}{}", plan.url.scheme, plan.url.HostHeader(), plan.url.path);
  m.method = plan.method;
  m.mode = plan.rate > 0 ? "open" : "closed";
  m.connections = plan.connections;
  m.threads = plan.threads;
  m.rate = plan.rate;
  m.duration = plan.duration;
  m.warmup = plan.warmup;
  m.timeout = plan.timeout;
  m.grace = plan.grace;
  m.seed = plan.seed;

  MonotonicClock clock;
  Collector collector;
  StartGate gate(plan.threads);

  std::vector<std::unique_ptr<LoadThread>> workers;
  for (int w = 0; w < plan.threads; ++w) {
    WorkerPlan wp;
    wp.index = w;
    wp.workers = plan.threads;
    wp.connections = plan.connections / plan.threads + (w < plan.connections % plan.threads ? 1 : 0);
    wp.endpoint = *endpoint;
    wp.server_name = plan.url.host;
    wp.tls = tls.get();
    wp.request = &plan.request;
    wp.head_request = plan.method == "HEAD";
    wp.warmup = plan.warmup;
    wp.duration = plan.duration;
    wp.grace = plan.grace;
    wp.timeout = plan.timeout;
    wp.rate = plan.rate;
    wp.seed = plan.seed + static_cast<uint64_t>(w) * 0x9E3779B97F4A7C15ULL;
    wp.histograms = plan.histograms;
    wp.h2_request = plan.h2_request ? &*plan.h2_request : nullptr;
    wp.streams = plan.streams;
    if (wp.h2_request != nullptr)
      workers.push_back(std::make_unique<H2Worker>(wp, clock, collector, gate, interrupted));
    else
      workers.push_back(std::make_unique<Worker>(wp, clock, collector, gate, interrupted));
  }
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
  // Every worker waits at the gate (open model: with its connections up); a short lead
  // then lets each one be back on its loop before the first arrival is due.
  const Nanos start = gate.OpenWhenReady([&] { return clock.Now(); }, 5 * kMilli);
  const Nanos measure_start = start + plan.warmup;
  const Nanos stop_sending = measure_start + plan.duration;
  m.start_wall = WallSeconds() + static_cast<double>(5 * kMilli + plan.warmup) / 1e9;

  // Merge intervals: second k is complete once every worker has published it (or ended).
  const auto n = static_cast<size_t>(plan.threads);
  std::vector<int64_t> published(n, -1);
  std::vector<bool> finished(n, false);
  std::map<int64_t, Shard> pending;
  int64_t next_emit = 0;
  size_t finals = 0;
  result.worker_cpu.assign(n, 0);
  Nanos end_of_measure = stop_sending;
  while (finals < n) {
    if (interrupted.load() && end_of_measure == stop_sending) end_of_measure = std::min(stop_sending, clock.Now());
    for (IntervalSnapshot& s : collector.Drain(std::chrono::milliseconds(200))) {
      auto w = static_cast<size_t>(s.worker);
      pending.try_emplace(s.second, plan.histograms).first->second.Add(s.shard);
      result.totals.Add(s.shard);
      published[w] = s.second;
      if (s.final) {
        finished[w] = true;
        ++finals;
        result.worker_cpu[w] = s.wall_s > 0 ? s.thread_cpu_s / s.wall_s : 0;
      }
    }
    for (;;) {
      bool complete = !pending.empty() && pending.begin()->first == next_emit;
      for (size_t w = 0; w < n && complete; ++w) complete = finished[w] || published[w] >= next_emit;
      if (!complete) break;
      bool last = finals == n && std::next(pending.begin()) == pending.end();
      double len = 1.0;
      if (last) {
        Nanos now = clock.Now();
        len = std::max(0.0, static_cast<double>(now - (measure_start + next_emit * kSecond)) / 1e9);
      }
      QuickSecond p = MakePoint(next_emit, pending.begin()->second, len);
      pending.erase(pending.begin());
      if (live) live(p);
      AppendBounded(&result.series, std::move(p), series_cap);
      ++next_emit;
    }
  }
  for (auto& t : threads) t.join();
  // Seconds no worker reached (an interrupted run) are simply absent; drop leftovers.
  for (auto& [second, shard] : pending) AppendBounded(&result.series, MakePoint(second, shard, 1.0), series_cap);

  result.interrupted = interrupted.load();
  result.measured_s = std::max(0.0, static_cast<double>(end_of_measure - measure_start) / 1e9);
  m.end_wall = WallSeconds();
  return result;
}

}  // namespace loadcell
