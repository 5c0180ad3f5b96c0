#include "metrics/gauge_key.h"

namespace loadcell {

std::string GaugeKey(const std::string& metric, const Tags& labels) {
  if (labels.empty()) return metric;
  std::string out = metric + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"')
        (out += '\\') += c;
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::pair<std::string, Tags> SplitGaugeKey(const std::string& key) {
  size_t brace = key.find('{');
  if (brace == std::string::npos) return {key, {}};
  Tags tags;
  size_t i = brace + 1;
  while (i < key.size() && key[i] != '}') {
    size_t eq = key.find('=', i);
    if (eq == std::string::npos || eq + 1 >= key.size() || key[eq + 1] != '"') break;
    std::string name = key.substr(i, eq - i);
    std::string value;
    i = eq + 2;
    while (i < key.size() && key[i] != '"') {
      if (key[i] == '\\' && i + 1 < key.size()) {
        ++i;
        value += key[i] == 'n' ? '\n' : key[i];
      } else {
        value += key[i];
      }
      ++i;
    }
    tags[name] = value;
    ++i;  // the closing quote
    if (i < key.size() && key[i] == ',') ++i;
  }
  return {key.substr(0, brace), tags};
}

std::vector<double> GaugeValues(const std::map<std::string, double>& sampled, const std::string& metric,
                                const Tags& filter) {
  std::vector<double> out;
  for (auto it = sampled.lower_bound(metric); it != sampled.end() && it->first.starts_with(metric); ++it) {
    auto [name, labels] = SplitGaugeKey(it->first);
    if (name == metric && TagsInclude(labels, filter)) out.push_back(it->second);
  }
  return out;
}

}  // namespace loadcell
