// libFuzzer: decoding an HdrHistogram from untrusted results files must fail cleanly.
#include <cstddef>
#include <cstdint>

#include "metrics/hdr_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = loadcell::DecodeHdr(data, size);
  if (h.ok()) {
    (void)h->ValueAtPercentile(99.9);
    auto again = loadcell::EncodeHdrV2(*h);
    auto back = loadcell::DecodeHdr(again.data(), again.size());
    if (!back.ok() || back->total_count() != h->total_count()) __builtin_trap();
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)loadcell::DecodeHdrBase64(text);
  return 0;
}
