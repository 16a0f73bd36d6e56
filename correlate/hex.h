// Hex decoding of audit values (EXECVE arguments, PROCTITLE, SOCKADDR, path names).
#pragma once

#include <string>
#include <string_view>

namespace aurelay::correlate {

inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// True when `text` is a non-empty, even-length run of hex digits.
inline bool is_hex(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  for (char c : text)
    if (hex_digit_value(c) < 0) return false;
  return true;
}

// Appends the bytes `hex` encodes to `out`. Returns false (appending nothing) if it is not hex.
inline bool append_hex_decoded(std::string_view hex, std::string& out) {
  if (!is_hex(hex)) return false;
  std::size_t start = out.size();
  out.resize(start + hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out[start + i / 2] =
        static_cast<char>((hex_digit_value(hex[i]) << 4) | hex_digit_value(hex[i + 1]));
  return true;
}

}  // namespace aurelay::correlate
