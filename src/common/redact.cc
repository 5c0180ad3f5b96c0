#include "common/redact.h"

namespace loadcell {
namespace {

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsSecretHeader(std::string_view name) {
  name = Trim(name);
  return IEq(name, "authorization") || IEq(name, "proxy-authorization") || IEq(name, "cookie") ||
         IEq(name, "set-cookie");
}

std::string RedactHeaderLine(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !IsSecretHeader(line.substr(0, colon))) return std::string(line);
  return std::string(line.substr(0, colon)) + ": " + std::string(kRedacted);
}

std::string RecordedCommandLine(const std::vector<std::string>& argv) {
  bool redact = true;
  for (const std::string& a : argv) redact &= a != "--no-redact";
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (redact && i > 0) {
      const std::string& prev = argv[i - 1];
      if (prev == "-H" || prev == "--header") {
        arg = RedactHeaderLine(arg);
      } else if (arg.starts_with("--header=")) {
        arg = "--header=" + RedactHeaderLine(std::string_view(arg).substr(9));
      } else if (arg.starts_with("-H") && arg.size() > 2) {
        arg = "-H" + RedactHeaderLine(std::string_view(arg).substr(2));
      }
    }
    if (i > 0) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace loadcell
