#include "correlate/interpret.h"

#include <gtest/gtest.h>
#include <pwd.h>

#include <string>

#include "test_support.h"

namespace aurelay::correlate {
namespace {

TEST(ParseNumbers, HexAndDecimal) {
  std::uint32_t arch = 0;
  EXPECT_TRUE(parse_hex_u32("c000003e", arch));
  EXPECT_EQ(arch, kArchX86_64);
  EXPECT_TRUE(parse_hex_u32("C00000B7", arch));
  EXPECT_EQ(arch, kArchAarch64);
  EXPECT_FALSE(parse_hex_u32("", arch));
  EXPECT_FALSE(parse_hex_u32("c000003e0", arch));  // more than 32 bits
  EXPECT_FALSE(parse_hex_u32("x86", arch));
  std::uint64_t n = 0;
  EXPECT_TRUE(parse_decimal_u64("4294967295", n));
  EXPECT_EQ(n, 4294967295u);
  EXPECT_FALSE(parse_decimal_u64("12a", n));
  EXPECT_FALSE(parse_decimal_u64("-1", n));
  EXPECT_FALSE(parse_decimal_u64("99999999999999999999999", n));
  EXPECT_TRUE(parse_decimal_u64("9999999999999999999", n));  // 19 digits
  EXPECT_EQ(n, 9999999999999999999u);
  EXPECT_TRUE(parse_decimal_u64("18446744073709551615", n));  // 20 digits, the largest
  EXPECT_EQ(n, 18446744073709551615u);
  EXPECT_FALSE(parse_decimal_u64("18446744073709551616", n));
  EXPECT_TRUE(parse_decimal_u64("0000000000000000000000042", n));  // leading zeros
  EXPECT_EQ(n, 42u);
  EXPECT_FALSE(parse_decimal_u64("", n));
  EXPECT_FALSE(parse_decimal_u64("+1", n));
  EXPECT_FALSE(parse_decimal_u64("1 ", n));
}

TEST(SyscallNames, ResolvesPerArchitecture) {
  SyscallNames names;
  EXPECT_EQ(names.name(kArchX86_64, 59), "execve");
  EXPECT_EQ(names.name(kArchX86_64, 1), "write");
  EXPECT_EQ(names.name(kArchX86_64, 42), "connect");
  EXPECT_EQ(names.name(kArchI386, 11), "execve");
  EXPECT_EQ(names.name(kArchI386, 4), "write");
  EXPECT_EQ(names.name(kArchAarch64, 221), "execve");
  EXPECT_EQ(names.name(kArchAarch64, 64), "write");
  EXPECT_EQ(names.arch_name(kArchX86_64), "x86_64");
  EXPECT_EQ(names.arch_name(kArchI386), "i386");
  EXPECT_EQ(names.arch_name(kArchAarch64), "aarch64");
  EXPECT_EQ(names.unknown(), 0u);
}

TEST(SyscallNames, FromRecordTexts) {
  SyscallNames names;
  EXPECT_EQ(names.name("c000003e", "59"), "execve");
  EXPECT_EQ(names.name("40000003", "11"), "execve");
  EXPECT_EQ(names.name("c000003e", "49"), "bind");
  EXPECT_EQ(names.unknown(), 0u);
}

TEST(SyscallNames, UnknownArchNumberOrTextCounted) {
  SyscallNames names;
  EXPECT_EQ(names.name(0x12345678, 1), "");
  EXPECT_EQ(names.arch_name(0x12345678), "");
  EXPECT_EQ(names.name(kArchX86_64, 100000), "");
  EXPECT_EQ(names.name(kArchX86_64, 999), "");
  EXPECT_EQ(names.name("zz", "1"), "");
  EXPECT_EQ(names.name("c000003e", "x"), "");
  EXPECT_EQ(names.unknown(), 5u);
  // Tables are kept: alternating archs still resolve.
  EXPECT_EQ(names.name(kArchX86_64, 0), "read");
  EXPECT_EQ(names.name(kArchI386, 3), "read");
  EXPECT_EQ(names.name(kArchX86_64, 0), "read");
}

TEST(IdNames, RootAndUnsetAndUnknown) {
  IdNames ids;
  EXPECT_EQ(ids.user("0"), "root");  // the real /etc/passwd
  EXPECT_EQ(ids.group("0"), "root");
  EXPECT_EQ(ids.user("4294967295"), "unset");
  EXPECT_EQ(ids.group("4294967295"), "unset");
  ASSERT_EQ(getpwuid(3999999), nullptr);
  EXPECT_EQ(ids.user("3999999"), "3999999");
  EXPECT_EQ(ids.user("not-a-number"), "not-a-number");
  EXPECT_EQ(ids.user("99999999999"), "99999999999");  // beyond 32 bits: kept as written
  // One answer per id however it is written: an unknown id is its plain number.
  EXPECT_EQ(ids.user("03999998"), "3999998");
  EXPECT_EQ(ids.user("3999998"), "3999998");
}

TEST(IdNames, CachesAndCountsLookups) {
  IdNames ids;
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.user("3999999"), "3999999");
  EXPECT_EQ(ids.user("3999999"), "3999999");  // negative answer cached too
  EXPECT_EQ(ids.lookups(), 2u);
  ids.invalidate();
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.lookups(), 3u);
}

TEST(IdNames, InvalidatesOnlyWhenTheAccountFilesChanged) {
  testing::TempDir dir;
  testing::write_file(dir / "passwd", "root:x:0:0::/root:/bin/sh\n");
  IdNames ids(4096, {(dir / "passwd").string()});
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_FALSE(ids.invalidate_if_changed());  // unchanged: the cache stays
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.lookups(), 1u);
  testing::write_file(dir / "passwd", "root:x:0:0::/root:/bin/sh\nnew:x:1:1::/:/bin/sh\n");
  EXPECT_TRUE(ids.invalidate_if_changed());
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.lookups(), 2u);
  EXPECT_FALSE(ids.invalidate_if_changed());
}

TEST(IdNames, BoundedCacheEvicts) {
  IdNames ids(2);
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.user("3999998"), "3999998");
  EXPECT_EQ(ids.user("3999997"), "3999997");  // third id: cache emptied first
  EXPECT_EQ(ids.evictions(), 1u);
  EXPECT_EQ(ids.user("0"), "root");
  EXPECT_EQ(ids.lookups(), 4u);
}

Field bare(std::string_view key, std::string_view value) {
  return Field{key, value, ValueForm::bare};
}
Field quoted(std::string_view key, std::string_view value) {
  return Field{key, value, ValueForm::quoted};
}

TEST(DecodeMaybeHex, DecodesOnlyUnquotedHex) {
  std::string scratch;
  EXPECT_EQ(decode_maybe_hex(quoted("name", "/etc/passwd"), scratch), "/etc/passwd");
  EXPECT_EQ(decode_maybe_hex(bare("name", "2F746D702F612062"), scratch), "/tmp/a b");
  EXPECT_EQ(decode_maybe_hex(bare("name", "(null)"), scratch), "(null)");
  EXPECT_EQ(decode_maybe_hex(bare("name", "?"), scratch), "?");
  EXPECT_EQ(decode_maybe_hex(bare("name", "abc"), scratch), "abc");  // odd length: not hex
  EXPECT_EQ(decode_maybe_hex(quoted("name", "ABCD"), scratch), "ABCD");
  EXPECT_EQ(decode_maybe_hex(bare("name", "41004142"), scratch), std::string_view("A\0AB", 4));
}

TEST(DecodeProctitle, JoinsArgvWithSpaces) {
  std::string out;
  // "/bin/sh\0-c\0echo hi" with a trailing NUL.
  EXPECT_TRUE(decode_proctitle(bare("proctitle", "2F62696E2F7368002D63006563686F20686900"), out));
  EXPECT_EQ(out, "/bin/sh -c echo hi");
  out.clear();
  EXPECT_TRUE(decode_proctitle(quoted("proctitle", "bash"), out));
  EXPECT_EQ(out, "bash");
  out.clear();
  EXPECT_FALSE(decode_proctitle(bare("proctitle", "xyz"), out));
  EXPECT_EQ(out, "xyz");
}

// NULs become spaces eight bytes at a time: a NUL at every offset of a 19-byte title, and
// trailing NULs of every count, which are dropped.
TEST(DecodeProctitle, NulsAtEveryOffset) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  auto hex_of = [](std::string_view bytes) {
    std::string hex;
    for (unsigned char c : bytes) {
      hex.push_back(kHexDigits[c >> 4]);
      hex.push_back(kHexDigits[c & 0x0F]);
    }
    return hex;
  };
  for (std::size_t at = 0; at < 19; ++at) {
    for (std::size_t trailing = 0; trailing <= 9; ++trailing) {
      std::string title(19, 'a');
      title[at] = '\0';
      std::string expected = title;
      expected[at] = ' ';
      if (at == 18) expected.pop_back();  // a NUL at the end is a trailing one
      const std::string hex = hex_of(title + std::string(trailing, '\0'));
      std::string out = "p:";
      ASSERT_TRUE(decode_proctitle(bare("proctitle", hex), out));
      EXPECT_EQ(out, "p:" + expected) << at << " " << trailing;
    }
  }
  std::string out;
  ASSERT_TRUE(decode_proctitle(bare("proctitle", "0000000000000000000000"), out));
  EXPECT_EQ(out, "");
}

TEST(DecodeProctitle, CorpusValue) {
  std::string out;
  ASSERT_TRUE(decode_proctitle(
      bare("proctitle",
           "2F746D702F61756469742D62656E63682F61756469742D6E6C726561646572006D63617374002F746D70"
           "2F61756469742D62656E63682F636170747572652D736D616C6C2F6E65746C696E6B2E6C6F67"),
      out));
  EXPECT_EQ(out,
            "/tmp/audit-bench/audit-nlreader mcast "
            "/tmp/audit-bench/capture-small/netlink.log");
}

TEST(DecodeSockaddr, Inet) {
  SocketAddress a;
  ASSERT_TRUE(decode_sockaddr("020004017F0000010000000000000000", a));
  EXPECT_TRUE(a.decoded);
  EXPECT_EQ(a.family, "inet");
  EXPECT_EQ(a.address, "127.0.0.1");
  EXPECT_EQ(a.port, "1025");
}

TEST(DecodeSockaddr, Inet6) {
  SocketAddress a;
  ASSERT_TRUE(decode_sockaddr("0A000035000000000000000000000000000000000000000100000000", a));
  EXPECT_EQ(a.family, "inet6");
  EXPECT_EQ(a.address, "::1");
  EXPECT_EQ(a.port, "53");
  ASSERT_TRUE(decode_sockaddr("0A0001BB0000000020010DB8000000000000000000000001", a));
  EXPECT_EQ(a.address, "2001:db8::1");
  EXPECT_EQ(a.port, "443");
}

TEST(DecodeSockaddr, UnixPathStopsAtNul) {
  SocketAddress a;
  // /var/run/nscd/socket, then bytes of the caller's stack up to addrlen (from the corpus).
  ASSERT_TRUE(decode_sockaddr(
      "01002F7661722F72756E2F6E7363642F736F636B657400000B00000000000000008CD9F14456", a));
  EXPECT_EQ(a.family, "unix");
  EXPECT_EQ(a.address, "/var/run/nscd/socket");
  EXPECT_EQ(a.port, "");
}

TEST(DecodeSockaddr, UnixAbstractAndUnnamed) {
  SocketAddress a;
  ASSERT_TRUE(decode_sockaddr("0100006162630000", a));  // \0abc\0\0
  EXPECT_EQ(a.family, "unix");
  EXPECT_EQ(a.address, "@abc");
  ASSERT_TRUE(decode_sockaddr("0100", a));
  EXPECT_EQ(a.family, "unix");
  EXPECT_EQ(a.address, "");
  EXPECT_TRUE(a.decoded);
}

TEST(DecodeSockaddr, Netlink) {
  SocketAddress a;
  ASSERT_TRUE(decode_sockaddr("100000000000000000000000", a));
  EXPECT_EQ(a.family, "netlink");
  EXPECT_EQ(a.address, "0");
  ASSERT_TRUE(decode_sockaddr("10000000D204000001000000", a));  // nl_pid 1234
  EXPECT_EQ(a.address, "1234");
}

TEST(DecodeSockaddr, OtherFamiliesAndGarbage) {
  SocketAddress a;
  ASSERT_TRUE(decode_sockaddr("11000300", a));  // AF_PACKET = 17
  EXPECT_FALSE(a.decoded);
  EXPECT_EQ(a.family, "17");
  EXPECT_EQ(a.address, "");
  EXPECT_FALSE(decode_sockaddr("02", a));
  EXPECT_FALSE(decode_sockaddr("zz00", a));
  EXPECT_FALSE(decode_sockaddr("", a));
  EXPECT_EQ(a.family, "");
  ASSERT_TRUE(decode_sockaddr("0200", a));  // inet family but no address: family only
  EXPECT_EQ(a.family, "inet");
  EXPECT_EQ(a.address, "");
}

}  // namespace
}  // namespace aurelay::correlate
