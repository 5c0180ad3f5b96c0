#include "service/templates.h"

#include <fmt/format.h>

#include "common/units.h"
#include "net/url.h"

namespace loadcell {
namespace {

using nlohmann::json;

// Parameters every template takes, then its own.
std::vector<TemplateParam> With(std::vector<TemplateParam> own) {
  std::vector<TemplateParam> all = {
      {"url", "the URL to load (http:// or https://)", nullptr},
      {"name", "the test's name", ""},
      {"p95_ms", "threshold: p(95) of http_req_duration below this, in ms", 500},
      {"max_error_rate", "threshold: rate of failed requests below this (0.01 = 1%)", 0.01},
  };
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

const TemplateParam kVus{"vus", "virtual users", 10};
const TemplateParam kDuration{"duration", "how long the main phase lasts", "1m"};

}  // namespace

const std::vector<TestTemplate>& BuiltinTemplates() {
  static const std::vector<TestTemplate> kTemplates = {
      {"baseline", "one VU for a while: the latency of the system without load",
       With({{"duration", "how long", "1m"}})},
      {"load", "ramp up to the expected number of VUs, hold, ramp down (10% / 80% / 10% of the duration)",
       With({kVus, {"duration", "the whole test", "5m"}})},
      {"stress", "step the VUs up (1x, 2x, 3x, 4x) to see where it stops being acceptable",
       With({kVus, {"step", "how long each step holds", "1m"}})},
      {"spike", "a sudden burst of arrivals on a steady rate, then back",
       With({{"rate", "steady arrivals per second", 20},
             {"spike_rate", "arrivals per second in the spike", 500},
             {"spike", "how long the spike holds", "30s"},
             {"max_vus", "VUs the arrivals may use", 500}})},
      {"soak", "a steady load for a long time, watching for drift and leaks",
       With({kVus, {"duration", "how long", "1h"}, {"think", "pause between iterations", "1s"}})},
      {"capacity", "the highest arrival rate that keeps the thresholds passing (capacity-search)",
       With({{"start_rate", "first rate tried, per second", 100},
             {"max_rate", "highest rate tried, per second", 10000},
             {"step", "how long each rate is held", "30s"},
             {"max_vus", "VUs the arrivals may use", 1000}})},
  };
  return kTemplates;
}

json TemplateJson(const TestTemplate& t) {
  json params = json::array();
  for (const TemplateParam& p : t.params) {
    json j = {{"name", p.name}, {"description", p.description}, {"required", p.default_value.is_null()}};
    if (!p.default_value.is_null()) j["default"] = p.default_value;
    params.push_back(std::move(j));
  }
  return {{"name", t.name}, {"description", t.description}, {"params", params}};
}

Result<std::string> InstantiateTemplate(const std::string& name, const json& given) {
  const TestTemplate* t = nullptr;
  for (const TestTemplate& x : BuiltinTemplates()) {
    if (x.name == name) t = &x;
  }
  if (t == nullptr) return Error::InvalidArgument(fmt::format("no template named \"{}\"", name));
  if (!given.is_null() && !given.is_object()) return Error::InvalidArgument("params: expected an object");
  json p;
  for (const TemplateParam& tp : t->params) {
    if (given.is_object() && given.contains(tp.name)) {
      const json& v = given[tp.name];
      bool ok = tp.default_value.is_number() ? v.is_number() : v.is_string();
      if (!ok || (v.is_number() && v.get<double>() < 0)) {
        return Error::InvalidArgument(fmt::format("params.{}: expected {}", tp.name,
                                                  tp.default_value.is_number() ? "a non-negative number" : "a string"));
      }
      p[tp.name] = v;
    } else if (tp.default_value.is_null()) {
      return Error::InvalidArgument(fmt::format("params.{}: required ({})", tp.name, tp.description));
    } else {
      p[tp.name] = tp.default_value;
    }
  }
  if (given.is_object()) {
    for (const auto& [key, v] : given.items()) {
      if (!p.contains(key))
        return Error::InvalidArgument(fmt::format("params.{}: unknown parameter of template {}", key, name));
    }
  }
  auto url = ParseUrl(p["url"].get<std::string>());
  if (!url.ok()) return Error::InvalidArgument("params.url: " + url.error().message);
  if (url->websocket()) return Error::InvalidArgument("params.url: expected an http:// or https:// URL");
  std::string origin = fmt::format("{}://{}", url->scheme, url->HostHeader());
  const std::string& path = url->path;
  std::string test_name = p["name"].get<std::string>().empty() ? name : p["name"].get<std::string>();
  auto q = [](const json& v) { return v.dump(); };  // a JSON scalar is a YAML scalar
  auto num = [&](const char* k) { return p[k].dump(); };
  std::string head = fmt::format("name: {}\ntarget: {}\nscenarios:\n", q(test_name), q(origin));
  std::string flow = fmt::format("    flow:\n      - request: {{ name: {}, url: {} }}\n", q(name), q(path));
  std::string thresholds =
      fmt::format("thresholds:\n  http_req_duration: [\"p(95)<{}\"]\n  http_req_failed: [\"rate<{}\"]\n", num("p95_ms"),
                  num("max_error_rate"));
  std::string scenario;
  if (name == "baseline") {
    scenario = fmt::format("  baseline:\n    executor: constant-vus\n    vus: 1\n    duration: {}\n", q(p["duration"]));
  } else if (name == "load") {
    // 10% up, 80% hold, 10% down; stage durations are literal, so computed here.
    auto whole = ParseDuration(p["duration"].get<std::string>());
    if (!whole.ok()) return Error::InvalidArgument("params.duration: " + whole.error().message);
    std::string ramp = fmt::format("{}ms", *whole / 10 / kMilli), hold = fmt::format("{}ms", *whole * 8 / 10 / kMilli);
    scenario = fmt::format(
        "  load:\n    executor: ramping-vus\n    start_vus: 0\n    stages:\n"
        "      - {{ duration: {r}, target: {v} }}\n      - {{ duration: {h}, target: {v} }}\n"
        "      - {{ duration: {r}, target: 0 }}\n",
        fmt::arg("r", ramp), fmt::arg("h", hold), fmt::arg("v", num("vus")));
  } else if (name == "stress") {
    int64_t vus = p["vus"].get<int64_t>();
    scenario = fmt::format("  stress:\n    executor: ramping-vus\n    start_vus: {}\n    stages:\n", vus);
    for (int k = 1; k <= 4; ++k) {
      scenario += fmt::format("      - {{ duration: 0s, target: {} }}\n      - {{ duration: {}, target: {} }}\n",
                              vus * k, q(p["step"]), vus * k);
    }
  } else if (name == "spike") {
    scenario = fmt::format(
        "  spike:\n    executor: ramping-arrival-rate\n    start_rate: {r}\n    pre_allocated_vus: {v}\n    max_vus: "
        "{v}\n"
        "    stages:\n      - {{ duration: 30s, target: {r} }}\n      - {{ duration: 5s, target: {s} }}\n"
        "      - {{ duration: {d}, target: {s} }}\n      - {{ duration: 5s, target: {r} }}\n"
        "      - {{ duration: 30s, target: {r} }}\n",
        fmt::arg("r", num("rate")), fmt::arg("s", num("spike_rate")), fmt::arg("d", q(p["spike"])),
        fmt::arg("v", num("max_vus")));
  } else if (name == "soak") {
    scenario = fmt::format("  soak:\n    executor: constant-vus\n    vus: {}\n    duration: {}\n", num("vus"),
                           q(p["duration"]));
    flow += fmt::format("      - think: {}\n", q(p["think"]));
  } else if (name == "capacity") {
    scenario = fmt::format(
        "  capacity:\n    executor: capacity-search\n    start_rate: {}\n    max_rate: {}\n"
        "    step_duration: {}\n    pre_allocated_vus: {}\n    max_vus: {}\n",
        num("start_rate"), num("max_rate"), q(p["step"]), num("max_vus"), num("max_vus"));
  }
  return head + scenario + flow + thresholds;
}

}  // namespace loadcell
