#include "common/printable.h"

#include <gtest/gtest.h>

namespace loadcell {
namespace {

TEST(Printable, KeepsPlainTextAndUtf8) {
  EXPECT_EQ(Printable("connection refused"), "connection refused");
  EXPECT_EQ(Printable("relation «users» — 42P01\tx"), "relation «users» — 42P01\tx");
  EXPECT_EQ(Printable("emoji \xF0\x9F\x98\x80"), "emoji \xF0\x9F\x98\x80");
}

TEST(Printable, EscapesControlBytes) {
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("\x1b[2Jcleared\r\n"), "\\x1b[2Jcleared\\x0d\\x0a");
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
  EXPECT_EQ(Printable("\xC2\x9B"), "\\xc2\\x9b");  // C1 CSI
}

TEST(Printable, EscapesInvalidUtf8ByteByByte) {
  EXPECT_EQ(Printable("\xff SSH"), "\\xff SSH");
  EXPECT_EQ(Printable("\xC0\x80"), "\\xc0\\x80");           // overlong NUL
  EXPECT_EQ(Printable("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(Printable("\xE2\x82"), "\\xe2\\x82");           // truncated
}

TEST(EscapeChars, ReplacesOnlyTheNamedCharacters) {
  // Prometheus label values: each input byte is replaced once, so the order of the escapes does not matter.
  EXPECT_EQ(EscapeChars("a\\b\"c\nd", {{'\\', "\\\\"}, {'"', "\\\""}, {'\n', "\\n"}}), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeChars("x|y\nz", {{'|', "\\|"}, {'\n', " "}}), "x\\|y z");
  EXPECT_EQ(EscapeChars("plain «text»", {{'|', "\\|"}}), "plain «text»");
  EXPECT_EQ(EscapeChars("", {{'|', "\\|"}}), "");
}

}  // namespace
}  // namespace loadcell
