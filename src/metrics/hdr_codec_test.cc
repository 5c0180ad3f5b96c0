#include "metrics/hdr_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace loadcell {
namespace {

void ExpectSameCounts(const HdrHistogram& a, const HdrHistogram& b) {
  ASSERT_EQ(a.counts_length(), b.counts_length());
  EXPECT_EQ(a.total_count(), b.total_count());
  for (size_t i = 0; i < a.counts_length(); ++i) ASSERT_EQ(a.count_at_index(i), b.count_at_index(i)) << i;
}

TEST(HdrCodec, RoundTripCompressedBase64) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(9, 1.5);
  HdrHistogram h;
  for (int i = 0; i < 200000; ++i) h.Record(static_cast<int64_t>(d(rng)) + 1);
  h.RecordN(3'000'000'000, 5);
  std::string b64 = EncodeHdrBase64(h);
  EXPECT_EQ(b64.substr(0, 8), "HISTFAAA");  // the prefix every HdrHistogram V2 log shows
  auto back = DecodeHdrBase64(b64);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ExpectSameCounts(h, *back);
  for (double p : {50.0, 99.0, 99.999, 100.0}) EXPECT_EQ(h.ValueAtPercentile(p), back->ValueAtPercentile(p));
}

TEST(HdrCodec, RoundTripUncompressedAndEmpty) {
  HdrHistogram h(1, 60'000'000, 2);
  h.Record(1);
  h.Record(59'000'000);
  auto raw = EncodeHdrV2(h);
  auto back = DecodeHdr(raw.data(), raw.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->significant_digits(), 2);
  EXPECT_EQ(back->highest(), 60'000'000);
  ExpectSameCounts(h, *back);

  HdrHistogram empty;
  auto e = DecodeHdrBase64(EncodeHdrBase64(empty));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->total_count(), 0);
}

TEST(HdrCodec, KnownEncoding) {
  // One value of 1 in a 1..3.6e9@3 histogram: header + ZigZag(-1 zero-run is not used for a
  // single zero) = 0x00 for index 0, then count 1 at index 1 -> 0x02.
  HdrHistogram h;
  h.Record(1);
  auto raw = EncodeHdrV2(h);
  ASSERT_EQ(raw.size(), 42u);
  EXPECT_EQ(raw[0], 0x1c);
  EXPECT_EQ(raw[3], 0x13);  // V2 cookie with the ZigZag-encoding flag
  EXPECT_EQ(raw[7], 2);     // payload length
  EXPECT_EQ(raw[15], 3);    // significant digits
  EXPECT_EQ(raw[40], 0x00);
  EXPECT_EQ(raw[41], 0x02);
}

TEST(HdrCodec, RejectsGarbage) {
  EXPECT_EQ(DecodeHdrBase64("!!!").error().message, "base64: invalid character");
  EXPECT_EQ(DecodeHdrBase64("AAAAAAAAAAAA").error().message, "hdr histogram: not a V2 encoding (bad cookie)");
  HdrHistogram h;
  h.Record(100);
  auto bytes = EncodeHdrV2Compressed(h);
  bytes.resize(bytes.size() - 4);  // truncated zlib stream
  EXPECT_FALSE(DecodeHdr(bytes.data(), bytes.size()).ok());
  auto raw = EncodeHdrV2(h);
  raw[15] = 9;  // significant digits out of range
  EXPECT_FALSE(DecodeHdr(raw.data(), raw.size()).ok());
}

TEST(Base64, Rfc4648Vectors) {
  auto enc = [](const std::string& s) { return Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  auto dec = *Base64Decode("Zm9vYmE=");
  EXPECT_EQ(std::string(dec.begin(), dec.end()), "fooba");
}

}  // namespace
}  // namespace loadcell
