#include "output/export.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace loadcell {

std::string Iso8601(double epoch_s) {
  time_t t = static_cast<time_t>(epoch_s);
  tm g{};
  gmtime_r(&t, &g);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &g);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>((epoch_s - static_cast<double>(t)) * 1000));
}

Status CheckWritable(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Error::Io(fmt::format("cannot write {}: directory {} does not exist", path, dir));
  }
  if (!S_ISDIR(st.st_mode)) return Error::Io(fmt::format("cannot write {}: {} is not a directory", path, dir));
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error::Io(fmt::format("cannot write {}: {} ({})", path, std::strerror(errno), dir));
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Error::Io(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Error::Io(fmt::format("cannot write {}: {}", path, why));
  }
  return Status::Ok();
}

}  // namespace loadcell
