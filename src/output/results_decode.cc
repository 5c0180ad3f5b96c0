// The results document, read back (results_file.h): either encoding, a stream cut short
// included, into RunResults.
#include "output/results_file.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics/hdr_codec.h"
#include "output/run_summary.h"
#include "output/series_fields.h"
#include "scenario/loader.h"
#include "scenario/threshold.h"
#include "scenario/threshold_eval.h"

namespace loadcell {
// (below, beside the meta record it reads)
std::vector<ThresholdOutcome> JudgeDeclaredThresholds(const RunMeta& meta, const MetricStore& store);

namespace {

using nlohmann::json;

// A threshold as recorded (files from before severities and windows: critical, whole run).
ThresholdSpec ThresholdSpecFromJson(const json& t) {
  ThresholdSpec s;
  s.key = t.at("metric").get<std::string>();
  s.expr = t.at("expr").get<std::string>();
  if (!ParseSeverity(t.value("severity", "critical"), &s.severity)) s.severity = Severity::kCritical;
  if (t.contains("during") && t["during"].is_object()) {
    s.during_from = static_cast<Nanos>(t["during"].value("from_s", 0.0) * 1e9);
    if (t["during"].contains("to_s")) s.during_to = static_cast<Nanos>(t["during"]["to_s"].get<double>() * 1e9);
  }
  return s;
}

Result<MetricKind> KindFromName(const std::string& s) {
  if (s == "counter") return MetricKind::kCounter;
  if (s == "rate") return MetricKind::kRate;
  if (s == "trend") return MetricKind::kTrend;
  if (s == "gauge") return MetricKind::kGauge;
  return Error::InvalidArgument(fmt::format("unknown metric kind \"{}\"", s));
}

SeriesStats StatsFromArray(const json& a) {
  if (!a.is_array() || a.size() != kStatsFieldCount)
    throw std::invalid_argument("a by_name entry must be an array of 8 numbers");
  SeriesStats s;
  for (size_t i = 0; i < kStatsFieldCount; ++i) kStatsFields[i].Read(s, a[i]);
  return s;
}

SeriesPoint PointFromJson(const json& j) {
  SeriesPoint p;
  for (const auto& f : kPointFields) {
    if (f.required || j.contains(f.name)) f.Read(p, j.at(std::string(f.name)));
  }
  for (const auto& f : kStatsFields) f.Read(p.all, j.at(std::string(f.name)));
  for (const auto& [k, v] : j.at("by_name").items()) p.by_name[k] = StatsFromArray(v);
  for (const auto& [k, v] : j.at("by_scenario").items()) p.iterations_by_scenario[k] = v.get<int64_t>();
  for (const auto& [k, v] : j.at("errors").items()) p.errors[k] = v.get<int64_t>();
  if (j.contains("vus_by_scenario")) {
    for (const auto& [k, v] : j.at("vus_by_scenario").items()) p.vus_by_scenario[k] = v.get<double>();
  }
  if (j.contains("resources")) {
    for (const auto& [k, v] : j.at("resources").items()) p.resources[k] = v.get<double>();
  }
  return p;
}

RunMeta MetaFromJson(const json& j) {
  RunMeta m;
  m.test = j.at("test").get<std::string>();
  m.file = j.at("file").get<std::string>();
  m.file_sha256 = j.at("file_sha256").get<std::string>();
  m.version = j.at("version").get<std::string>();
  m.host = j.at("host").get<std::string>();
  m.command_line = j.at("command_line").get<std::string>();
  m.seed = j.at("seed").get<uint64_t>();
  m.start_unix = j.at("start_unix").get<double>();
  m.end_unix = j.value("end_unix", 0.0);
  m.duration_s = j.value("duration_s", 0.0);
  m.interrupted = j.value("interrupted", false);
  m.aborted_by = j.value("aborted_by", "");
  m.vus_max = j.value("vus_max", int64_t{0});
  m.interrupted_iterations = j.value("interrupted_iterations", int64_t{0});
  for (const json& s : j.at("scenarios")) {
    m.scenarios.push_back(
        {s.at("name").get<std::string>(), s.at("executor").get<std::string>(), s.value("planned_s", 0.0)});
  }
  m.tag_keys = j.at("tag_keys").get<std::vector<std::string>>();
  m.complete = j.value("complete", true);
  m.segment = j.value("segment", "");
  m.segments = j.value("segments", "");
  if (j.contains("parts")) m.parts = j.at("parts").get<std::vector<std::string>>();
  if (j.contains("instance_tags")) m.instance_tags = j.at("instance_tags").get<std::vector<std::string>>();
  if (j.contains("declared_thresholds")) {
    for (const json& t : j.at("declared_thresholds")) m.declared_thresholds.push_back(ThresholdSpecFromJson(t));
  }
  m.strict_thresholds = j.value("strict_thresholds", false);
  return m;
}

Status StoreFromJson(const json& entries, MetricStore* store) {
  for (const json& e : entries) {
    auto kind = KindFromName(e.at("kind").get<std::string>());
    if (!kind.ok()) return kind.error();
    SeriesAggregate a;
    a.kind = *kind;
    a.tags = e.at("tags").get<Tags>();
    a.count = e.at("count").get<int64_t>();
    a.passes = e.value("passes", int64_t{0});
    a.value = e.value("value", 0.0);
    a.min = e.value("min", 0.0);
    a.max = e.value("max", 0.0);
    if (a.kind == MetricKind::kTrend) {
      auto h = DecodeHdrBase64(e.at("hdr").get<std::string>());
      if (!h.ok())
        return Error::InvalidArgument(
            fmt::format("histogram of {}: {}", e.at("metric").get<std::string>(), h.error().message));
      a.trend = std::make_unique<HdrHistogram>(std::move(h).value());
      if (e.contains("max_us")) a.trend->RestoreExtremes(e.at("min_us").get<int64_t>(), e.at("max_us").get<int64_t>());
    }
    store->Insert(e.at("metric").get<std::string>(), std::move(a));
  }
  return Status::Ok();
}

std::vector<ThresholdOutcome> ThresholdsFromJson(const json& j) {
  std::vector<ThresholdOutcome> out;
  for (const json& t : j) {
    ThresholdOutcome o;
    static_cast<ThresholdSpec&>(o) = ThresholdSpecFromJson(t);
    o.ok = t.at("ok").get<bool>();
    o.no_data = t.value("no_data", false);
    o.observed = t.value("observed", 0.0);
    out.push_back(std::move(o));
  }
  return out;
}

// SAX events of a results document: everything but `series` goes to a DOM; the series'
// points are filled in as their numbers arrive.
class SeriesSax {
 public:
  json doc;
  std::vector<SeriesPoint> series;
  std::string error;

  bool null() { return In() ? Num(0) : dom_.null(); }
  bool boolean(bool v) { return In() ? Num(v ? 1 : 0) : dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return In() ? Num(static_cast<double>(v)) : dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) {
    return In() ? Num(static_cast<double>(v)) : dom_.number_unsigned(v);
  }
  bool number_float(json::number_float_t v, const json::string_t& s) { return In() ? Num(v) : dom_.number_float(v, s); }
  bool string(json::string_t& v) { return In() ? Fail("unexpected string in the series") : dom_.string(v); }
  bool binary(json::binary_t& v) { return In() ? Fail("unexpected binary") : dom_.binary(v); }
  bool start_object(std::size_t n) {
    ++depth_;
    if (!In()) return dom_.start_object(n);
    if (depth_ == 3) series.emplace_back();
    return true;
  }
  bool end_object() {
    if (In()) {
      if (depth_ == 4) section_.clear();
      --depth_;
      return true;
    }
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    ++depth_;
    if (depth_ == 2 && last_key_ == "series") {
      in_series_ = true;
      return true;
    }
    if (!In()) return dom_.start_array(n);
    if (depth_ == 5 && section_ == "by_name") {
      field_ = 0;
      return true;
    }
    return Fail("unexpected array in the series");
  }
  bool end_array() {
    if (in_series_ && depth_ == 2) {
      in_series_ = false;
      --depth_;
      return dom_.null();  // keeps "series" as a key with a placeholder
    }
    --depth_;
    if (In()) {
      if (field_ != static_cast<int>(kStatsFieldCount)) return Fail("a by_name entry must be an array of 8 numbers");
      return true;
    }
    return dom_.end_array();
  }
  bool key(json::string_t& k) {
    if (depth_ == 1) last_key_ = k;
    if (!In()) return dom_.key(k);
    if (depth_ == 3) {
      key_ = k;
      if (k == "by_name" || k == "by_scenario" || k == "errors" || k == "resources" || k == "vus_by_scenario")
        section_ = k;
    } else if (depth_ == 4) {
      key_ = k;
    }
    return true;
  }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) {
    error = fmt::format("at byte {}: {}", pos, e.what());
    return false;
  }

 private:
  bool In() const { return in_series_ && depth_ >= 3; }
  bool Fail(std::string why) {
    error = "series: " + std::move(why);
    return false;
  }
  bool Num(double v) {
    if (series.empty()) return Fail("number outside a point");
    SeriesPoint& p = series.back();
    if (depth_ == 3) {
      // Numbers this version does not know are passed over, as the document reader does.
      if (const auto* f = FieldNamed(kPointFields, key_))
        f->Set(p, v);
      else if (const auto* g = FieldNamed(kStatsFields, key_))
        g->Set(p.all, v);
      return true;
    }
    if (depth_ == 4 && section_ == "by_scenario") {
      p.iterations_by_scenario[key_] = static_cast<int64_t>(v);
      return true;
    }
    if (depth_ == 4 && section_ == "vus_by_scenario") {
      p.vus_by_scenario[key_] = v;
      return true;
    }
    if (depth_ == 4 && section_ == "resources") {
      p.resources[key_] = v;
      return true;
    }
    if (depth_ == 4 && section_ == "errors") {
      p.errors[key_] = static_cast<int64_t>(v);
      return true;
    }
    if (depth_ == 5 && section_ == "by_name") {
      if (field_ >= static_cast<int>(kStatsFieldCount)) return Fail("a by_name entry must be an array of 8 numbers");
      kStatsFields[static_cast<size_t>(field_++)].Set(p.by_name[key_], v);
      return true;
    }
    return Fail("unexpected number in the series");
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_{doc, false};
  int depth_ = 0;
  bool in_series_ = false;
  std::string last_key_, key_, section_;
  int field_ = 0;
};

void ExtrasFromJson(const json& j, RunResults* r) {
  if (j.contains("usl")) r->usl = j.at("usl");
  if (j.contains("capacity")) r->capacity = CapacityFromJson(j.at("capacity"));
  if (j.contains("faults")) r->faults = FaultsFromJson(j.at("faults"));
  if (j.contains("load_changes")) r->load_changes = LoadChangesFromJson(j.at("load_changes"));
  if (j.contains("findings")) {
    for (const json& f : j.at("findings"))
      r->findings.push_back({f.at("rule").get<std::string>(), f.at("text").get<std::string>()});
  }
  if (j.contains("apdex")) {
    r->apdex_t_ms = j.at("apdex").value("t_ms", 0.0);
    for (const auto& [name, a] : j.at("apdex").at("by_name").items()) {
      r->apdex[name] = {a.at("score").get<double>(), a.at("satisfied").get<int64_t>(),
                        a.at("tolerating").get<int64_t>(), a.at("frustrated").get<int64_t>()};
    }
  }
}

Result<RunResults> FromDocument(const json& doc, std::vector<SeriesPoint> series) {
  if (!doc.is_object() || doc.value("schema", "") != kResultsSchema) {
    return Error::InvalidArgument(
        fmt::format("not a loadcell results document (expected \"schema\": \"{}\")", kResultsSchema));
  }
  RunResults r;
  r.meta = MetaFromJson(doc.at("meta"));
  r.thresholds = ThresholdsFromJson(doc.at("thresholds"));
  Status s = StoreFromJson(doc.at("histograms"), &r.store);
  if (!s.ok()) return s.error();
  if (!doc.contains("series")) return Error::InvalidArgument("no \"series\"");
  r.series = std::move(series);
  r.messages = doc.at("messages").get<std::vector<std::string>>();
  ExtrasFromJson(doc, &r);
  return r;
}

// Whether the stream's last complete line is its `end` record; then the per-second stores
// are not needed (the end record holds the whole run's histograms).
bool HasEndRecord(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  start = start == std::string_view::npos ? 0 : start + 1;
  json j = json::parse(text.substr(start, end - start), nullptr, false);
  return !j.is_discarded() && j.is_object() && j.value("type", "") == "end";
}

Result<RunResults> FromNdjson(std::string_view text, const std::string& name, SecondStores* seconds) {
  RunResults r;
  const bool complete = HasEndRecord(text);
  bool have_meta = false, have_end = false;
  MetricStore from_seconds;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    bool last = nl == std::string_view::npos;
    std::string_view line = text.substr(pos, last ? std::string_view::npos : nl - pos);
    pos = last ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      // The line being written when the process died: everything before it stands.
      if (last) break;
      return Error::InvalidArgument(fmt::format("{}:{}: not a JSON record", name, line_no));
    }
    try {
      std::string type = j.at("type").get<std::string>();
      if (type == "meta") {
        if (j.value("schema", "") != kResultsSchema) {
          return Error::InvalidArgument(
              fmt::format("{}:{}: unsupported schema (expected {})", name, line_no, kResultsSchema));
        }
        r.meta = MetaFromJson(j.at("meta"));
        have_meta = true;
      } else if (!have_meta) {
        return Error::InvalidArgument(fmt::format("{}:{}: the stream must start with a meta record", name, line_no));
      } else if (type == "second") {
        r.series.push_back(PointFromJson(j.at("point")));
        if (!complete) {
          Status s = StoreFromJson(j.at("store"), &from_seconds);
          if (!s.ok()) return Error::InvalidArgument(fmt::format("{}:{}: {}", name, line_no, s.error().message));
        }
        if (seconds != nullptr) {
          seconds->emplace_back(r.series.back().t, MetricStore());
          Status s = StoreFromJson(j.at("store"), &seconds->back().second);
          if (!s.ok()) return Error::InvalidArgument(fmt::format("{}:{}: {}", name, line_no, s.error().message));
        }
      } else if (type == "end") {
        r.meta = MetaFromJson(j.at("meta"));
        r.thresholds = ThresholdsFromJson(j.at("thresholds"));
        r.messages = j.at("messages").get<std::vector<std::string>>();
        ExtrasFromJson(j, &r);
        Status s = StoreFromJson(j.at("histograms"), &r.store);
        if (!s.ok()) return Error::InvalidArgument(fmt::format("{}:{}: {}", name, line_no, s.error().message));
        have_end = true;
      } else {
        return Error::InvalidArgument(fmt::format("{}:{}: unknown record type \"{}\"", name, line_no, type));
      }
    } catch (const std::exception& e) {
      return Error::InvalidArgument(fmt::format("{}:{}: {}", name, line_no, e.what()));
    }
  }
  if (!have_meta) return Error::InvalidArgument(fmt::format("{}: no meta record: not a loadcell results stream", name));
  if (!have_end) {
    // A killed run: the per-second core metrics are all there is.
    r.meta.complete = false;
    r.store = std::move(from_seconds);
    double secs = 0;
    for (const SeriesPoint& p : r.series) secs += p.dur;
    r.meta.duration_s = secs;
    r.meta.end_unix = r.meta.start_unix + secs;
    double vus_max = 0;
    for (const SeriesPoint& p : r.series) vus_max = std::max(vus_max, p.vus);
    r.meta.vus_max = static_cast<int64_t>(vus_max);
    r.messages.push_back(
        fmt::format("this run ended without its final record after {} complete seconds "
                    "(killed?): results are rebuilt from the per-second records",
                    r.series.size()));
    r.thresholds = JudgeDeclaredThresholds(r.meta, r.store);
  }
  return r;
}

}  // namespace

// The declared thresholds judged on what a stream cut short holds: those whose metric it
// has are judged; the others are "no data" — never a pass the stream cannot show.
std::vector<ThresholdOutcome> JudgeDeclaredThresholds(const RunMeta& meta, const MetricStore& store) {
  TestDefinition def;
  def.strict_thresholds = meta.strict_thresholds;
  for (const ThresholdSpec& spec : meta.declared_thresholds) {
    const std::string& key = spec.key;
    auto sel = ParseMetricSelector(key);
    auto e = ExprOf(spec);
    if (!sel.ok() || !e.ok()) continue;
    auto it =
        std::find_if(def.thresholds.begin(), def.thresholds.end(), [&](const ThresholdDef& t) { return t.key == key; });
    if (it == def.thresholds.end()) {
      ThresholdDef t;
      t.key = key;
      t.selector = *sel;
      t.counter = IsCounterMetric(sel->metric);
      def.thresholds.push_back(std::move(t));
      it = def.thresholds.end() - 1;
    }
    it->exprs.push_back(*e);
  }
  std::vector<ThresholdOutcome> out = EvaluateThresholds(def, store, meta.duration_s);
  for (ThresholdOutcome& o : out) {
    if (o.no_data) o.ok = false;  // cut short: what it cannot show is not a pass
  }
  return out;
}

Result<RunResults> ParseResults(std::string_view text, const std::string& name, SecondStores* seconds) {
  size_t first_nl = text.find('\n');
  std::string_view first = text.substr(0, first_nl);
  json head = json::parse(first, nullptr, false);
  if (!head.is_discarded() && head.is_object() && head.contains("type")) return FromNdjson(text, name, seconds);
  // The series is read by a SAX handler straight into SeriesPoints and never becomes a
  // DOM: a 1-hour run with 50 request names has 1.4 million numbers in it.
  SeriesSax sax;
  bool parsed = false;
  try {
    parsed = json::sax_parse(text, &sax, json::input_format_t::json, false);
  } catch (const std::exception& e) {
    return Error::InvalidArgument(fmt::format("{}: {}", name, e.what()));
  }
  if (!parsed || !sax.error.empty()) {
    return Error::InvalidArgument(
        fmt::format("{}: {}", name, sax.error.empty() ? "not valid JSON or NDJSON" : sax.error));
  }
  try {
    auto r = FromDocument(sax.doc, std::move(sax.series));
    if (!r.ok()) return Error::InvalidArgument(fmt::format("{}: {}", name, r.error().message));
    return r;
  } catch (const std::exception& e) {
    return Error::InvalidArgument(fmt::format("{}: {}", name, e.what()));
  }
}

Result<RunResults> ReadResultsFile(const std::string& path, SecondStores* seconds) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error::Io(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Error::Io(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  return ParseResults(text, path, seconds);
}

}  // namespace loadcell
