// The local audit log's lines against auditd 3.0.9's own: the ENRICHED capture in
// tests/fixtures was written by the real auditd, so every line of it, rebuilt here from its
// record type and payload, must come out byte for byte the same.
#include "auditlog/record_format.h"

#include <gtest/gtest.h>
#include <libaudit.h>

#include <fstream>
#include <string>
#include <vector>

namespace aurelay::auditlog {
namespace {

struct LogLine {
  std::string text;     // the whole line as auditd wrote it
  std::uint32_t type;   // its record type
  std::string payload;  // what the kernel sent: "audit(…): fields"
};

// "type=NAME msg=PAYLOAD[\x1d…]" -> type and payload (the RAW part).
std::vector<LogLine> read_log(const std::string& path) {
  std::ifstream file(path);
  std::vector<LogLine> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.starts_with("type=")) continue;
    const std::size_t space = line.find(' ');
    const std::string name = line.substr(5, space - 5);
    const int type = audit_name_to_msg_type(name.c_str());
    if (type <= 0) continue;
    std::string payload = line.substr(space + 5);  // after " msg="
    payload = payload.substr(0, payload.find('\x1d'));
    lines.push_back({line, static_cast<std::uint32_t>(type), payload});
  }
  return lines;
}

TEST(RawLine, IsTypeNameAndPayload) {
  std::string out;
  append_raw_line(out, "", 1300, "audit(1.002:3): arch=c000003e syscall=59");
  EXPECT_EQ(out, "type=SYSCALL msg=audit(1.002:3): arch=c000003e syscall=59");
}

TEST(RawLine, UnknownTypeNewlinesTrailingSpaceAndNul) {
  std::string out;
  append_raw_line(out, "", 1999, std::string_view("audit(1.002:3): a=1\nb=2 \0junk", 28));
  EXPECT_EQ(out, "type=UNKNOWN[1999] msg=audit(1.002:3): a=1 b=2");
}

TEST(RawLine, NodePrefixKeepsThePayloadsOwnTrailingSpace) {
  // auditd's node format ends in a newline that becomes the one space it trims.
  std::string out;
  append_raw_line(out, "web1", 1305, "audit(1.002:3): op=x ");
  EXPECT_EQ(out, "node=web1 type=CONFIG_CHANGE msg=audit(1.002:3): op=x ");
}

TEST(RawLine, IsCutWhereAuditdsBufferEnds) {
  std::string out;
  append_raw_line(out, "", 1309, "audit(1.002:3): a0=" + std::string(9000, 'x'));
  EXPECT_EQ(out.size(), kMaxAuditMessageLength - 33);
}

TEST(EnrichedLine, EqualsWhatAuditdWrote) {
  const auto lines = read_log(AURELAY_FIXTURES_DIR "/kernel-capture-enriched.log");
  ASSERT_GT(lines.size(), 1000U);
  Enricher enricher;
  std::size_t enriched = 0;
  for (const auto& line : lines) {
    std::string out;
    append_raw_line(out, "", line.type, line.payload);
    ASSERT_EQ(out, line.text.substr(0, line.text.find('\x1d'))) << line.text;
    enricher.enrich(out, 0, line.type);
    ASSERT_EQ(out, line.text);
    if (out.find('\x1d') != std::string::npos) ++enriched;
  }
  EXPECT_GT(enriched, 300U);
  // The common records took the short path.
  EXPECT_LT(enricher.auparse_lookups(), lines.size() / 4);
}

TEST(EnrichedLine, ShortPathEqualsAuparseOnEveryCapturedRecord) {
  std::vector<LogLine> lines;
  for (const char* capture : {"/kernel-capture-netlink.log", "/kernel-capture-mozdef.log",
                              "/kernel-capture-enriched.log"}) {
    auto more = read_log(std::string(AURELAY_FIXTURES_DIR) + capture);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  ASSERT_GT(lines.size(), 2500U);
  Enricher direct;
  Enricher through_auparse;
  for (const auto& line : lines) {
    std::string expected;
    append_raw_line(expected, "host", line.type, line.payload);
    std::string actual = expected;
    through_auparse.enrich_with_auparse(expected, 0);
    direct.enrich(actual, 0, line.type);
    ASSERT_EQ(actual, expected);
  }
  EXPECT_LT(direct.auparse_lookups(), through_auparse.auparse_lookups() / 3);
}

// Inputs the fuzzer (tests/fuzz/fuzz_audit_log_line.cpp) found where the two paths disagreed,
// in order through the same enrichers: an unknown uid written with a leading zero was cached as
// that text, and the same uid written plainly then looked like a known name.
TEST(EnrichedLine, ShortPathEqualsAuparseOnFuzzerFindings) {
  const std::pair<std::uint32_t, std::string> findings[] = {
      {1309, "audit(1796168188.664:51755): uid=03999999 gid=0"},
      {1309,
       "audit(1796168188.664:51756): auid=4294967295 ses=42949remove4294967295 uid=3999999 uid=0 "
       "gid=0 euid=0 suid=0 fsuid=01"},
      {1309, "audit(1796168188.664:51757): gid=03999999 uid=0"},
      {1309, "audit(1796168188.664:51758): gid=3999999 uid=0"},
  };
  Enricher direct;
  Enricher through_auparse;
  for (const auto& [type, payload] : findings) {
    std::string expected;
    append_raw_line(expected, "", type, payload);
    std::string actual = expected;
    through_auparse.enrich_with_auparse(expected, 0);
    direct.enrich(actual, 0, type);
    EXPECT_EQ(actual, expected) << payload;
  }
}

TEST(EnrichedLine, AppendsAfterEarlierLinesInTheBuffer) {
  Enricher enricher;
  std::string out = "earlier line\n";
  const std::size_t start = out.size();
  append_raw_line(out, "", 1300,
                  "audit(1.002:3): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 "
                  "a3=4 items=2 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
                  "egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"true\" "
                  "exe=\"/usr/bin/true\" key=(null)");
  enricher.enrich(out, start, 1300);
  EXPECT_TRUE(out.starts_with("earlier line\ntype=SYSCALL"));
  EXPECT_TRUE(
      out.ends_with("key=(null)\x1d"
                    "ARCH=x86_64 SYSCALL=execve AUID=\"unset\" UID=\"root\" GID=\"root\" "
                    "EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" "
                    "SGID=\"root\" FSGID=\"root\""))
      << out;
}

}  // namespace
}  // namespace aurelay::auditlog
