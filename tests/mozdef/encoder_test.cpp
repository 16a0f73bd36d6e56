#include "mozdef/encoder.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "correlate/event.h"
#include "correlate/record.h"
#include "mozdef/details.h"

namespace aurelay::mozdef {
namespace {

using correlate::Completion;
using correlate::Event;
using correlate::EventKey;

constexpr std::uint32_t kSyscall = 1300, kPath = 1302, kSockaddr = 1306, kCwd = 1307,
                        kExecve = 1309, kEoe = 1320, kProctitle = 1327, kUserLogin = 1112,
                        kConfigChange = 1305, kObjPid = 1318, kPromisc = 1700, kAddUser = 1114;

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string syscall_body(int number, std::string_view extra = "", std::string_view a1 = "0",
                         std::string_view a2 = "0") {
  std::string body = "arch=c000003e syscall=" + std::to_string(number) +
                     " success=yes exit=0 a0=3 a1=" + std::string(a1) + " a2=" + std::string(a2) +
                     " a3=0 items=1 ppid=442 pid=471 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
                     "egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"bash\" exe=\"/usr/bin/bash\" "
                     "key=\"corpus-etc\"";
  if (!extra.empty()) body += " " + std::string(extra);
  return body;
}

class EncoderTest : public ::testing::Test {
 protected:
  EncoderTest() : encoder_(EncoderConfig{"testhost", "INFO", "aurelay,audit", 16}) {}

  void start(std::uint64_t serial = 6427, std::string_view node = "",
             Completion completion = Completion::eoe, bool continuation = false) {
    event_.reset(EventKey{1795305789, 998, serial, node});
    event_.set_completion(completion);
    event_.set_continuation(continuation);
  }
  void add(std::uint32_t type, std::string_view body,
           const correlate::ProcessContext* context = nullptr) {
    event_.add_record(type, body, context);
  }

  // Encodes the event, checks the document is valid strict UTF-8 JSON with string details.
  const rapidjson::Document& encode() { return encode_with(encoder_); }
  const rapidjson::Document& encode_with(MozdefEncoder& encoder) {
    std::size_t before = batch_.count();
    encoder.encode(event_, batch_);
    EXPECT_EQ(batch_.count(), before + 1);
    text_ = std::string(batch_.document(batch_.count() - 1));
    EXPECT_EQ(text_.find('\n'), std::string::npos);
    doc_.Parse<rapidjson::kParseValidateEncodingFlag>(text_.data(), text_.size());
    EXPECT_FALSE(doc_.HasParseError())
        << rapidjson::GetParseError_En(doc_.GetParseError()) << " at " << doc_.GetErrorOffset();
    if (doc_.HasParseError()) return doc_;
    EXPECT_TRUE(doc_.IsObject());
    for (const char* k :
         {"category", "summary", "severity", "hostname", "processid", "processname", "timestamp"}) {
      EXPECT_TRUE(doc_.HasMember(k) && doc_[k].IsString()) << k;
    }
    EXPECT_TRUE(doc_["tags"].IsArray());
    EXPECT_TRUE(doc_["details"].IsObject());
    // Only documented keys, each once; success a boolean, the lists arrays of strings, every
    // other value a string.
    std::set<std::string> known, seen;
    for (const DetailKeySpec& spec : detail_keys()) known.emplace(spec.name);
    for (auto& m : doc_["details"].GetObject()) {
      std::string name = m.name.GetString();
      EXPECT_TRUE(known.contains(name)) << "undocumented key " << name;
      EXPECT_TRUE(seen.insert(name).second) << "key twice: " << name;
      if (name == "success") {
        EXPECT_TRUE(m.value.IsBool());
      } else if (name == "paths" || name == "nametypes" || name == "extra" || name == "truncated") {
        EXPECT_TRUE(m.value.IsArray()) << name;
        for (auto& e : m.value.GetArray()) EXPECT_TRUE(e.IsString()) << name;
      } else {
        EXPECT_TRUE(m.value.IsString()) << name;
      }
    }
    return doc_;
  }
  std::string top(const char* k) const {
    return std::string(doc_[k].GetString(), doc_[k].GetStringLength());
  }
  bool has(const char* k) const { return doc_["details"].HasMember(k); }
  // A detail as text: booleans as true/false, arrays joined by '|'.
  std::string detail(const char* k) const {
    const auto& d = doc_["details"];
    if (!d.HasMember(k)) return "<absent:" + std::string(k) + ">";
    if (d[k].IsBool()) return d[k].GetBool() ? "true" : "false";
    if (d[k].IsArray()) {
      std::string joined;
      for (auto& e : d[k].GetArray()) {
        if (!joined.empty()) joined += '|';
        joined.append(e.GetString(), e.GetStringLength());
      }
      return joined;
    }
    return std::string(d[k].GetString(), d[k].GetStringLength());
  }
  bool extra_has(std::string_view entry) const {
    const auto& d = doc_["details"];
    if (!d.HasMember("extra")) return false;
    for (auto& e : d["extra"].GetArray())
      if (std::string_view(e.GetString(), e.GetStringLength()) == entry) return true;
    return false;
  }

  MozdefEncoder encoder_;
  Event event_;
  DocumentBatch batch_;
  std::string text_;
  rapidjson::Document doc_;
};

TEST_F(EncoderTest, ExecveEvent) {
  start();
  add(kSyscall, syscall_body(59));
  add(kExecve, R"(argc=3 a0="ls" a1="-l" a2="/tmp")");
  add(kCwd, R"(cwd="/root")");
  add(kPath,
      R"(item=0 name="/usr/bin/ls" inode=12 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0)");
  add(kPath,
      R"(item=1 name="/lib64/ld-linux-x86-64.so.2" inode=13 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0)");
  add(kProctitle, "proctitle=" + hex(std::string("ls\0-l\0/tmp", 10)));
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "execve");
  EXPECT_EQ(top("summary"), "Execve: ls -l /tmp");
  EXPECT_EQ(top("severity"), "INFO");
  EXPECT_EQ(top("hostname"), "testhost");
  // The shipper at the top level, as audisp-json's documents; the program in details.
  EXPECT_EQ(top("processid"), std::to_string(getpid()));
  EXPECT_EQ(top("processname"), "audisp-json");
  EXPECT_EQ(top("timestamp"), "2026-11-22T00:03:09.998+00:00");
  ASSERT_EQ(doc_["tags"].Size(), 2u);
  EXPECT_STREQ(doc_["tags"][0].GetString(), "aurelay");
  EXPECT_STREQ(doc_["tags"][1].GetString(), "audit");

  EXPECT_EQ(detail("auditserial"), "6427");
  EXPECT_EQ(detail("eventid"), "1795305789.998:6427");
  EXPECT_EQ(detail("recordtypes"), "SYSCALL,EXECVE,CWD,PATH,PATH,PROCTITLE,EOE");
  EXPECT_EQ(detail("completion"), "eoe");
  EXPECT_FALSE(has("continuation"));
  EXPECT_EQ(detail("command"), "ls -l /tmp");
  EXPECT_EQ(detail("argc"), "3");
  EXPECT_FALSE(has("argcomplete"));
  EXPECT_EQ(detail("cwd"), "/root");
  EXPECT_EQ(detail("proctitle"), "ls -l /tmp");
  // SYSCALL with audisp-json names.
  EXPECT_EQ(detail("syscall"), "execve");
  EXPECT_EQ(detail("arch"), "x86_64");
  EXPECT_EQ(detail("success"), "true");
  EXPECT_TRUE(doc_["details"]["success"].IsBool());
  EXPECT_EQ(detail("exit"), "0");
  EXPECT_EQ(detail("a0"), "3");
  EXPECT_EQ(detail("ppid"), "442");
  EXPECT_EQ(detail("pid"), "471");
  EXPECT_EQ(detail("originaluid"), "1001");
  EXPECT_EQ(detail("uid"), "0");
  EXPECT_EQ(detail("user"), "root");
  EXPECT_EQ(detail("gid"), "0");
  EXPECT_EQ(detail("group"), "root");
  EXPECT_EQ(detail("euid"), "0");
  EXPECT_EQ(detail("fsgid"), "0");
  EXPECT_EQ(detail("tty"), "pts0");
  EXPECT_EQ(detail("session"), "7");
  EXPECT_EQ(detail("processname"), "bash");
  EXPECT_EQ(detail("process"), "/usr/bin/bash");
  EXPECT_EQ(detail("auditkey"), "corpus-etc");
  EXPECT_FALSE(has("auid"));
  EXPECT_FALSE(has("comm"));
  EXPECT_FALSE(has("key"));
  // Two PATHs: the first non-PARENT unnumbered, all numbered.
  EXPECT_EQ(detail("path"), "/usr/bin/ls");
  EXPECT_EQ(detail("inode"), "12");
  EXPECT_EQ(detail("mode"), "0100755");
  EXPECT_EQ(detail("dev"), "fe:00");
  EXPECT_EQ(detail("ouid"), "0");
  EXPECT_EQ(detail("ogid"), "0");
  EXPECT_EQ(detail("paths"), "/usr/bin/ls|/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(detail("nametypes"), "NORMAL|NORMAL");
  EXPECT_TRUE(extra_has("PATH1.inode=13"));
  EXPECT_TRUE(extra_has("PATH1.mode=0100755"));
  EXPECT_FALSE(has("item"));
  EXPECT_EQ(detail("extra").find("cap_fp"), std::string::npos);  // 0: no file capabilities
  EXPECT_EQ(encoder_.stats().documents_encoded.load(), 1u);
  EXPECT_EQ(encoder_.stats().invalid_utf8_fixed.load(), 0u);
}

TEST_F(EncoderTest, UnsetAuidIsUnsetUser) {
  start();
  std::string body = syscall_body(59);
  body.replace(body.find("auid=1001"), 9, "auid=4294967295");
  add(kSyscall, body);
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("originaluid"), "4294967295");
  EXPECT_EQ(detail("originaluser"), "unset");
  EXPECT_EQ(top("summary"), "Execve: ");  // no EXECVE, no PATH: nothing to show
}

TEST_F(EncoderTest, WriteToEtcChoosesCreatedPathOverParent) {
  start();
  add(kSyscall, syscall_body(257, "", "55dd327f9670", "241"));  // openat O_WRONLY|O_CREAT|O_TRUNC
  add(kCwd, R"(cwd="/srv/collector/bench")");
  add(kPath,
      R"(item=0 name="/etc/" inode=19 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT)");
  add(kPath,
      R"(item=1 name="/etc/audit-corpus-test" inode=409606 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE)");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "write");
  EXPECT_EQ(top("summary"), "Write: /etc/audit-corpus-test");
  EXPECT_EQ(detail("syscall"), "openat");
  EXPECT_EQ(detail("path"), "/etc/audit-corpus-test");
  EXPECT_EQ(detail("nametype"), "CREATE");
  EXPECT_FALSE(has("item"));
  EXPECT_EQ(detail("paths"), "/etc/|/etc/audit-corpus-test");
  EXPECT_EQ(detail("nametypes"), "PARENT|CREATE");
  EXPECT_TRUE(extra_has("PATH0.inode=19"));
  EXPECT_EQ(detail("user"), "root");  // write_audit reads details.user
}

TEST_F(EncoderTest, ReadOnlyOpenIsRead) {
  start();
  add(kSyscall, syscall_body(257, "", "55dd327f9670", "80000"));  // O_RDONLY|O_CLOEXEC
  add(kPath, R"(item=0 name="/etc/shadow" inode=5 nametype=NORMAL)");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "read");
  EXPECT_EQ(top("summary"), "Read: /etc/shadow");
  EXPECT_EQ(detail("path"), "/etc/shadow");
  EXPECT_FALSE(has("paths"));  // a single PATH is no list
}

struct CategoryCase {
  int syscall;
  const char* category;
  const char* summary;
};

TEST_F(EncoderTest, CategoriesFollowAudispJson) {
  const CategoryCase cases[] = {
      {1, "write", "Write: /etc/x"},
      {87, "write", "Write: /etc/x"},           // unlink
      {82, "write", "Write: /etc/x"},           // rename
      {0, "read", "Read: /etc/x"},              // read
      {89, "read", "Read: /etc/x"},             // readlink
      {265, "read", "Read: /etc/x"},            // linkat
      {188, "attribute", "Attribute: /etc/x"},  // setxattr
      {189, "attribute", "Attribute: /etc/x"},  // lsetxattr
      {90, "chmod", "Chmod: /etc/x"},
      {268, "chmod", "Chmod: /etc/x"},  // fchmodat
      {92, "chown", "Chown: /etc/x"},
      {260, "chown", "Chown: /etc/x"},  // fchownat
      {101, "ptrace", "Ptrace"},
      {159, "time", "time has been modified"},                 // adjtimex
      {227, "time", "time has been modified"},                 // clock_settime
      {133, "specialfiles", "special file has been created"},  // mknod
      {41, "socket", "Socket"},
      {50, "listen", "Listen"},
      {322, "execve", "Execve: /etc/x"},  // execveat without EXECVE record: the path
      {165, "mount", "Mount: /etc/x"},    // no audisp-json category: the syscall name
  };
  for (const CategoryCase& c : cases) {
    start();
    add(kSyscall, syscall_body(c.syscall));
    add(kPath, R"(item=0 name="/etc/x" nametype=NORMAL)");
    add(kEoe, "");
    encode();
    EXPECT_EQ(top("category"), c.category) << c.syscall;
    EXPECT_EQ(top("summary"), c.summary) << c.syscall;
  }
}

TEST_F(EncoderTest, OtherSyscallWithoutPathNamesTheProcess) {
  start();
  add(kSyscall, syscall_body(62));  // kill
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "kill");
  EXPECT_EQ(top("summary"), "Kill by bash");
}

TEST_F(EncoderTest, UnknownSyscallNumberKeepsTheNumber) {
  start();
  add(kSyscall, syscall_body(999));
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "syscall");
  EXPECT_EQ(top("summary"), "Syscall 999 by bash");
  EXPECT_EQ(detail("syscall"), "999");
  EXPECT_EQ(encoder_.stats().unknown_syscalls.load(), 1u);
  // A malformed number (found by the encoder fuzzer) is no category either: categories are
  // lower-case words.
  start();
  std::string body = syscall_body(59);
  body.replace(body.find("syscall=59"), 10, "syscall=SUID=\"root\"");
  add(kSyscall, body);
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "syscall");
}

TEST_F(EncoderTest, I386SyscallResolvedByArch) {
  start();
  add(kSyscall,
      "arch=40000003 syscall=11 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 "
      "auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 "
      "comm=\"sh\" exe=\"/bin/sh\" key=(null)");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "execve");
  EXPECT_EQ(detail("arch"), "i386");
  EXPECT_EQ(detail("syscall"), "execve");
  EXPECT_FALSE(has("auditkey"));  // key=(null): no key
  EXPECT_FALSE(has("tty"));       // tty=(none)
}

TEST_F(EncoderTest, ConnectWithDecodedInetAddress) {
  start(6886);
  add(kSyscall, syscall_body(42));
  add(kSockaddr, "saddr=020004017F0000010000000000000000");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "connect");
  EXPECT_EQ(top("summary"), "Connect: 127.0.0.1:1025");
  EXPECT_EQ(detail("family"), "inet");
  EXPECT_EQ(detail("address"), "127.0.0.1");
  EXPECT_EQ(detail("port"), "1025");
  EXPECT_FALSE(has("saddr"));
  // MozDef's names for the peer of a connect.
  EXPECT_EQ(detail("destinationipaddress"), "127.0.0.1");
  EXPECT_EQ(detail("destinationport"), "1025");
  EXPECT_FALSE(has("sourceipaddress"));
}

TEST_F(EncoderTest, AcceptPeerIsTheSource) {
  start();
  add(kSyscall, syscall_body(43));  // accept
  add(kSockaddr, "saddr=0A000035000000000000000000000000000000000000000100000000");
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("sourceipaddress"), "::1");
  EXPECT_EQ(detail("sourceport"), "53");
  EXPECT_FALSE(has("destinationipaddress"));
}

TEST_F(EncoderTest, ConnectInet6AndUnknownFamily) {
  start();
  add(kSyscall, syscall_body(42));
  add(kSockaddr, "saddr=0A000035000000000000000000000000000000000000000100000000");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("summary"), "Connect: [::1]:53");
  EXPECT_EQ(detail("family"), "inet6");
  start();
  add(kSyscall, syscall_body(49));
  add(kSockaddr, "saddr=11000300");
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "bind");
  EXPECT_EQ(detail("family"), "17");
  EXPECT_EQ(detail("saddr"), "11000300");
  EXPECT_FALSE(has("address"));
}

TEST_F(EncoderTest, UserLoginMessage) {
  start(6919, "", Completion::terminal);
  add(kUserLogin,
      "pid=531 uid=0 auid=1001 ses=7 msg='op=login acct=\"auditcorpus\" exe=\"/usr/bin/login\" "
      "hostname=? addr=? terminal=/dev/pts/0 res=success'");
  encode();
  EXPECT_EQ(top("category"), "user_login");
  EXPECT_EQ(top("summary"),
            "USER_LOGIN: op=login acct=auditcorpus auid=1001 exe=/usr/bin/login res=success");
  EXPECT_EQ(top("processname"), "audisp-json");
  EXPECT_EQ(detail("recordtypes"), "USER_LOGIN");
  EXPECT_EQ(detail("completion"), "terminal");
  EXPECT_EQ(detail("pid"), "531");
  EXPECT_EQ(detail("uid"), "0");
  EXPECT_EQ(detail("user"), "root");
  EXPECT_EQ(detail("originaluid"), "1001");
  EXPECT_EQ(detail("session"), "7");
  EXPECT_EQ(detail("operation"), "login");
  EXPECT_EQ(detail("username"), "auditcorpus");
  EXPECT_EQ(detail("process"), "/usr/bin/login");
  EXPECT_FALSE(has("remotehostname"));  // hostname=?: no value
  EXPECT_FALSE(has("sourceipaddress"));
  EXPECT_EQ(detail("terminal"), "/dev/pts/0");
  EXPECT_EQ(detail("success"), "true");
  EXPECT_FALSE(has("extra"));
}

TEST_F(EncoderTest, LoginAddressIsTheSourceOnlyWhenItIsAnAddress) {
  start(1, "", Completion::terminal);
  add(kUserLogin,
      "pid=531 uid=0 auid=1001 ses=7 msg='op=login acct=\"bob\" exe=\"/usr/sbin/sshd\" "
      "hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=failed'");
  encode();
  EXPECT_EQ(detail("sourceipaddress"), "203.0.113.9");
  EXPECT_EQ(detail("remotehostname"), "203.0.113.9");
  EXPECT_EQ(detail("success"), "false");
  start(2, "", Completion::terminal);
  add(kUserLogin, "pid=531 uid=0 auid=1001 ses=7 msg='op=login addr=laptop.example res=maybe'");
  encode();
  EXPECT_FALSE(has("sourceipaddress"));  // the template types it ip: a name would fail
  EXPECT_TRUE(extra_has("USER_LOGIN.addr=laptop.example"));
  EXPECT_FALSE(has("success"));  // neither success nor failure
  EXPECT_TRUE(extra_has("USER_LOGIN.res=maybe"));
}

TEST_F(EncoderTest, FailedSyscallIsFalse) {
  start();
  std::string body = syscall_body(2);
  body.replace(body.find("success=yes exit=0"), 18, "success=no exit=-13");
  add(kSyscall, body);
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("success"), "false");
  EXPECT_NE(text_.find("\"success\":false"), std::string::npos);
  EXPECT_EQ(detail("exit"), "-13");
}

TEST_F(EncoderTest, EmptyShipperNamePutsTheAuditedProgramAtTheTop) {
  EncoderConfig config{"testhost", "INFO", "aurelay,audit", 16};
  config.shipper_name = "";
  MozdefEncoder encoder(config);
  start();
  add(kSyscall, syscall_body(59));
  add(kEoe, "");
  encode_with(encoder);
  EXPECT_EQ(top("processid"), "471");
  EXPECT_EQ(top("processname"), "bash");
}

TEST_F(EncoderTest, HexEncodedUserMessageAccountDecoded) {
  start(1, "", Completion::terminal);
  add(kAddUser, "pid=1 uid=0 auid=0 ses=1 msg='op=adding user acct=" + hex("a b") +
                    " exe=\"/usr/sbin/useradd\" res=success'");
  encode();
  EXPECT_EQ(top("category"), "add_user");
  EXPECT_EQ(detail("username"), "a b");
}

TEST_F(EncoderTest, RuleChangeKeepsItsCategoryWithTheSyscallsFields) {
  start();
  add(kConfigChange, R"(auid=4294967295 ses=4294967295 op=add_rule key="corpus-etc" list=4 res=1)");
  add(kSyscall, syscall_body(44));
  add(kObjPid, R"(opid=100 oauid=0 ouid=0 oses=1 ocomm="a")");
  add(kObjPid, R"(opid=200 oauid=0 ouid=0 oses=1 ocomm=)" + hex("b c"));
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "config_change");
  EXPECT_EQ(top("summary"), "Audit rule added by bash: key corpus-etc list 4");
  EXPECT_EQ(detail("operation"), "add_rule");
  EXPECT_EQ(detail("rulekey"), "corpus-etc");
  EXPECT_EQ(detail("rulelist"), "4");
  EXPECT_EQ(detail("auditkey"), "corpus-etc");  // the SYSCALL's own key
  EXPECT_EQ(detail("originaluid"), "1001");     // the SYSCALL's values come first
  EXPECT_TRUE(extra_has("CONFIG_CHANGE.auid=4294967295"));
  EXPECT_EQ(detail("success"), "true");  // res=1 agrees with success=yes
  EXPECT_EQ(detail("targetpid"), "100");
  EXPECT_EQ(detail("targetprocessname"), "a");
  EXPECT_TRUE(extra_has("OBJ_PID.opid=200"));
  EXPECT_TRUE(extra_has("OBJ_PID.ocomm=b c"));
  EXPECT_TRUE(extra_has("OBJ_PID.oauid=0"));
  EXPECT_EQ(detail("recordtypes"), "CONFIG_CHANGE,SYSCALL,OBJ_PID,OBJ_PID,EOE");
  EXPECT_EQ(detail("syscall"), "sendto");
}

TEST_F(EncoderTest, PromiscuousEvent) {
  start();
  add(kPromisc, "dev=veth0 prom=256 old_prom=0 auid=0 uid=0 gid=0 ses=1");
  add(kSyscall, syscall_body(54));
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "promiscuous");
  EXPECT_EQ(top("summary"), "Promisc: Interface veth0 set promiscuous on by bash");
  EXPECT_EQ(detail("dev"), "veth0");  // promisc_audit reads details.dev
  EXPECT_EQ(detail("promiscuous"), "256");
  EXPECT_EQ(detail("oldpromiscuous"), "0");
  EXPECT_EQ(detail("syscall"), "setsockopt");
}

TEST_F(EncoderTest, UnknownRecordTypeKeepsItsFields) {
  start(5, "", Completion::timeout);
  add(1999, "foo=bar baz=\"q\"");
  add(1998, "x=1");
  encode();
  EXPECT_EQ(top("category"), "unknown1999");
  EXPECT_EQ(top("summary"), "unknown1999:");
  EXPECT_EQ(detail("recordtypes"), "UNKNOWN[1999],UNKNOWN[1998]");
  EXPECT_TRUE(extra_has("UNKNOWN[1999].foo=bar"));
  EXPECT_TRUE(extra_has("UNKNOWN[1999].baz=q"));
  EXPECT_TRUE(extra_has("UNKNOWN[1998].x=1"));
  EXPECT_EQ(detail("completion"), "timeout");
}

TEST_F(EncoderTest, NodePrefixInEventIdAndHostname) {
  start(42, "server7");
  add(kUserLogin, "pid=1 uid=0 auid=0 ses=1 msg='op=login res=success'");
  encode();
  EXPECT_EQ(detail("eventid"), "server7:1795305789.998:42");
  EXPECT_EQ(top("hostname"), "server7");
  EXPECT_EQ(detail("auditserial"), "42");
}

TEST_F(EncoderTest, ContinuationIsMarkedAndNamesNoProcess) {
  start(7, "", Completion::eoe, true);
  add(kPath, R"(item=0 name="/etc/late" nametype=NORMAL)");
  encode();
  EXPECT_EQ(detail("continuation"), "true");
  EXPECT_EQ(detail("completion"), "eoe");
  EXPECT_EQ(top("category"), "path");
  EXPECT_EQ(detail("path"), "/etc/late");
  EXPECT_EQ(encoder_.stats().continuation_documents.load(), 1u);
  // No record names a process: no process fields (never aurelay's own).
  EXPECT_FALSE(has("pid"));
  EXPECT_FALSE(has("processname"));
  EXPECT_FALSE(has("process"));
  EXPECT_EQ(top("processname"), "audisp-json");
}

TEST_F(EncoderTest, Timestamps) {
  struct Case {
    std::uint64_t sec;
    std::uint32_t msec;
    const char* iso;
  } cases[] = {
      {0, 0, "1970-01-01T00:00:00.000+00:00"},
      {1709164800, 5, "2024-02-29T00:00:00.005+00:00"},
      {1735689599, 999, "2024-12-31T23:59:59.999+00:00"},
      {951782400, 70, "2000-02-29T00:00:00.070+00:00"},
      {4102444800, 100, "2100-01-01T00:00:00.100+00:00"},
  };
  for (const Case& c : cases) {
    event_.reset(EventKey{c.sec, c.msec, 1, ""});
    add(kUserLogin, "pid=1 uid=0 auid=0 ses=1 msg='op=login res=success'");
    encode();
    EXPECT_EQ(top("timestamp"), c.iso);
    EXPECT_EQ(detail("eventid").substr(0, std::to_string(c.sec).size() + 4),
              std::to_string(c.sec) + "." + std::string(c.iso).substr(20, 3));
  }
}

TEST_F(EncoderTest, EveryControlByteEscapedAndRoundTrips) {
  std::string argument;
  for (int c = 0; c < 0x20; ++c) argument.push_back(static_cast<char>(c));
  argument += "\"\\/\x7f end";
  start();
  add(kSyscall, syscall_body(59));
  add(kExecve, "argc=2 a0=\"echo\" a1=" + hex(argument));
  add(kEoe, "");
  encode();
  for (int c = 0; c < 0x20; ++c)
    EXPECT_EQ(std::string_view(text_).find(static_cast<char>(c)), std::string::npos) << c;
  EXPECT_EQ(detail("command"), "echo " + argument);
  EXPECT_EQ(top("summary"), "Execve: echo " + argument);
  EXPECT_EQ(encoder_.stats().invalid_utf8_fixed.load(), 0u);
}

TEST_F(EncoderTest, InvalidUtf8BytesBecomeLatin1CodePoints) {
  struct Case {
    std::string in;
    std::string expected;  // UTF-8 of the result
  } cases[] = {
      {"\xff", "\xc3\xbf"},
      {"a\xc3(", "a\xc3\x83("},                                  // truncated 2-byte sequence
      {"\x80", "\xc2\x80"},                                      // lone continuation byte
      {"\xc0\xaf", "\xc3\x80\xc2\xaf"},                          // overlong '/'
      {"\xed\xa0\x80", "\xc3\xad\xc2\xa0\xc2\x80"},              // UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80"},  // above U+10FFFF
      {"\xe2\x82", "\xc3\xa2\xc2\x82"},                          // truncated at the end
      {"ok \xc3\xa9 \xf0\x9f\x98\x80 \xfe", "ok \xc3\xa9 \xf0\x9f\x98\x80 \xc3\xbe"},
  };
  std::uint64_t fixed = 0;
  for (const Case& c : cases) {
    start();
    add(kSyscall, syscall_body(59));
    add(kExecve, "argc=1 a0=" + hex(c.in));
    add(kEoe, "");
    encode();
    EXPECT_EQ(detail("command"), c.expected) << hex(c.in);
    ++fixed;
    // command, summary: two values fixed per event.
    EXPECT_EQ(encoder_.stats().invalid_utf8_fixed.load(), 2 * fixed) << hex(c.in);
  }
}

TEST_F(EncoderTest, ValidUtf8KeptAsIs) {
  start();
  add(kSyscall, syscall_body(59));
  add(kExecve, "argc=2 a0=\"echo\" a1=" + hex("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("command"), "echo h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(encoder_.stats().invalid_utf8_fixed.load(), 0u);
}

// A 100 KB argument in 7,500-byte hex chunks.
void add_huge_execve(Event& event, const std::string& big, std::string_view syscall) {
  std::string body = "argc=2 a0=\"cat\" a1_len=" + std::to_string(2 * big.size());
  std::vector<std::string> records;
  const std::size_t chunk = 7500;
  for (std::size_t off = 0, i = 0; off < big.size(); off += chunk, ++i) {
    std::string part = " a1[" + std::to_string(i) + "]=" + hex(big.substr(off, chunk));
    if (i == 0)
      body += part;
    else
      records.push_back(part.substr(1));
  }
  event.add_record(kSyscall, syscall);
  event.add_record(kExecve, body);
  for (const std::string& r : records) event.add_record(kExecve, r);
  event.add_record(kEoe, "");
}

std::string huge_argument() {
  std::string big(std::size_t{100} * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  big[500] = '\n';
  big[90000] = '\xff';
  return big;
}

TEST_F(EncoderTest, HugeArgumentReassembledExactly) {
  EncoderConfig config{"testhost", "INFO", "aurelay,audit", 16};
  config.max_value_bytes = 1 << 20;  // no cut: the reassembly itself is exact
  MozdefEncoder encoder(config);
  const std::string big = huge_argument();
  start();
  add_huge_execve(event_, big, syscall_body(59));
  encode_with(encoder);
  std::string expected = "cat " + big;
  expected.replace(4 + 90000, 1, "\xc3\xbf");
  std::string command = detail("command");
  EXPECT_EQ(command.size(), expected.size());
  EXPECT_TRUE(command == expected);
  EXPECT_EQ(detail("argc"), "2");
  EXPECT_EQ(top("summary").size(), expected.size() + 8);
  EXPECT_FALSE(has("truncated"));
}

TEST_F(EncoderTest, ValuesOverMaxValueBytesAreCutAndNamed) {
  const std::string big = huge_argument();
  start();
  add_huge_execve(event_, big, syscall_body(59));
  encode();                                 // the default limit: 32000 bytes
  const std::size_t full = 4 + big.size();  // "cat " + argument, as received
  EXPECT_EQ(detail("command"), ("cat " + big).substr(0, 32000));
  EXPECT_EQ(detail("truncated"),
            "summary:" + std::to_string(full + 8) + "|command:" + std::to_string(full));
  EXPECT_EQ(encoder_.stats().values_truncated.load(), 2u);
  EXPECT_LE(text_.size(), 2 * 32000u + 4096);
}

TEST_F(EncoderTest, CutNeverSplitsAUtf8Sequence) {
  EncoderConfig config{"testhost", "INFO", "aurelay,audit", 16};
  config.max_value_bytes = 1024;
  MozdefEncoder encoder(config);
  for (std::size_t prefix = 1014; prefix < 1024; ++prefix) {
    // "echo " + prefix bytes + euro signs (3 bytes each) across the 1,024-byte limit.
    std::string argument(prefix - 5, 'a');
    for (int i = 0; i < 10; ++i) argument += "\xe2\x82\xac";
    start();
    add(kSyscall, syscall_body(59));
    add(kExecve, "argc=2 a0=\"echo\" a1=" + hex(argument));
    add(kEoe, "");
    encode_with(encoder);  // validates strict UTF-8
    const std::string command = detail("command");
    EXPECT_LE(command.size(), 1024u) << prefix;
    EXPECT_GT(command.size(), 1020u) << prefix;
    EXPECT_EQ(command, ("echo " + argument).substr(0, command.size())) << prefix;
    EXPECT_NE(detail("truncated").find("command:"), std::string::npos);
  }
}

TEST_F(EncoderTest, MissingArgumentsFlagged) {
  start();
  add(kSyscall, syscall_body(59));
  add(kExecve, R"(argc=4 a0="a" a1="b")");
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("argc"), "4");
  EXPECT_EQ(detail("argcomplete"), "false");
}

TEST_F(EncoderTest, HexEncodedPathCwdCommAndProctitle) {
  start();
  std::string body = syscall_body(2);
  body.replace(body.find("comm=\"bash\""), 11, "comm=" + hex("my prog"));
  add(kSyscall, body);
  add(kCwd, "cwd=" + hex("/tmp/dir with space"));
  add(kPath, "item=0 name=" + hex("/tmp/new\nline") + " nametype=NORMAL");
  add(kProctitle, "proctitle=\"plain\"");
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("processname"), "my prog");
  EXPECT_EQ(detail("cwd"), "/tmp/dir with space");
  EXPECT_EQ(detail("path"), "/tmp/new\nline");
  EXPECT_EQ(detail("proctitle"), "plain");
  EXPECT_EQ(top("category"), "read");  // open(2) with a1=0: O_RDONLY
}

TEST_F(EncoderTest, RepeatedProctitleFirstWinsADifferentOneGoesToExtra) {
  start();
  add(kSyscall, syscall_body(2));
  add(kProctitle, "proctitle=" + hex(std::string("first\0arg", 9)));
  add(kProctitle, "proctitle=" + hex("second"));
  add(kProctitle, "proctitle=" + hex(std::string("first\0arg", 9)));  // equal: dropped
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("proctitle"), "first arg");
  EXPECT_TRUE(extra_has("PROCTITLE.proctitle=second"));
  EXPECT_FALSE(extra_has("PROCTITLE.proctitle=first arg"));
  EXPECT_EQ(detail("recordtypes"), "SYSCALL,PROCTITLE,PROCTITLE,PROCTITLE,EOE");
}

TEST_F(EncoderTest, DocumentsAppendToOneBatch) {
  start(1);
  add(kUserLogin, "pid=1 uid=0 auid=0 ses=1 msg='op=login res=success'");
  encode();
  start(2);
  add(kUserLogin, "pid=1 uid=0 auid=0 ses=1 msg='op=login res=failed'");
  encode();
  ASSERT_EQ(batch_.count(), 2u);
  EXPECT_NE(batch_.document(0).find("\"auditserial\":\"1\""), std::string::npos);
  EXPECT_NE(batch_.document(1).find("\"auditserial\":\"2\""), std::string::npos);
  EXPECT_EQ(batch_.data().size(), batch_.document(0).size() + batch_.document(1).size() + 2);
  EXPECT_EQ(batch_.oldest_event_ms(), 1795305789998u);
  EXPECT_EQ(encoder_.stats().documents_encoded.load(), 2u);
}

// A burst of large EXECVE events reuses the scratch the first one grew; once the input is
// quiet the pipeline calls release_idle_memory and only what ordinary documents need is kept.
TEST_F(EncoderTest, ScratchOfLargeEventsKeptWhileBusyAndGivenBackWhenIdle) {
  const std::string argument(std::size_t{200} * 1024, 'x');
  for (std::uint64_t serial = 1; serial <= 2; ++serial) {
    start(serial);
    add(kExecve, "argc=2 a0=\"echo\" a1=\"" + argument + "\"");
    encode();
    EXPECT_GT(encoder_.scratch_bytes(), argument.size()) << "serial " << serial;
  }
  start(3);
  add(kUserLogin, "pid=1 uid=0 auid=0 ses=1 msg='op=login res=success'");
  encode();
  EXPECT_GT(encoder_.scratch_bytes(), argument.size()) << "kept while busy";
  encoder_.release_idle_memory();
  EXPECT_LT(encoder_.scratch_bytes(), argument.size() / 2);
  start(4);
  add(kExecve, "argc=2 a0=\"echo\" a1=\"" + argument + "\"");
  encode();
  EXPECT_NE(text_.find(argument.substr(0, 1000)), std::string::npos) << "still encodes in full";
}

TEST_F(EncoderTest, EmptyEventStillADocument) {
  start(3);
  add(kEoe, "");
  encode();
  EXPECT_EQ(top("category"), "eoe");
  EXPECT_EQ(detail("recordtypes"), "EOE");
}

// The reader's /proc lookup (live): container, unit and start time of the event's process; the
// parent's start time tells the table's stale entry for a reused parent pid from the parent.
TEST_F(EncoderTest, ProcessContextGivesContainerUnitAndStartTime) {
  correlate::ProcessContext context;
  const std::string id(64, 'a');
  std::memcpy(context.container_id, id.data(), id.size());
  context.container_id_size = 64;
  const std::string unit = "docker-" + id + ".scope";
  std::memcpy(context.unit, unit.data(), unit.size());
  context.unit_size = static_cast<std::uint16_t>(unit.size());
  context.start_ticks = 1234;
  context.start_ms = 1795305789000 - 1500;
  start();
  add(kSyscall, syscall_body(59), &context);
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("containerid"), id);
  EXPECT_EQ(detail("systemdunit"), unit);
  EXPECT_EQ(detail("processstarttime"), "2026-11-22T00:03:07.500+00:00");

  start(6428);  // a replayed event: no context, none of the three keys
  add(kSyscall, syscall_body(59));
  add(kEoe, "");
  encode();
  EXPECT_FALSE(has("containerid"));
  EXPECT_FALSE(has("systemdunit"));
  EXPECT_FALSE(has("processstarttime"));
}

TEST_F(EncoderTest, AParentStartTimeNamesTheNewOwnerOfAReusedPid) {
  // pid 442 first: the parent "sftp" as its own record showed it, started at tick 100.
  correlate::ProcessContext parent;
  parent.start_ticks = 100;
  std::string body = syscall_body(59);
  body.replace(body.find("ppid=442 pid=471"), 16, "ppid=1 pid=442");
  body.replace(body.find("comm=\"bash\""), 11, "comm=\"sftp\"");
  start(1);
  add(kSyscall, body, &parent);
  add(kEoe, "");
  encode();
  // A child of pid 442 whose reader saw 442 started at tick 100: the table's name.
  correlate::ProcessContext child;
  child.start_ticks = 950;
  child.parent_start_ticks = 100;
  std::memcpy(child.parent_comm, "sftp", 4);
  child.parent_comm_size = 4;
  start(2);
  add(kSyscall, syscall_body(59), &child);
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("parentprocess"), "sftp");
  // Pid 442 since reused by "gamma" (started at tick 900), which made no audited syscall.
  child.parent_start_ticks = 900;
  std::memcpy(child.parent_comm, "gamma", 5);
  child.parent_comm_size = 5;
  start(3);
  add(kSyscall, syscall_body(59), &child);
  add(kEoe, "");
  encode();
  EXPECT_EQ(detail("parentprocess"), "gamma");
  EXPECT_EQ(encoder_.process_table_stats().parent_reused.load(), 1u);
}

}  // namespace
}  // namespace aurelay::mozdef
