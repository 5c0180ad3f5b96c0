#include "monitor/proc_monitor.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace loadcell {
namespace {

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Stat {
  int ppid = 0;
  double ticks = 0;  // utime + stime
  double threads = 0;
  bool ok = false;
};

// /proc/PID/stat: the command may hold spaces and parentheses, so fields are counted from
// the last ')'. Field 4 is ppid, 14/15 utime/stime, 20 num_threads.
Stat ReadStat(const std::string& pid) {
  Stat s;
  std::string text = ReadSmall("/proc/" + pid + "/stat");
  size_t close = text.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (in >> tok) f.push_back(tok);
  if (f.size() < 18) return s;  // f[0] is field 3
  s.ppid = std::atoi(f[1].c_str());
  s.ticks = std::atof(f[11].c_str()) + std::atof(f[12].c_str());
  s.threads = std::atof(f[17].c_str());
  s.ok = true;
  return s;
}

std::vector<std::string> ProcPids() {
  std::vector<std::string> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9') out.emplace_back(e->d_name);
  }
  closedir(d);
  return out;
}

bool NameMatches(const std::string& pid, const std::string& name) {
  std::string comm = ReadSmall("/proc/" + pid + "/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  if (comm == name) return true;
  std::string cmdline = ReadSmall("/proc/" + pid + "/cmdline");
  std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
  size_t slash = argv0.rfind('/');
  return (slash == std::string::npos ? argv0 : argv0.substr(slash + 1)) == name;
}

double CountFds(const std::string& pid) {
  DIR* d = opendir(("/proc/" + pid + "/fd").c_str());
  if (d == nullptr) return 0;
  double n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
  closedir(d);
  return n;
}

double RssBytes(const std::string& pid) {
  std::string statm = ReadSmall("/proc/" + pid + "/statm");
  double size = 0, resident = 0;
  if (std::sscanf(statm.c_str(), "%lf %lf", &size, &resident) != 2) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void IoBytes(const std::string& pid, double* read, double* write) {
  std::istringstream in(ReadSmall("/proc/" + pid + "/io"));
  std::string key;
  double v = 0;
  while (in >> key >> v) {
    if (key == "read_bytes:") *read += v;
    if (key == "write_bytes:") *write += v;
  }
}

}  // namespace

ProcMonitor::ProcMonitor(std::vector<ProcessSelector> targets) : targets_(std::move(targets)) {}

std::vector<int> ProcMonitor::Resolve() const {
  std::map<int, int> parent;
  std::set<int> roots;
  for (const std::string& pid : ProcPids()) {
    Stat s = ReadStat(pid);
    if (!s.ok) continue;
    int p = std::atoi(pid.c_str());
    parent[p] = s.ppid;
    for (const ProcessSelector& t : targets_) {
      if ((t.pid != 0 && t.pid == p) || (!t.name.empty() && NameMatches(pid, t.name))) roots.insert(p);
    }
  }
  // Descendants: walk each process's parents up to a root.
  std::vector<int> out;
  for (const auto& [p, _] : parent) {
    for (int cur = p, depth = 0; cur > 0 && depth < 64; ++depth) {
      if (roots.count(cur)) {
        out.push_back(p);
        break;
      }
      auto it = parent.find(cur);
      if (it == parent.end()) break;
      cur = it->second;
    }
  }
  return out;
}

std::map<std::string, double> ProcMonitor::Sample(double now_s) {
  std::map<std::string, double> g;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double dt = last_s_ >= 0 ? now_s - last_s_ : 0;
  if (!targets_.empty()) {
    std::vector<int> pids = Resolve();
    double cpu_ticks = 0, rss = 0, threads = 0, fds = 0, rd = 0, wr = 0;
    std::map<int, double> ticks;
    for (int p : pids) {
      std::string pid = std::to_string(p);
      Stat s = ReadStat(pid);
      if (!s.ok) continue;
      ticks[p] = s.ticks;
      auto prev = last_ticks_.find(p);
      cpu_ticks += s.ticks - (prev == last_ticks_.end() ? s.ticks : prev->second);
      rss += RssBytes(pid);
      threads += s.threads;
      fds += CountFds(pid);
      IoBytes(pid, &rd, &wr);
    }
    last_ticks_ = std::move(ticks);
    g["target_processes"] = static_cast<double>(pids.size());
    g["target_rss"] = rss;
    g["target_threads"] = threads;
    g["target_fds"] = fds;
    if (dt > 0) {
      g["target_cpu"] = 100.0 * cpu_ticks / hz / dt;
      if (last_io_read_ >= 0) {
        g["target_read_bytes"] = std::max(0.0, rd - last_io_read_) / dt;
        g["target_write_bytes"] = std::max(0.0, wr - last_io_write_) / dt;
      }
    }
    last_io_read_ = rd;
    last_io_write_ = wr;
  }
  // The host: /proc/stat's first line is the sum over CPUs, in ticks.
  {
    std::istringstream in(ReadSmall("/proc/stat"));
    std::string cpu;
    double v[8] = {0};
    in >> cpu;
    for (double& x : v) in >> x;
    double idle = v[3] + v[4];
    double total = 0;
    for (double x : v) total += x;
    if (last_host_total_ > 0 && total > last_host_total_) {
      g["host_cpu"] = 100.0 * ((total - idle) - last_host_busy_) / (total - last_host_total_);
    }
    last_host_busy_ = total - idle;
    last_host_total_ = total;
  }
  {
    std::istringstream in(ReadSmall("/proc/meminfo"));
    std::string key, unit;
    double v = 0, total = 0, available = 0;
    while (in >> key >> v >> unit) {
      if (key == "MemTotal:") total = v;
      if (key == "MemAvailable:") available = v;
    }
    g["host_memory"] = (total - available) * 1024;
    g["host_memory_total"] = total * 1024;
  }
  {
    std::istringstream in(ReadSmall("/proc/net/dev"));
    std::string line;
    double rx = 0, tx = 0;
    while (std::getline(in, line)) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::istringstream f(line.substr(colon + 1));
      double x[9] = {0};
      for (double& y : x) f >> y;
      rx += x[0];
      tx += x[8];
    }
    if (dt > 0 && last_rx_ >= 0) {
      g["host_net_rx"] = std::max(0.0, rx - last_rx_) / dt;
      g["host_net_tx"] = std::max(0.0, tx - last_tx_) / dt;
    }
    last_rx_ = rx;
    last_tx_ = tx;
  }
  Stat self = ReadStat("self");
  if (dt > 0) g["generator_cpu"] = 100.0 * (self.ticks - last_self_ticks_) / hz / dt;
  last_self_ticks_ = self.ticks;
  g["generator_rss"] = RssBytes("self");
  last_s_ = now_s;
  return g;
}

}  // namespace loadcell
