// Credentials never reach results, reports, logs or the dashboard (`--no-redact` keeps
// them):
// - the values of the headers that carry them (Authorization, Proxy-Authorization,
//   Cookie, Set-Cookie) and of -e variables whose names say they are secret (TOKEN,
//   PASSWORD, ...) are "[redacted]" in the recorded command line;
// - the values of `vars` marked `secret: true` and the passwords in database URLs are
//   replaced wherever they appear in what a run records about itself (the command line,
//   messages quoting URLs or server answers) by a Redactor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loadcell {

inline constexpr std::string_view kRedacted = "[redacted]";

// Authorization, Proxy-Authorization, Cookie, Set-Cookie (any case).
bool IsSecretHeader(std::string_view name);

// "Name: value" with the value replaced when the header is a secret one.
std::string RedactHeaderLine(std::string_view line);

// scheme://user:password@host/... with the password replaced (a URL without one unchanged).
std::string RedactUrl(std::string_view url);

// The command line as recorded: arguments joined by spaces, with the values of secret
// headers given to -H/--header (as the next argument or after '=') and the passwords of URLs
// redacted, unless `--no-redact` is among them.
std::string RecordedCommandLine(const std::vector<std::string>& argv);

// API_KEY, db_password, SESSION_TOKEN, ... (any case): names that hold credentials.
bool IsSecretName(std::string_view name);

// Replaces every occurrence of the secrets it was given. Values shorter than 3 bytes are
// ignored: redacting "1" would shred every number in a message.
class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(std::vector<std::string> secrets);
  std::string Apply(std::string_view text) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;  // longest first: a secret containing another wins
};

}  // namespace loadcell
