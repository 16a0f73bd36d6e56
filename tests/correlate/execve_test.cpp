// EXECVE argument reassembly: quoted and hex values, multi-record and chunked arguments, missing
// arguments, garbage, and a hand-made fixture replayed through the parser and the assembler.
#include "correlate/execve.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "test_support.h"

namespace aurelay::correlate {
namespace {

std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

Event make_event(const std::vector<std::pair<std::uint32_t, std::string>>& records) {
  Event event;
  event.reset(EventKey{1700000000, 1, 42, {}});
  for (const auto& [type, body] : records) event.add_record(type, body);
  return event;
}

std::vector<std::string> arguments(const ExecveArguments& args) {
  return std::vector<std::string>(args.argv.begin(), args.argv.begin() + args.used);
}

TEST(ExecveTest, QuotedArgumentsInOneRecord) {
  Event event = make_event({{kTypeSyscall, "arch=c000003e syscall=59"},
                            {kTypeExecve, R"(argc=3 a0="ls" a1="-l" a2="/tmp")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(args.argc, 3u);
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"ls", "-l", "/tmp"}));
  EXPECT_TRUE(args.complete());
  EXPECT_EQ(args.malformed, 0u);
}

TEST(ExecveTest, HexArgumentsKeepEveryByte) {
  const std::string quotes = "say \"hi\" 'there'";
  const std::string spaces = "a b  c";
  const std::string newline = "line1\nline2\r\n";
  const std::string binary = std::string("\xff\xfe\x80 caf\xc3\xa9", 9);
  const std::string with_nul = std::string("a\0b", 3);
  std::string body = "argc=6 a0=\"printf\" a1=" + to_hex(quotes) + " a2=" + to_hex(spaces) +
                     " a3=" + to_hex(newline) + " a4=" + to_hex(binary) + " a5=" + to_hex(with_nul);
  Event event = make_event({{kTypeExecve, body}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args),
            (std::vector<std::string>{"printf", quotes, spaces, newline, binary, with_nul}));
  EXPECT_EQ(args.argv[5].size(), 3u);
  EXPECT_TRUE(args.complete());
  EXPECT_EQ(args.malformed, 0u);
}

TEST(ExecveTest, LowercaseHexAndEmptyQuotedArgument) {
  Event event = make_event({{kTypeExecve, R"(argc=3 a0="x" a1="" a2=6a6b)"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"x", "", "jk"}));
  EXPECT_TRUE(args.complete());
}

TEST(ExecveTest, ArgumentsSpanSeveralRecords) {
  Event event = make_event({{kTypeSyscall, "syscall=59"},
                            {kTypeExecve, R"(argc=5 a0="cmd" a1="one")"},
                            {kTypeCwd, R"(cwd="/")"},  // other records may sit between them
                            {kTypeExecve, R"( a2="two" a3=74687265)"},
                            {kTypeExecve, R"( a4="four")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"cmd", "one", "two", "thre", "four"}));
  EXPECT_TRUE(args.complete());
}

TEST(ExecveTest, ChunkedArgumentAcrossRecords) {
  const std::string big(9000, 'z');
  const std::string hex = to_hex(big + "\n");
  // a1 announced with its logged length, split in three chunks over two records.
  std::string first = "argc=3 a0=\"/bin/echo\" a1_len=" + std::to_string(hex.size()) +
                      " a1[0]=" + hex.substr(0, 7000) + " a1[1]=" + hex.substr(7000, 7000);
  std::string second = " a1[2]=" + hex.substr(14000) + " a2=\"end\"";
  Event event = make_event({{kTypeExecve, first}, {kTypeExecve, second}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  ASSERT_EQ(args.used, 3u);
  EXPECT_EQ(args.argv[1], big + "\n");
  EXPECT_EQ(args.argv[2], "end");
  EXPECT_TRUE(args.complete());
  EXPECT_EQ(args.malformed, 0u);
}

TEST(ExecveTest, QuotedChunksAreKeptAsText) {
  Event event = make_event({{kTypeExecve, R"(argc=2 a0="x" a1_len=8 a1[0]="abcd" a1[1]="efgh")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"x", "abcdefgh"}));
  EXPECT_TRUE(args.complete());
}

TEST(ExecveTest, ArgcLargerThanTheArgumentsPresent) {
  Event event = make_event({{kTypeExecve, R"(argc=5 a0="cmd" a1="one")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(args.argc, 5u);
  EXPECT_EQ(args.used, 2u);
  EXPECT_EQ(args.missing, 0u);
  EXPECT_FALSE(args.complete());
}

TEST(ExecveTest, MissingMiddleArgumentKeepsPositions) {
  // The record holding a1 and a2 was lost.
  Event event = make_event({{kTypeExecve, R"(argc=4 a0="cmd")"}, {kTypeExecve, R"( a3="last")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"cmd", "", "", "last"}));
  EXPECT_EQ(args.used, 4u);
  EXPECT_EQ(args.missing, 2u);
  EXPECT_FALSE(args.complete());
}

TEST(ExecveTest, GarbageIsCountedAndBounded) {
  Event event =
      make_event({{kTypeExecve, R"(argc=3 a0="ok" a1=4G4G a2=ABC a7="beyond argc" )"
                                R"(a99999999999999999999="huge" a1x="not an argument" argc=9)"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(args.argc, 3u);  // the second argc is ignored
  // Bad hex is kept as its text rather than lost.
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"ok", "4G4G", "ABC"}));
  // a1 and a2 bad hex, a7 beyond argc, the unparsable huge index, a1x, the repeated argc.
  EXPECT_EQ(args.malformed, 6u);
  EXPECT_LE(args.argv.size(), 3u);
}

TEST(ExecveTest, HugeArgcAndFarIndexDoNotAllocate) {
  Event event = make_event({{kTypeExecve, R"(argc=999999999999 a0="x" a900000="far")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(args.argc, kMaxExecveArgc);  // clamped
  EXPECT_EQ(args.used, 1u);              // the far index is skipped, not padded to
  EXPECT_LE(args.argv.size(), 1u);
  EXPECT_EQ(args.malformed, 2u);
  EXPECT_FALSE(args.complete());
}

TEST(ExecveTest, DuplicateArgumentKeepsTheFirst) {
  Event event = make_event({{kTypeExecve, R"(argc=2 a0="a" a1="b" a1="c")"}});
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(event, args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(args.malformed, 1u);
}

TEST(ExecveTest, NoExecveRecord) {
  Event event = make_event({{kTypeSyscall, "syscall=2"}});
  ExecveArguments args;
  args.argc = 7;
  args.used = 3;
  EXPECT_FALSE(reassemble_execve(event, args));
  EXPECT_EQ(args.argc, 0u);
  EXPECT_EQ(args.used, 0u);
}

TEST(ExecveTest, ReuseClearsPreviousArguments) {
  ExecveArguments args;
  ASSERT_TRUE(reassemble_execve(
      make_event({{kTypeExecve, R"(argc=3 a0="first" a1="longer argument" a2="x")"}}), args));
  ASSERT_TRUE(reassemble_execve(make_event({{kTypeExecve, R"(argc=2 a0="ls" a1="-a")"}}), args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"ls", "-a"}));
  EXPECT_TRUE(args.complete());
  // A placeholder in reused storage is empty, not the previous event's bytes.
  ASSERT_TRUE(reassemble_execve(
      make_event({{kTypeExecve, R"(argc=3 a0="first" a1="longer argument" a2="x")"}}), args));
  ASSERT_TRUE(reassemble_execve(make_event({{kTypeExecve, R"(argc=3 a0="a" a2="c")"}}), args));
  EXPECT_EQ(arguments(args), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(args.missing, 1u);
}

// A hand-made log (tests/fixtures/assembler/execve_split.log): two interleaved EXECVE events, one
// from another node, with multi-record and chunked hex arguments, replayed through the parser
// and the assembler.
TEST(ExecveFixtureTest, SplitExecveThroughParserAndAssembler) {
  const std::string text = testing::read_file(testing::fixture_path("assembler/execve_split.log"));
  ASSERT_FALSE(text.empty());
  std::vector<ExecveArguments> results;
  std::vector<std::string> nodes;
  EventAssembler assembler({}, [&](const Event& event) {
    ExecveArguments args;
    if (reassemble_execve(event, args)) {
      results.push_back(args);
      nodes.emplace_back(event.key().node);
    }
  });
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    RecordView view;
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    ASSERT_EQ(parse_log_line(line, view), ParseStatus::ok) << line;
    assembler.add(view, EventAssembler::TimePoint{});
  }
  assembler.flush();
  ASSERT_EQ(results.size(), 2u);
  // Completion order: the node=b event's EOE comes first.
  EXPECT_EQ(nodes[0], "b");
  EXPECT_EQ(arguments(results[0]),
            (std::vector<std::string>{"sh", "-c", "echo 'a b'\n\tx\xff\xfe", "tail"}));
  EXPECT_TRUE(results[0].complete());
  EXPECT_EQ(nodes[1], "");
  ASSERT_EQ(results[1].used, 3u);
  EXPECT_EQ(results[1].argv[0], "/bin/echo");
  EXPECT_EQ(results[1].argv[1], std::string(30, 'q') + " \"quoted\"");
  EXPECT_EQ(results[1].argv[2], "z");
  EXPECT_TRUE(results[1].complete());
}

}  // namespace
}  // namespace aurelay::correlate
