// Event assembler: grouping, completion rules, timeout on a fake clock, continuations, overflow,
// node prefixes, and replay of the shared corpora through the record parser.
#include "correlate/event_assembler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "correlate/execve.h"
#include "correlate/record.h"
#include "test_support.h"

namespace aurelay::correlate {
namespace {

using std::chrono::milliseconds;
using TimePoint = EventAssembler::TimePoint;

// A copy of an emitted event (the handler's reference dies with the call).
struct Captured {
  std::uint64_t sec = 0;
  std::uint32_t msec = 0;
  std::uint64_t serial = 0;
  std::string node;
  Completion completion = Completion::end_of_input;
  bool continuation = false;
  std::vector<std::uint32_t> types;
  std::vector<std::string> bodies;
};

class Recorder {
 public:
  EventHandler handler() {
    return [this](const Event& event) {
      Captured c;
      c.sec = event.key().sec;
      c.msec = event.key().msec;
      c.serial = event.key().serial;
      c.node = std::string(event.key().node);
      c.completion = event.completion();
      c.continuation = event.is_continuation();
      for (std::size_t i = 0; i < event.record_count(); ++i) {
        c.types.push_back(event.record_type(i));
        c.bodies.emplace_back(event.record_body(i));
      }
      events.push_back(std::move(c));
    };
  }
  std::vector<Captured> events;
};

RecordView record(std::uint32_t type, std::uint64_t serial, std::string_view body = "x=1",
                  std::string_view node = {}, std::uint64_t sec = 1700000000,
                  std::uint32_t msec = 123) {
  RecordView view;
  view.type = type;
  view.key = EventKey{sec, msec, serial, node};
  view.body = body;
  return view;
}

constexpr std::uint32_t kUserLogin = 1112;
constexpr std::uint32_t kUserAcct = 1101;
constexpr std::uint32_t kAuditUser = 1005;
constexpr std::uint32_t kSeccomp = 1326;
constexpr std::uint32_t kConfigChange = 1305;
constexpr std::uint32_t kAnomAbend = 1701;
constexpr std::uint32_t kUserRoleChange = 2300;

class EventAssemblerTest : public ::testing::Test {
 protected:
  TimePoint t0{std::chrono::seconds(1000)};
  Recorder recorder;
};

TEST_F(EventAssemblerTest, CompletesOnEoeWithoutStoringIt) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeSyscall, 10, "syscall=59"), t0);
  assembler.add(record(kTypeExecve, 10, "argc=1 a0=\"ls\""), t0);
  assembler.add(record(kTypeProctitle, 10, "proctitle=6C73"), t0);
  EXPECT_TRUE(recorder.events.empty());
  EXPECT_EQ(assembler.in_flight(), 1u);
  assembler.add(record(kTypeEoe, 10, ""), t0);
  ASSERT_EQ(recorder.events.size(), 1u);
  const Captured& e = recorder.events[0];
  EXPECT_EQ(e.completion, Completion::eoe);
  EXPECT_EQ(e.serial, 10u);
  EXPECT_EQ(e.types, (std::vector<std::uint32_t>{kTypeSyscall, kTypeExecve, kTypeProctitle}));
  EXPECT_EQ(e.bodies[1], "argc=1 a0=\"ls\"");
  EXPECT_EQ(assembler.in_flight(), 0u);
  EXPECT_EQ(assembler.records_accepted(), 4u);
  EXPECT_EQ(assembler.stats().events_by_eoe.load(), 1u);
  EXPECT_EQ(assembler.stats().events_completed.load(), 1u);
}

TEST_F(EventAssemblerTest, TerminalTypesCompleteAtOnce) {
  EventAssembler assembler({}, recorder.handler());
  const std::uint32_t terminal[] = {kUserLogin, kUserAcct, kAuditUser, kUserRoleChange,
                                    1299,       2100,      1000,       1099};
  std::uint64_t serial = 1;
  for (std::uint32_t type : terminal) assembler.add(record(type, serial++), t0);
  ASSERT_EQ(recorder.events.size(), std::size(terminal));
  for (std::size_t i = 0; i < std::size(terminal); ++i) {
    EXPECT_EQ(recorder.events[i].completion, Completion::terminal) << terminal[i];
    EXPECT_EQ(recorder.events[i].types, std::vector<std::uint32_t>{terminal[i]});
  }
  EXPECT_EQ(assembler.in_flight(), 0u);
  EXPECT_EQ(assembler.stats().events_by_terminal.load(), std::size(terminal));
}

TEST_F(EventAssemblerTest, CompletionRuleTable) {
  EXPECT_EQ(completion_rule(kTypeEoe), TypeRule::end_of_event);
  EXPECT_EQ(completion_rule(kTypeReplace), TypeRule::ignored);
  EXPECT_EQ(completion_rule(kTypeLogin), TypeRule::wait_for_eoe);
  EXPECT_EQ(completion_rule(1300), TypeRule::wait_for_eoe);
  EXPECT_EQ(completion_rule(2099), TypeRule::wait_for_eoe);
  EXPECT_EQ(completion_rule(kSeccomp), TypeRule::wait_for_eoe);
  EXPECT_EQ(completion_rule(1005), TypeRule::terminal);
  EXPECT_EQ(completion_rule(1100), TypeRule::terminal);
  EXPECT_EQ(completion_rule(1299), TypeRule::terminal);
  EXPECT_EQ(completion_rule(2100), TypeRule::terminal);
  EXPECT_EQ(completion_rule(0), TypeRule::terminal);
  EXPECT_EQ(completion_rule(1007), TypeRule::terminal);
}

TEST_F(EventAssemblerTest, LoginAndConfigChangeWaitForTheirSyscall) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeLogin, 5, "pid=1 old-auid=4294967295 auid=0"), t0);
  assembler.add(record(kConfigChange, 6, "op=add_rule"), t0);
  EXPECT_TRUE(recorder.events.empty());
  assembler.add(record(kTypeSyscall, 5), t0);
  assembler.add(record(kTypeSyscall, 6), t0);
  assembler.add(record(kTypeProctitle, 5), t0);
  assembler.add(record(kTypeProctitle, 6), t0);
  assembler.add(record(kTypeEoe, 6, ""), t0);
  assembler.add(record(kTypeEoe, 5, ""), t0);
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_EQ(recorder.events[0].serial, 6u);
  EXPECT_EQ(recorder.events[0].types,
            (std::vector<std::uint32_t>{kConfigChange, kTypeSyscall, kTypeProctitle}));
  EXPECT_EQ(recorder.events[1].serial, 5u);
  EXPECT_EQ(recorder.events[1].types,
            (std::vector<std::uint32_t>{kTypeLogin, kTypeSyscall, kTypeProctitle}));
}

TEST_F(EventAssemblerTest, InterleavedAndOutOfOrderEventsGroupRight) {
  EventAssembler assembler({}, recorder.handler());
  // Serial 21 starts before 20; records of the three events interleave.
  assembler.add(record(kTypeSyscall, 21, "a=21"), t0);
  assembler.add(record(kTypeSyscall, 20, "a=20"), t0);
  assembler.add(record(kTypeCwd, 21, "cwd=21"), t0);
  assembler.add(record(kTypeSyscall, 22, "a=22"), t0);
  assembler.add(record(kTypePath, 20, "p=20"), t0);
  assembler.add(record(kTypePath, 22, "p=22"), t0);
  assembler.add(record(kTypePath, 20, "p2=20"), t0);
  assembler.add(record(kTypeEoe, 22, ""), t0);
  assembler.add(record(kTypeEoe, 20, ""), t0);
  assembler.add(record(kTypeProctitle, 21, "t=21"), t0);
  assembler.add(record(kTypeEoe, 21, ""), t0);
  ASSERT_EQ(recorder.events.size(), 3u);
  // Emitted in the order they complete.
  EXPECT_EQ(recorder.events[0].serial, 22u);
  EXPECT_EQ(recorder.events[0].bodies, (std::vector<std::string>{"a=22", "p=22"}));
  EXPECT_EQ(recorder.events[1].serial, 20u);
  EXPECT_EQ(recorder.events[1].bodies, (std::vector<std::string>{"a=20", "p=20", "p2=20"}));
  EXPECT_EQ(recorder.events[2].serial, 21u);
  EXPECT_EQ(recorder.events[2].bodies, (std::vector<std::string>{"a=21", "cwd=21", "t=21"}));
  for (const Captured& e : recorder.events) EXPECT_EQ(e.completion, Completion::eoe);
}

TEST_F(EventAssemblerTest, SameSerialDifferentTimestampIsADifferentEvent) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeSyscall, 7, "first", {}, 1700000000, 1), t0);
  assembler.add(record(kTypeSyscall, 7, "second", {}, 1700000000, 2), t0);
  assembler.add(record(kTypeSyscall, 7, "third", {}, 1700000001, 1), t0);
  EXPECT_EQ(assembler.in_flight(), 3u);
  assembler.flush();
  ASSERT_EQ(recorder.events.size(), 3u);
  EXPECT_EQ(recorder.events[0].bodies, std::vector<std::string>{"first"});
  EXPECT_EQ(recorder.events[1].msec, 2u);
  EXPECT_EQ(recorder.events[2].sec, 1700000001u);
}

TEST_F(EventAssemblerTest, MissingEoeCompletesOnTimeoutFromFirstRecord) {
  AssemblerConfig config;
  config.eoe_timeout = milliseconds(2000);
  EventAssembler assembler(config, recorder.handler());
  assembler.add(record(kSeccomp, 30, "sig=31"), t0);
  assembler.add(record(kAnomAbend, 31, "sig=11"), t0 + milliseconds(500));
  // A later record of the same event does not extend its deadline.
  assembler.add(record(kTypeSyscall, 30), t0 + milliseconds(1900));
  assembler.expire(t0 + milliseconds(1999));
  EXPECT_TRUE(recorder.events.empty());
  assembler.expire(t0 + milliseconds(2000));
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].serial, 30u);
  EXPECT_EQ(recorder.events[0].completion, Completion::timeout);
  EXPECT_EQ(recorder.events[0].types, (std::vector<std::uint32_t>{kSeccomp, kTypeSyscall}));
  assembler.expire(t0 + milliseconds(2499));
  EXPECT_EQ(recorder.events.size(), 1u);
  assembler.expire(t0 + milliseconds(10000));
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_EQ(recorder.events[1].serial, 31u);
  EXPECT_EQ(assembler.stats().events_timed_out.load(), 2u);
  EXPECT_EQ(assembler.in_flight(), 0u);
}

TEST_F(EventAssemblerTest, ExpireRemovesOnlyTheExpiredPrefixAfterEoeRemovals) {
  EventAssembler assembler({milliseconds(100), 16, 16}, recorder.handler());
  for (std::uint64_t s = 1; s <= 5; ++s)
    assembler.add(record(kTypeSyscall, s), t0 + milliseconds(10 * s));
  assembler.add(record(kTypeEoe, 1, ""), t0 + milliseconds(60));  // the oldest leaves early
  assembler.add(record(kTypeEoe, 3, ""), t0 + milliseconds(60));  // one in the middle
  assembler.expire(t0 + milliseconds(125));                       // 2 is due, 4 and 5 are not
  ASSERT_EQ(recorder.events.size(), 3u);
  EXPECT_EQ(recorder.events[2].serial, 2u);
  EXPECT_EQ(recorder.events[2].completion, Completion::timeout);
  assembler.expire(t0 + milliseconds(150));
  ASSERT_EQ(recorder.events.size(), 5u);
  EXPECT_EQ(recorder.events[3].serial, 4u);
  EXPECT_EQ(recorder.events[4].serial, 5u);
}

TEST_F(EventAssemblerTest, LateRecordsFormOneContinuationEventCompletedByTheUsualRules) {
  EventAssembler assembler({milliseconds(100), 16, 16}, recorder.handler());
  assembler.add(record(kTypeSyscall, 40, "s"), t0);
  assembler.expire(t0 + milliseconds(100));
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_FALSE(recorder.events[0].continuation);
  // Two late records and their EOE: one continuation event, completed by the EOE.
  assembler.add(record(kTypePath, 40, "late"), t0 + milliseconds(150));
  assembler.add(record(kTypeProctitle, 40, "late2"), t0 + milliseconds(150));
  EXPECT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(assembler.in_flight(), 1u);
  assembler.add(record(kTypeEoe, 40, ""), t0 + milliseconds(150));
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_TRUE(recorder.events[1].continuation);
  EXPECT_EQ(recorder.events[1].completion, Completion::eoe);
  EXPECT_EQ(recorder.events[1].serial, 40u);
  EXPECT_EQ(recorder.events[1].bodies, (std::vector<std::string>{"late", "late2"}));
  EXPECT_EQ(assembler.stats().late_records.load(), 2u);
  EXPECT_EQ(assembler.stats().continuation_events.load(), 1u);
  EXPECT_EQ(assembler.stats().events_completed.load(), 2u);
  // An EOE for the emitted key with nothing open is only counted.
  assembler.add(record(kTypeEoe, 40, ""), t0 + milliseconds(150));
  EXPECT_EQ(recorder.events.size(), 2u);
  EXPECT_EQ(assembler.stats().late_eoe.load(), 1u);
}

TEST_F(EventAssemblerTest, UserMessageFollowedByItsSyscallGivesTwoEventsNotOnePerRecord) {
  // systemd's SERVICE_START is emitted at once; its audited sendto's SYSCALL, SOCKADDR and an
  // LSM record of the same id come after it and end with EOE.
  constexpr std::uint32_t kServiceStart = 1130, kSockaddrType = 1306, kAvc = 1400;
  EventAssembler assembler({milliseconds(100), 16, 16}, recorder.handler());
  assembler.add(record(kServiceStart, 7, "unit=ssh"), t0);
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].completion, Completion::terminal);
  assembler.add(record(kTypeSyscall, 7, "syscall=44"), t0);
  assembler.add(record(kSockaddrType, 7, "saddr=01"), t0);
  assembler.add(record(kAvc, 7, "apparmor=x"), t0);
  assembler.add(record(kTypeEoe, 7, ""), t0);
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_TRUE(recorder.events[1].continuation);
  EXPECT_EQ(recorder.events[1].types,
            (std::vector<std::uint32_t>{kTypeSyscall, kSockaddrType, kAvc}));
  EXPECT_EQ(recorder.events[1].completion, Completion::eoe);
}

TEST_F(EventAssemblerTest, ContinuationWithoutEoeCompletesOnTimeoutAndAtEndOfInput) {
  EventAssembler assembler({milliseconds(100), 16, 16}, recorder.handler());
  assembler.add(record(kUserLogin, 42), t0);
  assembler.add(record(kTypeSyscall, 42, "late"), t0 + milliseconds(10));
  assembler.expire(t0 + milliseconds(50));
  EXPECT_EQ(recorder.events.size(), 1u);
  assembler.expire(t0 + milliseconds(110));
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_TRUE(recorder.events[1].continuation);
  EXPECT_EQ(recorder.events[1].completion, Completion::timeout);
  assembler.add(record(kUserLogin, 43), t0);
  assembler.add(record(kTypeSyscall, 43, "late"), t0);
  assembler.flush();
  ASSERT_EQ(recorder.events.size(), 4u);
  EXPECT_TRUE(recorder.events[3].continuation);
  EXPECT_EQ(recorder.events[3].completion, Completion::end_of_input);
  // A late terminal record stands alone, marked as a continuation.
  assembler.add(record(kUserLogin, 43, "again"), t0);
  ASSERT_EQ(recorder.events.size(), 5u);
  EXPECT_TRUE(recorder.events[4].continuation);
  EXPECT_EQ(recorder.events[4].completion, Completion::terminal);
  EXPECT_EQ(assembler.stats().continuation_events.load(), 3u);
}

TEST_F(EventAssemblerTest, RememberedKeysAreBounded) {
  EventAssembler assembler({milliseconds(100), 16, 2}, recorder.handler());
  assembler.add(record(kUserAcct, 1), t0);
  assembler.add(record(kUserAcct, 2), t0);
  assembler.add(record(kUserAcct, 3), t0);  // pushes key 1 out of the ring
  assembler.add(record(kTypeSyscall, 3), t0);
  EXPECT_EQ(assembler.stats().late_records.load(), 1u);  // 3 is remembered
  assembler.add(record(kTypeSyscall, 1), t0);
  EXPECT_EQ(assembler.stats().late_records.load(), 1u);  // 1 is forgotten: a new event opens
  EXPECT_EQ(assembler.in_flight(), 2u);                  // 3's continuation and the new event 1
  EXPECT_EQ(assembler.stats().continuation_events.load(), 1u);
  assembler.add(record(kTypeEoe, 99, ""), t0);
  EXPECT_EQ(assembler.stats().orphan_eoe.load(), 1u);
}

TEST_F(EventAssemblerTest, ZeroRememberedKeysNeverContinues) {
  EventAssembler assembler({milliseconds(100), 16, 0}, recorder.handler());
  assembler.add(record(kUserAcct, 1), t0);
  assembler.add(record(kUserAcct, 1), t0);
  EXPECT_EQ(assembler.stats().late_records.load(), 0u);
  EXPECT_EQ(assembler.stats().events_by_terminal.load(), 2u);
}

TEST_F(EventAssemblerTest, OverflowCompletesTheOldestFirst) {
  EventAssembler assembler({milliseconds(100000), 2, 16}, recorder.handler());
  assembler.add(record(kTypeSyscall, 51, "b"), t0);
  assembler.add(record(kTypeSyscall, 50, "a"), t0 + milliseconds(1));
  assembler.add(record(kTypePath, 51, "b2"), t0 + milliseconds(2));
  EXPECT_TRUE(recorder.events.empty());
  assembler.add(record(kTypeSyscall, 52, "c"), t0 + milliseconds(3));
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].serial, 51u);  // oldest by arrival, not by serial
  EXPECT_EQ(recorder.events[0].completion, Completion::overflow);
  EXPECT_EQ(recorder.events[0].bodies, (std::vector<std::string>{"b", "b2"}));
  EXPECT_EQ(assembler.in_flight(), 2u);
  EXPECT_EQ(assembler.stats().events_evicted.load(), 1u);
  // Terminal records and EOE do not open events, so they never cause overflow.
  assembler.add(record(kUserAcct, 53), t0);
  assembler.add(record(kTypeEoe, 50, ""), t0);
  EXPECT_EQ(assembler.stats().events_evicted.load(), 1u);
  assembler.add(record(kTypePath, 51, "late"), t0);
  // 51 was emitted: a continuation opens
  EXPECT_EQ(assembler.stats().continuation_events.load(), 1u);
}

TEST_F(EventAssemblerTest, FlushCompletesEverythingInArrivalOrder) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeSyscall, 3), t0);
  assembler.add(record(kTypeSyscall, 1), t0);
  assembler.add(record(kTypeSyscall, 2), t0);
  assembler.flush();
  ASSERT_EQ(recorder.events.size(), 3u);
  EXPECT_EQ(recorder.events[0].serial, 3u);
  EXPECT_EQ(recorder.events[1].serial, 1u);
  EXPECT_EQ(recorder.events[2].serial, 2u);
  for (const Captured& e : recorder.events) EXPECT_EQ(e.completion, Completion::end_of_input);
  EXPECT_EQ(assembler.stats().events_at_end_of_input.load(), 3u);
  EXPECT_EQ(assembler.in_flight(), 0u);
  assembler.flush();
  EXPECT_EQ(recorder.events.size(), 3u);
}

TEST_F(EventAssemblerTest, NodesSeparateEventsAndAreCopied) {
  EventAssembler assembler({}, recorder.handler());
  std::string node_a = "host-a";
  std::string node_b = "host-b";
  std::string body = "from a";
  assembler.add(record(kTypeSyscall, 9, body, node_a), t0);
  assembler.add(record(kTypeSyscall, 9, "from b", node_b), t0);
  assembler.add(record(kTypeSyscall, 9, "no node"), t0);
  EXPECT_EQ(assembler.in_flight(), 3u);
  // The caller's buffer is reused after add(): the assembler must have copied what it kept.
  node_a.assign("XXXXXX");
  body.assign("XXXXXX");
  assembler.add(record(kTypeEoe, 9, "", "host-a"), t0);
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].node, "host-a");
  EXPECT_EQ(recorder.events[0].bodies, std::vector<std::string>{"from a"});
  assembler.flush();
  ASSERT_EQ(recorder.events.size(), 3u);
  EXPECT_EQ(recorder.events[1].node, "host-b");
  EXPECT_EQ(recorder.events[2].node, "");
  EXPECT_EQ(recorder.events[2].bodies, std::vector<std::string>{"no node"});
}

TEST_F(EventAssemblerTest, ReplaceProbesAreIgnoredAndCounted) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeReplace, 60, "auditd_pid=123"), t0);
  assembler.add(record(kTypeSyscall, 61), t0);
  assembler.add(record(kTypeReplace, 61, "auditd_pid=123"), t0);
  assembler.add(record(kTypeEoe, 61, ""), t0);
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].types, std::vector<std::uint32_t>{kTypeSyscall});
  EXPECT_EQ(assembler.stats().correlator_replace_ignored.load(), 2u);
  EXPECT_EQ(assembler.records_accepted(), 2u);
}

TEST_F(EventAssemblerTest, UnknownTypesFollowTheirRange) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(1399, 70, "unknown kernel"), t0);  // in 1300-2099: waits
  assembler.add(record(4321, 71, "unknown user"), t0);    // >= 2100: alone
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].serial, 71u);
  assembler.add(record(kTypeSyscall, 70), t0);
  assembler.add(record(kTypeEoe, 70, ""), t0);
  ASSERT_EQ(recorder.events.size(), 2u);
  EXPECT_EQ(recorder.events[1].types, (std::vector<std::uint32_t>{1399, kTypeSyscall}));
}

TEST_F(EventAssemblerTest, TerminalRecordForAnOpenEventCompletesIt) {
  EventAssembler assembler({}, recorder.handler());
  assembler.add(record(kTypeSyscall, 80), t0);
  assembler.add(record(kUserAcct, 80, "user"), t0);
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].completion, Completion::terminal);
  EXPECT_EQ(recorder.events[0].types, (std::vector<std::uint32_t>{kTypeSyscall, kUserAcct}));
}

TEST_F(EventAssemblerTest, ManyEventsReuseSlotsAndKeepGroupingRight) {
  // Exercises table wrap-around, back-shift deletion and slot reuse with a small table.
  EventAssembler assembler({milliseconds(1000), 8, 8}, recorder.handler());
  std::uint64_t expected_sum = 0;
  for (std::uint64_t round = 0; round < 2000; ++round) {
    // Keep up to 6 events open, completing them out of order.
    std::uint64_t s = round + 1;
    assembler.add(record(kTypeSyscall, s, "s"), t0);
    assembler.add(record(kTypePath, s, "p"), t0);
    if (round >= 5) {
      std::uint64_t done = ((round - 5) ^ 1) + 1;  // 2, 1, 4, 3, ...: out of arrival order
      assembler.add(record(kTypeProctitle, done, "t"), t0);
      assembler.add(record(kTypeEoe, done, ""), t0);
    }
    expected_sum += s;
  }
  assembler.flush();
  std::set<std::uint64_t> seen;
  std::uint64_t sum = 0;
  for (const Captured& e : recorder.events) {
    EXPECT_FALSE(e.continuation) << e.serial;
    EXPECT_NE(e.completion, Completion::overflow) << e.serial;
    EXPECT_TRUE(seen.insert(e.serial).second) << e.serial;
    ASSERT_GE(e.types.size(), 2u);
    EXPECT_EQ(e.types[0], kTypeSyscall);
    EXPECT_EQ(e.types[1], kTypePath);
    sum += e.serial;
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_EQ(sum, expected_sum);
}

TEST_F(EventAssemblerTest, IndexGrowsToManyOpenEventsEmptiesAndGrowsAgain) {
  // The open-event index starts small, doubles while 3000 events are open, goes back to its
  // first size when the last one completes, and grows again: every event completes whole, once,
  // by its own EOE, in the order the EOEs came; serials below every remembered one (late EOEs)
  // are still recognised.
  EventAssembler assembler({milliseconds(1000), 4096, 4096}, recorder.handler());
  std::uint64_t serial = 0;
  for (int burst = 0; burst < 2; ++burst) {
    const std::uint64_t first = serial + 1;
    for (int i = 0; i < 3000; ++i) {
      ++serial;
      assembler.add(record(kTypeSyscall, serial, "s"), t0);
      assembler.add(record(kTypePath, serial, "p"), t0);
    }
    EXPECT_EQ(assembler.in_flight(), 3000u);
    for (std::uint64_t s = serial; s >= first; --s) assembler.add(record(kTypeEoe, s, ""), t0);
    EXPECT_EQ(assembler.in_flight(), 0u);
    assembler.add(record(kTypeEoe, first, ""), t0);  // late: remembered, nothing to send
  }
  ASSERT_EQ(recorder.events.size(), 6000u);
  for (std::size_t i = 0; i < recorder.events.size(); ++i) {
    const Captured& e = recorder.events[i];
    const std::uint64_t burst_last = i < 3000 ? 3000 : 6000;
    EXPECT_EQ(e.serial, burst_last - i % 3000) << i;
    EXPECT_EQ(e.completion, Completion::eoe) << i;
    EXPECT_EQ(e.types.size(), 2u) << i;
  }
  EXPECT_EQ(assembler.stats().late_eoe.load(), 2u);
  EXPECT_EQ(assembler.stats().orphan_eoe.load(), 0u);
}

TEST(CompletionTest, NamesAreStable) {
  EXPECT_EQ(to_string(Completion::eoe), "eoe");
  EXPECT_EQ(to_string(Completion::terminal), "terminal");
  EXPECT_EQ(to_string(Completion::timeout), "timeout");
  EXPECT_EQ(to_string(Completion::overflow), "overflow");
  EXPECT_EQ(to_string(Completion::end_of_input), "end_of_input");
}

// --- corpus replay ---------------------------------------------------------------------------

// The event id of a log line, found by plain text search (independent of the parser):
// "node=NAME " prefix (if any) + the text inside "audit(...)".
std::string raw_event_id(std::string_view line) {
  std::string id;
  if (line.substr(0, 5) == "node=") id.assign(line.substr(5, line.find(' ') - 5)).push_back('/');
  std::size_t start = line.find("audit(");
  std::size_t end = line.find(')', start);
  if (start == std::string_view::npos || end == std::string_view::npos) return {};
  id.append(line.substr(start + 6, end - start - 6));
  return id;
}

struct Replay {
  std::vector<Captured> events;
  std::unique_ptr<AssemblerStats> stats = std::make_unique<AssemblerStats>();
  std::size_t lines = 0;
  std::size_t parse_failures = 0;
  std::set<std::string> distinct_ids;
  std::size_t eoe_lines = 0;
};

Replay replay_file(const std::filesystem::path& path) {
  Replay replay;
  Recorder recorder;
  EventAssembler assembler({}, recorder.handler(), replay.stats.get());
  const std::string text = testing::read_file(path);
  TimePoint now{};
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + position, end - position);
    position = end + 1;
    if (line.empty()) continue;
    ++replay.lines;
    replay.distinct_ids.insert(raw_event_id(line));
    RecordView view;
    if (parse_log_line(line, view) != ParseStatus::ok) {
      ++replay.parse_failures;
      continue;
    }
    if (view.type == kTypeEoe) ++replay.eoe_lines;
    assembler.add(view, now);
    now += std::chrono::microseconds(10);  // 10 us a record: far below the timeout
    assembler.expire(now);
  }
  assembler.flush();
  replay.events = std::move(recorder.events);
  return replay;
}

void expect_one_event_per_id(const Replay& replay) {
  EXPECT_EQ(replay.parse_failures, 0u);
  EXPECT_EQ(replay.events.size(), replay.distinct_ids.size());
  std::set<std::string> emitted;
  std::size_t records = 0;
  for (const Captured& e : replay.events) {
    EXPECT_FALSE(e.continuation);
    EXPECT_NE(e.completion, Completion::overflow);
    EXPECT_NE(e.completion, Completion::timeout);
    std::string id = e.node.empty() ? "" : e.node + "/";
    id += std::to_string(e.sec) + "." + (e.msec < 100 ? (e.msec < 10 ? "00" : "0") : "") +
          std::to_string(e.msec) + ":" + std::to_string(e.serial);
    EXPECT_TRUE(emitted.insert(id).second) << "emitted twice: " << id;
    for (std::uint32_t type : e.types) EXPECT_NE(type, kTypeEoe);
    records += e.types.size();
  }
  EXPECT_EQ(emitted, replay.distinct_ids);
  EXPECT_EQ(records, replay.lines - replay.eoe_lines);
  EXPECT_EQ(replay.stats->late_records.load(), 0u);
  EXPECT_EQ(replay.stats->orphan_eoe.load(), 0u);
}

// Netlink form: every syscall event ends with EOE; user messages are complete at once (terminal);
// the kernel records that come alone without EOE (SECCOMP, ANOM_ABEND: unaudited syscall) wait
// for the timeout, here the final flush. Returns how many did.
std::size_t expect_netlink_completions(const Replay& replay) {
  EXPECT_EQ(replay.stats->events_by_eoe.load(), replay.eoe_lines);
  std::size_t alone_without_eoe = 0;
  for (const Captured& e : replay.events) {
    if (e.completion != Completion::end_of_input) continue;
    ++alone_without_eoe;
    EXPECT_EQ(e.types.size(), 1u) << e.serial;
    if (!e.types.empty()) {
      EXPECT_TRUE(e.types[0] == kSeccomp || e.types[0] == kAnomAbend) << e.types[0];
    }
  }
  EXPECT_EQ(replay.stats->events_by_eoe.load() + replay.stats->events_by_terminal.load() +
                alone_without_eoe,
            replay.events.size());
  return alone_without_eoe;
}

// Ids whose records are not contiguous in the input (another event's records come between).
std::size_t interleaved_ids(const std::filesystem::path& path) {
  std::set<std::string> seen, interleaved;
  std::string previous;
  std::istringstream lines(testing::read_file(path));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    std::string id = raw_event_id(line);
    if (id != previous && seen.count(id)) interleaved.insert(id);
    seen.insert(id);
    previous = id;
  }
  return interleaved.size();
}

// The project's netlink capture (tests/fixtures/capture_netlink.sh): two loops ran at once, so
// 48 events have records of other events between theirs.
TEST(EventAssemblerCorpusTest, NetlinkCaptureGivesOneEventPerId) {
  const std::filesystem::path path = testing::fixture_path("kernel-capture-netlink.log");
  Replay replay = replay_file(path);
  EXPECT_EQ(replay.distinct_ids.size(), 177u);
  EXPECT_EQ(interleaved_ids(path), 48u);
  expect_one_event_per_id(replay);
  EXPECT_EQ(expect_netlink_completions(replay), 0u);
  // the user and group management messages
  EXPECT_EQ(replay.stats->events_by_terminal.load(), 10u);
}

TEST(EventAssemblerCorpusTest, SharedNetlinkCorpusGivesOneEventPerIdWhenPresent) {
  const std::filesystem::path path = testing::corpus_path("real-small-netlink.log");
  if (path.empty()) return;  // an extra input of a development checkout
  Replay replay = replay_file(path);
  EXPECT_EQ(replay.distinct_ids.size(), 1653u);  // corpus README
  expect_one_event_per_id(replay);
  EXPECT_EQ(expect_netlink_completions(replay), 4u);  // 2 SECCOMP + 2 ANOM_ABEND
}

// auditd's form never has EOE: syscall events end with flush(). The project's capture
// (tests/fixtures/capture_mozdef_cases.sh), then the shared one when present.
TEST(EventAssemblerCorpusTest, AuditdLogGivesOneEventPerId) {
  {
    Replay replay = replay_file(testing::fixture_path("kernel-capture-mozdef.log"));
    EXPECT_EQ(replay.distinct_ids.size(), 205u);
    expect_one_event_per_id(replay);
    EXPECT_EQ(replay.eoe_lines, 0u);
    EXPECT_EQ(replay.stats->events_by_eoe.load(), 0u);
    EXPECT_EQ(replay.stats->events_by_terminal.load(), 1u);  // the user message
    EXPECT_EQ(replay.stats->events_at_end_of_input.load(), 204u);
  }
  const std::filesystem::path path = testing::corpus_path("real-small.log");
  if (path.empty()) return;  // an extra input of a development checkout
  Replay replay = replay_file(path);
  // The README's table says 1,651 events; the file holds 1,657 distinct ids (auditd's own
  // DAEMON_START/DAEMON_END and two EVENT_LISTENER records are extra). Count what is there.
  EXPECT_EQ(replay.distinct_ids.size(), 1657u);
  expect_one_event_per_id(replay);
  EXPECT_EQ(replay.eoe_lines, 0u);
  EXPECT_EQ(replay.stats->events_by_eoe.load(), 0u);
  EXPECT_GT(replay.stats->events_at_end_of_input.load(), 1500u);
}

Event to_event(const Captured& c) {
  Event event;
  event.reset(EventKey{c.sec, c.msec, c.serial, c.node});
  for (std::size_t i = 0; i < c.types.size(); ++i) event.add_record(c.types[i], c.bodies[i]);
  return event;
}

// Long argument lists come back whole: 4,001 arguments, a 20 KB and a 100 KB argument (each
// hex-encoded by the kernel and split over many EXECVE records).
struct ExecveInput {
  std::filesystem::path path;
  bool has_100k, has_20k, has_4001;
};

TEST(EventAssemblerCorpusTest, EveryExecveReassemblesWhole) {
  std::vector<ExecveInput> inputs = {
      {testing::fixture_path("kernel-capture-netlink.log"), false, true, true},
      {testing::fixture_path("kernel-capture-mozdef.log"), true, false, false},
  };
  for (const char* name : {"real-small-netlink.log", "real-small.log"})
    if (std::filesystem::path path = testing::corpus_path(name); !path.empty())
      inputs.push_back({path, true, true, true});  // extra inputs of a development checkout
  for (const ExecveInput& input : inputs) {
    const std::string name = input.path.filename().string();
    Replay replay = replay_file(input.path);
    ExecveArguments args;
    std::size_t execve_events = 0;
    bool saw_100k = false, saw_20k = false, saw_4001 = false;
    for (const Captured& c : replay.events) {
      Event event = to_event(c);
      if (!reassemble_execve(event, args)) continue;
      ++execve_events;
      EXPECT_TRUE(args.complete()) << name << " serial " << c.serial << " argc " << args.argc
                                   << " used " << args.used << " missing " << args.missing;
      EXPECT_EQ(args.malformed, 0u) << name << " serial " << c.serial;
      if (args.argc == 2 && args.argv[1].size() == 100000) {
        saw_100k = true;
        EXPECT_EQ(args.argv[0], "/bin/echo");
        EXPECT_EQ(args.argv[1], std::string(100000, 'b'));
      }
      if (args.argc == 2 && args.argv[1].size() == 20000) {
        saw_20k = true;
        EXPECT_EQ(args.argv[1], std::string(20000, 'a'));
      }
      if (args.argc == 4001) {
        saw_4001 = true;
        ASSERT_EQ(args.used, 4001u);
        EXPECT_EQ(args.argv[0], "/bin/true");
        for (std::size_t i = 1; i < 4001; ++i) ASSERT_EQ(args.argv[i], std::to_string(i));
      }
    }
    EXPECT_GT(execve_events, 10u) << name;
    EXPECT_EQ(saw_100k, input.has_100k) << name;
    EXPECT_EQ(saw_20k, input.has_20k) << name;
    EXPECT_EQ(saw_4001, input.has_4001) << name;
  }
}

}  // namespace
}  // namespace aurelay::correlate
