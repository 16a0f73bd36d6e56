// Decimal text of unsigned numbers, appended without a temporary string.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

namespace aurelay::mozdef {

inline void append_decimal(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace aurelay::mozdef
