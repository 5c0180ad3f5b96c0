// Credentials never reach results, reports, logs or the dashboard: the values of the
// headers that carry them (Authorization, Proxy-Authorization, Cookie, Set-Cookie) are
// replaced by "[redacted]" wherever loadcell records what it was asked to do (today: the
// command line in every results file and summary; `--no-redact` keeps them).
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

// The command line as recorded: arguments joined by spaces, with the values of secret
// headers given to -H/--header (as the next argument or after '=') redacted, unless
// `--no-redact` is among them.
std::string RecordedCommandLine(const std::vector<std::string>& argv);

}  // namespace loadcell
