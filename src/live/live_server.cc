#include "live/live_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <httplib.h>

#include "live/prometheus.h"
#include "metrics/series.h"
#include "output/results_file.h"
#include "report/html.h"
#include "net/listen.h"
#include "report/report.h"

namespace loadcell {
namespace {

// After the page rendered: apply each server-sent update; when the run ends, offer the report.
constexpr const char* kDashboardScript = R"JS(
window.__updates = 0;
(function () {
  var es = new EventSource("/events");
  es.onmessage = function (e) {
    var d = JSON.parse(e.data);
    report = report.update(d);
    window.__updates++;
    if (!d.live) {
      es.close();
      window.__final = true;
    }
  };
})();
)JS";

}  // namespace

LiveServer::LiveServer(Options options, RunMeta meta) : options_(std::move(options)) { live_.meta = std::move(meta); }

LiveServer::~LiveServer() { Stop(); }

Status LiveServer::Listen(httplib::Server& server, const std::string& address, const char* what, int* port,
                          std::thread* thread) {
  std::string host;
  int want = 0;
  if (!SplitHostPort(address, &host, &want)) {
    return Error::InvalidArgument(fmt::format("--{} {}: expected HOST:PORT (e.g. 127.0.0.1:9464)", what, address));
  }
  int bound = want == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, want) ? want : -1);
  if (bound <= 0) {
    return Error::Io(fmt::format("--{} {}: cannot listen there (address in use or not local?)", what, address));
  }
  *port = bound;
  *thread = std::thread([&server] { server.listen_after_bind(); });
  return Status::Ok();
}

Status LiveServer::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_text_ = PrometheusText({}, {}, options_.labels);
    nlohmann::json data = ReportData(live_);
    data["live"] = true;
    data["dashboard"] = true;
    data_json_ = DumpJson(data);
  }
  if (!options_.prometheus.empty()) {
    prom_ = std::make_unique<httplib::Server>();
    prom_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.set_content(metrics_text_, "text/plain; version=0.0.4; charset=utf-8");
    });
    Status s = Listen(*prom_, options_.prometheus, "prometheus", &prometheus_port_, &prom_thread_);
    if (!s.ok()) return s;
  }
  if (!options_.dashboard.empty()) {
    dash_ = std::make_unique<httplib::Server>();
    dash_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
      std::string data;
      {
        std::lock_guard<std::mutex> lock(mu_);
        data = data_json_;
      }
      res.set_content(HtmlPage(fmt::format("loadcell — {} (live)", live_.meta.test), nlohmann::json::parse(data),
                               kDashboardScript),
                      "text/html; charset=utf-8");
    });
    // Browsers ask for it; an empty answer keeps their consoles clean.
    dash_->Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    dash_->Get("/data", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.set_content(data_json_, "application/json");
    });
    dash_->Get("/report", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (report_html_.empty()) {
        res.status = 409;
        res.set_content("the report is ready when the run ends\n", "text/plain");
        return;
      }
      res.set_header("Content-Disposition", "attachment; filename=\"loadcell-report.html\"");
      res.set_content(report_html_, "text/html; charset=utf-8");
    });
    // Server-sent events: every new version of the data, as one `data:` line.
    dash_->Get("/events", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      auto seen = std::make_shared<uint64_t>(0);
      res.set_chunked_content_provider("text/event-stream", [this, seen](size_t, httplib::DataSink& sink) {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait_for(lock, std::chrono::seconds(15), [&] { return stopping_ || version_ != *seen; });
        if (stopping_) return false;
        if (version_ == *seen) return sink.write(": keep-alive\n\n", 14);
        *seen = version_;
        std::string event = "data: " + data_json_ + "\n\n";
        bool final = !report_html_.empty();
        lock.unlock();
        if (!sink.write(event.data(), event.size())) return false;
        if (final) sink.done();
        return true;
      });
    });
    Status s = Listen(*dash_, options_.dashboard, "dashboard", &dashboard_port_, &dash_thread_);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void LiveServer::OnStart(double start_wall) { live_.meta.start_unix = start_wall; }

void LiveServer::OnSecond(const SeriesPoint& point, const MetricStore& interval) {
  live_.store.Merge(interval);
  AppendBounded(&live_.series, point, SeriesCap());  // the dashboard's charts: bounded too
  live_.meta.duration_s += point.dur;
  live_.meta.end_unix = live_.meta.start_unix + live_.meta.duration_s;
  live_.meta.vus_max = std::max<int64_t>(live_.meta.vus_max, static_cast<int64_t>(point.vus));
  // The generator's own CPU over the last second: above 80% it may understate latency.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  double now = WallSeconds();
  double ratio = -1;
  if (last_wall_ > 0 && now > last_wall_) {
    ratio = (cpu - last_cpu_) / ((now - last_wall_) * std::max(1u, std::thread::hardware_concurrency()));
  }
  last_cpu_ = cpu;
  last_wall_ = now;
  std::string text = PrometheusText(live_.store, {point.vus, ratio, point.resources}, options_.labels);
  std::string data;
  if (dash_) {
    nlohmann::json j = ReportData(live_);
    j["live"] = true;
    j["dashboard"] = true;
    data = DumpJson(j);
  }
  std::lock_guard<std::mutex> lock(mu_);
  metrics_text_ = std::move(text);
  if (dash_) {
    data_json_ = std::move(data);
    ++version_;
    changed_.notify_all();
  }
}

void LiveServer::Finish(const RunResults& final_results) {
  if (!dash_) return;
  nlohmann::json j = ReportData(final_results);
  j["live"] = false;
  j["dashboard"] = true;
  std::string data = DumpJson(j);
  std::string html = HtmlReport(final_results);
  std::lock_guard<std::mutex> lock(mu_);
  data_json_ = std::move(data);
  report_html_ = std::move(html);
  ++version_;
  changed_.notify_all();
}

void LiveServer::Linger(double seconds, const std::atomic<bool>& interrupted) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::unique_lock<std::mutex> lock(mu_);
  while (!interrupted.load() && std::chrono::steady_clock::now() < until) {
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void LiveServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (prom_) prom_->stop();
  if (dash_) dash_->stop();
  if (prom_thread_.joinable()) prom_thread_.join();
  if (dash_thread_.joinable()) dash_thread_.join();
}

}  // namespace loadcell
