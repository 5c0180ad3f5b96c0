#include "live/live_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include "net/http_server.h"

#include "live/prometheus.h"
#include "metrics/series.h"
#include "net/listen.h"
#include "output/results_file.h"
#include "report/html.h"
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

// A run's own pages: one reader or a few, one thread.
http::Server::Limits SmallServer() {
  http::Server::Limits limits;
  limits.threads = 1;
  limits.max_connections = 128;
  limits.max_body_bytes = 64 * 1024;
  return limits;
}

}  // namespace

LiveServer::LiveServer(Options options, RunMeta meta) : options_(std::move(options)) { live_.meta = std::move(meta); }

LiveServer::~LiveServer() { Stop(); }

Status LiveServer::Listen(http::Server& server, const std::string& address, const char* what, int* port) {
  std::string host;
  int want = 0;
  if (!SplitHostPort(address, &host, &want)) {
    return Error::InvalidArgument(fmt::format("--{} {}: expected HOST:PORT (e.g. 127.0.0.1:9464)", what, address));
  }
  Status s = server.Listen(host, want);
  if (!s.ok()) {
    return Error::Io(fmt::format("--{} {}: cannot listen there (address in use or not local?): {}", what, address,
                                 s.error().message));
  }
  *port = server.port();
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
    prom_ = std::make_unique<http::Server>(SmallServer());
    prom_->Get("/metrics", [this](const http::Request&, http::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.SetContent(metrics_text_, "text/plain; version=0.0.4; charset=utf-8");
    });
    Status s = Listen(*prom_, options_.prometheus, "prometheus", &prometheus_port_);
    if (!s.ok()) return s;
  }
  if (!options_.dashboard.empty()) {
    dash_ = std::make_unique<http::Server>(SmallServer());
    dash_->Get("/", [this](const http::Request&, http::Response& res) {
      std::string data;
      {
        std::lock_guard<std::mutex> lock(mu_);
        data = data_json_;
      }
      res.SetContent(
          HtmlPage(fmt::format("loadcell — {} (live)", live_.meta.test), nlohmann::json::parse(data), kDashboardScript),
          "text/html; charset=utf-8");
    });
    // Browsers ask for it; an empty answer keeps their consoles clean.
    dash_->Get("/favicon.ico", [](const http::Request&, http::Response& res) { res.status = 204; });
    dash_->Get("/data", [this](const http::Request&, http::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.SetContent(data_json_, "application/json");
    });
    dash_->Get("/report", [this](const http::Request&, http::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (report_html_.empty()) {
        res.status = 409;
        res.SetContent("the report is ready when the run ends\n", "text/plain");
        return;
      }
      res.SetHeader("Content-Disposition", "attachment; filename=\"loadcell-report.html\"");
      res.SetContent(report_html_, "text/html; charset=utf-8");
    });
    // Server-sent events: every new version of the data, as one `data:` line; a comment
    // every 15 s keeps proxies from closing a quiet stream.
    dash_->Get("/events", [this](const http::Request&, http::Response& res) {
      res.SetHeader("Cache-Control", "no-cache");
      struct Seen {
        uint64_t version = 0;
        std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
      };
      auto seen = std::make_shared<Seen>();
      res.Stream("text/event-stream", [this, seen](std::string* out) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return http::StreamStep::kEnd;
        auto now = std::chrono::steady_clock::now();
        if (version_ == seen->version) {
          if (now - seen->last_write < std::chrono::seconds(15)) return http::StreamStep::kWait;
          *out = ": keep-alive\n\n";
        } else {
          seen->version = version_;
          *out = "data: " + data_json_ + "\n\n";
        }
        seen->last_write = now;
        return report_html_.empty() ? http::StreamStep::kData : http::StreamStep::kEnd;
      });
    });
    Status s = Listen(*dash_, options_.dashboard, "dashboard", &dashboard_port_);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_text_ = std::move(text);
    if (!dash_) return;
    data_json_ = std::move(data);
    ++version_;
    changed_.notify_all();
  }
  dash_->Wake();
}

void LiveServer::Finish(const RunResults& final_results) {
  if (!dash_) return;
  nlohmann::json j = ReportData(final_results);
  j["live"] = false;
  j["dashboard"] = true;
  std::string data = DumpJson(j);
  std::string html = HtmlReport(final_results);
  {
    std::lock_guard<std::mutex> lock(mu_);
    data_json_ = std::move(data);
    report_html_ = std::move(html);
    ++version_;
    changed_.notify_all();
  }
  dash_->Wake();
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
  if (prom_) prom_->Stop();
  if (dash_) dash_->Stop();
}

}  // namespace loadcell
