#include "target/ws_endpoint.h"

#include <fmt/format.h>

#include "protocol/websocket/handshake.h"

namespace loadcell {

std::optional<WsEndpoint::Mode> WsEndpointFor(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/ws/echo") return WsEndpoint::Mode::kEcho;
  if (path == "/ws/broadcast") return WsEndpoint::Mode::kBroadcast;
  if (path == "/ws/bad-frame") return WsEndpoint::Mode::kBadFrame;
  return std::nullopt;
}

std::string WsUpgradeResponse(std::string_view key, std::string_view offered_protocols) {
  std::string protocol;
  if (!offered_protocols.empty()) {
    std::string_view first = offered_protocols.substr(0, offered_protocols.find(','));
    while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
    protocol = fmt::format("Sec-WebSocket-Protocol: {}\r\n", first);
  }
  return fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\nServer: loadcell-target\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{}\r\n",
      ws::AcceptKey(key), protocol);
}

bool WsEndpoint::Feed(std::string_view in, std::string* reply, std::string* broadcast) {
  if (closed_) return false;
  parser_.Append(in);
  ws::MessageParser::Message m;
  for (;;) {
    auto st = parser_.Next(&m);
    if (st == ws::MessageParser::Status::kNeedMore) return true;
    if (st == ws::MessageParser::Status::kError) {
      ws::EncodeClose(reply, parser_.error_code(), parser_.error(), nullptr);
      closed_ = true;
      return false;
    }
    switch (m.opcode) {
      case ws::Opcode::kPing: ws::EncodeFrame(reply, ws::Opcode::kPong, m.data, true, nullptr); break;
      case ws::Opcode::kPong: break;
      case ws::Opcode::kClose: {
        ws::CloseInfo ci = ws::ParseClosePayload(m.data);
        ws::EncodeClose(reply, ci.code == 1005 ? ws::kCloseNormal : ci.code, "", nullptr);
        closed_ = true;
        return false;
      }
      default:
        if (mode_ == Mode::kEcho) {
          ws::EncodeFrame(reply, m.opcode, m.data, true, nullptr);
        } else if (mode_ == Mode::kBroadcast) {
          ws::EncodeFrame(broadcast, m.opcode, m.data, true, nullptr);
        } else {
          reply->push_back(static_cast<char>(0xF1));  // FIN + RSV1..3 + text: no extension allows that
          reply->push_back(static_cast<char>(2));
          reply->append("no");
        }
        break;
    }
  }
}

}  // namespace loadcell
