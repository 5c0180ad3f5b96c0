#include "scenario/data_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loadcell {

Result<DataTable> ReadDataFile(const std::string& path) {
  // Regular files only: a device (/dev/zero) or a directory would never end or not parse.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error::InvalidArgument(fmt::format("cannot read data file {}", path));
  }
  if (std::filesystem::file_size(path, ec) > (size_t{1} << 30)) {
    return Error::InvalidArgument(fmt::format("data file {} is over 1 GiB", path));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error::InvalidArgument(fmt::format("cannot read data file {}", path));
  std::stringstream ss;
  ss << f.rdbuf();
  if (path.ends_with(".json")) return ParseJsonRows(ss.str(), path);
  if (path.ends_with(".csv")) return ParseCsv(ss.str(), path);
  return Error::InvalidArgument(fmt::format("data file {} must end in .csv or .json", path));
}

// RFC 4180: fields separated by commas, optionally quoted with "" escaping a quote.
Result<DataTable> ParseCsv(const std::string& text, const std::string& name) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1;
  auto end_field = [&] {
    record.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
    record.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      end_record();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return Error::InvalidArgument(fmt::format("{}:{}: unterminated quoted field", name, line));
  if (!field.empty() || !record.empty()) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    end_record();
  }
  if (records.empty()) return Error::InvalidArgument(fmt::format("{}: empty CSV file (a header row is needed)", name));
  DataTable t;
  t.columns = records[0];
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != t.columns.size()) {
      return Error::InvalidArgument(
          fmt::format("{}: row {} has {} fields, the header has {}", name, r + 1, records[r].size(), t.columns.size()));
    }
    t.rows.push_back(std::move(records[r]));
  }
  if (t.rows.empty()) return Error::InvalidArgument(fmt::format("{}: no data rows under the header", name));
  return t;
}

Result<DataTable> ParseJsonRows(const std::string& text, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error::InvalidArgument(fmt::format("{}: not valid JSON", name));
  if (!j.is_array() || j.empty())
    return Error::InvalidArgument(fmt::format("{}: expected a non-empty array of objects", name));
  DataTable t;
  for (const auto& [k, _] : j[0].items()) t.columns.push_back(k);
  for (size_t r = 0; r < j.size(); ++r) {
    if (!j[r].is_object()) return Error::InvalidArgument(fmt::format("{}: element {} is not an object", name, r));
    std::vector<std::string> row;
    for (const std::string& c : t.columns) {
      if (!j[r].contains(c)) return Error::InvalidArgument(fmt::format("{}: element {} has no \"{}\"", name, r, c));
      const auto& v = j[r][c];
      row.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace loadcell
