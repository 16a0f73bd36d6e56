// The filters before encoding, on events as the assembler hands them over: by key (one quoted,
// several hex-encoded), syscall name (through the record's arch), exe (a regular expression on
// the quoted or hex-encoded path), uid or auid (numbers or names); and the options that could
// never match refused when the filters are built.
#include "correlate/event_filter.h"

#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

namespace aurelay::correlate {
namespace {

Event syscall_event(const std::string& syscall_body) {
  Event event;
  event.reset(EventKey{1700000000, 123, 77, ""});
  event.add_record(kTypeSyscall, syscall_body);
  event.add_record(kTypeProctitle, "proctitle=\"x\"");
  return event;
}

std::string body(const std::string& syscall, const std::string& exe, const std::string& key,
                 const std::string& uid = "0", const std::string& auid = "1000") {
  return "arch=c000003e syscall=" + syscall +
         " success=yes exit=0 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=2 auid=" + auid +
         " uid=" + uid +
         " gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 "
         "comm=\"x\" exe=" +
         exe + " key=" + key;
}

std::unique_ptr<EventFilter> built(const FilterConfig& config) {
  auto filter = EventFilter::build(config);
  EXPECT_TRUE(testing::succeeded(filter));
  return filter ? std::move(*filter) : nullptr;
}

TEST(EventFilter, ByKeyQuotedOrOneOfSeveralHexEncoded) {
  auto filter = built({.keys = "noise, exec"});
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "\"exec\""))),
            FilterMatch::key);
  // "audit" 0x01 "noise": two keys on one rule, hex-encoded by the kernel.
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "6175646974016E6F697365"))),
            FilterMatch::key);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "\"audit\""))),
            FilterMatch::none);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "(null)"))),
            FilterMatch::none);
}

TEST(EventFilter, BySyscallNameThroughTheRecordsArch) {
  auto filter = built({.syscalls = "getppid,stat"});
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->match(syscall_event(body("110", "\"/x\"", "(null)"))), FilterMatch::syscall);
  EXPECT_EQ(filter->match(syscall_event(body("4", "\"/x\"", "(null)"))), FilterMatch::syscall);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/x\"", "(null)"))), FilterMatch::none);
  // On i386 (arch 40000003) 110 is iopl, 64 is getppid.
  std::string i386 = body("110", "\"/x\"", "(null)");
  i386.replace(i386.find("c000003e"), 8, "40000003");
  EXPECT_EQ(filter->match(syscall_event(i386)), FilterMatch::none);
  i386.replace(i386.find("syscall=110"), 11, "syscall=64");
  EXPECT_EQ(filter->match(syscall_event(i386)), FilterMatch::syscall);
}

TEST(EventFilter, ByExeRegexOnQuotedAndHexEncodedPaths) {
  auto filter = built({.exe = "^/usr/lib/nagios/|/sbin/consoletype$"});
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/lib/nagios/check_disk\"", "(null)"))),
            FilterMatch::exe);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/sbin/consoletype\"", "(null)"))),
            FilterMatch::exe);
  // "/usr/lib/nagios/a b" (a space: the kernel hex-encodes it).
  EXPECT_EQ(
      filter->match(syscall_event(body("59", "2F7573722F6C69622F6E6167696F732F612062", "(null)"))),
      FilterMatch::exe);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/nagios\"", "(null)"))),
            FilterMatch::none);
}

TEST(EventFilter, ByUidOrAuidGivenAsNumbersOrNames) {
  auto filter = built({.uids = "4242, root"});
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/x\"", "(null)", "0", "1000"))),
            FilterMatch::uid);  // uid 0 = root
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/x\"", "(null)", "1000", "4242"))),
            FilterMatch::uid);  // auid
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/x\"", "(null)", "1000", "1001"))),
            FilterMatch::none);
  // A user message (no SYSCALL record): its own uid and auid.
  Event login;
  login.reset(EventKey{1700000000, 123, 78, ""});
  login.add_record(1112, "pid=5 uid=0 auid=4242 ses=3 msg='op=login acct=\"x\" res=success'");
  EXPECT_EQ(filter->match(login), FilterMatch::uid);
}

TEST(EventFilter, TheFirstFilterThatTakesAnEventNamesIt) {
  auto filter = built({.keys = "exec", .syscalls = "execve", .exe = "true", .uids = "0"});
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "\"exec\""))),
            FilterMatch::key);
  EXPECT_EQ(filter->match(syscall_event(body("59", "\"/usr/bin/true\"", "\"other\""))),
            FilterMatch::syscall);
}

TEST(EventFilter, OptionsThatCouldNeverMatchAreRefused) {
  for (const auto& [config, expected] : std::vector<std::pair<FilterConfig, std::string>>{
           {{.syscalls = "getppid,nosuchcall"}, "filter_syscalls: unknown syscall 'nosuchcall'"},
           {{.exe = "([unclosed"}, "filter_exe: '([unclosed' is not a regular expression"},
           {{.uids = "no-such-user-aurelay"}, "filter_uids: 'no-such-user-aurelay' is neither"}}) {
    auto filter = EventFilter::build(config);
    ASSERT_FALSE(filter) << expected;
    EXPECT_EQ(filter.exit_code_or(0), kExitConfigError);
    EXPECT_TRUE(filter.error().starts_with(expected)) << filter.error();
  }
}

}  // namespace
}  // namespace aurelay::correlate
