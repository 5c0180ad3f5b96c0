#include "common/printable.h"

#include <algorithm>

#include <fmt/format.h>

namespace loadcell {
namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 if it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1Fu;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0Fu;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07u;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  // C1 controls (U+0080..U+009F) are terminal escapes too.
  if (cp >= 0x80 && cp <= 0x9F) return 0;
  return n;
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t n = Utf8Length(text, i);
    if (n == 1 && (b >= 0x20 || b == '\t') && b != 0x7F) {
      out.push_back(text[i]);
    } else if (n > 1) {
      out.append(text.substr(i, n));
    } else {
      out += fmt::format("\\x{:02x}", b);
      n = 1;
    }
    i += n;
  }
  return out;
}

std::string EscapeChars(std::string_view text, std::initializer_list<std::pair<char, std::string_view>> escapes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto* e = std::find_if(escapes.begin(), escapes.end(), [c](const auto& x) { return x.first == c; });
    if (e == escapes.end())
      out += c;
    else
      out += e->second;
  }
  return out;
}

}  // namespace loadcell
