// Parsing and formatting of the units users type: durations ("500ms", "1m30s"),
// rates, sizes and probabilities. Parse errors say what was expected.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace loadcell {

// "250us", "500ms", "2s", "1m30s", "1h", "1.5s"; a bare "0" is zero. Negative or
// unit-less non-zero values are errors.
Result<Nanos> ParseDuration(std::string_view text);

// A positive finite number, e.g. a request rate "1000" or "2.5".
Result<double> ParsePositiveNumber(std::string_view text);

// A size in bytes: "512", "512B", "64KB", "16MB", "1GB" (binary multiples, as memory sizes).
Result<int64_t> ParseSize(std::string_view text);

// A probability: "0.01" or "1%".
Result<double> ParseProbability(std::string_view text);

// Human formatting: "12.34ms", "1.20s", "850us".
std::string FormatDuration(Nanos d);
// "1.23MB", "512B"
std::string FormatBytes(double bytes);
// "100KB", "1.5MB", "64KiB", "512B", "512" (bytes). As loadcell prints sizes, KB = KiB =
// 1024 bytes, MB = MiB = 1024 KB, GB = GiB.
Result<int64_t> ParseBytes(std::string_view text);

}  // namespace loadcell
