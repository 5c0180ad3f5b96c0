#include "common/redact.h"

#include <algorithm>
#include <cctype>

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

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// KEY=VALUE with the value redacted when KEY names a secret.
std::string RedactEnvArg(const std::string& arg) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || !IsSecretName(std::string_view(arg).substr(0, eq))) return arg;
  return arg.substr(0, eq + 1) + std::string(kRedacted);
}

}  // namespace

bool IsSecretName(std::string_view name) {
  const std::string n = Lower(name);
  for (const char* word :
       {"token", "secret", "password", "passwd", "pwd", "key", "auth", "credential", "cookie", "session"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

Redactor::Redactor(std::vector<std::string> secrets) {
  for (std::string& s : secrets) {
    if (s.size() >= 3 && std::find(secrets_.begin(), secrets_.end(), s) == secrets_.end())
      secrets_.push_back(std::move(s));
  }
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string_view text) const {
  std::string out(text);
  for (const std::string& s : secrets_) {
    for (size_t at = out.find(s); at != std::string::npos; at = out.find(s, at + kRedacted.size())) {
      out.replace(at, s.size(), kRedacted);
    }
  }
  return out;
}

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
      } else if (prev == "-e" || prev == "--env") {
        arg = RedactEnvArg(arg);
      } else if (arg.starts_with("--env=")) {
        arg = "--env=" + RedactEnvArg(arg.substr(6));
      } else if (arg.starts_with("-e") && arg.size() > 2 && arg[2] != '-') {
        arg = "-e" + RedactEnvArg(arg.substr(2));
      }
    }
    // A password in any URL given on the command line (--monitor-postgres, a target).
    if (redact && i > 0) arg = RedactUrl(arg);
    if (i > 0) out += ' ';
    out += arg;
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return std::string(url);
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  size_t colon = authority.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, start + colon + 1));
  out += kRedacted;
  out += url.substr(start + at);
  return out;
}

}  // namespace loadcell
