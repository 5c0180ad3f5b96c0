// `loadcell proxy --listen A --upstream B [--fault SPEC]... [--api HOST:PORT] [--duration D]`:
// a TCP proxy that injects faults between two services (proxy/tcp_proxy.h), with a small
// HTTP control API to list, add and remove faults while it runs:
//   GET /faults            {"faults": [{id, kind, at_s, duration_s, active, ...}]}
//   POST /faults  {json}   the fault, active from now (or `at` from now); 201 {id, ...}
//   DELETE /faults/ID      204, or 404
//   GET /stats             connections, resets, bytes each way
#include <unistd.h>
#include "net/http_server.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/units.h"
#include "net/listen.h"
#include "net/resolver.h"
#include "proxy/fault_set.h"
#include "proxy/tcp_proxy.h"

namespace loadcell {

void AddProxyOptions(CLI::App& cmd, ProxyArgs& a) {
  cmd.add_option("--listen", a.listen, "HOST:PORT to accept connections on (port 0 picks a free one)")->required();
  cmd.add_option("--upstream", a.upstream, "HOST:PORT to relay them to")->required();
  cmd.add_option("--fault", a.faults,
                 "kind=blackhole|latency|reset|bandwidth[,at=D][,duration=D][,latency=D,jitter=D][,probability=P]"
                 "[,rate=100KB] (repeatable; without duration: until removed)");
  cmd.add_option("--api", a.api, "HOST:PORT of the control API (list, add, remove faults)");
  cmd.add_option("--duration", a.duration, "Stop after this long (default: until Ctrl-C)");
}

int RunProxyCommand(const ProxyArgs& a) {
  auto bad = [](const std::string& arg, const std::string& msg) {
    std::fprintf(stderr, "loadcell: %s: %s\n", arg.c_str(), msg.c_str());
    return kExitBadInput;
  };
  std::string lhost, uhost;
  int lport = 0, uport = 0;
  if (!SplitHostPort(a.listen, &lhost, &lport))
    return bad("--listen", fmt::format("expected HOST:PORT, got \"{}\"", a.listen));
  if (!SplitHostPort(a.upstream, &uhost, &uport) || uport == 0) {
    return bad("--upstream", fmt::format("expected HOST:PORT, got \"{}\"", a.upstream));
  }
  Nanos duration = 0;
  if (!a.duration.empty()) {
    auto d = ParseDuration(a.duration);
    if (!d.ok() || *d <= 0) return bad("--duration", d.ok() ? "must be greater than zero" : d.error().message);
    duration = *d;
  }
  const Nanos start = MonotonicClock::ReadNow();
  FaultSet faults(start);
  for (const std::string& spec : a.faults) {
    auto f = ParseProxyFault(spec);
    if (!f.ok()) return bad("--fault " + spec, f.error().message);
    faults.Add(*f);
  }
  auto listen_ep = Resolve(lhost, static_cast<uint16_t>(lport));
  if (!listen_ep.ok()) return bad("--listen", listen_ep.error().message);
  auto upstream = Resolve(uhost, static_cast<uint16_t>(uport));
  if (!upstream.ok()) return bad("--upstream", upstream.error().message);
  auto lfd = ListenTcp(*listen_ep);
  if (!lfd.ok()) {
    std::fprintf(stderr, "loadcell: --listen: %s\n", lfd.error().message.c_str());
    return kExitFailure;
  }
  ProxyStats stats;
  http::Server::Limits api_limits;
  api_limits.threads = 1;
  api_limits.max_body_bytes = 64 * 1024;
  http::Server api(api_limits);
  int api_port = 0;
  if (!a.api.empty()) {
    std::string ahost;
    int want = 0;
    if (!SplitHostPort(a.api, &ahost, &want)) return bad("--api", fmt::format("expected HOST:PORT, got \"{}\"", a.api));
    api.Get("/faults", [&](const http::Request&, http::Response& res) {
      nlohmann::json list = nlohmann::json::array();
      Nanos now = MonotonicClock::ReadNow() - start;
      for (const ProxyFault& f : faults.List()) list.push_back(ProxyFaultJson(f, now));
      res.SetContent(nlohmann::json{{"faults", list}}.dump(), "application/json");
    });
    api.Post("/faults", [&](const http::Request& req, http::Response& res) {
      auto error = [&](const std::string& msg) {
        res.status = 400;
        res.SetContent(nlohmann::json{{"error", msg}}.dump(), "application/json");
      };
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded())
        return error("the body is not JSON: expected {\"kind\": \"latency\", \"latency\": \"100ms\"}");
      auto f = ProxyFaultFromJson(body);
      if (!f.ok()) return error(f.error().message);
      ProxyFault fault = *f;
      Nanos now = MonotonicClock::ReadNow() - start;
      fault.def.at += now;  // from now on the proxy's timeline
      fault.id = faults.Add(fault);
      res.status = 201;
      res.SetContent(ProxyFaultJson(fault, now).dump(), "application/json");
    });
    api.Delete(R"(/faults/(\d+))", [&](const http::Request& req, http::Response& res) {
      int64_t id = -1;
      std::from_chars(req.matches[1].data(), req.matches[1].data() + req.matches[1].size(), id);
      if (!faults.Remove(id)) {
        res.status = 404;
        res.SetContent(nlohmann::json{{"error", "no such fault"}}.dump(), "application/json");
        return;
      }
      res.status = 204;
    });
    api.Get("/stats", [&](const http::Request&, http::Response& res) {
      res.SetContent(nlohmann::json{{"connections", stats.connections.load()},
                                    {"resets", stats.resets.load()},
                                    {"bytes_up", stats.bytes_up.load()},
                                    {"bytes_down", stats.bytes_down.load()}}
                         .dump(),
                     "application/json");
    });
    Status listening = api.Listen(ahost, want);
    if (!listening.ok()) {
      std::fprintf(stderr, "loadcell: --api %s: cannot listen there (%s)\n", a.api.c_str(),
                   listening.error().message.c_str());
      return kExitFailure;
    }
    api_port = api.port();
  }
  std::printf("loadcell proxy listening on %s:%u -> %s%s\n", lhost.c_str(), BoundPort(*lfd), a.upstream.c_str(),
              api_port > 0 ? fmt::format("; control API on http://{}:{}/faults",
                                         lhost == "0.0.0.0" ? "127.0.0.1" : lhost, api_port)
                                 .c_str()
                           : "");
  std::fflush(stdout);
  std::atomic<bool> stop{false};
  std::thread timer;
  if (duration > 0) {
    timer = std::thread([&] {
      while (!stop.load() && MonotonicClock::ReadNow() - start < duration && !g_interrupted.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      stop.store(true);
    });
  }
  std::thread watcher([&] {
    while (!stop.load() && !g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.store(true);
  });
  Status s = RunProxy(*lfd, *upstream, faults, stats, stop);
  stop.store(true);
  watcher.join();
  if (timer.joinable()) timer.join();
  api.Stop();
  close(*lfd);
  std::printf("loadcell proxy: %lld connections, %lld reset, %lld bytes up, %lld bytes down\n",
              static_cast<long long>(stats.connections.load()), static_cast<long long>(stats.resets.load()),
              static_cast<long long>(stats.bytes_up.load()), static_cast<long long>(stats.bytes_down.load()));
  if (!s.ok()) {
    std::fprintf(stderr, "loadcell: proxy: %s\n", s.error().message.c_str());
    return kExitFailure;
  }
  return kExitOk;  // a service: Ctrl-C is how it ends
}

}  // namespace loadcell
