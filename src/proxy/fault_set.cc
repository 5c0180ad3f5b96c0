#include "proxy/fault_set.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/units.h"

namespace loadcell {
namespace {

constexpr Nanos kForever = std::numeric_limits<Nanos>::max() / 4;

// Applies one key=value to a fault; errors name the key.
Status Set(ProxyFault& f, const std::string& key, const std::string& value, bool* have_kind) {
  auto duration = [&](Nanos* out, bool allow_zero) -> Status {
    auto d = ParseDuration(value);
    if (!d.ok()) return Error::InvalidArgument(fmt::format("{}: {}", key, d.error().message));
    if (!allow_zero && *d == 0) return Error::InvalidArgument(fmt::format("{}: must be greater than zero", key));
    *out = *d;
    return Status::Ok();
  };
  if (key == "kind") {
    static const std::vector<std::pair<std::string, FaultDef::Kind>> kKinds = {
        {"blackhole", FaultDef::Kind::kBlackhole},
        {"latency", FaultDef::Kind::kLatency},
        {"reset", FaultDef::Kind::kReset},
        {"bandwidth", FaultDef::Kind::kBandwidth}};
    for (const auto& [name, kind] : kKinds) {
      if (name == value) {
        f.def.kind = kind;
        *have_kind = true;
        return Status::Ok();
      }
    }
    return Error::InvalidArgument(fmt::format("kind: `{}` is not blackhole, latency, reset or bandwidth", value));
  }
  if (key == "at") return duration(&f.def.at, true);
  if (key == "duration") {
    f.until_removed = false;
    return duration(&f.def.duration, false);
  }
  if (key == "latency") return duration(&f.def.latency, true);
  if (key == "jitter") return duration(&f.def.jitter, true);
  if (key == "probability") {
    char* end = nullptr;
    double p = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || p <= 0 || p > 1) {
      return Error::InvalidArgument(fmt::format("probability: expected a number in (0, 1], got \"{}\"", value));
    }
    f.def.probability = p;
    return Status::Ok();
  }
  if (key == "rate") {
    auto b = ParseBytes(value);
    if (!b.ok()) return Error::InvalidArgument("rate: " + b.error().message);
    if (*b < 10) return Error::InvalidArgument("rate: must be at least 10 bytes per second");
    f.def.rate = *b;
    return Status::Ok();
  }
  return Error::InvalidArgument(
      fmt::format("unknown key `{}` (kind, at, duration, latency, jitter, probability, rate)", key));
}

Status CheckFault(const ProxyFault& f, bool have_kind) {
  if (!have_kind) return Error::InvalidArgument("missing kind (blackhole, latency, reset or bandwidth)");
  const FaultDef& d = f.def;
  if (d.kind == FaultDef::Kind::kLatency && d.latency == 0)
    return Error::InvalidArgument("a latency fault needs latency");
  if (d.jitter > d.latency) return Error::InvalidArgument("jitter: must not exceed latency");
  if (d.kind == FaultDef::Kind::kBandwidth && d.rate == 0)
    return Error::InvalidArgument("a bandwidth fault needs rate");
  return Status::Ok();
}

}  // namespace

Result<ProxyFault> ParseProxyFault(const std::string& spec) {
  ProxyFault f;
  f.until_removed = true;
  f.def.duration = kForever;
  bool have_kind = false;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos) return Error::InvalidArgument(fmt::format("`{}`: expected key=value", item));
    if (Status s = Set(f, item.substr(0, eq), item.substr(eq + 1), &have_kind); !s.ok()) return s.error();
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (Status s = CheckFault(f, have_kind); !s.ok()) return s.error();
  return f;
}

Result<ProxyFault> ProxyFaultFromJson(const nlohmann::json& j) {
  if (!j.is_object())
    return Error::InvalidArgument("a fault is a JSON object: {\"kind\": \"latency\", \"latency\": \"100ms\"}");
  ProxyFault f;
  f.until_removed = true;
  f.def.duration = kForever;
  bool have_kind = false;
  for (const auto& [key, v] : j.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (Status s = Set(f, key, value, &have_kind); !s.ok()) return s.error();
  }
  if (Status s = CheckFault(f, have_kind); !s.ok()) return s.error();
  return f;
}

nlohmann::json ProxyFaultJson(const ProxyFault& f, Nanos now_offset) {
  const FaultDef& d = f.def;
  nlohmann::json j = {{"id", f.id}, {"kind", FaultKindName(d.kind)}, {"at_s", static_cast<double>(d.at) / 1e9}};
  j["duration_s"] = f.until_removed ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(d.duration) / 1e9);
  j["active"] = now_offset >= d.at && now_offset < d.at + d.duration;
  if (d.kind == FaultDef::Kind::kLatency) {
    j["latency_ms"] = static_cast<double>(d.latency) / 1e6;
    j["jitter_ms"] = static_cast<double>(d.jitter) / 1e6;
  }
  if (d.kind == FaultDef::Kind::kReset) j["probability"] = d.probability;
  if (d.kind == FaultDef::Kind::kBandwidth) j["rate"] = d.rate;
  return j;
}

int64_t FaultSet::Add(ProxyFault f) {
  std::lock_guard<std::mutex> lock(mu_);
  f.id = next_id_++;
  faults_.push_back(f);
  return f.id;
}

bool FaultSet::Remove(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(faults_.begin(), faults_.end(), [id](const ProxyFault& f) { return f.id == id; });
  if (it == faults_.end()) return false;
  faults_.erase(it);
  return true;
}

std::vector<ProxyFault> FaultSet::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}

ActiveFaults FaultSet::At(Nanos now) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FaultDef> defs;
  for (const ProxyFault& f : faults_) defs.push_back(f.def);
  return FaultsAt(defs, now - start_, "");
}

}  // namespace loadcell
