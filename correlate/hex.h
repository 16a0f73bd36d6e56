// Hex decoding of audit values (EXECVE arguments, PROCTITLE, SOCKADDR, path names).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/words.h"

namespace aurelay::correlate {

// Digit values by byte, -1 for a byte that is not a hex digit.
struct HexDigitTable {
  signed char value[256];
  constexpr HexDigitTable() : value{} {
    for (int c = 0; c < 256; ++c) value[c] = -1;
    for (int c = '0'; c <= '9'; ++c) value[c] = static_cast<signed char>(c - '0');
    for (int c = 'A'; c <= 'F'; ++c) value[c] = static_cast<signed char>(c - 'A' + 10);
    for (int c = 'a'; c <= 'f'; ++c) value[c] = static_cast<signed char>(c - 'a' + 10);
  }
};
inline constexpr HexDigitTable kHexDigits;

inline int hex_digit_value(char c) { return kHexDigits.value[static_cast<unsigned char>(c)]; }

// True when `text` is a non-empty, even-length run of hex digits.
inline bool is_hex(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  int any_bad = 0;  // -1 (all bits set) once a non-digit was seen
  for (char c : text) any_bad |= hex_digit_value(c);
  return any_bad >= 0;
}

namespace hex_detail {

using words::kHighs;
using words::kOnes;
using words::load_le64;

// Stores the four low bytes of `x`, the least significant first in memory.
inline void store_le32(char* p, std::uint64_t x) {
  auto low = static_cast<std::uint32_t>(x);
  if constexpr (std::endian::native == std::endian::big) low = __builtin_bswap32(low);
  std::memcpy(p, &low, sizeof low);
}

// Decodes the eight hex digits in `x` (the first in the lowest byte) into the four low bytes of
// the result, the first byte lowest. Sets the high bit of a byte of `bad` for each byte of `x`
// that is not a hex digit (then the result is meaningless).
inline std::uint64_t decode_hex_word(std::uint64_t x, std::uint64_t& bad) {
  // Range checks per byte by adding 0x80 - bound: a byte's high bit then says "at least bound".
  // Bytes of 0x80 and above (whose sums may carry into their neighbours) are bad by themselves.
  const std::uint64_t digit = (x + kOnes * (0x80 - '0')) & ~(x + kOnes * (0x80 - '9' - 1));
  const std::uint64_t lower = x | kOnes * 0x20;  // 'A'..'F' -> 'a'..'f'
  const std::uint64_t letter = (lower + kOnes * (0x80 - 'a')) & ~(lower + kOnes * (0x80 - 'f' - 1));
  bad |= (~(digit | letter) | x) & kHighs;
  // Digit values: the low nibble, plus 9 for letters (bit 6 set).
  const std::uint64_t values = (x & kOnes * 0x0F) + ((x >> 6) & kOnes) * 9;
  // Pairs of nibbles into bytes (in the even bytes), then the even bytes together.
  std::uint64_t bytes = ((values << 4) | (values >> 8)) & 0x00FF00FF00FF00FFull;
  bytes = (bytes | (bytes >> 8)) & 0x0000FFFF0000FFFFull;
  return bytes | (bytes >> 16);
}

}  // namespace hex_detail

// Appends the bytes `hex` encodes to `out`. Returns false (appending nothing) if it is not hex.
inline bool append_hex_decoded(std::string_view hex, std::string& out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  const std::size_t start = out.size();
  out.resize(start + hex.size() / 2);
  char* dest = out.data() + start;
  const char* p = hex.data();
  const char* const end = p + hex.size();
  std::uint64_t bad = 0;  // high bit set in a byte once a non-digit was seen
  for (; end - p >= 8; p += 8, dest += 4) {
    hex_detail::store_le32(dest, hex_detail::decode_hex_word(hex_detail::load_le64(p), bad));
  }
  int any_bad = 0;  // -1 (all bits set) once a non-digit was seen
  for (; p < end; p += 2) {
    const int high = hex_digit_value(p[0]);
    const int low = hex_digit_value(p[1]);
    any_bad |= high | low;
    *dest++ = static_cast<char>((high << 4) | (low & 0x0F));
  }
  if (bad != 0 || any_bad < 0) {
    out.resize(start);
    return false;
  }
  return true;
}

}  // namespace aurelay::correlate
