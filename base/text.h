// Small text helpers for configuration values: trimming and ASCII lower case.
#pragma once

#include <string>
#include <string_view>

namespace aurelay {

inline constexpr std::string_view kWhitespace = " \t\r\n\f\v";

// `text` without the leading and trailing characters of `blanks`.
inline std::string_view trim(std::string_view text, std::string_view blanks = kWhitespace) {
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

// `text` with A-Z made a-z (configuration words are ASCII; no locale).
inline std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace aurelay
