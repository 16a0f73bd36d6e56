// Hex decoding of audit values (EXECVE arguments, PROCTITLE, SOCKADDR, path names).
#pragma once

#include <string>
#include <string_view>

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

// Appends the bytes `hex` encodes to `out`. Returns false (appending nothing) if it is not hex.
inline bool append_hex_decoded(std::string_view hex, std::string& out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  const std::size_t start = out.size();
  out.resize(start + hex.size() / 2);
  char* dest = out.data() + start;
  int any_bad = 0;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_digit_value(hex[i]);
    const int low = hex_digit_value(hex[i + 1]);
    any_bad |= high | low;
    *dest++ = static_cast<char>((high << 4) | (low & 0x0F));
  }
  if (any_bad < 0) {
    out.resize(start);
    return false;
  }
  return true;
}

}  // namespace aurelay::correlate
