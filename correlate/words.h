// Word-at-a-time helpers shared by the record parser and the hex decoder: eight bytes per step.
// A word holds its first byte in memory as the least significant one, on any host.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace aurelay::correlate::words {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;   // 0x01 in every byte
inline constexpr std::uint64_t kHighs = 0x8080808080808080ull;  // 0x80 in every byte

// The eight bytes at `p`, the first in memory as the least significant.
inline std::uint64_t load_le64(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  if constexpr (std::endian::native == std::endian::big) x = __builtin_bswap64(x);
  return x;
}

}  // namespace aurelay::correlate::words
