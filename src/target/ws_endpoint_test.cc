#include "target/ws_endpoint.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

const uint8_t kMask[4] = {1, 2, 3, 4};

std::string ClientFrame(ws::Opcode op, std::string_view payload) {
  std::string out;
  ws::EncodeFrame(&out, op, payload, true, kMask);
  return out;
}

std::vector<std::string> Messages(std::string_view server_bytes) {
  ws::MessageParser p(false, ws::Limits{});
  p.Append(server_bytes);
  std::vector<std::string> out;
  ws::MessageParser::Message m;
  while (p.Next(&m) == ws::MessageParser::Status::kMessage) out.emplace_back(m.data);
  return out;
}

TEST(WsEndpoint, EchoAnswersPingsAndEchoesTheClose) {
  WsEndpoint e(WsEndpoint::Mode::kEcho);
  std::string reply, fanout;
  std::string in = ClientFrame(ws::Opcode::kText, "one") + ClientFrame(ws::Opcode::kPing, "p");
  EXPECT_TRUE(e.Feed(in.substr(0, 5), &reply, &fanout));
  EXPECT_TRUE(e.Feed(in.substr(5), &reply, &fanout));
  EXPECT_EQ(Messages(reply), (std::vector<std::string>{"one", "p"}));
  EXPECT_TRUE(fanout.empty());
  reply.clear();
  std::string close;
  ws::EncodeClose(&close, 4000, "bye", kMask);
  EXPECT_FALSE(e.Feed(close, &reply, &fanout));
  ASSERT_EQ(Messages(reply).size(), 1u);
  EXPECT_EQ(ws::ParseClosePayload(Messages(reply)[0]).code, 4000);
}

TEST(WsEndpoint, BroadcastGoesToTheRoomAndBadInputIsRefused) {
  WsEndpoint b(WsEndpoint::Mode::kBroadcast);
  std::string reply, fanout;
  EXPECT_TRUE(b.Feed(ClientFrame(ws::Opcode::kText, "hi"), &reply, &fanout));
  EXPECT_TRUE(reply.empty());
  EXPECT_EQ(Messages(fanout), std::vector<std::string>{"hi"});
  // An unmasked client frame breaks the protocol: closed with 1002.
  WsEndpoint e(WsEndpoint::Mode::kEcho);
  std::string unmasked;
  ws::EncodeFrame(&unmasked, ws::Opcode::kText, "x", true, nullptr);
  reply.clear();
  EXPECT_FALSE(e.Feed(unmasked, &reply, &fanout));
  EXPECT_EQ(ws::ParseClosePayload(Messages(reply)[0]).code, ws::kCloseProtocolError);
  EXPECT_EQ(WsEndpointFor("/ws/echo?x=1"), WsEndpoint::Mode::kEcho);
  EXPECT_FALSE(WsEndpointFor("/ws/other").has_value());
  EXPECT_NE(WsUpgradeResponse("dGhlIHNhbXBsZSBub25jZQ==", "chat, x").find("Sec-WebSocket-Protocol: chat\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace loadcell
