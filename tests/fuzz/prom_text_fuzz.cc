// libFuzzer: a scraped /metrics body is whatever the endpoint sends. The parser and the
// converter must never crash or keep more than their bound, and a body that parses must
// convert (twice: rates and histogram increases) without tripping anything.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "monitor/prom_text.h"
#include "monitor/scrape_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = loadcell::ParsePromText(text, 1000);
  if (!e.ok()) return 0;
  if (e->samples.size() > 1000) __builtin_trap();
  loadcell::ScrapeConverter c({});
  c.Convert(*e, 1);
  c.Convert(*e, 2);
  return 0;
}
