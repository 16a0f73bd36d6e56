// Golden documents: each kernel capture of tests/fixtures/ replayed through aurelay gives, byte
// for byte, the documents checked in beside it (<capture>.expected.jsonl), in the same order.
// Only what varies between runs is normalised: the top-level processid (aurelay's own pid) and
// the names of uid 0, gid 0 and login uid 4242, which come from this host's passwd and group
// files (the expected files hold them as on Debian: root, root, and no name). Any other change of
// a document's bytes fails; when the change is meant, tests/fixtures/regenerate_golden.sh writes
// the files anew.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace aurelay::testing {
namespace {

constexpr const char* kRegenerate =
    "If the change of the documents is meant, regenerate the expected files with "
    "tests/fixtures/regenerate_golden.sh (after building) and review git diff tests/fixtures/.";

std::vector<std::string> lines_in(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::optional<std::string> local_user(uid_t uid) {
  const passwd* entry = getpwuid(uid);
  return entry ? std::optional<std::string>(entry->pw_name) : std::nullopt;
}

std::optional<std::string> local_group(gid_t gid) {
  const group* entry = getgrgid(gid);
  return entry ? std::optional<std::string>(entry->gr_name) : std::nullopt;
}

// Replaces every `"key":"from"` with `"key":"to"`.
void replace_value(std::string& document, const std::string& key, const std::string& from,
                   const std::string& to) {
  const std::string needle = "\"" + key + "\":\"" + from + "\"";
  const std::string replacement = "\"" + key + "\":\"" + to + "\"";
  for (std::size_t at = document.find(needle); at != std::string::npos;
       at = document.find(needle, at + replacement.size()))
    document.replace(at, needle.size(), replacement);
}

// Makes a document of this run comparable with the expected ones; false (with `problem`) when
// it lacks the top-level processid where it belongs.
bool normalise(std::string& document, std::string& problem) {
  const std::string anchor = "\"hostname\":\"golden\",\"processid\":\"";
  std::size_t start = document.find(anchor);
  if (start == std::string::npos) {
    problem = "no top-level processid after the hostname";
    return false;
  }
  start += anchor.size();
  std::size_t end = document.find('"', start);
  if (end == std::string::npos || end == start ||
      document.find_first_not_of("0123456789", start) != end) {
    problem = "the top-level processid is not a number";
    return false;
  }
  document.replace(start, end - start, "PID");
  // Names as the expected files have them (Debian's).
  if (std::optional<std::string> name = local_user(0); name && *name != "root") {
    replace_value(document, "user", *name, "root");
    replace_value(document, "originaluser", *name, "root");
  }
  if (std::optional<std::string> name = local_group(0); name && *name != "root")
    replace_value(document, "group", *name, "root");
  if (std::optional<std::string> name = local_user(4242))
    replace_value(document, "originaluser", *name, "4242");
  return true;
}

// The event id of a document, for messages.
std::string event_id_of(const std::string& document) {
  const std::string key = "\"eventid\":\"";
  std::size_t start = document.find(key);
  if (start == std::string::npos) return "?";
  start += key.size();
  return document.substr(start, document.find('"', start) - start);
}

void expect_golden(const std::string& capture) {
  SCOPED_TRACE(capture);
  const std::filesystem::path expected_path = fixture_path(capture + ".expected.jsonl");
  ASSERT_TRUE(std::filesystem::exists(expected_path))
      << expected_path << " missing. " << kRegenerate;
  TempDir dir;
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   fixture_path(capture + ".log").string(), "--output",
                                   (dir / "out.json").string(), "--hostname", "golden",
                                   // events complete by EOE or end of input, however slow
                                   "--eoe_timeout_ms", "600000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> actual = lines_in(read_file(dir / "out.json"));
  const std::vector<std::string> expected = lines_in(read_file(expected_path));
  ASSERT_FALSE(expected.empty());
  std::size_t differences = 0;
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    std::string problem;
    if (!normalise(actual[i], problem)) {
      ADD_FAILURE() << "document " << i + 1 << ": " << problem << "\n" << actual[i];
      ++differences;
    } else if (actual[i] != expected[i]) {
      ++differences;
      // The first few in full; the count says the rest.
      if (differences <= 3)
        ADD_FAILURE() << "document " << i + 1 << " (event " << event_id_of(expected[i])
                      << ") differs\n expected: " << expected[i] << "\n actual:   " << actual[i]
                      << "\n"
                      << kRegenerate;
    }
  }
  EXPECT_EQ(differences, 0u) << "documents that differ. " << kRegenerate;
  EXPECT_EQ(actual.size(), expected.size()) << "document count. " << kRegenerate;
}

TEST(GoldenDocuments, NetlinkCaptureGivesTheExpectedDocuments) {
  expect_golden("kernel-capture-netlink");
}

TEST(GoldenDocuments, AuditdRawCaptureGivesTheExpectedDocuments) {
  expect_golden("kernel-capture-mozdef");
}

TEST(GoldenDocuments, AuditdEnrichedCaptureGivesTheExpectedDocuments) {
  expect_golden("kernel-capture-enriched");
}

// The comparison itself: one changed byte in one document is caught (a guard against a
// normalisation that would hide differences).
TEST(GoldenDocuments, OneChangedByteFails) {
  std::string document =
      lines_in(read_file(fixture_path("kernel-capture-mozdef.expected.jsonl"))).at(0);
  std::string actual = document;
  actual.replace(actual.find("\"processid\":\"PID\""), 17, "\"processid\":\"123\"");
  std::string problem;
  ASSERT_TRUE(normalise(actual, problem)) << problem;
  EXPECT_EQ(actual, document);
  const std::size_t at = actual.find("\"severity\":\"INFO\"");
  ASSERT_NE(at, std::string::npos);
  actual[at + 12] = 'X';
  EXPECT_NE(actual, document);
}

}  // namespace
}  // namespace aurelay::testing
