// /api/v1/templates: the built-in presets, and their instantiation (the YAML, or a stored
// test when "save_as" names one).
#include <fmt/format.h>

#include "scenario/loader.h"
#include "service/api_util.h"
#include "service/service.h"
#include "service/templates.h"

namespace loadcell {

void AddTemplateRoutes(http::Server& http, Service& s) {
  http.Get("/api/v1/templates", [](const http::Request&, http::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const TestTemplate& t : BuiltinTemplates()) out.push_back(TemplateJson(t));
    api::Json(res, {{"templates", out}});
  });

  http.Post(R"(/api/v1/templates/([a-z]+))", [&s](const http::Request& req, http::Response& res) {
    auto body = api::Body(req, res);
    if (!body) return;
    std::string name = req.matches[1];
    bool known = false;
    for (const TestTemplate& t : BuiltinTemplates()) known = known || t.name == name;
    if (!known) return api::Fail(res, 404, fmt::format("no template named \"{}\"", name));
    auto yaml = InstantiateTemplate(name, body->value("params", nlohmann::json::object()));
    if (!yaml.ok()) return api::Fail(res, 400, yaml.error().message);
    const std::map<std::string, std::string> no_files;  // a template names none
    auto def = LoadTestText(*yaml, "test.yaml", ServeLoadOptions({}, &no_files));
    if (!def.ok()) return api::Fail(res, 400, "the template's parameters make an invalid test: " + def.error().message);
    bool failed = false;
    auto save_as = api::StringField(*body, "save_as", res, &failed);
    if (failed) return;
    if (!save_as) return api::Json(res, {{"template", name}, {"yaml", *yaml}});
    if (save_as->empty()) return api::Fail(res, 400, "save_as: must not be empty");
    if (!TestNameFree(s, *save_as, 0, res)) return;
    auto t = s.store().CreateTest(*save_as, *yaml);
    if (!t.ok()) return api::Fail(res, 500, t.error().message);
    api::Json(res, {{"template", name}, {"yaml", *yaml}, {"test", {{"id", t->id}, {"name", t->name}}}}, 201);
  });
}

}  // namespace loadcell
