// Tests of the record parser: headers (log lines and netlink payloads), type tables and fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "correlate/record.h"
#include "test_support.h"

namespace aurelay::correlate {
namespace {

using namespace std::string_view_literals;

ParseStatus parse(std::string_view line, RecordView& out) { return parse_log_line(line, out); }

std::vector<Field> fields_of(std::string_view body, std::size_t* first_enriched = nullptr) {
  std::vector<Field> out;
  const std::size_t enriched = split_fields(body, out);
  if (first_enriched != nullptr) *first_enriched = enriched;
  return out;
}

const Field* find_field(const std::vector<Field>& fields, std::string_view key,
                        std::size_t nth = 0) {
  for (const Field& field : fields) {
    if (field.key == key && nth-- == 0) return &field;
  }
  return nullptr;
}

// ---- headers --------------------------------------------------------------------------------

TEST(ParseLogLine, ParsesSyscallLine) {
  RecordView record;
  const std::string line =
      "type=SYSCALL msg=audit(1700000000.123:4567): arch=c000003e syscall=59 success=yes\n";
  ASSERT_EQ(parse(line, record), ParseStatus::ok);
  EXPECT_EQ(record.type, kTypeSyscall);
  EXPECT_EQ(record.key.sec, 1700000000u);
  EXPECT_EQ(record.key.msec, 123u);
  EXPECT_EQ(record.key.serial, 4567u);
  EXPECT_TRUE(record.key.node.empty());
  EXPECT_EQ(record.body, "arch=c000003e syscall=59 success=yes");
}

TEST(ParseLogLine, IgnoresCarriageReturnAndNewline) {
  RecordView record;
  ASSERT_EQ(parse("type=CWD msg=audit(1.002:3): cwd=\"/\"\r\n", record), ParseStatus::ok);
  EXPECT_EQ(record.body, "cwd=\"/\"");
  EXPECT_EQ(record.key.msec, 2u);
}

TEST(ParseLogLine, NodePrefix) {
  RecordView record;
  ASSERT_EQ(parse("node=web-01.example type=PATH msg=audit(10.5:7): item=0", record),
            ParseStatus::ok);
  EXPECT_EQ(record.key.node, "web-01.example");
  EXPECT_EQ(record.type, kTypePath);
  EXPECT_EQ(record.body, "item=0");
  // The node is part of the key: same timestamp, other node -> other event.
  RecordView other;
  ASSERT_EQ(parse("node=web-02 type=PATH msg=audit(10.5:7): item=0", other), ParseStatus::ok);
  EXPECT_FALSE(record.key == other.key);
}

TEST(ParseLogLine, UnknownTypeNumber) {
  RecordView record;
  ASSERT_EQ(parse("type=UNKNOWN[1999] msg=audit(1.000:1): x=1", record), ParseStatus::ok);
  EXPECT_EQ(record.type, 1999u);
  EXPECT_EQ(parse("type=UNKNOWN[] msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
  EXPECT_EQ(parse("type=UNKNOWN[70000] msg=audit(1.000:1): x=1", record),
            ParseStatus::unknown_type);
  EXPECT_EQ(parse("type=UNKNOWN[12a] msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
  EXPECT_EQ(parse("type=UNKNOWN[12 msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
}

TEST(ParseLogLine, MsgQuestionMarkHasNoKeyAndNoBody) {
  RecordView record;
  ASSERT_EQ(parse("type=UNKNOWN[1329] msg=?\n", record), ParseStatus::ok);
  EXPECT_EQ(record.type, kTypeReplace);
  EXPECT_EQ(record.key, EventKey{});
  EXPECT_TRUE(record.body.empty());
}

TEST(ParseLogLine, EmptyAndAbsentBodies) {
  RecordView record;
  ASSERT_EQ(parse("type=EOE msg=audit(1795305789.858:6126): ", record), ParseStatus::ok);
  EXPECT_EQ(record.type, kTypeEoe);
  EXPECT_TRUE(record.body.empty());
  ASSERT_EQ(parse("type=EOE msg=audit(1795305789.858:6126):", record), ParseStatus::ok);
  EXPECT_TRUE(record.body.empty());
  ASSERT_EQ(parse("type=EOE msg=audit(1795305789.858:6126)", record), ParseStatus::ok);
  EXPECT_TRUE(record.body.empty());
  EXPECT_EQ(record.key.serial, 6126u);
}

TEST(ParseLogLine, TwoSpacesAfterHeaderAndNoColon) {
  RecordView record;
  ASSERT_EQ(parse("type=CWD msg=audit(1170021493.977:293):  cwd=\"/var/spool/postfix\"", record),
            ParseStatus::ok);
  EXPECT_EQ(record.body, "cwd=\"/var/spool/postfix\"");
  ASSERT_EQ(parse("type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, auid=0", record),
            ParseStatus::ok);
  EXPECT_EQ(record.body, "config changed, auid=0");
}

TEST(ParseLogLine, EveryStatus) {
  RecordView record;
  EXPECT_EQ(parse("", record), ParseStatus::empty);
  EXPECT_EQ(parse("\n", record), ParseStatus::empty);
  EXPECT_EQ(parse("   \r\n", record), ParseStatus::empty);
  EXPECT_EQ(parse("msg=audit(1.000:1): x=1", record), ParseStatus::no_type);
  EXPECT_EQ(parse("audit(1.000:1): x=1", record), ParseStatus::no_type);
  EXPECT_EQ(parse("node=host", record), ParseStatus::no_type);
  EXPECT_EQ(parse("node=host msg=audit(1.000:1):", record), ParseStatus::no_type);
  EXPECT_EQ(parse("type=NOT_A_TYPE msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
  EXPECT_EQ(parse("type= msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
  EXPECT_EQ(parse("type=syscall msg=audit(1.000:1): x=1", record), ParseStatus::unknown_type);
  EXPECT_EQ(parse("type=SYSCALL", record), ParseStatus::no_header);
  EXPECT_EQ(parse("type=SYSCALL msg=", record), ParseStatus::no_header);
  EXPECT_EQ(parse("type=SYSCALL arch=c000003e", record), ParseStatus::no_header);
  EXPECT_EQ(parse("type=SYSCALL msg=audit[1.000:1]: x", record), ParseStatus::no_header);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1700000000.1", record), ParseStatus::no_header);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.000:1): x", record), ParseStatus::ok);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.000): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1:000.1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(.000:1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.:1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.000:): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.1000:1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.000:-1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.000:1 ): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1x.000:1): x", record), ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(" + std::string(100, '1') + "): x", record),
            ParseStatus::bad_timestamp);
}

TEST(ParseLogLine, HugeNumbersAreBadTimestampsNotOverflow) {
  RecordView record;
  ASSERT_EQ(
      parse("type=SYSCALL msg=audit(18446744073709551615.999:18446744073709551615): ", record),
      ParseStatus::ok);
  EXPECT_EQ(record.key.sec, 18446744073709551615ull);
  EXPECT_EQ(record.key.serial, 18446744073709551615ull);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(18446744073709551616.999:1): ", record),
            ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(1.999:18446744073709551616): ", record),
            ParseStatus::bad_timestamp);
  EXPECT_EQ(parse("type=SYSCALL msg=audit(99999999999999999999999.999:1): ", record),
            ParseStatus::bad_timestamp);
}

TEST(ParseLogLine, EmbeddedNulBytes) {
  RecordView record;
  const std::string nul_in_body("type=PATH msg=audit(5.006:7): name=\"a\0b\"", 40);
  ASSERT_EQ(parse(nul_in_body, record), ParseStatus::ok);
  EXPECT_EQ(record.body, std::string_view("name=\"a\0b\"", 10));
  const std::string nul_in_type("type=PA\0H msg=audit(5.006:7): x=1", 33);
  EXPECT_EQ(parse(nul_in_type, record), ParseStatus::unknown_type);
  const std::string nul_in_stamp(
      "type=PATH msg=audit(5.0\0"
      "6:7): x=1",
      33);
  EXPECT_EQ(parse(nul_in_stamp, record), ParseStatus::bad_timestamp);
}

TEST(ParseLogLine, TruncatedLines) {
  const std::string full = "node=n1 type=SYSCALL msg=audit(1700000000.123:4567): arch=c000003e";
  // Every prefix parses to a status without crashing; the statuses follow the layout.
  for (std::size_t n = 0; n <= full.size(); ++n) {
    RecordView record;
    const ParseStatus status = parse(std::string_view(full).substr(0, n), record);
    const std::size_t header_end = full.find(')');
    if (n == 0) {
      EXPECT_EQ(status, ParseStatus::empty);
    } else if (n <= header_end) {
      EXPECT_NE(status, ParseStatus::ok) << n;
    } else {
      EXPECT_EQ(status, ParseStatus::ok) << n;
      EXPECT_EQ(record.key.serial, 4567u);
    }
  }
}

// Headers are read eight digits at a time, with a shortcut for ten-digit seconds and three-digit
// milliseconds: every digit count, with the text ending right after the header or going on.
TEST(ParseLogLine, TimestampDigitsOfEveryCount) {
  const std::string digits = "98765432109876543210987";
  auto value_of = [](std::string_view text) {
    std::uint64_t value = 0;
    for (char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    return value;
  };
  for (std::size_t sec_count = 1; sec_count <= 21; ++sec_count) {
    for (std::size_t msec_count = 0; msec_count <= 4; ++msec_count) {
      for (std::size_t serial_count = 0; serial_count <= 21; ++serial_count) {
        for (std::string_view tail : {"", ": a=1 b=2 c=3"}) {
          // 20-digit numbers starting with 9 overflow 64 bits: bad_timestamp, not a wrapped value.
          const std::string sec = digits.substr(0, sec_count);
          const std::string msec = digits.substr(2, msec_count);
          const std::string serial = digits.substr(1, serial_count);
          std::string line = "type=SYSCALL msg=audit(";
          line.append(sec).append(".").append(msec).append(":").append(serial).append(")");
          line.append(tail);
          const bool valid = sec_count <= 19 && msec_count >= 1 && msec_count <= 3 &&
                             serial_count >= 1 && serial_count <= 19;
          RecordView record;
          ASSERT_EQ(parse(line, record), valid ? ParseStatus::ok : ParseStatus::bad_timestamp)
              << line;
          if (!valid) continue;
          EXPECT_EQ(record.key.sec, value_of(sec)) << line;
          EXPECT_EQ(record.key.msec, value_of(msec)) << line;
          EXPECT_EQ(record.key.serial, value_of(serial)) << line;
          EXPECT_EQ(record.body, tail.empty() ? "" : "a=1 b=2 c=3") << line;
        }
      }
    }
  }
}

// The ten-digit shortcut checks every byte it converts: a non-digit anywhere in it is refused.
TEST(ParseLogLine, FixedWidthTimestampWithANonDigitAnywhere) {
  const std::string good = "1700000000.123:4567";
  for (std::size_t at = 0; at < good.size(); ++at) {
    if (good[at] == '.' || good[at] == ':') continue;
    for (char bad : {'/', ':', 'a', ' ', '\x80'}) {
      std::string inside = good;
      inside[at] = bad;
      RecordView record;
      EXPECT_NE(parse("type=SYSCALL msg=audit(" + inside + "): a=1", record), ParseStatus::ok)
          << inside;
    }
  }
}

TEST(ParseNetlinkPayload, ParsesPayloads) {
  RecordView record;
  ASSERT_EQ(parse_netlink_payload(1307, "audit(1795305789.858:6126):  cwd=\"/root\"", record),
            ParseStatus::ok);
  EXPECT_EQ(record.type, 1307u);
  EXPECT_EQ(record.key.sec, 1795305789u);
  EXPECT_EQ(record.key.msec, 858u);
  EXPECT_EQ(record.key.serial, 6126u);
  EXPECT_EQ(record.body, "cwd=\"/root\"");
  ASSERT_EQ(parse_netlink_payload(1320, std::string_view("audit(1.002:3): \0", 17), record),
            ParseStatus::ok);
  EXPECT_TRUE(record.body.empty());
  EXPECT_EQ(parse_netlink_payload(1300, "", record), ParseStatus::empty);
  EXPECT_EQ(parse_netlink_payload(1300, "type=SYSCALL msg=audit(1.0:1): ", record),
            ParseStatus::no_header);
  EXPECT_EQ(parse_netlink_payload(1300, "audit(1.0:1", record), ParseStatus::no_header);
  EXPECT_EQ(parse_netlink_payload(1300, "audit(1.0:x): ", record), ParseStatus::bad_timestamp);
}

TEST(ParseStatusNames, AreStable) {
  EXPECT_EQ(to_string(ParseStatus::ok), "ok");
  EXPECT_EQ(to_string(ParseStatus::empty), "empty");
  EXPECT_EQ(to_string(ParseStatus::no_type), "no_type");
  EXPECT_EQ(to_string(ParseStatus::unknown_type), "unknown_type");
  EXPECT_EQ(to_string(ParseStatus::no_header), "no_header");
  EXPECT_EQ(to_string(ParseStatus::bad_timestamp), "bad_timestamp");
}

// ---- type tables ----------------------------------------------------------------------------

TEST(RecordTypes, NamesRoundTripAcrossTheRange) {
  int named = 0;
  for (std::uint32_t type = 1000; type <= 2999; ++type) {
    const std::string_view name = record_type_name(type);
    if (name.empty()) continue;
    ++named;
    EXPECT_EQ(record_type_from_name(name), type) << name;
  }
  EXPECT_GT(named, 190);
  EXPECT_EQ(record_type_name(1300), "SYSCALL");
  EXPECT_EQ(record_type_name(1320), "EOE");
  EXPECT_EQ(record_type_from_name("PROCTITLE"), kTypeProctitle);
  EXPECT_EQ(record_type_from_name("EVENT_LISTENER"), 1335u);
  EXPECT_EQ(record_type_from_name("LANDLOCK_ACCESS"), 1423u);  // added by hand
  EXPECT_EQ(record_type_from_name("UNKNOWN[1329]"), 1329u);
  EXPECT_EQ(record_type_from_name("SYSCAL"), 0u);
  EXPECT_EQ(record_type_from_name(""), 0u);
  EXPECT_TRUE(record_type_name(0).empty());
  EXPECT_TRUE(record_type_name(999).empty());
  EXPECT_TRUE(record_type_name(3000).empty());
  EXPECT_TRUE(record_type_name(0xFFFFFFFFu).empty());
}

// ---- fields ---------------------------------------------------------------------------------

TEST(SplitFields, BareQuotedNullAndQuestionMark) {
  const auto fields = fields_of(
      "arch=c000003e syscall=59 tty=(none) comm=\"my prog\" exe=\"/usr/bin/x y\" key=(null) "
      "hostname=? mac= proctitle=2F62696E");
  ASSERT_EQ(fields.size(), 9u);
  EXPECT_EQ(fields[0].key, "arch");
  EXPECT_EQ(fields[0].value, "c000003e");
  EXPECT_EQ(fields[0].form, ValueForm::bare);
  EXPECT_EQ(fields[2].value, "(none)");
  EXPECT_EQ(fields[3].key, "comm");
  EXPECT_EQ(fields[3].value, "my prog");
  EXPECT_EQ(fields[3].form, ValueForm::quoted);
  EXPECT_EQ(fields[4].value, "/usr/bin/x y");
  EXPECT_EQ(fields[5].value, "(null)");
  EXPECT_EQ(fields[6].value, "?");
  EXPECT_EQ(fields[7].key, "mac");
  EXPECT_TRUE(fields[7].value.empty());
  EXPECT_EQ(fields[8].value, "2F62696E");
}

TEST(SplitFields, AppendsToTheCallersVector) {
  std::vector<Field> out;
  out.push_back(Field{"earlier", "x", ValueForm::bare});
  EXPECT_EQ(split_fields("a=1 b=2", out), 3u);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].key, "earlier");
  EXPECT_EQ(out[2].key, "b");
  EXPECT_EQ(split_fields("", out), 3u);
  EXPECT_EQ(out.size(), 3u);
}

TEST(SplitFields, NestedUserMessage) {
  const auto fields = fields_of(
      "pid=1298 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:accounting "
      "grantors=pam_unix acct=\"andrew\" exe=\"/usr/sbin/sshd\" hostname=? addr=1.2.3.4 "
      "terminal=ssh res=success'");
  ASSERT_EQ(fields.size(), 13u);
  EXPECT_EQ(fields[4].key, "msg");
  EXPECT_EQ(fields[4].form, ValueForm::single_quoted);
  EXPECT_TRUE(fields[4].value.starts_with("op=PAM:accounting"));
  EXPECT_TRUE(fields[4].value.ends_with("res=success"));
  EXPECT_EQ(fields[5].key, "op");
  EXPECT_EQ(fields[5].value, "PAM:accounting");
  EXPECT_EQ(fields[7].key, "acct");
  EXPECT_EQ(fields[7].value, "andrew");
  EXPECT_EQ(fields[7].form, ValueForm::quoted);
  EXPECT_EQ(fields[12].key, "res");
  EXPECT_EQ(fields[12].value, "success");
}

TEST(SplitFields, NestedFieldsComeAfterAllOuterFields) {
  const auto fields = fields_of("a=1 msg='b=2 c=3' d=4");
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].key, "a");
  EXPECT_EQ(fields[1].key, "msg");
  EXPECT_EQ(fields[2].key, "d");
  EXPECT_EQ(fields[3].key, "b");
  EXPECT_EQ(fields[4].key, "c");
}

TEST(SplitFields, SingleQuoteInsideNestedQuotedValue) {
  const auto fields = fields_of("pid=1 msg='acct=\"o'brien\" res=success'");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[1].value, "acct=\"o'brien\" res=success");
  EXPECT_EQ(fields[2].value, "o'brien");
  EXPECT_EQ(fields[3].value, "success");
}

TEST(SplitFields, SingleQuotedValueWithoutFieldsIsNotSplit) {
  const auto fields = fields_of("msg='hello world' x=1");
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].value, "hello world");
  EXPECT_EQ(fields[1].key, "x");
}

TEST(SplitFields, OldUserMessagesSkipProse) {
  // 2007-era PAM message, as in audit-userspace's auparse/test/test.log.
  const auto fields = fields_of(
      "user pid=13015 uid=0 auid=0 subj=system_u:system_r:crond_t:s0-s0:c0.c1023 "
      "msg='PAM: session open acct=root : exe=\"/usr/sbin/crond\" (hostname=?, addr=?, "
      "terminal=cron res=success)'");
  ASSERT_NE(find_field(fields, "pid"), nullptr);
  EXPECT_EQ(fields[0].key, "pid");
  EXPECT_EQ(find_field(fields, "pid")->value, "13015");
  ASSERT_NE(find_field(fields, "acct"), nullptr);
  EXPECT_EQ(find_field(fields, "acct")->value, "root");
  EXPECT_EQ(find_field(fields, "exe")->value, "/usr/sbin/crond");
  ASSERT_NE(find_field(fields, "hostname"), nullptr);
  EXPECT_EQ(find_field(fields, "hostname")->value, "?");
  EXPECT_EQ(find_field(fields, "addr")->value, "?");
  EXPECT_EQ(find_field(fields, "terminal")->value, "cron");
  EXPECT_EQ(find_field(fields, "res")->value, "success");
  EXPECT_EQ(find_field(fields, "user"), nullptr);
  EXPECT_EQ(find_field(fields, "PAM:"), nullptr);
  EXPECT_EQ(fields.size(), 11u);  // 5 outer + 6 nested
}

TEST(SplitFields, AvcProseIsSkipped) {
  const auto fields = fields_of(
      "avc:  denied  { read write } for  pid=13010 comm=\"pickup\" name=\"maildrop\" dev=hda7 "
      "tclass=dir");
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].key, "pid");
  EXPECT_EQ(fields[0].value, "13010");
  EXPECT_EQ(fields[4].key, "tclass");
  EXPECT_EQ(fields[4].value, "dir");
}

TEST(SplitFields, EnrichedSeparator) {
  std::size_t first_enriched = 0;
  const auto fields = fields_of(
      "arch=c000003e syscall=59 msg='op=x res=1'\x1d"
      "ARCH=x86_64 SYSCALL=execve AUID=\"root\"",
      &first_enriched);
  ASSERT_EQ(fields.size(), 8u);
  EXPECT_EQ(first_enriched, 5u);  // arch, syscall, msg, op, res
  EXPECT_EQ(fields[3].key, "op");
  EXPECT_EQ(fields[4].key, "res");
  EXPECT_EQ(fields[4].value, "1");
  EXPECT_EQ(fields[5].key, "ARCH");
  EXPECT_EQ(fields[5].value, "x86_64");
  EXPECT_EQ(fields[7].key, "AUID");
  EXPECT_EQ(fields[7].value, "root");
  EXPECT_EQ(fields[7].form, ValueForm::quoted);

  std::size_t none = 0;
  const auto plain = fields_of("a=1 b=2", &none);
  EXPECT_EQ(none, plain.size());
  std::size_t at_start = 99;
  const auto only_enriched = fields_of("\x1dUID=\"root\"", &at_start);
  EXPECT_EQ(at_start, 0u);
  ASSERT_EQ(only_enriched.size(), 1u);
}

TEST(SplitFields, EnrichedValueInBracesIsOneValue) {
  std::size_t first_enriched = 0;
  const auto fields = fields_of(
      "saddr=100000000000000000000000\x1dSADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 } "
      "UID=\"root\"",
      &first_enriched);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(first_enriched, 1u);
  EXPECT_EQ(fields[1].key, "SADDR");
  EXPECT_EQ(fields[1].value, "{ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }");
  EXPECT_EQ(fields[2].key, "UID");
  // An unclosed brace runs to the end of the list.
  const auto open = fields_of("a={ b=1 c=2", nullptr);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].value, "{ b=1 c=2");
}

TEST(SplitFields, UnterminatedQuotesRunToTheEnd) {
  auto fields = fields_of("a=\"abc def");
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].value, "abc def");
  fields = fields_of("a=1 msg='b=2 c=\"x");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[1].value, "b=2 c=\"x");
  EXPECT_EQ(fields[3].value, "x");
  fields = fields_of("a=' ");
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].value, " ");
}

TEST(SplitFields, GarbageNeverYieldsEmptyKeys) {
  const auto fields = fields_of("= == =x a= =\"q\" b==c '' \"\" \x1d\x1d= c=");
  for (const Field& field : fields) EXPECT_FALSE(field.key.empty());
  ASSERT_NE(find_field(fields, "a"), nullptr);
  EXPECT_TRUE(find_field(fields, "a")->value.empty());
  EXPECT_EQ(find_field(fields, "b")->value, "=c");
  EXPECT_NE(find_field(fields, "c"), nullptr);
}

// ---- fixture --------------------------------------------------------------------------------

TEST(RecordFixture, EdgeCaseLinesHaveTheirStatuses) {
  const std::string text = testing::read_file(testing::fixture_path("parser/edge_cases.log"));
  ASSERT_FALSE(text.empty());
  std::vector<ParseStatus> statuses;
  std::vector<Field> fields;
  std::size_t nested_or_enriched = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    RecordView record;
    statuses.push_back(parse_log_line(line, record));
    if (statuses.back() != ParseStatus::ok) continue;
    fields.clear();
    const std::size_t first_enriched = split_fields(record.body, fields);
    if (first_enriched != fields.size() || find_field(fields, "res") != nullptr) {
      ++nested_or_enriched;
    }
  }
  const std::vector<ParseStatus> expected = {
      ParseStatus::ok,        ParseStatus::ok,           ParseStatus::ok,
      ParseStatus::ok,        ParseStatus::ok,           ParseStatus::ok,
      ParseStatus::ok,        ParseStatus::ok,           ParseStatus::ok,
      ParseStatus::ok,        ParseStatus::ok,           ParseStatus::ok,
      ParseStatus::ok,        ParseStatus::ok,           ParseStatus::bad_timestamp,
      ParseStatus::no_header, ParseStatus::unknown_type, ParseStatus::no_type,
      ParseStatus::empty,
  };
  EXPECT_EQ(statuses, expected);
  EXPECT_EQ(nested_or_enriched, 4u);  // DAEMON_CONFIG, USER_ACCT, USER_START, USER_CMD
}

// ---- corpus ---------------------------------------------------------------------------------

struct CorpusResult {
  std::size_t lines = 0;
  std::size_t errors = 0;
  std::size_t fields = 0;
  std::set<std::tuple<std::string, std::uint64_t, std::uint32_t, std::uint64_t>> keys;
  std::map<std::string, std::size_t> types;
  std::string first_error;
};

CorpusResult parse_corpus_file(const std::filesystem::path& path) {
  CorpusResult result;
  const std::string text = testing::read_file(path);
  std::vector<Field> fields;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    ++result.lines;
    RecordView record;
    const ParseStatus status = parse_log_line(line, record);
    if (status != ParseStatus::ok) {
      if (result.errors++ == 0) {
        result.first_error = std::string(to_string(status)) + ": " + std::string(line);
      }
      continue;
    }
    fields.clear();
    const std::size_t enriched = split_fields(record.body, fields);
    EXPECT_EQ(enriched, fields.size()) << line;  // no corpus uses the enriched format
    for (const Field& field : fields) {
      EXPECT_FALSE(field.key.empty()) << line;
      // Views stay inside the line.
      EXPECT_GE(field.value.data(), line.data());
      EXPECT_LE(field.value.data() + field.value.size(), line.data() + line.size());
    }
    result.fields += fields.size();
    result.keys.emplace(std::string(record.key.node), record.key.sec, record.key.msec,
                        record.key.serial);
    ++result.types[std::string(record_type_name(record.type))];
  }
  return result;
}

// The project's netlink capture (tests/fixtures/capture_netlink.sh): what a netlink reader
// receives, EOE after every syscall event.
TEST(RecordCorpus, NetlinkCaptureParsesWithoutErrors) {
  const CorpusResult result =
      parse_corpus_file(testing::fixture_path("kernel-capture-netlink.log"));
  EXPECT_EQ(result.errors, 0u) << result.first_error;
  EXPECT_EQ(result.lines, 1192u);
  EXPECT_EQ(result.keys.size(), 177u);
  EXPECT_EQ(result.types.size(), 15u);
  EXPECT_EQ(result.types.at("EOE"), result.types.at("SYSCALL"));
  EXPECT_EQ(result.types.at("SYSCALL"), 167u);
  EXPECT_EQ(result.types.at("ADD_USER"), 1u);
  EXPECT_EQ(result.types.at("DEL_GROUP"), 3u);
  EXPECT_GT(result.fields, 1192u * 3);
}

TEST(RecordCorpus, SharedNetlinkCorpusParsesWithoutErrorsWhenPresent) {
  const std::filesystem::path path = testing::corpus_path("real-small-netlink.log");
  if (path.empty()) return;  // an extra input of a development checkout
  const CorpusResult result = parse_corpus_file(path);
  EXPECT_EQ(result.errors, 0u) << result.first_error;
  EXPECT_EQ(result.lines, 8607u);
  EXPECT_EQ(result.keys.size(), 1653u);  // distinct event ids, per the corpus README
  EXPECT_EQ(result.types.size(), 41u);
  EXPECT_EQ(result.types.at("EOE"), result.types.at("SYSCALL"));
  EXPECT_EQ(result.types.at("SYSCALL"), 1589u);
  EXPECT_GT(result.fields, 8607u * 3);
}

// The project's auditd capture (tests/fixtures/capture_mozdef_cases.sh, log_format = RAW,
// auditd's own DAEMON_* records left out).
TEST(RecordCorpus, AuditdLogParsesWithoutErrors) {
  const CorpusResult result = parse_corpus_file(testing::fixture_path("kernel-capture-mozdef.log"));
  EXPECT_EQ(result.errors, 0u) << result.first_error;
  EXPECT_EQ(result.lines, 597u);
  EXPECT_EQ(result.keys.size(), 205u);
  EXPECT_EQ(result.types.count("EOE"), 0u);  // auditd never writes EOE
  EXPECT_EQ(result.types.count("DAEMON_START"), 0u);
  EXPECT_GT(result.types.at("SYSCALL"), 150u);
  EXPECT_EQ(result.types.at("LOGIN"), 1u);
}

TEST(RecordCorpus, SharedAuditdCorpusMatchesItsNetlinkFormWhenPresent) {
  const std::filesystem::path path = testing::corpus_path("real-small.log");
  const std::filesystem::path netlink_path = testing::corpus_path("real-small-netlink.log");
  if (path.empty() || netlink_path.empty()) return;  // extra inputs of a development checkout
  const CorpusResult result = parse_corpus_file(path);
  EXPECT_EQ(result.errors, 0u) << result.first_error;
  // The file holds 7,024 records and 1,657 event ids (the README's 6,990 / 1,651 are off): the
  // netlink capture's events plus auditd's own (its start-up SYSCALL, DAEMON_START,
  // EVENT_LISTENER, DAEMON_END).
  EXPECT_EQ(result.lines, 7024u);
  EXPECT_EQ(result.types.count("EOE"), 0u);  // auditd never writes EOE
  EXPECT_EQ(result.types.at("DAEMON_START"), 1u);
  EXPECT_EQ(result.types.at("DAEMON_END"), 1u);
  const CorpusResult netlink = parse_corpus_file(netlink_path);
  std::size_t shared = 0;
  for (const auto& key : netlink.keys) shared += result.keys.count(key);
  EXPECT_EQ(shared, netlink.keys.size());  // every netlink event is in auditd's log
  EXPECT_EQ(result.keys.size(), netlink.keys.size() + 4);
  EXPECT_EQ(result.types.at("SYSCALL"), netlink.types.at("SYSCALL") + 1);
}

// Small logs of other shapes: the project's hand-made ones (node= prefixes, split EXECVE,
// continuations), and the other parsers' test logs of ../shared/corpus/external/ when present.
TEST(RecordCorpus, OtherLogsParseWithoutErrors) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(testing::fixture_path("assembler")))
    if (entry.is_regular_file()) paths.push_back(entry.path());
  const std::size_t fixtures = paths.size();
  const std::filesystem::path external = testing::corpus_path("external");
  if (!external.empty())
    for (const auto& entry : std::filesystem::recursive_directory_iterator(external))
      if (entry.is_regular_file()) paths.push_back(entry.path());
  std::size_t lines = 0;
  std::set<std::string> nodes;
  for (const std::filesystem::path& path : paths) {
    const CorpusResult result = parse_corpus_file(path);
    EXPECT_EQ(result.errors, 0u) << path << " " << result.first_error;
    EXPECT_GT(result.lines, 0u) << path;
    lines += result.lines;
    for (const auto& key : result.keys) nodes.insert(std::get<0>(key));
  }
  EXPECT_EQ(fixtures, 2u);
  if (!external.empty()) {
    EXPECT_EQ(paths.size() - fixtures, 11u);
  }
  EXPECT_GT(lines, external.empty() ? 10u : 100u);
  EXPECT_GT(nodes.size(), 1u);  // execve_split.log and external test3.log have node= prefixes
}

// User-space messages nest their fields in msg='...': the kernel capture's (useradd, groupadd,
// userdel, groupdel, usermod, auditctl -m) and, when present, the 2007-era ones of external/.
TEST(RecordCorpus, UserMessageNestedFields) {
  auto user_messages_in = [](const std::filesystem::path& path,
                             const std::string& exe_prefix) -> std::size_t {
    const std::string text = testing::read_file(path);
    std::size_t user_messages = 0;
    std::vector<Field> fields;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view line = std::string_view(text).substr(start, end - start);
      start = end + 1;
      RecordView record;
      if (parse_log_line(line, record) != ParseStatus::ok) continue;
      if (record.body.find("msg='") == std::string_view::npos) continue;
      fields.clear();
      split_fields(record.body, fields);
      const Field* msg = find_field(fields, "msg");
      if (msg == nullptr || msg->form != ValueForm::single_quoted) {
        ADD_FAILURE() << "msg='...' not read as one single-quoted value: " << line;
        continue;
      }
      const Field* exe = find_field(fields, "exe");
      if (exe == nullptr || !exe->value.starts_with(exe_prefix)) continue;
      ++user_messages;
      const Field* res = find_field(fields, "res");
      EXPECT_TRUE(res != nullptr && res->value == "success") << line;
    }
    return user_messages;
  };
  // groupadd (3), useradd, usermod, userdel, groupdel (3), auditctl -m (the capture's end mark).
  EXPECT_EQ(user_messages_in(testing::fixture_path("kernel-capture-netlink.log"), "/usr/sbin/"),
            10u);
  const std::filesystem::path old = testing::corpus_path("external/audit-userspace/test.log");
  if (old.empty()) return;  // an extra input of a development checkout
  EXPECT_EQ(user_messages_in(old, "/usr/sbin/crond"), 5u);
}

}  // namespace
}  // namespace aurelay::correlate
