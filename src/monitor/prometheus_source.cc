#include "monitor/prometheus_source.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/printable.h"
#include "metrics/gauge_key.h"
#include "net/url.h"

namespace loadcell {
namespace {

using nlohmann::json;

// A sample's value: [<unix time>, "<value as a string>"] ("NaN", "+Inf" included).
Result<double> SampleValue(const json& v) {
  if (!v.is_array() || v.size() != 2 || !v[1].is_string())
    return Error::InvalidArgument("a sample is not [time, \"value\"]");
  const std::string& text = v[1].get_ref<const std::string&>();
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);  // also reads NaN, +Inf, -Inf
  if (text.empty() || end != text.c_str() + text.size())
    return Error::InvalidArgument("a sample's value is not a number");
  return d;
}

}  // namespace

std::string PromQueryUrl(const std::string& base, const std::string& query, double unix_s) {
  std::string root = base;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return fmt::format("{}/api/v1/query?query={}&time={:.3f}", root, PercentEncode(query), unix_s);
}

Result<std::map<std::string, double>> PromQueryGauges(const std::string& name, long http_status,
                                                      const std::string& answer) {
  json doc = json::parse(answer, nullptr, false);
  const bool api = !doc.is_discarded() && doc.is_object() && doc.contains("status") && doc["status"].is_string();
  if (!api) {
    if (http_status < 200 || http_status > 299) return Error::Io(fmt::format("HTTP status {}", http_status));
    return Error::InvalidArgument("the answer is not the query API's JSON");
  }
  if (doc["status"].get<std::string>() != "success") {
    std::string why =
        doc.contains("error") && doc["error"].is_string() ? doc["error"].get<std::string>() : "no reason given";
    return Error::InvalidArgument(fmt::format("Prometheus: {}", Printable(why)));
  }
  const json& data = doc.contains("data") ? doc["data"] : json();
  std::string type = data.is_object() ? data.value("resultType", "") : "";
  const std::string metric = "monitor_" + name;
  std::map<std::string, double> out;
  if (type == "scalar") {
    auto v = SampleValue(data["result"]);
    if (!v.ok()) return v.error();
    if (!std::isnan(*v)) out[metric] = *v;
    return out;
  }
  if (type != "vector") {
    return Error::InvalidArgument(fmt::format("the query returns a {}, not an instant vector or a scalar",
                                              type.empty() ? "nothing" : Printable(type)));
  }
  if (!data["result"].is_array()) return Error::InvalidArgument("the result is not a list");
  for (const json& series : data["result"]) {
    Tags tags;
    if (series.contains("metric") && series["metric"].is_object()) {
      for (const auto& [k, v] : series["metric"].items()) {
        if (k != "__name__" && v.is_string()) tags[k] = v.get<std::string>();
      }
    }
    auto v = SampleValue(series.contains("value") ? series["value"] : json());
    if (!v.ok()) return v.error();
    if (!std::isnan(*v)) out[GaugeKey(metric, tags)] = *v;  // NaN (0/0 in PromQL): no value this second
  }
  return out;
}

}  // namespace loadcell
