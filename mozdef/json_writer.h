// The JSON writer of MozDef documents: the document's bytes in a buffer of its own, members and
// values written with as few room checks as the common (clean ASCII) value allows, strings
// repaired (invalid UTF-8 as U+00XX) and cut to max_value_bytes, each cut noted for the
// document's `truncated` list. Everything here is inline: it runs per value of every document.
#pragma once

#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "base/words.h"
#include "mozdef/decimal.h"
#include "mozdef/details.h"
#include "mozdef/encoder.h"

namespace aurelay::mozdef {

// The document being written: a byte buffer of its own that is never zero-filled (it grows by
// doubling and is reused for every document), written through a raw pointer so a byte costs a
// store. The finished document is appended to the batch in one copy. RapidJSON writes into it
// only to escape strings that need it.
struct BufferStream {
  using Ch = char;
  std::unique_ptr<char[]> storage;
  char* data = nullptr;
  std::size_t len = 0;
  std::size_t cap = 0;

  void begin() {
    len = 0;
    ensure(4096);
  }
  void release() {
    storage.reset();
    data = nullptr;
    len = cap = 0;
  }
  void ensure(std::size_t n) {
    if (cap - len < n) grow(n);
  }
  void grow(std::size_t n) {
    std::size_t new_cap = std::max(cap * 2, len + n + 4096);
    std::unique_ptr<char[]> bigger(new char[new_cap]);  // not zero-filled
    if (len > 0) std::memcpy(bigger.get(), data, len);
    storage = std::move(bigger);
    data = storage.get();
    cap = new_cap;
  }
  void Put(char c) {
    ensure(1);
    data[len++] = c;
  }
  void put_unchecked(char c) { data[len++] = c; }
  void append(const char* p, std::size_t n) {
    ensure(n);
    std::memcpy(data + len, p, n);
    len += n;
  }
  void append_unchecked(const char* p, std::size_t n) {
    std::memcpy(data + len, p, n);
    len += n;
  }
  void Flush() {}
};
// Found by ADL from inside rapidjson::Writer; preferred over rapidjson's generic templates.
inline void PutReserve(BufferStream& stream, std::size_t count) { stream.ensure(count); }
inline void PutUnsafe(BufferStream& stream, char c) { stream.data[stream.len++] = c; }

using RapidJsonEscaper = rapidjson::Writer<BufferStream, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                           rapidjson::CrtAllocator, rapidjson::kWriteNoFlags>;

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does not start one.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n = s.size() - i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (byte(i + 1) & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3) return 0;
    unsigned char c1 = byte(i + 1), c2 = byte(i + 2);
    if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4) return 0;
    unsigned char c1 = byte(i + 1), c2 = byte(i + 2), c3 = byte(i + 3);
    if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c3 & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Byte classes for copy_scanning(): 1 = JSON must escape it (< 0x20, '"', '\\'), 2 = not ASCII.
struct ByteClassTable {
  std::array<std::uint8_t, 256> of{};
  constexpr ByteClassTable() {
    for (int c = 0; c < 0x20; ++c) of[c] = 1;
    of[static_cast<unsigned char>('"')] = 1;
    of[static_cast<unsigned char>('\\')] = 1;
    for (int c = 0x80; c < 0x100; ++c) of[c] = 2;
  }
};
constexpr ByteClassTable kByteClass;

// What copy_scanning() found in a value (the byte classes above): 0 for clean ASCII.
constexpr unsigned kNeedsEscape = 1;
constexpr unsigned kNotAscii = 2;

// Copies `value` to `out` (room for value.size() bytes) and finds on the way whether it has
// bytes JSON must escape (< 0x20, '"', '\\') or non-ASCII bytes: eight bytes at a time (values
// are mostly clean ASCII), the last word overlapping the one before; 4 to 7 bytes as two
// overlapping 4-byte words, fewer through a table. Returns kNeedsEscape and/or kNotAscii (in a
// register, not through memory).
inline unsigned copy_scanning(std::string_view value, char* out) {
  const std::size_t size = value.size();
  const char* in = value.data();
  if (size >= 4 && size < 8) {  // two overlapping 4-byte words
    constexpr std::uint32_t kOnes = 0x01010101u, kHighs = 0x80808080u;
    auto has_zero = [](std::uint32_t v) { return (v - kOnes) & ~v & kHighs; };
    std::uint32_t first, last;
    std::memcpy(&first, in, 4);
    std::memcpy(&last, in + size - 4, 4);
    std::memcpy(out, &first, 4);
    std::memcpy(out + size - 4, &last, 4);
    std::uint32_t special = 0;
    for (std::uint32_t x : {first, last})
      special |= ((x - kOnes * 0x20) & ~x & kHighs) | has_zero(x ^ (kOnes * '"')) |
                 has_zero(x ^ (kOnes * '\\'));
    return (special != 0 ? kNeedsEscape : 0) | (((first | last) & kHighs) != 0 ? kNotAscii : 0);
  }
  if (size < 8) {
    unsigned classes = 0;
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = in[i];
      classes |= kByteClass.of[static_cast<unsigned char>(in[i])];
    }
    return classes;
  }
  std::uint64_t special = 0, high = 0;
  auto word = [&](std::size_t i) {
    std::uint64_t x;  // in host order: only whether a byte is flagged matters here
    std::memcpy(&x, in + i, 8);
    std::memcpy(out + i, &x, 8);
    high |= x & words::kHighs;
    special |=
        words::bytes_below(x, 0x20) | words::bytes_equal(x, '"') | words::bytes_equal(x, '\\');
  };
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) word(i);
  if (i < size) word(size - 8);
  return (special != 0 ? kNeedsEscape : 0) | (high != 0 ? kNotAscii : 0);
}

// The document's structure (objects, keys, the tags array) is written directly: a comma before
// every member or element but the first of its container. RapidJSON's writer only escapes the
// strings that need escaping (as a root value of its own, after a Reset).
struct JsonDocumentWriter {
  JsonDocumentWriter(EncoderStats& stats, std::size_t max_value_bytes)
      : max_value_bytes(max_value_bytes), stats(stats) {}

  BufferStream stream;
  RapidJsonEscaper escaper;
  bool need_comma = false;
  std::size_t max_value_bytes = kDefaultMaxValueBytes;
  EncoderStats& stats;     // invalid_utf8_fixed, values_truncated
  std::string sanitized;   // invalid UTF-8 repair scratch
  std::string truncation;  // "key:bytes" notes of the values cut in this document, '\0' apart
  std::size_t truncation_count = 0;

  void begin_document() {
    stream.begin();
    need_comma = false;
    clear_truncations();
  }
  void clear_truncations() {
    truncation.clear();
    truncation_count = 0;
  }

  // Writes `value` as a JSON string literal: invalid UTF-8 bytes become U+00XX, a value longer
  // than max_value_bytes (after that repair) is cut at a character boundary and noted under
  // `name` in the `truncated` list.
  void string_text(std::string_view value, std::string_view name) {
    const std::size_t limit = max_value_bytes;
    bool non_ascii = false, noted = false;
    if (value.size() <= limit) {
      // Optimistic: copy the bytes behind an opening quote while scanning them; a clean value
      // (the common case) is then done. Otherwise the copy is overwritten below.
      stream.ensure(value.size() + 2);
      const unsigned found = copy_scanning(value, stream.data + stream.len + 1);
      non_ascii = (found & kNotAscii) != 0;
      if (found == 0) {
        stream.data[stream.len] = '"';
        stream.data[stream.len + 1 + value.size()] = '"';
        stream.len += value.size() + 2;
        return;
      }
    } else {
      // Too long: only the bytes that can end up in the document are read (a sequence that
      // starts before the limit ends within 3 bytes of it); the note gives the full size.
      note_truncation(name, value.size());
      noted = true;
      value = value.substr(0, limit + 3);
      non_ascii = true;  // not scanned: take the careful path
    }
    if (non_ascii) {
      std::size_t check = 0;
      while (check < value.size()) {
        std::size_t n = utf8_sequence_length(value, check);
        if (n == 0) break;
        check += n;
      }
      if (check < value.size()) {  // invalid UTF-8 from `check` on: repair
        sanitized.clear();
        sanitized.append(value.substr(0, check));
        while (check < value.size()) {
          std::size_t n = utf8_sequence_length(value, check);
          if (n == 0) {
            auto byte = static_cast<unsigned char>(value[check]);
            sanitized.push_back(static_cast<char>(0xC0 | (byte >> 6)));
            sanitized.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
            ++check;
          } else {
            sanitized.append(value.substr(check, n));
            check += n;
          }
        }
        increment(stats.invalid_utf8_fixed);
        value = sanitized;
      }
    }
    if (value.size() > limit) {
      std::size_t cut = limit;
      while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
      if (!noted) note_truncation(name, value.size());  // the repair made it too long
      value = value.substr(0, cut);
    }
    escaper.Reset(stream);
    escaper.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  void note_truncation(std::string_view name, std::size_t original_size) {
    increment(stats.values_truncated);
    ++truncation_count;
    truncation.append(name);
    truncation.push_back(':');
    append_decimal(truncation, original_size);
    truncation.push_back('\0');
  }
  void separator() {
    if (need_comma) stream.Put(',');
  }
  void write_key(std::string_view k) {
    separator();
    stream.ensure(k.size() + 3);
    stream.put_unchecked('"');
    stream.append_unchecked(k.data(), k.size());  // keys are this file's own names
    stream.put_unchecked('"');
    stream.put_unchecked(':');
    need_comma = false;
  }
  // `,"name":` of every details key, made once: a member's key is one copy.
  // Back to back, each padded to kQuotedKeyRoom bytes so a key is one fixed-size copy.
  static constexpr std::size_t kQuotedKeyRoom = 32;
  struct QuotedDetailKeys {
    std::array<char, kDetailKeyCount * kQuotedKeyRoom> text{};
    std::array<std::uint8_t, kDetailKeyCount> size{};
    QuotedDetailKeys() {
      for (std::size_t i = 0; i < kDetailKeyCount; ++i) {
        const std::string quoted = ",\"" + std::string(detail_keys()[i].name) + "\":";
        if (quoted.size() >= kQuotedKeyRoom) std::abort();  // a longer key: raise kQuotedKeyRoom
        std::memcpy(text.data() + i * kQuotedKeyRoom, quoted.data(), quoted.size());
        size[i] = static_cast<std::uint8_t>(quoted.size());
      }
    }
  };
  static const QuotedDetailKeys& quoted_detail_keys() {
    static const QuotedDetailKeys keys;
    return keys;
  }
  const QuotedDetailKeys& quoted_keys = quoted_detail_keys();
  void write_detail_key(std::size_t index) {
    const std::size_t skip = need_comma ? 0 : 1;  // the comma
    stream.ensure(kQuotedKeyRoom);
    std::memcpy(stream.data + stream.len, quoted_keys.text.data() + index * kQuotedKeyRoom + skip,
                kQuotedKeyRoom - 1);
    stream.len += quoted_keys.size[index] - skip;
    need_comma = false;
  }
  // Writes the details member `,"key":"value"` with one room check when the value is clean
  // (valid ASCII that needs no escaping, not too long: the common case); returns false, having
  // written nothing, when it is not.
  bool plain_detail_member(std::size_t index, std::string_view value) {
    if (value.size() > max_value_bytes) return false;
    stream.ensure(kQuotedKeyRoom + value.size() + 2);
    const std::size_t skip = need_comma ? 0 : 1;  // the comma
    char* out = stream.data + stream.len;
    std::memcpy(out, quoted_keys.text.data() + index * kQuotedKeyRoom + skip, kQuotedKeyRoom - 1);
    return commit_plain_member(quoted_keys.size[index] - skip, value);
  }
  // The same for a member of the document's top level.
  bool plain_member(std::string_view k, std::string_view value) {
    if (value.size() > max_value_bytes) return false;
    stream.ensure(k.size() + value.size() + 6);
    char* out = stream.data + stream.len;
    std::size_t key_size = 0;
    if (need_comma) out[key_size++] = ',';
    out[key_size++] = '"';
    std::memcpy(out + key_size, k.data(), k.size());  // keys are this file's own names
    key_size += k.size();
    out[key_size++] = '"';
    out[key_size++] = ':';
    return commit_plain_member(key_size, value);
  }
  // The member's key (key_size bytes) is written after the stream's end, with room for `value`
  // quoted behind it: copies the value there and commits the member if the value is clean.
  bool commit_plain_member(std::size_t key_size, std::string_view value) {
    char* out = stream.data + stream.len + key_size;
    if (copy_scanning(value, out + 1) != 0) return false;
    out[0] = '"';
    out[1 + value.size()] = '"';
    stream.len += key_size + value.size() + 2;
    need_comma = true;
    return true;
  }
  void string(std::string_view value, std::string_view name) {
    separator();
    string_text(value, name);
    need_comma = true;
  }
  void member(std::string_view k, std::string_view v) {
    if (plain_member(k, v)) return;
    write_key(k);
    string(v, k);
  }
  void literal(std::string_view text) {
    separator();
    stream.append(text.data(), text.size());
    need_comma = true;
  }
  void open(char bracket) {  // '{' or '['
    separator();
    stream.Put(bracket);
    need_comma = false;
  }
  void close(char bracket) {  // '}' or ']'
    stream.Put(bracket);
    need_comma = true;
  }
};

}  // namespace aurelay::mozdef
