// Record field names and values as the encoder reads them: a name compared with a literal, and
// a value as text (hex-decoded when the kernel encoded it).
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "correlate/interpret.h"
#include "correlate/record.h"

namespace aurelay::mozdef {

// `text == literal`, with the literal's length known at compile time (compiles to a few loads
// and compares; field names are compared millions of times).
template <std::size_t N>
[[gnu::always_inline]] inline bool is(std::string_view text, const char (&literal)[N]) {
  return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

// Keys whose values the kernel or user space hex-encodes when they hold special bytes.
inline bool is_encoded_key(std::string_view key) {
  switch (key.size()) {
    case 2:
      return is(key, "vm") || is(key, "sw");
    case 3:
      return is(key, "cwd") || is(key, "exe") || is(key, "key") || is(key, "cmd") ||
             is(key, "dir") || is(key, "grp");
    case 4:
      return is(key, "name") || is(key, "comm") || is(key, "acct") || is(key, "data") ||
             is(key, "path");
    case 5:
      return is(key, "ocomm") || is(key, "watch");
    case 6:
      return is(key, "cgroup");
    case 8:
      return is(key, "root_dir");
    case 9:
      return is(key, "new_group") || is(key, "old_group") || is(key, "proctitle") ||
             is(key, "new-group") || is(key, "old-group");
    default:
      return false;
  }
}

// The value of `f` as text: decoded (into `scratch`) when its key is one the kernel hex-encodes.
inline std::string_view field_text(const correlate::Field& f, std::string& scratch) {
  if (f.form == correlate::ValueForm::bare && is_encoded_key(f.key))
    return correlate::decode_maybe_hex(f, scratch);
  return f.value;
}

}  // namespace aurelay::mozdef
