// Replays the shared corpus through parser + assembler + encoder: every document is valid JSON,
// one per event, and chosen events (checked by hand against the corpus lines) carry the right
// fields.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "output/mozdef_encoder.h"
#include "test_support.h"

namespace aurelay::output {
namespace {

struct Replay {
  std::vector<std::string> documents;
  std::size_t distinct_keys = 0;
  std::uint64_t late_records = 0;
  EncoderCounters counters;
};

Replay replay(const std::filesystem::path& path) {
  Replay result;
  const std::string text = testing::read_file(path);
  MozdefEncoder encoder(EncoderConfig{"corpus-host", "INFO", "aurelay,audit", 4096});
  DocumentBatch batch;
  correlate::EventAssembler assembler(
      {}, [&](const correlate::Event& event) { EXPECT_TRUE(encoder.encode(event, batch)); });
  std::set<std::tuple<std::string, std::uint64_t, std::uint32_t, std::uint64_t>> keys;
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
    keys.emplace(std::string(record.key.node), record.key.sec, record.key.msec, record.key.serial);
    assembler.add(record, now);
  }
  assembler.flush();
  result.late_records = assembler.counters().late_records;
  result.distinct_keys = keys.size();
  for (std::size_t i = 0; i < batch.count(); ++i) result.documents.emplace_back(batch.document(i));
  result.counters = encoder.counters();
  return result;
}

std::string get(const rapidjson::Value& object, const char* key) {
  if (!object.HasMember(key)) return "<absent>";
  return std::string(object[key].GetString(), object[key].GetStringLength());
}

class CorpusGolden : public ::testing::Test {
 protected:
  void load(const std::filesystem::path& path) {
    result_ = replay(path);
    docs_.resize(result_.documents.size());
    for (std::size_t i = 0; i < result_.documents.size(); ++i) {
      const std::string& text = result_.documents[i];
      docs_[i].Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
      ASSERT_FALSE(docs_[i].HasParseError())
          << rapidjson::GetParseError_En(docs_[i].GetParseError()) << " in document " << i;
      ASSERT_TRUE(docs_[i].IsObject());
      for (auto& m : docs_[i]["details"].GetObject()) ASSERT_TRUE(m.value.IsString());
    }
  }
  const rapidjson::Document* by_serial(const std::string& serial) const {
    for (const auto& d : docs_)
      if (get(d["details"], "auditserial") == serial) return &d;
    return nullptr;
  }

  Replay result_;
  std::vector<rapidjson::Document> docs_;
};

TEST_F(CorpusGolden, NetlinkCaptureEveryEventOneValidDocument) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  EXPECT_EQ(result_.late_records, 0u);
  EXPECT_EQ(result_.documents.size(), result_.distinct_keys);
  EXPECT_EQ(result_.documents.size(), 1653u);  // corpus README
  EXPECT_EQ(result_.counters.documents, 1653u);
  EXPECT_EQ(result_.counters.failed, 0u);
  EXPECT_EQ(result_.counters.unknown_syscalls, 0u);
  std::set<std::string> eventids;
  for (const auto& d : docs_) eventids.insert(get(d["details"], "eventid"));
  EXPECT_EQ(eventids.size(), docs_.size());
}

TEST_F(CorpusGolden, AuditdLogEveryEventOneValidDocument) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small.log");
  load(path);
  EXPECT_EQ(result_.documents.size(), result_.distinct_keys);
  EXPECT_EQ(result_.counters.failed, 0u);
}

// type=EXECVE msg=audit(1795305797.030:7284): argc=2 a0="/bin/echo" a1_len=200000 a1[0]=6262...
// across 27 EXECVE records: a 100,000-byte argument of 'b'.
TEST_F(CorpusGolden, ExecveWith100KArgument) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  const rapidjson::Document* d = by_serial("7284");
  ASSERT_NE(d, nullptr);
  const auto& details = (*d)["details"];
  std::string command = get(details, "command");
  ASSERT_EQ(command.size(), 10u + 100000u);
  EXPECT_EQ(command.substr(0, 10), "/bin/echo ");
  EXPECT_EQ(command.find_first_not_of('b', 10), std::string::npos);
  EXPECT_EQ(get(details, "argc"), "2");
  EXPECT_EQ(get(*d, "category"), "execve");
  EXPECT_EQ(get(*d, "summary"), "Execve: " + command);
  EXPECT_EQ(get(details, "syscall"), "execve");
  EXPECT_EQ(get(details, "pid"), "594");
  EXPECT_EQ(get(details, "ppid"), "442");
  EXPECT_EQ(get(details, "processname"), "echo");
  EXPECT_EQ(get(details, "cwd"), "/srv/collector/bench");
  EXPECT_EQ(get(details, "path"), "/bin/echo");
  EXPECT_EQ(get(details, "path1"), "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(get(details, "originaluser"), "unset");
  EXPECT_EQ(get(details, "user"), "root");
  EXPECT_EQ(get(details, "eventid"), "1795305797.030:7284");
  EXPECT_EQ(get(*d, "timestamp"), "2026-11-22T00:03:17.030+00:00");
  std::string types = get(details, "recordtypes");
  EXPECT_EQ(types.substr(0, 27), "SYSCALL,BPRM_FCAPS,EXECVE,E");
  EXPECT_TRUE(types.ends_with("CWD,PATH,PATH,PROCTITLE")) << types;
  EXPECT_TRUE(details.HasMember("bprm_fcaps_fp"));
}

// type=USER_LOGIN msg=audit(1795305793.654:6919): pid=531 uid=0 auid=1001 ses=7
//   msg='op=login acct="auditcorpus" exe="/usr/bin/login" hostname=? addr=? terminal=/dev/pts/0
//   res=success'
TEST_F(CorpusGolden, UserLogin) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  const rapidjson::Document* d = by_serial("6919");
  ASSERT_NE(d, nullptr);
  const auto& details = (*d)["details"];
  EXPECT_EQ(get(*d, "category"), "user_login");
  EXPECT_EQ(get(*d, "summary"),
            "USER_LOGIN: op=login acct=auditcorpus auid=1001 exe=/usr/bin/login res=success");
  EXPECT_EQ(get(*d, "processid"), "531");
  EXPECT_EQ(get(details, "recordtypes"), "USER_LOGIN");
  EXPECT_EQ(get(details, "completion"), "terminal");
  EXPECT_EQ(get(details, "acct"), "auditcorpus");
  EXPECT_EQ(get(details, "terminal"), "/dev/pts/0");
  EXPECT_EQ(get(details, "res"), "success");
  EXPECT_EQ(get(details, "originaluid"), "1001");
  EXPECT_EQ(get(details, "session"), "7");
  EXPECT_EQ(get(details, "user"), "root");
  EXPECT_EQ(get(details, "process"), "/usr/bin/login");
}

// type=SYSCALL msg=audit(1795305789.998:6427): arch=c000003e syscall=257 ... a2=241 ... ppid=442
//   pid=471 auid=1001 uid=0 ... ses=7 comm="bash" exe="/usr/bin/bash" key="corpus-etc"
// type=CWD: cwd="/srv/collector/bench"
// type=PATH: item=0 name="/etc/" ... nametype=PARENT
// type=PATH: item=1 name="/etc/audit-corpus-test" inode=409606 dev=fe:00 mode=0100644 ...
//   nametype=CREATE
TEST_F(CorpusGolden, WriteUnderEtc) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  const rapidjson::Document* d = by_serial("6427");
  ASSERT_NE(d, nullptr);
  const auto& details = (*d)["details"];
  EXPECT_EQ(get(*d, "category"), "write");
  EXPECT_EQ(get(*d, "summary"), "Write: /etc/audit-corpus-test");
  EXPECT_EQ(get(*d, "processname"), "bash");
  EXPECT_EQ(get(*d, "processid"), "471");
  EXPECT_EQ(get(details, "syscall"), "openat");
  EXPECT_EQ(get(details, "path"), "/etc/audit-corpus-test");
  EXPECT_EQ(get(details, "inode"), "409606");
  EXPECT_EQ(get(details, "dev"), "fe:00");
  EXPECT_EQ(get(details, "mode"), "0100644");
  EXPECT_EQ(get(details, "ouid"), "0");
  EXPECT_EQ(get(details, "nametype"), "CREATE");
  EXPECT_EQ(get(details, "path0"), "/etc/");
  EXPECT_EQ(get(details, "auditkey"), "corpus-etc");
  EXPECT_EQ(get(details, "cwd"), "/srv/collector/bench");
  EXPECT_EQ(get(details, "originaluid"), "1001");
  EXPECT_EQ(get(details, "session"), "7");
  EXPECT_EQ(get(details, "process"), "/usr/bin/bash");
  EXPECT_EQ(get(details, "recordtypes"), "SYSCALL,CWD,PATH,PATH,PROCTITLE");
  EXPECT_EQ(get(details, "proctitle").substr(0, 8), "bash -c ");
}

// type=SYSCALL msg=audit(1795305793.586:6886): arch=c000003e syscall=42 success=yes exit=0 ...
//   pid=529 auid=1001 uid=1001 gid=1002 ... comm="ping" exe="/usr/bin/ping" key="external-access"
// type=SOCKADDR: saddr=020004017F0000010000000000000000
TEST_F(CorpusGolden, ConnectWithDecodedAddress) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  const rapidjson::Document* d = by_serial("6886");
  ASSERT_NE(d, nullptr);
  const auto& details = (*d)["details"];
  EXPECT_EQ(get(*d, "category"), "connect");
  EXPECT_EQ(get(*d, "summary"), "Connect: 127.0.0.1:1025");
  EXPECT_EQ(get(details, "family"), "inet");
  EXPECT_EQ(get(details, "address"), "127.0.0.1");
  EXPECT_EQ(get(details, "port"), "1025");
  EXPECT_EQ(get(details, "uid"), "1001");
  EXPECT_EQ(get(details, "gid"), "1002");
  EXPECT_EQ(get(details, "processname"), "ping");
  EXPECT_EQ(get(details, "success"), "yes");
  EXPECT_EQ(get(details, "auditkey"), "external-access");
  EXPECT_EQ(get(details, "proctitle"),
            "setpriv --reuid=1001 --regid=1002 --init-groups ping -c 1 -W 1 127.0.0.1");
}

TEST_F(CorpusGolden, NetlinkSendtoSaysTheFamily) {
  AURELAY_CORPUS_OR_SKIP(path, "real-small-netlink.log");
  load(path);
  // auditctl talking to the kernel: saddr=100000000000000000000000 is AF_NETLINK, pid 0.
  const rapidjson::Document* d = by_serial("6128");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(get(*d, "category"), "sendto");
  EXPECT_EQ(get(*d, "summary"), "Sendto: netlink:0");
  EXPECT_EQ(get((*d)["details"], "family"), "netlink");
}

}  // namespace
}  // namespace aurelay::output
