#include <cstdlib>
#include <string>

#include "engine/vu_state.h"

namespace loadcell {

bool VuWorker::Vu::Lookup(std::string_view name, std::string* out_value) const {
  bool json = false;
  return LookupTyped(name, out_value, &json);
}

bool VuWorker::Vu::LookupTyped(std::string_view name, std::string* out_value, bool* json) const {
  const TestPlan& p = worker->plan_;
  *json = name == "vu" || name == "iteration";
  if (name == "vu") {
    *out_value = std::to_string(id);
    return true;
  }
  if (name == "iteration") {
    *out_value = std::to_string(iteration);
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
  if (name.starts_with("data.")) {
    std::string_view rest = name.substr(5);
    size_t dot = rest.find('.');
    std::string_view feeder = rest.substr(0, dot), column = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    for (size_t f = 0; f < p.def.data.size(); ++f) {
      const DataFeeder& d = p.def.data[f];
      if (d.name != feeder) continue;
      for (size_t c = 0; c < d.columns.size(); ++c) {
        if (d.columns[c] == column && rows[f] >= 0) {
          *out_value = d.rows[static_cast<size_t>(rows[f])][c];
          return true;
        }
      }
    }
    return false;
  }
  auto it = vars.find(std::string(name));
  if (it == vars.end()) return false;
  *out_value = it->second;
  *json = json_vars.count(it->first) != 0;
  return true;
}

}  // namespace loadcell
