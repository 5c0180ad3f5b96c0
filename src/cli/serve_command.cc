#include <unistd.h>

#include <climits>
#include <cstdio>

#include "cli/commands.h"
#include "common/units.h"
#include "service/service.h"

namespace loadcell {

void AddServeOptions(CLI::App& cmd, ServeArgs& a) {
  cmd.add_option("--listen", a.listen, "HOST:PORT to serve on (loopback unless --token-file is given)");
  cmd.add_option("--db", a.db, "SQLite file, or a postgres:// URL");
  cmd.add_option("--token-file", a.token_file,
                 "API tokens, one per line (default: one generated and printed on first start)");
  cmd.add_option("--max-concurrent-runs", a.max_concurrent_runs, "Runs at once; more wait in a queue")
      ->check(CLI::Range(1, 64));
  cmd.add_option("--data-dir", a.data_dir, "Where runs work (default: DB.runs next to a SQLite file)");
  cmd.add_option("--max-body", a.max_body, "Largest request body accepted, in bytes")
      ->check(CLI::Range(1024, 64 << 20));
  cmd.add_option("--max-connections-per-client", a.max_connections_per_client,
                 "Connections one client address may hold open (behind a reverse proxy, raise it)")
      ->check(CLI::Range(1, 10000));
  cmd.add_option("--request-timeout", a.request_timeout,
                 "Seconds a client has to send a whole request, headers and body")
      ->check(CLI::Range(1, 3600));
  cmd.add_option("--escalate-after", a.escalate_after,
                 "A live warning alert not acknowledged within this long becomes critical (0: never)");
}

int RunServeCommand(const ServeArgs& a) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "loadcell serve: cannot find its own executable (/proc/self/exe)\n");
    return kExitFailure;
  }
  self[n] = '\0';
  Service::Options o;
  o.listen = a.listen;
  o.db = a.db;
  o.token_file = a.token_file;
  o.max_concurrent_runs = a.max_concurrent_runs;
  o.data_dir = a.data_dir;
  o.max_body_bytes = static_cast<size_t>(a.max_body);
  o.max_connections_per_client = static_cast<unsigned>(a.max_connections_per_client);
  o.request_timeout_s = static_cast<unsigned>(a.request_timeout);
  o.binary = self;
  auto escalate = ParseDuration(a.escalate_after);
  if (!escalate.ok() || *escalate < 0) {
    std::fprintf(stderr, "loadcell: --escalate-after: %s\n",
                 escalate.ok() ? "must not be negative" : escalate.error().message.c_str());
    return kExitBadInput;
  }
  o.escalate_after_s = static_cast<double>(*escalate) / 1e9;
  Service service(o);
  std::string token;
  Status s = service.Start(&token);
  if (!s.ok()) {
    std::fprintf(stderr, "loadcell serve: %s\n", s.error().message.c_str());
    return s.error().kind == ErrorKind::kInvalidArgument ? kExitBadInput : kExitFailure;
  }
  std::string host = a.listen.substr(0, a.listen.rfind(':'));
  std::printf("loadcell serve: listening on http://%s:%d (database %s)\n", host.c_str(), service.port(),
              service.store().Describe().c_str());
  if (!token.empty()) {
    std::printf("loadcell serve: API token (shown this once; keep it): %s\n", token.c_str());
  }
  std::fflush(stdout);
  service.Serve(g_interrupted);
  std::printf("loadcell serve: stopped\n");
  return kExitOk;
}

}  // namespace loadcell
