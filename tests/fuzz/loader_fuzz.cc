// libFuzzer: any test file must load or give a file:line:col error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenario/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  loadcell::LoadOptions options;
  options.use_process_env = false;
  options.env = {{"BASE", "http://127.0.0.1:1"}};
  auto def = loadcell::LoadTestText(text, "fuzz.yaml", options);
  if (!def.ok() && def.error().message.rfind("fuzz.yaml:", 0) != 0) __builtin_trap();
  return 0;
}
