// Running out of local resources — file descriptors (ulimit -n) or ephemeral ports — is
// the generator's limit, not the target's. Without care it shows up as thousands of
// identical connect errors; here it is counted where socket() and connect() fail, and
// reported once at the end with the number of connections that were open when it began
// and the limit to raise.
//
// Process-wide atomics: touched once per connection attempt (already a syscall), never
// per request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loadcell {

// Sockets currently open by Transport (every protocol's client connections).
void CountOpenSocket(int delta);

// socket()/connect() failed with `err`; returns true when it was a local resource limit
// (EMFILE, ENFILE: descriptors; EADDRNOTAVAIL: ephemeral ports), which is then counted.
bool NoteLocalFailure(int err);

struct LocalLimits {
  int64_t fd_failures = 0;    // EMFILE / ENFILE
  int64_t open_at_fd = 0;     // sockets open when the first one happened
  int64_t port_failures = 0;  // EADDRNOTAVAIL
  int64_t open_at_port = 0;
};

LocalLimits ReadLocalLimits();
void ResetLocalLimits();  // tests; a process runs one test

// One message per exhausted resource, naming the limit (`ulimit -n` with its value, or the
// ephemeral port range), for the summary's warnings and the results' messages.
std::vector<std::string> LocalLimitMessages(const LocalLimits& l);

}  // namespace loadcell
