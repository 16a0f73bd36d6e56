// A capture of our own from the kernel (auditd 3.0.9 log_format=ENRICHED, with the 0x1D
// separator and interpreted fields) replayed through aurelay: the marker command with hex
// arguments, a watched file's write and chmod, and a refused connect come out right.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <sstream>

#include "test_support.h"

namespace aurelay::testing {
namespace {

std::vector<rapidjson::Document> replay_fixture(const std::string& name, CommandResult& run) {
  TempDir dir;
  run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                     fixture_path(name).string(), "--output", (dir / "out.json").string()});
  return documents_in(dir / "out.json");
}

const rapidjson::Value* find_summary(const std::vector<rapidjson::Document>& documents,
                                     const std::string& summary) {
  for (const rapidjson::Document& document : documents)
    if (summary == document["summary"].GetString()) return &document;
  return nullptr;
}

TEST(CaptureReplay, EnrichedAuditdCaptureGivesTheExpectedDocuments) {
  CommandResult run;
  std::vector<rapidjson::Document> documents = replay_fixture("kernel-capture-enriched.log", run);
  ASSERT_EQ(run.exit_code, 0) << run.err;

  // One document per event id of the capture.
  std::set<std::string> ids;
  std::istringstream lines(read_file(fixture_path("kernel-capture-enriched.log")));
  for (std::string line; std::getline(lines, line);) {
    auto open = line.find("msg=audit(");
    if (open != std::string::npos)
      ids.insert(line.substr(open + 10, line.find(')', open) - open - 10));
  }
  EXPECT_EQ(documents.size(), ids.size());

  // The marker: hex-encoded arguments with a space, a tab and UTF-8 decoded.
  const rapidjson::Value* marker =
      find_summary(documents, "Execve: /bin/echo capture-marker two words tab\there caf\xc3\xa9");
  ASSERT_NE(marker, nullptr);
  EXPECT_STREQ((*marker)["category"].GetString(), "execve");
  EXPECT_STREQ((*marker)["details"]["argc"].GetString(), "5");
  EXPECT_STREQ((*marker)["details"]["auditkey"].GetString(), "aurelay-test-cap-exec");

  // The watched file: created and written, chmodded, removed.
  const rapidjson::Value* write = find_summary(documents, "Write: /tmp/aurelay-capture/file.txt");
  ASSERT_NE(write, nullptr);
  EXPECT_STREQ((*write)["details"]["auditkey"].GetString(), "aurelay-test-cap-watch");
  const rapidjson::Value* chmod = find_summary(documents, "Chmod: /tmp/aurelay-capture/file.txt");
  ASSERT_NE(chmod, nullptr);
  EXPECT_STREQ((*chmod)["details"]["syscall"].GetString(), "fchmodat");

  // The refused connect, with the address decoded from the hex sockaddr.
  const rapidjson::Value* connect = find_summary(documents, "Connect: 127.0.0.1:9");
  ASSERT_NE(connect, nullptr);
  ASSERT_TRUE((*connect)["details"]["success"].IsBool());
  EXPECT_FALSE((*connect)["details"]["success"].GetBool());
  EXPECT_STREQ((*connect)["details"]["destinationipaddress"].GetString(), "127.0.0.1");
  EXPECT_STREQ((*connect)["details"]["auditkey"].GetString(), "aurelay-test-cap-connect");
}

}  // namespace
}  // namespace aurelay::testing
