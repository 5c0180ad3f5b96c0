#include "metrics/hdr_codec.h"

#include <zlib.h>

#include <array>
#include <bit>
#include <cstring>

namespace loadcell {
namespace {

// Cookie bases; bits 4-7 hold the word size, and 0x10 marks the ZigZag LEB128 ("TLZE")
// counts encoding that V2 always uses. Readers compare the base only (cookie & ~0xf0).
constexpr uint32_t kV2Cookie = 0x1c849303;
constexpr uint32_t kV2CompressedCookie = 0x1c849304;
constexpr uint32_t kTlzeFlag = 0x10;
uint32_t CookieBase(uint32_t cookie) { return cookie & ~0xf0u; }
constexpr size_t kV2HeaderSize = 40;
// A decoded histogram may not claim more counts slots than this (1 h at 5 digits needs
// ~2.6M); it bounds what a hostile input can make us allocate.
constexpr int64_t kMaxCountsLength = 1 << 24;
// Keeps sums of decoded histograms far from int64 overflow.
constexpr int64_t kMaxTotalCount = int64_t{1} << 56;

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t GetU64(const uint8_t* p) { return (uint64_t{GetU32(p)} << 32) | GetU32(p + 4); }

// HdrHistogram's ZigZag LEB128: eight 7-bit groups, then a ninth byte with all 8 bits.
void PutZigZag(std::vector<uint8_t>& out, int64_t value) {
  uint64_t v = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((v >> 7) == 0) {
      out.push_back(static_cast<uint8_t>(v));
      return;
    }
    out.push_back(static_cast<uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

bool GetZigZag(const uint8_t*& p, const uint8_t* end, int64_t* out) {
  uint64_t v = 0;
  int shift = 0;
  for (int i = 0; i < 9; ++i) {
    if (p == end) return false;
    uint8_t b = *p++;
    if (i == 8) {
      v |= static_cast<uint64_t>(b) << shift;
      break;
    }
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  return true;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::vector<uint8_t> EncodeHdrV2(const HdrHistogram& h) {
  std::vector<uint8_t> payload;
  if (!h.empty()) {
    size_t limit = static_cast<size_t>(h.CountsIndexFor(h.max())) + 1;
    size_t i = 0;
    while (i < limit) {
      int64_t count = h.count_at_index(i++);
      if (count == 0) {
        int64_t zeros = 1;
        while (i < limit && h.count_at_index(i) == 0) {
          ++zeros;
          ++i;
        }
        PutZigZag(payload, zeros > 1 ? -zeros : 0);
      } else {
        PutZigZag(payload, count);
      }
    }
  }
  std::vector<uint8_t> out;
  out.reserve(kV2HeaderSize + payload.size());
  PutU32(out, kV2Cookie | kTlzeFlag);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, 0);  // normalizing index offset
  PutU32(out, static_cast<uint32_t>(h.significant_digits()));
  PutU64(out, static_cast<uint64_t>(h.lowest()));
  PutU64(out, static_cast<uint64_t>(h.highest()));
  PutU64(out, std::bit_cast<uint64_t>(1.0));  // integer-to-double conversion ratio
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> EncodeHdrV2Compressed(const HdrHistogram& h) {
  std::vector<uint8_t> raw = EncodeHdrV2(h);
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> out(8 + bound);
  compress2(out.data() + 8, &bound, raw.data(), static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION);
  out.resize(8 + bound);
  std::vector<uint8_t> header;
  PutU32(header, kV2CompressedCookie | kTlzeFlag);
  PutU32(header, static_cast<uint32_t>(bound));
  std::memcpy(out.data(), header.data(), 8);
  return out;
}

std::string EncodeHdrBase64(const HdrHistogram& h) {
  std::vector<uint8_t> bytes = EncodeHdrV2Compressed(h);
  return Base64Encode(bytes.data(), bytes.size());
}

Result<HdrHistogram> DecodeHdr(const uint8_t* data, size_t size) {
  if (size < 8) return Error::Protocol("hdr histogram: truncated header");
  uint32_t cookie = CookieBase(GetU32(data));
  if (cookie == kV2CompressedCookie) {
    uint32_t clen = GetU32(data + 4);
    if (clen > size - 8) return Error::Protocol("hdr histogram: compressed length exceeds input");
    // Inflate in steps so a hostile length field cannot make us allocate unboundedly.
    std::vector<uint8_t> raw;
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) return Error::Protocol("hdr histogram: zlib init failed");
    zs.next_in = const_cast<Bytef*>(data + 8);
    zs.avail_in = clen;
    std::array<uint8_t, 16384> chunk{};
    int rc = Z_OK;
    while (rc == Z_OK) {
      zs.next_out = chunk.data();
      zs.avail_out = chunk.size();
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) break;
      raw.insert(raw.end(), chunk.data(), chunk.data() + (chunk.size() - zs.avail_out));
      if (raw.size() > (size_t{64} << 20)) {
        rc = Z_MEM_ERROR;
        break;
      }
      if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
        rc = Z_DATA_ERROR;
        break;
      }
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) return Error::Protocol("hdr histogram: corrupt compressed payload");
    if (raw.size() >= 4 && CookieBase(GetU32(raw.data())) == kV2CompressedCookie) {
      return Error::Protocol("hdr histogram: nested compression");
    }
    return DecodeHdr(raw.data(), raw.size());
  }
  if (cookie != kV2Cookie) return Error::Protocol("hdr histogram: not a V2 encoding (bad cookie)");
  if (size < kV2HeaderSize) return Error::Protocol("hdr histogram: truncated header");
  uint32_t payload_len = GetU32(data + 4);
  uint32_t normalizing = GetU32(data + 8);
  auto digits = static_cast<int32_t>(GetU32(data + 12));
  auto lowest = static_cast<int64_t>(GetU64(data + 16));
  auto highest = static_cast<int64_t>(GetU64(data + 24));
  if (normalizing != 0) return Error::Protocol("hdr histogram: normalizing index offset not supported");
  if (digits < 1 || digits > 5) return Error::Protocol("hdr histogram: significant digits out of range");
  if (lowest < 1 || highest < 2 * lowest || lowest > (int64_t{1} << 40)) {
    return Error::Protocol("hdr histogram: invalid value range");
  }
  if (payload_len > size - kV2HeaderSize) return Error::Protocol("hdr histogram: payload length exceeds input");
  HdrHistogram h(lowest, highest, digits);
  if (static_cast<int64_t>(h.counts_length()) > kMaxCountsLength) {
    return Error::Protocol("hdr histogram: layout too large");
  }
  const uint8_t* p = data + kV2HeaderSize;
  const uint8_t* end = p + payload_len;
  int64_t index = 0;
  auto len = static_cast<int64_t>(h.counts_length());
  while (p < end) {
    int64_t v = 0;
    if (!GetZigZag(p, end, &v)) return Error::Protocol("hdr histogram: truncated count");
    if (v < 0) {
      if (v == INT64_MIN || -v > len - index) return Error::Protocol("hdr histogram: zero run past the end");
      index += -v;
      continue;
    }
    if (index >= len) return Error::Protocol("hdr histogram: more counts than the layout holds");
    if (v > kMaxTotalCount - h.total_count()) return Error::Protocol("hdr histogram: total count too large");
    if (v > 0) h.RecordN(h.ValueFromIndex(static_cast<int>(index)), v);
    ++index;
  }
  return h;
}

Result<HdrHistogram> DecodeHdrBase64(std::string_view text) {
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) return bytes.error();
  return DecodeHdr(bytes->data(), bytes->size());
}

std::string Base64Encode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < size; i += 3) {
    uint32_t n = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i < size) {
    uint32_t n = uint32_t{data[i]} << 16;
    if (i + 1 < size) n |= uint32_t{data[i + 1]} << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += (i + 1 < size) ? kB64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  std::array<int, 256> map{};
  map.fill(-1);
  for (int i = 0; i < 64; ++i) map[static_cast<uint8_t>(kB64[i])] = i;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (c == '\n' || c == '\r') continue;
    int v = map[static_cast<uint8_t>(c)];
    if (v < 0 || pad > 0) return Error::Protocol("base64: invalid character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  if (pad > 2) return Error::Protocol("base64: invalid padding");
  return out;
}

}  // namespace loadcell
