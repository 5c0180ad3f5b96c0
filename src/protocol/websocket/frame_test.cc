#include "protocol/websocket/frame.h"

#include <gtest/gtest.h>

#include "protocol/websocket/handshake.h"

namespace loadcell::ws {
namespace {

const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

std::vector<std::pair<Opcode, std::string>> ParseAll(MessageParser& p, std::string_view bytes, size_t step) {
  std::vector<std::pair<Opcode, std::string>> out;
  for (size_t i = 0; i < bytes.size(); i += step) {
    p.Append(bytes.substr(i, step));
    MessageParser::Message m;
    while (p.Next(&m) == MessageParser::Status::kMessage) out.emplace_back(m.opcode, std::string(m.data));
  }
  return out;
}

TEST(WsFrame, Rfc6455Examples) {
  // Section 5.7: a single-frame unmasked text message, and the masked one.
  std::string out;
  EncodeFrame(&out, Opcode::kText, "Hello", true, nullptr);
  EXPECT_EQ(out, std::string("\x81\x05\x48\x65\x6c\x6c\x6f", 7));
  out.clear();
  EncodeFrame(&out, Opcode::kText, "Hello", true, kMask);
  EXPECT_EQ(out, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  MessageParser server(true, Limits{});
  auto msgs = ParseAll(server, out, 1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].second, "Hello");
  // A fragmented unmasked text message ("Hel" + "lo") with a ping between the fragments.
  MessageParser client(false, Limits{});
  std::string frag("\x01\x03\x48\x65\x6c\x89\x05Hello\x80\x02\x6c\x6f", 16);
  msgs = ParseAll(client, frag, 3);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].first, Opcode::kPing);
  EXPECT_EQ(msgs[1].first, Opcode::kText);
  EXPECT_EQ(msgs[1].second, "Hello");
}

TEST(WsFrame, LengthEncodingsRoundTrip) {
  for (size_t n : {0u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(n, 'a');
    std::string out;
    EncodeFrame(&out, Opcode::kBinary, payload, true, kMask);
    MessageParser p(true, Limits{});
    auto msgs = ParseAll(p, out, 4096);
    ASSERT_EQ(msgs.size(), 1u) << n;
    EXPECT_EQ(msgs[0].second.size(), n);
    EXPECT_EQ(msgs[0].first, Opcode::kBinary);
  }
}

struct Bad {
  std::string bytes;
  uint16_t code;
  std::string error;
};

TEST(WsFrame, ProtocolViolationsAreErrorsWithCloseCodes) {
  Limits small;
  small.max_frame = 10;
  small.max_message = 15;
  std::vector<Bad> cases = {
      {std::string("\xc1\x00", 2), kCloseProtocolError, "reserved bits set without an extension"},
      {std::string("\x83\x00", 2), kCloseProtocolError, "unknown opcode 3"},
      {std::string("\x09\x00", 2), kCloseProtocolError, "fragmented control frame"},
      {std::string("\x89\x7e\x00\x80", 4), kCloseProtocolError, "control frame payload over 125 bytes"},
      {std::string("\x80\x00", 2), kCloseProtocolError, "continuation frame without a message to continue"},
      {std::string("\x01\x01"
                   "a"
                   "\x01\x01"
                   "b",
                   6),
       kCloseProtocolError, "new message before the previous one's final fragment"},
      {std::string("\x81\x0b"
                   "01234567890",
                   13),
       kCloseTooBig, "frame of 11 bytes over the limit of 10"},
      {std::string("\x01\x08"
                   "01234567"
                   "\x80\x08"
                   "01234567",
                   20),
       kCloseTooBig, "message over the limit of 15 bytes"},
      {std::string("\x81\x02\xc3\x28", 4), kCloseInvalidData, "text message is not valid UTF-8"},
      {std::string("\x88\x01\x03", 3), kCloseProtocolError, "invalid close frame payload"},
      {std::string("\x88\x02\x03\xed", 4), kCloseProtocolError, "invalid close frame payload"},  // 1005 may not be sent
      {std::string("\x81\x81\x00\x00\x00\x00"
                   "a",
                   7),
       kCloseProtocolError, "a server frame with a mask"},
  };
  for (const Bad& c : cases) {
    MessageParser p(false, small);
    p.Append(c.bytes);
    MessageParser::Message m;
    EXPECT_EQ(p.Next(&m), MessageParser::Status::kError) << c.error;
    EXPECT_EQ(p.error(), c.error);
    EXPECT_EQ(p.error_code(), c.code) << c.error;
  }
  MessageParser server(true, Limits{});
  server.Append(
      std::string("\x81\x01"
                  "a",
                  3));
  MessageParser::Message m;
  EXPECT_EQ(server.Next(&m), MessageParser::Status::kError);
  EXPECT_EQ(server.error(), "a client frame without a mask");
}

TEST(WsFrame, CloseFrames) {
  std::string out;
  EncodeClose(&out, 4001, "bye", nullptr);
  MessageParser p(false, Limits{});
  auto msgs = ParseAll(p, out, 2);
  ASSERT_EQ(msgs.size(), 1u);
  CloseInfo ci = ParseClosePayload(msgs[0].second);
  EXPECT_TRUE(ci.valid);
  EXPECT_EQ(ci.code, 4001);
  EXPECT_EQ(ci.reason, "bye");
  EXPECT_EQ(ParseClosePayload("").code, 1005);
}

TEST(WsFrame, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
}

TEST(WsHandshake, AcceptKeyAndResponseChecks) {
  // RFC 6455 section 1.3's example.
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(MakeClientKey(1, 2).size(), 24u);
  std::string ok =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
  ok += std::string("\x81\x00", 2);  // the first frame, right behind the head
  HandshakeResponse r = ParseHandshakeResponse(ok);
  ASSERT_EQ(r.state, HandshakeResponse::State::kComplete);
  EXPECT_EQ(r.head_bytes, ok.size() - 2);
  EXPECT_TRUE(CheckHandshake(r, "dGhlIHNhbXBsZSBub25jZQ==", {"chat"}).ok());
  EXPECT_EQ(CheckHandshake(r, "dGhlIHNhbXBsZSBub25jZQ==", {"other"}).error().message,
            "handshake: server chose subprotocol 'chat' that was not offered");
  EXPECT_EQ(CheckHandshake(r, "AAAAAAAAAAAAAAAAAAAAAA==", {"chat"}).error().message,
            "handshake: bad Sec-WebSocket-Accept");
  HandshakeResponse refused = ParseHandshakeResponse("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(CheckHandshake(refused, "x", {}).error().message, "handshake refused: 403 Forbidden");
  EXPECT_EQ(ParseHandshakeResponse("HTTP/1.1 101").state, HandshakeResponse::State::kIncomplete);
  EXPECT_EQ(ParseHandshakeResponse("SSH-2.0-OpenSSH\r\n").state, HandshakeResponse::State::kError);
  Url u{"ws", "127.0.0.1", 8080, "/chat?room=1"};
  auto req = CompileUpgradeRequest(u, {{"Authorization", "Bearer t"}}, {"chat", "superchat"}, "KEY");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(*req,
            "GET /chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadcell/" LOADCELL_VERSION
            "\r\nAuthorization: Bearer t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: KEY\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n");
  EXPECT_FALSE(CompileUpgradeRequest(u, {{"X", "a\r\nb"}}, {}, "KEY").ok());
}

}  // namespace
}  // namespace loadcell::ws
