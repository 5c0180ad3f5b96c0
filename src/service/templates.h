// Built-in test presets the service instantiates with parameters: baseline, load,
// stress, spike, soak, capacity — the shapes k6's and Gatling's guides name. Each becomes
// an ordinary test definition (YAML), validated like any other.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace loadcell {

struct TemplateParam {
  std::string name, description;
  nlohmann::json default_value;  // null: required
};

struct TestTemplate {
  std::string name, description;
  std::vector<TemplateParam> params;
};

const std::vector<TestTemplate>& BuiltinTemplates();
nlohmann::json TemplateJson(const TestTemplate& t);

// The YAML of template `name` with `params` (unknown or mistyped parameters are errors
// naming them); the result still has to pass the loader.
Result<std::string> InstantiateTemplate(const std::string& name, const nlohmann::json& params);

}  // namespace loadcell
