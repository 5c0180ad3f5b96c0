#include "net/poller.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace loadcell {

Poller::Poller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {}

Poller::~Poller() {
  if (fd_ >= 0) close(fd_);
}

namespace {

Status Control(int epoll_fd, int op, int fd, uint32_t events, void* tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = tag;
  if (epoll_ctl(epoll_fd, op, fd, &ev) != 0) {
    return Error::Io(fmt::format("epoll_ctl {}: {}", op == EPOLL_CTL_ADD ? "add" : "mod", std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace

Status Poller::Add(int fd, uint32_t events, void* tag) { return Control(fd_, EPOLL_CTL_ADD, fd, events, tag); }

Status Poller::Modify(int fd, uint32_t events, void* tag) { return Control(fd_, EPOLL_CTL_MOD, fd, events, tag); }

void Poller::Remove(int fd) { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

int Poller::Wait(epoll_event* events, int max, Nanos timeout) {
  int n = 0;
  if (have_pwait2_) {
    timespec ts{};
    timespec* tp = nullptr;
    if (timeout >= 0) {
      ts.tv_sec = timeout / kSecond;
      ts.tv_nsec = timeout % kSecond;
      tp = &ts;
    }
    n = epoll_pwait2(fd_, events, max, tp, nullptr);
    if (n < 0 && errno == ENOSYS) {
      have_pwait2_ = false;
    } else {
      return n < 0 ? 0 : n;
    }
  }
  int ms = timeout < 0 ? -1 : static_cast<int>((timeout + kMilli - 1) / kMilli);
  n = epoll_wait(fd_, events, max, ms);
  return n < 0 ? 0 : n;
}

}  // namespace loadcell
