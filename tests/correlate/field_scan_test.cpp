// The field splitter scans keys and bare values a word (8 bytes) at a time: delimiters and '='
// must be found at every offset within and across words, and bytes that merely look special to
// the word test (other control bytes, bytes >= 0x80) must stay inside their token. The hex
// decoding helpers are checked against a byte-by-byte definition for every byte value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "correlate/hex.h"
#include "correlate/record.h"

namespace aurelay::correlate {
namespace {

std::vector<Field> split(std::string_view body) {
  std::vector<Field> out;
  split_fields(body, out);
  return out;
}

TEST(FieldScan, EveryDelimiterAtEveryOffset) {
  for (char delimiter : {' ', '\t', '\n'}) {
    for (std::size_t key_len = 1; key_len <= 18; ++key_len) {
      for (std::size_t value_len = 0; value_len <= 18; ++value_len) {
        const std::string key(key_len, 'k');
        const std::string value(value_len, 'v');
        std::string body = key;
        body.append("=").append(value).append(1, delimiter).append("next=1");
        const std::vector<Field> fields = split(body);
        ASSERT_EQ(fields.size(), 2u) << body;
        EXPECT_EQ(fields[0].key, key);
        EXPECT_EQ(fields[0].value, value);
        EXPECT_EQ(fields[1].key, "next");
        EXPECT_EQ(fields[1].value, "1");
      }
    }
  }
}

TEST(FieldScan, ValueRunsToTheEndOfTheBody) {
  for (std::size_t value_len = 0; value_len <= 20; ++value_len) {
    const std::string value(value_len, 'x');
    const std::string body = "a=" + value;
    const std::vector<Field> fields = split(body);
    ASSERT_EQ(fields.size(), 1u);
    EXPECT_EQ(fields[0].value, value);
  }
}

TEST(FieldScan, OtherControlAndHighBytesStayInTheToken) {
  // 0x01, 0x1f, '!' (0x21), 0x7f, 0x80 and 0xff are not delimiters, at offsets across a word.
  for (char inside : {'\x01', '\x1f', '!', '\x7f', '\x80', '\xff', '\0'}) {
    for (std::size_t at = 0; at < 12; ++at) {
      std::string value(12, 'v');
      value[at] = inside;
      std::string key(12, 'k');
      key[at] = inside;
      std::string body = key;
      body.append("=").append(value).append(" b=2");
      const std::vector<Field> fields = split(body);
      ASSERT_EQ(fields.size(), 2u);
      EXPECT_EQ(fields[0].key, key);
      EXPECT_EQ(fields[0].value, value);
      EXPECT_EQ(fields[1].value, "2");
    }
  }
}

TEST(FieldScan, ShortKeysBeforeEveryKindOfValue) {
  // Keys of 1..9 bytes (the '=' inside or past the first word) before each form of value, the
  // body ending right after the value or going on.
  for (std::size_t key_len = 1; key_len <= 9; ++key_len) {
    const std::string key(key_len, 'k');
    for (std::string_view rest : {"", " z=9"}) {
      const std::string quoted = key + "=\"a b\"" + std::string(rest);
      std::vector<Field> fields = split(quoted);
      ASSERT_EQ(fields.size(), rest.empty() ? 1u : 2u) << quoted;
      EXPECT_EQ(fields[0].key, key);
      EXPECT_EQ(fields[0].value, "a b");
      EXPECT_EQ(fields[0].form, ValueForm::quoted);

      const std::string single = key + "='op=x res=1'" + std::string(rest);
      fields = split(single);
      ASSERT_EQ(fields.size(), rest.empty() ? 3u : 4u) << single;
      EXPECT_EQ(fields[0].value, "op=x res=1");
      EXPECT_EQ(fields[0].form, ValueForm::single_quoted);

      const std::string braced = key + "={ a=1 }" + std::string(rest);
      fields = split(braced);
      ASSERT_EQ(fields.size(), rest.empty() ? 1u : 2u) << braced;
      EXPECT_EQ(fields[0].value, "{ a=1 }");

      const std::string unterminated = key + "=\"abc" + std::string(rest);
      fields = split(unterminated);
      ASSERT_EQ(fields.size(), 1u) << unterminated;
      EXPECT_EQ(fields[0].value, "abc" + std::string(rest));

      const std::string empty = key + "=" + std::string(rest);
      fields = split(empty);
      ASSERT_EQ(fields.size(), rest.empty() ? 1u : 2u) << empty;
      EXPECT_EQ(fields[0].value, "");
    }
  }
}

TEST(FieldScan, EnrichedSeparatorEndsAValueInsideAWord) {
  const std::string body = std::string("uid=0123456789") + '\x1d' + "UID=\"root\"";
  std::vector<Field> out;
  const std::size_t first_enriched = split_fields(body, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(first_enriched, 1u);
  EXPECT_EQ(out[0].value, "0123456789");
  EXPECT_EQ(out[1].key, "UID");
  EXPECT_EQ(out[1].value, "root");
}

TEST(FieldScan, WordWithoutEqualsIsSkippedAtAnyLength) {
  for (std::size_t len = 1; len <= 17; ++len) {
    const std::string body = std::string(len, 'w') + " a=1";
    const std::vector<Field> fields = split(body);
    ASSERT_EQ(fields.size(), 1u) << body;
    EXPECT_EQ(fields[0].key, "a");
  }
}

int reference_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

TEST(HexDigits, EveryByteValue) {
  for (int c = 0; c < 256; ++c) {
    const char byte = static_cast<char>(c);
    EXPECT_EQ(hex_digit_value(byte), reference_digit(c)) << c;
    const std::string two{byte, '0'};
    EXPECT_EQ(is_hex(two), reference_digit(c) >= 0) << c;
    std::string out = "x";
    EXPECT_EQ(append_hex_decoded(two, out), reference_digit(c) >= 0) << c;
    if (reference_digit(c) >= 0) {
      EXPECT_EQ(out, std::string("x") + static_cast<char>(reference_digit(c) << 4));
    } else {
      EXPECT_EQ(out, "x");  // nothing appended
    }
  }
}

// Long values decode eight digits at a time: every byte value at every offset of a 20-digit value
// (two words and a tail) must be accepted or refused exactly as a byte-by-byte decoder would.
TEST(HexDigits, EveryByteValueAtEveryOffsetOfALongValue) {
  const std::string good = "0123456789abcdefABCD";
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string hex = good;
      hex[at] = static_cast<char>(c);
      std::string expected;
      bool valid = true;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = reference_digit(static_cast<unsigned char>(hex[i]));
        const int low = reference_digit(static_cast<unsigned char>(hex[i + 1]));
        valid = valid && high >= 0 && low >= 0;
        expected.push_back(static_cast<char>(high << 4 | (low & 0x0F)));
      }
      std::string out = "x";
      ASSERT_EQ(append_hex_decoded(hex, out), valid) << at << " " << c;
      EXPECT_EQ(out, valid ? "x" + expected : "x") << at << " " << c;
    }
  }
}

TEST(HexDigits, DecodesAndRejectsWholeValues) {
  std::string out;
  EXPECT_TRUE(append_hex_decoded("2F746D70004142", out));
  EXPECT_EQ(out, std::string("/tmp\0AB", 7));
  EXPECT_FALSE(append_hex_decoded("2F7G", out));  // bad digit at the end: nothing appended
  EXPECT_FALSE(append_hex_decoded("2F7", out));   // odd length
  EXPECT_FALSE(append_hex_decoded("", out));
  EXPECT_EQ(out.size(), 7u);
  EXPECT_FALSE(is_hex(""));
  EXPECT_FALSE(is_hex("abc"));
  EXPECT_TRUE(is_hex("abCD09"));
}

}  // namespace
}  // namespace aurelay::correlate
