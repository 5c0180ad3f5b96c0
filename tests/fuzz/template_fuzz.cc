// libFuzzer: templates compiled from test files must fail cleanly, and rendering a compiled
// template must never crash, whatever the variables hold.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenario/template.h"

namespace {
class Ctx final : public loadcell::TemplateContext {
 public:
  bool Lookup(std::string_view name, std::string* out) const override {
    if (name.size() % 3 == 0) return false;
    *out = name.size() % 2 == 0 ? "12" : "text";
    return true;
  }
  loadcell::Xoshiro256& Rng() override { return rng_; }
  int64_t NowMs() const override { return 1; }

 private:
  loadcell::Xoshiro256 rng_{1};
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t offset = 0;
  auto t = loadcell::Template::Compile(text, &offset);
  if (!t.ok()) {
    if (offset > size) __builtin_trap();
    return 0;
  }
  Ctx ctx;
  (void)t->Render(ctx);
  (void)t->Names();
  return 0;
}
