// A thin epoll wrapper owned by one worker thread. Level-triggered on purpose: a
// connection only asks for EPOLLOUT while a write is incomplete or a connect is pending,
// so a keep-alive request costs one write() and one read() and no epoll_ctl.
#pragma once

#include <sys/epoll.h>

#include "common/clock.h"
#include "common/result.h"

namespace loadcell {

// What a VU worker's poller reports to: a VU's own HTTP connection, a WebSocket client, a
// database connection. The tag registered with Poller::Add is an IoHandler*, so the loop
// dispatches without knowing the protocol (the one seam between the engine and them).
class IoHandler {
 public:
  virtual void OnIo(uint32_t events, Nanos now) = 0;

 protected:
  ~IoHandler() = default;
};

class Poller {
 public:
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  bool ok() const { return fd_ >= 0; }
  Status Add(int fd, uint32_t events, void* tag);
  Status Modify(int fd, uint32_t events, void* tag);
  void Remove(int fd);
  // Waits at most `timeout` ns (< 0: forever) with sub-millisecond precision where the
  // kernel has epoll_pwait2, millisecond otherwise. Returns events ready (0 on timeout).
  int Wait(epoll_event* events, int max, Nanos timeout);

 private:
  int fd_ = -1;
  bool have_pwait2_ = true;
};

}  // namespace loadcell
