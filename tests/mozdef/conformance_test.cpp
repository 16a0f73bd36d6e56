// MozDef conformance: every document made from every audit log the project has (its own kernel
// captures in tests/fixtures/, and ../shared/corpus/ where a development checkout has it) is one
// MozDef indexes under its template (tests/mozdef_conformance.h), one per event id, and the
// documents together stay within the index's field budget. The field reference is up to date.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "mozdef/details.h"
#include "mozdef/encoder.h"
#include "mozdef/field_map.h"
#include "mozdef_conformance.h"
#include "test_support.h"

namespace aurelay::mozdef {
namespace {

namespace fs = std::filesystem;

// At most this many distinct details keys across every input (MozDef's index: 1,000 fields for
// every source it ingests).
constexpr std::size_t kDetailKeyBudget = 150;

struct Replay {
  std::vector<std::string> documents;
  std::size_t distinct_ids = 0;
  std::uint64_t continuations = 0;
};

Replay replay(const fs::path& path) {
  Replay result;
  const std::string text = testing::read_file(path);
  MozdefEncoder encoder(EncoderConfig{"corpus-host", "INFO", "audisp-json,auditd,audit", 4096});
  DocumentBatch batch;
  correlate::EventAssembler assembler(
      {}, [&](const correlate::Event& event) { encoder.encode(event, batch); });
  std::set<std::tuple<std::string, std::uint64_t, std::uint32_t, std::uint64_t>> ids;
  const auto now = correlate::EventAssembler::TimePoint{};
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    correlate::RecordView record;
    if (correlate::parse_log_line(line, record) != correlate::ParseStatus::ok) continue;
    if (record.type == correlate::kTypeReplace) continue;
    ids.emplace(std::string(record.key.node), record.key.sec, record.key.msec, record.key.serial);
    assembler.add(record, now);
  }
  assembler.flush();
  result.distinct_ids = ids.size();
  result.continuations = assembler.stats().continuation_events.load();
  for (std::size_t i = 0; i < batch.count(); ++i) result.documents.emplace_back(batch.document(i));
  return result;
}

// Every audit log of the project's fixtures, plus the shared corpora when present.
std::vector<fs::path> inputs() {
  std::vector<fs::path> paths;
  auto add_logs = [&](const fs::path& dir) {
    if (!fs::exists(dir)) return;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      const fs::path& p = entry.path();
      if (entry.is_regular_file() && (p.extension() == ".log" || p.filename() == "test.log"))
        paths.push_back(p);
    }
  };
  add_logs(AURELAY_FIXTURES_DIR);
  add_logs(fs::path(AURELAY_SHARED_DIR) / "corpus");
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(MozdefConformance, EveryDocumentOfEveryInputIsIndexable) {
  const std::vector<fs::path> paths = inputs();
  ASSERT_FALSE(paths.empty());
  std::set<std::string> keys;
  std::size_t documents = 0;
  for (const fs::path& path : paths) {
    const Replay result = replay(path);
    // One document per event id, plus one per continuation (late records of an emitted id).
    EXPECT_EQ(result.documents.size(), result.distinct_ids + result.continuations) << path;
    for (const std::string& document : result.documents) {
      const std::string violation = testing::mozdef_violation(document, &keys);
      EXPECT_EQ(violation, "") << path << ": " << document.substr(0, 2000);
      if (!violation.empty()) return;  // one offending document is enough to read
    }
    documents += result.documents.size();
  }
  EXPECT_GT(documents, 250u);
  EXPECT_LE(keys.size(), kDetailKeyBudget);
  std::string all;
  for (const std::string& key : keys) all += key + " ";
  RecordProperty("details_keys", all);
  std::printf("%zu documents from %zu inputs, %zu distinct details keys\n", documents, paths.size(),
              keys.size());
}

// The documents of the project's capture (tests/fixtures/capture_mozdef_cases.sh), parsed.
std::vector<rapidjson::Document> capture_documents() {
  const Replay result = replay(testing::fixture_path("kernel-capture-mozdef.log"));
  std::vector<rapidjson::Document> docs(result.documents.size());
  for (std::size_t i = 0; i < docs.size(); ++i) docs[i].Parse(result.documents[i].c_str());
  return docs;
}

std::string text_of(const rapidjson::Value& object, const char* key) {
  if (!object.HasMember(key) || !object[key].IsString()) return "";
  return object[key].GetString();
}

TEST(MozdefConformance, ProjectCaptureHasTheHardCases) {
  // The cases that broke documents or MozDef's alerts, each once in the project's own capture.
  bool truncated = false, failed = false, destination = false, source = false;
  bool promiscuous = false, rule_added = false, login = false;
  bool sftp = false, strace = false, etc_audit_write = false;
  for (const rapidjson::Document& doc : capture_documents()) {
    const rapidjson::Value& d = doc["details"];
    const std::string category = text_of(doc, "category"), summary = text_of(doc, "summary");
    EXPECT_EQ(text_of(doc, "processname"), "audisp-json");
    truncated |= d.HasMember("truncated") && text_of(d, "command").size() <= 32000;
    failed |= d.HasMember("success") && !d["success"].GetBool();
    destination |= text_of(d, "destinationipaddress") == "127.0.0.1";
    source |= text_of(d, "sourceipaddress") == "127.0.0.1";
    if (category == "promiscuous" && summary.find("set promiscuous on") != std::string::npos) {
      promiscuous = true;
      EXPECT_EQ(text_of(d, "dev"), "lo");
      EXPECT_EQ(text_of(d, "processname"), "ip");
    }
    if (category == "config_change" && summary.starts_with("Audit rule added by auditctl")) {
      rule_added = true;
      EXPECT_EQ(text_of(d, "rulekey"), "aurelay-test-capture");
    }
    if (category == "login") {
      login = true;
      EXPECT_EQ(text_of(d, "originaluid"), "4242");
    }
    if (category == "execve" && text_of(d, "processname") == "ssh") {
      sftp = true;
      EXPECT_EQ(text_of(d, "parentprocess"), "sftp");
    }
    strace |= text_of(d, "processname") == "strace";
    etc_audit_write |= category == "write" && summary == "Write: /etc/audit/aurelay-capture-test";
  }
  EXPECT_TRUE(truncated);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(destination);
  EXPECT_TRUE(source);
  EXPECT_TRUE(promiscuous);
  EXPECT_TRUE(rule_added);
  EXPECT_TRUE(login);
  EXPECT_TRUE(sftp);
  EXPECT_TRUE(strace);
  EXPECT_TRUE(etc_audit_write);
}

TEST(MozdefConformance, LateSyscallOfAUserMessageIsOneContinuationDocument) {
  // systemd's SERVICE_START is complete at once; the SYSCALL, SOCKADDR and PROCTITLE of its
  // audited sendmsg come after it with the same id: one continuation document, not three.
  const Replay result = replay(testing::fixture_path("assembler/continuation.log"));
  ASSERT_EQ(result.documents.size(), 3u);
  EXPECT_EQ(result.continuations, 1u);
  rapidjson::Document doc;
  doc.Parse(result.documents[1].c_str());
  const rapidjson::Value& d = doc["details"];
  EXPECT_EQ(text_of(d, "continuation"), "true");
  EXPECT_EQ(text_of(d, "recordtypes"), "SYSCALL,SOCKADDR,PROCTITLE");
  EXPECT_EQ(text_of(doc, "category"), "sendmsg");
  EXPECT_EQ(text_of(d, "pid"), "1");
  EXPECT_EQ(text_of(d, "family"), "netlink");
  EXPECT_EQ(text_of(d, "eventid"), "1795305790.120:6501");
}

TEST(MozdefConformance, TheCheckCatchesWhatElasticsearchRefuses) {
  const std::string base =
      R"({"category":"execve","summary":"s","severity":"INFO","hostname":"h","processid":"1",)"
      R"("processname":"audisp-json","timestamp":"2026-11-22T00:03:09.998+00:00","tags":["a"],)";
  EXPECT_EQ(testing::mozdef_violation(base + R"("details":{"success":true}})", nullptr), "");
  EXPECT_NE(testing::mozdef_violation(base + R"("details":{"success":"yes"}})", nullptr), "");
  EXPECT_NE(testing::mozdef_violation(base + R"("details":{"path0":"/x"}})", nullptr), "");
  EXPECT_NE(testing::mozdef_violation(base + R"("details":{"sourceipaddress":"?"}})", nullptr), "");
  EXPECT_NE(testing::mozdef_violation(
                base + R"("details":{"command":")" + std::string(40000, 'x') + "\"}}", nullptr),
            "");
}

// The docs' `from` column is rendered from the field rows the encoder maps fields with: a row
// changed in code changes the column (and DocsFileIsUpToDate fails until the docs are made again).
TEST(FieldReference, FromColumnIsTheFieldRows) {
  EXPECT_EQ(field_sources(DetailKey::arch), "SYSCALL arch; SECCOMP arch");
  EXPECT_EQ(field_sources(DetailKey::user), "name of uid");
  EXPECT_EQ(field_sources(DetailKey::success),
            "SYSCALL success; res (yes/no; success/failed, 1/0)");
  EXPECT_EQ(field_sources(DetailKey::command), "EXECVE a0..aN; USER_CMD cmd");
  EXPECT_EQ(field_sources(DetailKey::completion), "assembler");
  for (const FieldRow& row : kFieldRows) {
    const std::string listed(row.field);
    EXPECT_NE(field_sources(row.key).find(listed), std::string::npos) << listed;
  }
}

TEST(FieldReference, DocsFileIsUpToDate) {
  const fs::path doc = fs::path(AURELAY_TESTS_DIR) / ".." / "docs" / "mozdef-fields.md";
  EXPECT_TRUE(testing::read_file(doc) == render_field_reference())
      << "docs/mozdef-fields.md is stale: run tools/generate_docs.sh";
  for (std::size_t i = 0; i < detail_keys().size(); ++i) {
    const DetailKeySpec& key = detail_keys()[i];
    EXPECT_FALSE(key.meaning.empty()) << key.name;
    EXPECT_FALSE(field_sources(static_cast<DetailKey>(i)).empty()) << key.name;
    EXPECT_FALSE(key.example.empty()) << key.name;
  }
  EXPECT_LE(detail_keys().size(), kDetailKeyBudget);
}

}  // namespace
}  // namespace aurelay::mozdef
