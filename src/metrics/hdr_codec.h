// HdrHistogram's V2 encoding ("HISTFAA..." when base64'd and compressed), the format that
// HdrHistogram's Java, C, Go, Rust and JS implementations exchange, and the one our
// results and interval logs carry.
//
// Layout (big-endian): cookie, payload length, normalizing offset, significant digits,
// lowest, highest, int-to-double ratio, then counts as ZigZag LEB128 varints where a run
// of k > 1 empty buckets is written as -k. The compressed form wraps that in zlib.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metrics/hdr_histogram.h"

namespace loadcell {

std::vector<uint8_t> EncodeHdrV2(const HdrHistogram& h);            // uncompressed
std::vector<uint8_t> EncodeHdrV2Compressed(const HdrHistogram& h);  // zlib-wrapped
std::string EncodeHdrBase64(const HdrHistogram& h);                 // compressed + base64

// Accepts both the compressed and the plain V2 form. Malformed input is an error, never
// a crash (this is fuzzed).
Result<HdrHistogram> DecodeHdr(const uint8_t* data, size_t size);
Result<HdrHistogram> DecodeHdrBase64(std::string_view text);

std::string Base64Encode(const uint8_t* data, size_t size);
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace loadcell
