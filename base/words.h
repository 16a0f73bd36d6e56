// Word-at-a-time helpers shared by the record parser and the hex decoder: eight bytes per step.
// A word holds its first byte in memory as the least significant one, on any host.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace aurelay::words {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;   // 0x01 in every byte
inline constexpr std::uint64_t kHighs = 0x8080808080808080ull;  // 0x80 in every byte

// The eight bytes at `p`, the first in memory as the least significant.
inline std::uint64_t load_le64(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  return x;
}

// Masks with the high bit set in the bytes of `x` below `bound` (at most 0x80) and in the bytes
// equal to `c`. The lowest flagged byte is always exact; bytes above it may be flagged wrongly
// (a borrow only runs upwards), so a mask says exactly whether there is such a byte, and where
// the first one is. Bytes of 0x80 and above are never flagged below a bound.
inline std::uint64_t bytes_below(std::uint64_t x, unsigned char bound) {
  return (x - kOnes * bound) & ~x & kHighs;
}
inline std::uint64_t bytes_equal(std::uint64_t x, char c) {
  return bytes_below(x ^ (kOnes * static_cast<unsigned char>(c)), 1);
}

}  // namespace aurelay::words
