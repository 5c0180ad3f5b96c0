// Data files for feeders: CSV with a header row, or JSON (an array of flat objects).
// Read once when the test is loaded.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace loadcell {

struct DataTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each as long as columns
};

Result<DataTable> ReadDataFile(const std::string& path);
Result<DataTable> ParseCsv(const std::string& text, const std::string& name);
Result<DataTable> ParseJsonRows(const std::string& text, const std::string& name);

}  // namespace loadcell
