#include "engine/h2_pool.h"

namespace loadcell {

H2Pool::H2Pool(Poller& poller, const TlsContext* tls, std::vector<char>& buf, Endpoint endpoint,
               std::string server_name, int streams, Nanos connect_timeout, DoneFn done, CountFn counts)
    : poller_(poller),
      tls_(tls),
      buf_(buf),
      endpoint_(endpoint),
      server_name_(std::move(server_name)),
      streams_(streams),
      connect_timeout_(connect_timeout),
      done_(std::move(done)),
      counts_(std::move(counts)) {}

H2Pool::~H2Pool() { Close(); }

void H2Pool::Close() {
  for (Slot& s : clients_) s.client->Close();
}

H2Pool::Request* H2Pool::NewRequest() {
  if (free_.empty()) {
    all_.push_back(std::make_unique<Request>());
    return all_.back().get();
  }
  Request* r = free_.back();
  free_.pop_back();
  return r;
}

void H2Pool::Free(Request* r) {
  r->owner = nullptr;
  r->own.reset();
  r->observer = nullptr;
  r->resends = 0;
  r->id = -1;
  r->collector.Clear();
  free_.push_back(r);
}

size_t H2Pool::IndexOf(const h2::H2Client& c) const {
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].client.get() == &c) return i;
  }
  return clients_.size();
}

bool H2Pool::SubmitOn(size_t slot, Request* r) {
  const h2::H2Request& req = r->own ? *r->own : *r->request;
  if (!clients_[slot].client->Submit(req, r)) return false;
  r->client = slot;
  clients_[slot].dirty = true;
  return true;
}

void H2Pool::Submit(Request* r, Nanos now) {
  // A connection with a free stream; else one still connecting with room in its queue;
  // else a new (or a closed, reused) connection.
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].client->Capacity(streams_) > 0 && SubmitOn(i, r)) return;
  }
  for (size_t i = 0; i < clients_.size(); ++i) {
    Slot& s = clients_[i];
    if (s.client->connecting() && static_cast<int>(s.pending.size()) < streams_) {
      s.pending.push_back(r);
      r->client = i;
      return;
    }
  }
  size_t slot = clients_.size();
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].client->down() && clients_[i].pending.empty()) slot = i;
  }
  if (slot == clients_.size())
    clients_.push_back({std::make_unique<h2::H2Client>(poller_, tls_, buf_, *this), {}, false});
  clients_[slot].pending.push_back(r);
  r->client = slot;
  counts_(0, 0, 1);
  clients_[slot].client->Connect(endpoint_, server_name_, now);
}

void H2Pool::Abandon(Request* r) {
  r->owner = nullptr;
  if (r->client < clients_.size()) {
    Slot& s = clients_[r->client];
    for (size_t i = 0; i < s.pending.size(); ++i) {
      if (s.pending[i] == r) {
        s.pending.erase(s.pending.begin() + static_cast<ptrdiff_t>(i));
        Free(r);
        return;
      }
    }
    if (r->id > 0) {
      // On the wire: cancel it; the stream's close frees it.
      s.client->Cancel(r);
      s.dirty = true;
      return;
    }
  }
  Free(r);  // never submitted (a request that could not be rendered)
}

void H2Pool::Finish(Request* r, uint32_t error_code, std::optional<Failure> failure, Nanos now) {
  if (r->owner != nullptr) done_(*r, error_code, failure, now);
  Free(r);
}

void H2Pool::OnStreamDone(h2::H2Stream* stream, uint32_t error_code, bool refused) {
  auto* r = static_cast<Request*>(stream);
  Nanos now = MonotonicClock::ReadNow();
  if (refused && r->resends < h2::kMaxResends && r->owner != nullptr) {
    // Not processed by the server (it is retiring the connection): again elsewhere.
    ++r->resends;
    r->collector.Clear();
    Submit(r, now);
    return;
  }
  std::optional<Failure> failure =
      error_code == h2::kConnectionLost ? clients_[r->client].client->last_failure() : std::nullopt;
  Finish(r, error_code, failure, now);
}

void H2Pool::OnReady(h2::H2Client& client, Nanos now) {
  size_t i = IndexOf(client);
  std::vector<Request*> pending;
  pending.swap(clients_[i].pending);
  for (Request* r : pending) {
    if (!SubmitOn(i, r)) Submit(r, now);  // the server allows fewer streams than we queued
  }
}

void H2Pool::OnDown(h2::H2Client& client, std::optional<Failure> failure, bool /*was_ready*/, Nanos now) {
  // A lost link's refused streams are sent again before this is called, and may have
  // picked this very slot and reconnected it: its queue is then the new connection's.
  if (!client.down()) return;
  size_t i = IndexOf(client);
  std::vector<Request*> pending;
  pending.swap(clients_[i].pending);
  for (Request* r : pending) {
    if (failure == std::nullopt)
      Submit(r, now);  // closed cleanly before use: elsewhere
    else
      Finish(r, h2::kConnectionLost, failure, now);
  }
}

// By index: a flush or a failed connect can call back into Submit, which may add a slot.
void H2Pool::FlushPending(Nanos now) {
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (!clients_[i].dirty) continue;
    clients_[i].dirty = false;
    clients_[i].client->Flush(now);
  }
}

void H2Pool::Scan(Nanos now) {
  for (size_t i = 0; i < clients_.size(); ++i) {
    h2::H2Client& c = *clients_[i].client;
    if (c.connecting() && now >= c.connect_started() + connect_timeout_) {
      c.Close();
      OnDown(c, Failure::kConnect, false, now);
    }
  }
}

}  // namespace loadcell
