#include <cstdlib>
#include <string>

#include "engine/vu_state.h"

namespace loadcell {

VuWorker::Vu::~Vu() = default;

// The executor's host is this VU's worker (a private base: only the worker and its VUs see it).
VuWorker& VuWorker::Vu::worker() const { return static_cast<VuWorker&>(*exec->host); }

VuWorker::Vu::Extra& VuWorker::Vu::X() {
  if (extra == nullptr) {
    const TestPlan& p = worker().plan_;
    extra =
        std::make_unique<Extra>(*this, p.seed ^ (static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL), p.def.data.size());
  }
  return *extra;
}

const std::string& VuWorker::Vu::group() const {
  static const std::string kNone;
  return extra != nullptr ? extra->group : kNone;
}

Xoshiro256& VuWorker::Vu::Rng() { return X().rng; }

Result<script::Value> VuWorker::Vu::EvalScript(const void* key, std::string_view source) {
  VuWorker& w = worker();
  if (w.lua_ == nullptr) return Error::InvalidArgument("the test's script could not be loaded");
  auto v = w.lua_->Eval(key, source, *this);
  if (!v.ok()) w.CountScriptError(*this, v.error().message);
  return v;
}

int VuWorker::Vu::ResponseStatus() const { return extra != nullptr ? extra->last_status : 0; }

const std::vector<std::pair<std::string, std::string>>* VuWorker::Vu::ResponseHeaders() const {
  return extra != nullptr && extra->collector != nullptr ? &extra->collector->headers() : nullptr;
}

std::string_view VuWorker::Vu::ResponseBody() const {
  return extra != nullptr && extra->collector != nullptr ? extra->collector->body() : std::string_view();
}

VuWorker::Vu::Frame& VuWorker::Vu::Top() {
  return extra != nullptr && !extra->frames.empty() ? extra->frames.back() : root;
}

void VuWorker::Vu::Push(const Frame& f) { X().frames.push_back(f); }

bool VuWorker::Vu::Pop() {
  if (extra == nullptr || extra->frames.empty()) return false;
  extra->frames.pop_back();
  return true;
}

void VuWorker::Vu::ClearFrames() {
  root = {};
  if (extra != nullptr) extra->frames.clear();
}

bool VuWorker::Vu::Lookup(std::string_view name, std::string* out_value) const {
  bool json = false;
  return LookupTyped(name, out_value, &json);
}

bool VuWorker::Vu::LookupTyped(std::string_view name, std::string* out_value, bool* json) const {
  const TestPlan& p = worker().plan_;
  *json = name == "vu" || name == "iteration" || name == "iteration_in_test";
  if (name == "vu") {
    *out_value = std::to_string(id);
    return true;
  }
  if (name == "iteration") {
    *out_value = std::to_string(iteration);
    return true;
  }
  if (name == "iteration_in_test") {
    *out_value = std::to_string(iteration_in_test);
    return true;
  }
  if (name == "scenario") {
    *out_value = exec->def->name;
    return true;
  }
  if (name.starts_with("vars.")) {
    auto it = p.def.vars.find(std::string(name.substr(5)));
    if (it == p.def.vars.end()) return false;
    *out_value = it->second;
    *json = p.def.json_vars.count(it->first) != 0;
    return true;
  }
  if (name.starts_with("env.")) {
    std::string key(name.substr(4));
    if (auto it = exec->def->env.find(key); it != exec->def->env.end())
      *out_value = it->second;
    else if (auto it2 = p.def.env.find(key); it2 != p.def.env.end())
      *out_value = it2->second;
    else if (const char* v = std::getenv(key.c_str()))
      *out_value = v;
    else
      return false;
    return true;
  }
  if (name.starts_with("setup.")) {
    auto it = p.setup.vars.find(std::string(name.substr(6)));
    if (it == p.setup.vars.end()) return false;
    *out_value = it->second;
    *json = p.setup.json_vars.count(it->first) != 0;
    return true;
  }
  if (name.starts_with("data.")) {
    std::string_view rest = name.substr(5);
    size_t dot = rest.find('.');
    std::string_view feeder = rest.substr(0, dot), column = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    for (size_t f = 0; f < p.def.data.size(); ++f) {
      const DataFeeder& d = p.def.data[f];
      if (d.name != feeder) continue;
      for (size_t c = 0; c < d.columns.size(); ++c) {
        if (d.columns[c] == column && extra != nullptr && extra->rows[f] >= 0) {
          *out_value = d.rows[static_cast<size_t>(extra->rows[f])][c];
          return true;
        }
      }
    }
    return false;
  }
  if (extra == nullptr) return false;
  auto it = extra->vars.find(std::string(name));
  if (it == extra->vars.end()) return false;
  *out_value = it->second;
  *json = extra->json_vars.count(it->first) != 0;
  return true;
}

}  // namespace loadcell
