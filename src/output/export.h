// Writing output files: atomically, and checked before a run.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace loadcell {

// "2026-11-23T16:09:55.123Z"
std::string Iso8601(double epoch_s);

// Writes atomically (temp file + rename) so a reader never sees half a file.
Status WriteFile(const std::string& path, const std::string& content);

// Before a run: can `path` be created? (its directory exists and is writable). Outputs
// are written at the end; a run of an hour should not learn only then that they are lost.
Status CheckWritable(const std::string& path);

}  // namespace loadcell
