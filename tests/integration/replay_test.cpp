// The aurelay executable end to end on recorded input: every event becomes exactly one valid
// JSON document, bad input is counted and skipped, and usage errors have their exit codes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <sstream>
#include <string_view>

#include "test_support.h"

namespace aurelay::testing {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// "SECONDS.MS:SERIAL", all three decimal.
bool is_event_id(std::string_view id) {
  const std::size_t dot = id.find('.');
  const std::size_t colon = id.find(':');
  return dot != std::string_view::npos && colon != std::string_view::npos && dot < colon &&
         all_digits(id.substr(0, dot)) && all_digits(id.substr(dot + 1, colon - dot - 1)) &&
         all_digits(id.substr(colon + 1));
}

// Event ids of a log, read from each line's header with plain string search (independent of the
// project's parser): "[node=N ]type=T msg=audit(SECONDS.MS:SERIAL)" gives "[N:]SECONDS.MS:SERIAL".
std::set<std::string> event_ids_in(const std::string& log) {
  std::set<std::string> ids;
  for (const std::string& line : lines_of(log)) {
    std::string_view rest = line;
    std::string node;
    if (rest.starts_with("node=")) {
      const std::size_t space = rest.find(' ');
      if (space == std::string_view::npos) continue;
      node = std::string(rest.substr(5, space - 5));
      rest.remove_prefix(space + 1);
    }
    const std::size_t msg = rest.find(" msg=audit(");
    if (!rest.starts_with("type=") || msg == std::string_view::npos) continue;
    rest.remove_prefix(msg + 11);
    const std::size_t close = rest.find(')');
    if (close == std::string_view::npos) continue;
    const std::string_view id = rest.substr(0, close);
    if (!is_event_id(id)) continue;
    if (!node.empty()) node += ':';
    ids.insert(node.append(id));
  }
  return ids;
}

struct Replay {
  CommandResult run;
  std::vector<rapidjson::Document> documents;
  std::multiset<std::string> event_ids;
};

Replay replay(const std::filesystem::path& input) {
  TempDir dir;
  Replay result;
  result.run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                            input.string(), "--output", (dir / "out.json").string()});
  for (rapidjson::Document& document : documents_in(dir / "out.json")) {
    if (!document.IsObject()) continue;
    result.event_ids.insert(document["details"]["eventid"].GetString());
    result.documents.push_back(std::move(document));
  }
  return result;
}

void expect_one_document_per_event(const std::filesystem::path& input) {
  Replay result = replay(input);
  ASSERT_EQ(result.run.exit_code, 0) << result.run.err;
  std::set<std::string> expected = event_ids_in(read_file(input));
  EXPECT_EQ(result.documents.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(result.event_ids.begin(), result.event_ids.end()), expected);
  for (const std::string& id : expected) EXPECT_EQ(result.event_ids.count(id), 1u) << id;
}

// The project's kernel captures (tests/fixtures/), then the shared corpus file when present.
std::vector<std::filesystem::path> captures(std::initializer_list<const char*> fixtures,
                                            const char* shared) {
  std::vector<std::filesystem::path> paths;
  for (const char* name : fixtures) paths.push_back(fixture_path(name));
  if (std::filesystem::path path = corpus_path(shared); !path.empty()) paths.push_back(path);
  return paths;
}

TEST(Replay, NetlinkCaptureGivesOneValidDocumentPerEvent) {
  for (const auto& path : captures({"kernel-capture-netlink.log"}, "real-small-netlink.log")) {
    SCOPED_TRACE(path.string());
    expect_one_document_per_event(path);
  }
}

TEST(Replay, AuditdLogGivesOneValidDocumentPerEvent) {
  for (const auto& path :
       captures({"kernel-capture-mozdef.log", "kernel-capture-enriched.log"}, "real-small.log")) {
    SCOPED_TRACE(path.string());
    expect_one_document_per_event(path);
  }
}

// Small logs of other shapes: the project's hand-made ones, and the other parsers' test logs of
// ../shared/corpus/external/ when present.
TEST(Replay, OtherLogsGiveValidDocuments) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_path("assembler")))
    if (entry.is_regular_file()) paths.push_back(entry.path());
  ASSERT_EQ(paths.size(), 2u);
  if (std::filesystem::path external = corpus_path("external"); !external.empty())
    for (const auto& entry : std::filesystem::recursive_directory_iterator(external))
      if (entry.is_regular_file()) paths.push_back(entry.path());
  for (const auto& path : paths) {
    SCOPED_TRACE(path.string());
    Replay result = replay(path);
    EXPECT_EQ(result.run.exit_code, 0) << result.run.err;
    EXPECT_FALSE(result.documents.empty());
  }
}

TEST(Replay, StdinInputWorksLikeAFile) {
  TempDir dir;
  write_file(dir / "in.log",
             "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes "
             "exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 "
             "fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"ls\" exe=\"/bin/ls\" key=(null)\n"
             "type=EXECVE msg=audit(1700000000.123:42): argc=2 a0=\"ls\" a1=\"-l\"\n"
             "type=EOE msg=audit(1700000000.123:42): \n");
  CommandResult run = run_command(
      {AURELAY_BINARY, "--config", private_config(dir), "--input", "stdin", "--output", "stdout"},
      dir / "in.log");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  rapidjson::Document document;
  document.Parse(lines[0].c_str());
  ASSERT_FALSE(document.HasParseError());
  EXPECT_STREQ(document["details"]["eventid"].GetString(), "1700000000.123:42");
  EXPECT_STREQ(document["category"].GetString(), "execve");
}

TEST(Replay, MalformedLinesAreCountedAndSkipped) {
  TempDir dir;
  std::string good =
      "type=USER_LOGIN msg=audit(1700000000.001:7): pid=1 uid=0 auid=0 ses=1 msg='op=login "
      "acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh res=success'\n";
  std::string bad = std::string("type=SYSCALL msg=audit(garbage\n") +
                    "\x01\x02\xff not a record\n" +
                    "type=NO_SUCH_TYPE msg=audit(1700000000.002:8): a=b\n";
  write_file(dir / "in.log", bad + good + bad);
  CommandResult run =
      run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                   (dir / "in.log").string(), "--output", (dir / "out.json").string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("malformed"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("6 parse errors"), std::string::npos) << run.err;
  EXPECT_EQ(lines_of(read_file(dir / "out.json")).size(), 1u);
}

TEST(Replay, MissingInputFileFails) {
  TempDir dir;
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   "/nonexistent/audit.log", "--output", "stdout"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("/nonexistent/audit.log"), std::string::npos) << run.err;
}

TEST(Replay, UnknownOptionIsAUsageError) {
  CommandResult run = run_command({AURELAY_BINARY, "--no-such-option"});
  EXPECT_EQ(run.exit_code, 2);
}

}  // namespace
}  // namespace aurelay::testing
