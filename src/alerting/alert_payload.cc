#include "alerting/alert_payload.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loadcell {
namespace {

using nlohmann::json;

json AlertJson(const LiveAlert& a) {
  return {{"labels", a.labels},
          {"annotations", a.annotations},
          {"startsAt", Rfc3339(a.starts_unix)},
          {"endsAt", Rfc3339(a.ends_unix)},
          {"generatorURL", ""}};
}

}  // namespace

std::string Rfc3339(double unix_s) {
  const auto whole = static_cast<time_t>(std::floor(unix_s));
  const int ms = static_cast<int>(std::lround((unix_s - static_cast<double>(whole)) * 1000)) % 1000;
  std::tm tm{};
  gmtime_r(&whole, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string AlertmanagerBody(const std::vector<LiveAlert>& alerts) {
  json out = json::array();
  for (const LiveAlert& a : alerts) out.push_back(AlertJson(a));
  return out.dump();
}

std::string WebhookBody(const std::vector<LiveAlert>& alerts) {
  bool all_resolved = true;
  json list = json::array();
  for (const LiveAlert& a : alerts) {
    json j = AlertJson(a);
    j["status"] = a.resolved ? "resolved" : "firing";
    j["fingerprint"] = "";
    list.push_back(std::move(j));
    all_resolved = all_resolved && a.resolved;
  }
  json common = alerts.size() == 1 ? json(alerts[0].labels) : json::object();
  return json{{"version", "4"},         {"groupKey", "loadcell"},
              {"truncatedAlerts", 0},   {"status", all_resolved ? "resolved" : "firing"},
              {"receiver", "loadcell"}, {"groupLabels", json::object()},
              {"commonLabels", common}, {"commonAnnotations", json::object()},
              {"externalURL", ""},      {"alerts", list}}
      .dump();
}

}  // namespace loadcell
