// MozDef's alerts on audit events (alerts/*.py: auditd_sftp, trace_audit, write_audit,
// promisc_audit, get_watchlist) fire on the documents aurelay makes of the matching live activity,
// with the seed's rules (the shipped rules/example_audit.rules) loaded. Elasticsearch cannot run
// here: each alert's query is evaluated on the documents, condition by condition, as the alerts
// state them (category, the top-level processname, details.processname and details.parentprocess
// as whole keyword values, words of the analysed summary, details.dev not veth*), including
// write_audit's aggregation (2 or more events by one details.originaluser within 15 minutes) and
// the fields each alert reads. Every document seen must be one MozDef indexes.
//
// The parent-process tests check details.parentprocess live: a pid reused by another program, and
// a parent that exited after its child's syscall but before aurelay encoded the event.
#include <gtest/gtest.h>
#include <pwd.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_guard.h"
#include "live_aurelay.h"
#include "mozdef_conformance.h"
#include "rules/rules_loader.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;
using rapidjson::Value;

constexpr auto kDocumentTimeout = 10s;

std::string auditctl_path() {
  return is_executable("/sbin/auditctl") ? "/sbin/auditctl" : "/usr/sbin/auditctl";
}

std::optional<std::size_t> loaded_rule_count() {
  Result<std::vector<std::string>> rules = rules::list_rules(auditctl_path());
  if (!rules) return std::nullopt;
  return rules->size();
}

// --- reading documents ---------------------------------------------------------------------

const Value& null_value() {
  static const Value value;
  return value;
}

const Value& member_value(const Value& object, const char* name) {
  if (!object.IsObject()) return null_value();
  auto found = object.FindMember(name);
  return found == object.MemberEnd() ? null_value() : found->value;
}

bool has_member(const Value& object, const char* name) {
  return object.IsObject() && object.HasMember(name);
}

std::string text(const Value& object, const char* name) {
  const Value& value = member_value(object, name);
  return value.IsString() ? std::string(value.GetString(), value.GetStringLength()) : "";
}

const Value& details_of(const Value& document) { return member_value(document, "details"); }
std::string detail(const Value& document, const char* name) {
  return text(details_of(document), name);
}
bool has_detail(const Value& document, const char* name) {
  return has_member(details_of(document), name);
}

// A short line naming a document, for failure messages.
std::string describe(const Value& document) {
  return text(document, "category") + " | " + text(document, "summary").substr(0, 160) +
         " | processname=" + detail(document, "processname") +
         " parentprocess=" + detail(document, "parentprocess") + " pid=" + detail(document, "pid") +
         " ppid=" + detail(document, "ppid") + " originaluser=" + detail(document, "originaluser") +
         " auditkey=" + detail(document, "auditkey");
}

// --- MozDef's alerts, as ../shared/MOZDEF.md states them -----------------------------------------
//
// Term queries compare a keyword field's whole value. PhraseMatch on `summary` (an analysed text
// field) matches a word of it: the summary is split into lower-cased words at anything that is not
// a letter or a digit.
namespace alert {

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

bool summary_has_word(const Value& document, const std::string& wanted) {
  std::vector<std::string> found = words(text(document, "summary"));
  return std::find(found.begin(), found.end(), wanted) != found.end();
}

// auditd_sftp: category execve, top-level processname audisp-json, details.processname ssh,
// details.parentprocess sftp. Reads hostname, details.originaluser, details.cwd.
bool auditd_sftp(const Value& document) {
  return text(document, "category") == "execve" && text(document, "processname") == "audisp-json" &&
         detail(document, "processname") == "ssh" && detail(document, "parentprocess") == "sftp";
}

// trace_audit: details.processname strace; aggregates on details.originaluser.
bool trace_audit(const Value& document) { return detail(document, "processname") == "strace"; }

// write_audit's query: category write, details.auditkey audit (its skip list of process names is
// configuration MOZDEF.md does not give: not applied).
bool write_audit_event(const Value& document) {
  return text(document, "category") == "write" && detail(document, "auditkey") == "audit";
}

// "2018-11-22T10:03:09.858+00:00" as milliseconds since the epoch.
std::optional<std::int64_t> timestamp_ms(const std::string& timestamp) {
  std::tm tm{};
  int millis = 0, offset_hours = 0, offset_minutes = 0;
  char sign = '+';
  if (std::sscanf(timestamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d:%2d", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &sign,
                  &offset_hours, &offset_minutes) != 10)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t seconds = timegm(&tm);
  std::int64_t offset = (std::int64_t{offset_hours} * 60 + offset_minutes) * 60;
  seconds += sign == '-' ? offset : -offset;
  return seconds * 1000 + millis;
}

// One write_audit alert: the events of one details.originaluser.
struct WriteAuditAlert {
  std::string originaluser;
  std::vector<const Value*> events;
};

// write_audit: aggregated on details.originaluser, fires for a user with 2 or more matching events
// within 15 minutes (the alert's search window).
std::vector<WriteAuditAlert> write_audit(const std::deque<rapidjson::Document>& documents) {
  constexpr std::int64_t kWindowMs = std::int64_t{15} * 60 * 1000;
  std::map<std::string, std::vector<const Value*>> by_user;
  for (const rapidjson::Document& document : documents)
    if (write_audit_event(document)) by_user[detail(document, "originaluser")].push_back(&document);
  std::vector<WriteAuditAlert> alerts;
  for (auto& [user, events] : by_user) {
    std::vector<std::int64_t> times;
    for (const Value* event : events)
      times.push_back(timestamp_ms(text(*event, "timestamp")).value_or(INT64_MIN));
    std::sort(times.begin(), times.end());
    bool fires = false;
    for (std::size_t i = 1; i < times.size(); ++i)
      if (times[i - 1] != INT64_MIN && times[i] - times[i - 1] <= kWindowMs) fires = true;
    if (fires) alerts.push_back({user, events});
  }
  return alerts;
}

// What write_audit reads of an event: the path, summary.split(' ')[1] (Python's split on one
// space), or "" when there is no second piece.
std::string write_audit_path(const Value& document) {
  std::string summary = text(document, "summary");
  std::size_t first = summary.find(' ');
  if (first == std::string::npos) return "";
  std::size_t second = summary.find(' ', first + 1);
  return summary.substr(first + 1,
                        second == std::string::npos ? std::string::npos : second - first - 1);
}

// promisc_audit: category promiscuous, summary has the words promiscuous and on, details.dev not
// veth*. Reads details.dev as the interface.
bool promisc_audit(const Value& document) {
  return text(document, "category") == "promiscuous" && summary_has_word(document, "promiscuous") &&
         summary_has_word(document, "on") && !detail(document, "dev").starts_with("veth");
}

// get_watchlist's user: details.username, else details.originaluser, else details.user.
std::string watchlist_user(const Value& document) {
  for (const char* key : {"username", "originaluser", "user"})
    if (has_detail(document, key)) return detail(document, key);
  return "";
}

// get_watchlist matches a watched term anywhere: any string value (top level or in details, array
// elements included) that is the term or has it as a word.
bool any_string_has(const Value& value, const std::string& term) {
  if (value.IsString()) {
    std::string s(value.GetString(), value.GetStringLength());
    if (s == term) return true;
    std::vector<std::string> found = words(s);
    return std::find(found.begin(), found.end(), term) != found.end();
  }
  if (value.IsArray()) {
    for (const Value& element : value.GetArray())
      if (any_string_has(element, term)) return true;
  }
  if (value.IsObject()) {
    for (const auto& m : value.GetObject())
      if (any_string_has(m.value, term)) return true;
  }
  return false;
}

bool get_watchlist(const Value& document, const std::string& term) {
  return any_string_has(document, term);
}

}  // namespace alert

// --- the live fixture ------------------------------------------------------------------------

// A login uid with a name (nobody), which the activity of some tests runs with.
constexpr uid_t kLoginUid = 65534;
std::string login_user_name() {
  struct passwd* entry = getpwuid(kLoginUid);
  return entry == nullptr ? "" : entry->pw_name;
}

// argv run by a shell that first prints its pid, then sets its login uid to kLoginUid (which makes
// the kernel's LOGIN record) and execs argv. Exit status 97 when the login uid cannot be set.
std::vector<std::string> with_login_uid(const std::vector<std::string>& argv) {
  std::vector<std::string> wrapped{"/bin/sh", "-c",
                                   "echo $$; echo " + std::to_string(kLoginUid) +
                                       " >/proc/self/loginuid 2>/dev/null || exit 97; exec \"$@\"",
                                   "sh"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

// aurelay live (--input netlink) as the audit daemon with the shipped rules (less their rate
// limit), documents to out.json. At the end it is stopped with SIGTERM (status 0), which deletes
// the rules it loaded, and the kernel is checked and put back as found.
class LiveShippedRules : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    auto state = guard_.start(reason);
    if (state == KernelAuditGuard::Availability::unavailable) GTEST_SKIP() << reason;
    ASSERT_NE(state, KernelAuditGuard::Availability::error) << "kernel audit guard: " << reason;
    if (!std::filesystem::exists(kShippedRules)) GTEST_SKIP() << "no " << kShippedRules;
    std::optional<std::size_t> rules_before = loaded_rule_count();
    ASSERT_TRUE(rules_before.has_value()) << "auditctl -l failed";
    // The shipped rules file starts with -D: it would delete rules this host has loaded.
    if (*rules_before != 0)
      GTEST_SKIP() << "audit rules are loaded on this host; the shipped rules would replace them";
    before_ = guard_.status();
    ASSERT_EQ(before_.pid, 0u) << "another process is the audit daemon";

    const std::string rules_path = dir_ / "audit.rules";
    ASSERT_TRUE(write_rules_without_rate_limit(rules_path));
    started_ = true;
    aurelay_ = std::make_unique<AurelayProcess>(
        std::vector<std::string>{AURELAY_BINARY, "--config", private_config(dir_), "--input",
                                 "netlink", "--rules_file", rules_path, "--auditctl",
                                 auditctl_path(), "--backlog_wait_time", "0", "--state_file",
                                 dir_ / "aurelay.state", "--output", dir_ / "out.json",
                                 "--log_target", "stderr", "--log_level", "info"},
        dir_ / "stderr.log");
    ASSERT_TRUE(wait_for_audit_pid(guard_, aurelay_->pid(), 15s)) << aurelay_->stderr_text();
    // The listen rule (key net) is the file's last line.
    ASSERT_TRUE(wait_for([] { return loaded_rule_keys("net").count("net") != 0; }, 20s, 50ms))
        << aurelay_->stderr_text();
    ASSERT_EQ(loaded_rule_keys("exec").count("exec"), 1u);
    ASSERT_TRUE(wait_for(
        [&] { return aurelay_->stderr_text().find(" started: ") != std::string::npos; }, 10s))
        << aurelay_->stderr_text();
  }

  void TearDown() override {
    for (const std::function<void()>& undo : cleanups_) undo();
    if (aurelay_) {
      aurelay_->send(SIGCONT);  // in case a test stopped it
      EXPECT_EQ(aurelay_->stop(SIGTERM), 0) << aurelay_->stderr_text();
      aurelay_.reset();
    }
    if (started_) {
      std::optional<std::size_t> left = loaded_rule_count();
      EXPECT_EQ(left.value_or(1), 0u) << "rules left loaded; deleting them";
      if (left.value_or(1) != 0) run_command({auditctl_path(), "-D"});
      expect_kernel_as_found(before_, guard_.status());
    }
    guard_.finish();
  }

  // Runs `undo` at teardown (also after a failed assertion), before aurelay stops.
  void on_teardown(std::function<void()> undo) { cleanups_.push_back(std::move(undo)); }

  // The documents written so far, read incrementally; each line is checked once with MozDef's
  // conformance check (a failure names the line).
  const std::deque<rapidjson::Document>& documents() {
    std::ifstream in(dir_ / "out.json", std::ios::binary);
    in.seekg(static_cast<std::streamoff>(read_bytes_));
    std::ostringstream chunk;
    chunk << in.rdbuf();
    pending_ += chunk.str();
    read_bytes_ += chunk.str().size();
    std::size_t start = 0;
    for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos;
         start = end + 1) {
      std::string line = pending_.substr(start, end - start);
      std::string violation = mozdef_violation(line, nullptr);
      EXPECT_EQ(violation, "") << "MozDef would not index: " << line.substr(0, 400);
      rapidjson::Document document;
      document.Parse(line.c_str(), line.size());
      if (!document.HasParseError()) documents_.push_back(std::move(document));
    }
    pending_.erase(0, start);
    return documents_;
  }

  // Waits (up to kDocumentTimeout) until `done` holds over the documents.
  bool wait_for_documents(const std::function<bool(const std::deque<rapidjson::Document>&)>& done) {
    return wait_for([&] { return done(documents()); }, kDocumentTimeout, 100ms);
  }

  // The first document `matches` accepts (waiting for it), or nullptr.
  const Value* wait_for_document(const std::function<bool(const Value&)>& matches) {
    const Value* found = nullptr;
    wait_for_documents([&](const std::deque<rapidjson::Document>& all) {
      for (const rapidjson::Document& document : all)
        if (matches(document)) {
          found = &document;
          return true;
        }
      return false;
    });
    return found;
  }

  // Documents whose text has `needle`, described, for failure messages.
  std::string documents_mentioning(const std::string& needle) {
    std::string out;
    for (const rapidjson::Document& document : documents()) {
      std::string line = describe(document) + " command=" + detail(document, "command");
      if (line.find(needle) != std::string::npos) out += "  " + line + "\n";
    }
    return out.empty() ? "  (none)\n" : out;
  }

  // A symlink `name` in the test directory to `target`: an execve through it shows comm `name`.
  std::string program_named(const std::string& name, const std::string& target) {
    std::filesystem::path link = dir_ / name;
    std::filesystem::create_symlink(target, link);
    return link.string();
  }

  KernelAuditGuard guard_;
  TempDir dir_;
  std::unique_ptr<AurelayProcess> aurelay_;

 private:
  netlink::AuditStatus before_;
  bool started_ = false;
  std::vector<std::function<void()>> cleanups_;
  std::deque<rapidjson::Document> documents_;
  std::string pending_;
  std::size_t read_bytes_ = 0;
};

using MozdefAlerts = LiveShippedRules;
using MozdefParentProcess = LiveShippedRules;

// The shell's pid printed first by with_login_uid(), or -1.
long printed_pid(const CommandResult& result) {
  try {
    return std::stol(result.out);
  } catch (...) {
    return -1;
  }
}

// --- one test per alert ----------------------------------------------------------------------

// The sftp client starts ssh as its child: a program named ssh whose parent is named sftp.
TEST_F(MozdefAlerts, AuditdSftpFiresOnSshStartedByAParentNamedSftp) {
  const std::string sftp = program_named("sftp", "/bin/bash");
  const std::string ssh = program_named("ssh", "/bin/true");
  CommandResult ran = run_command({sftp, "-c", ssh + " ; true"});
  ASSERT_EQ(ran.exit_code, 0) << ran.output();

  const Value* match = wait_for_document(
      [&](const Value& d) { return alert::auditd_sftp(d) && detail(d, "command") == ssh; });
  ASSERT_NE(match, nullptr) << "no document matches auditd_sftp; documents naming ssh:\n"
                            << documents_mentioning(ssh);
  // What the alert reads.
  EXPECT_FALSE(text(*match, "hostname").empty());
  EXPECT_TRUE(has_detail(*match, "originaluser")) << describe(*match);
  EXPECT_EQ(detail(*match, "cwd"), std::filesystem::current_path().string());
  EXPECT_EQ(detail(*match, "auditkey"), "exec");
  // The parent is the sftp process whose own execve the stream showed.
  const Value* parent = wait_for_document([&](const Value& d) {
    return text(d, "category") == "execve" && detail(d, "processname") == "sftp" &&
           detail(d, "pid") == detail(*match, "ppid");
  });
  EXPECT_NE(parent, nullptr) << documents_mentioning(sftp);
}

TEST_F(MozdefAlerts, TraceAuditFiresOnStrace) {
  if (!is_executable("/usr/bin/strace") && !is_executable("/bin/strace"))
    GTEST_SKIP() << "strace not installed";
  const std::string login_user = login_user_name();
  if (login_user.empty()) GTEST_SKIP() << "no user name for uid " << kLoginUid;
  CommandResult ran = run_command(with_login_uid({"strace", "-o", "/dev/null", "/bin/true"}));
  if (ran.exit_code == 97) GTEST_SKIP() << "the login uid cannot be set here";
  ASSERT_EQ(ran.exit_code, 0) << ran.output();

  // strace's own execve (key exec) and its ptrace calls (key trace), both by the login user.
  auto by_login_user = [&](const Value& d) {
    return alert::trace_audit(d) && detail(d, "originaluser") == login_user;
  };
  const Value* ptrace = wait_for_document(
      [&](const Value& d) { return by_login_user(d) && detail(d, "auditkey") == "trace"; });
  ASSERT_NE(ptrace, nullptr) << documents_mentioning("strace");
  EXPECT_EQ(text(*ptrace, "category"), "ptrace");
  const Value* exec = wait_for_document(
      [&](const Value& d) { return by_login_user(d) && text(d, "category") == "execve"; });
  EXPECT_NE(exec, nullptr) << documents_mentioning("strace");
}

// Two writes under /etc/audit/ by one login user; the seed's `-w /etc/audit/ -p wa -k audit`.
TEST_F(MozdefAlerts, WriteAuditFiresOnTwoWritesUnderEtcAuditByOneUser) {
  const std::string login_user = login_user_name();
  if (login_user.empty()) GTEST_SKIP() << "no user name for uid " << kLoginUid;
  const std::string path = "/etc/audit/aurelay-test-write-" + std::to_string(getpid());
  on_teardown([path] { std::filesystem::remove(path); });
  CommandResult ran = run_command(
      with_login_uid({"/bin/sh", "-c", "echo one >'" + path + "' && echo two >'" + path + "'"}));
  if (ran.exit_code == 97) GTEST_SKIP() << "the login uid cannot be set here";
  ASSERT_EQ(ran.exit_code, 0) << ran.output();

  std::vector<alert::WriteAuditAlert> alerts;
  const alert::WriteAuditAlert* ours = nullptr;
  wait_for_documents([&](const std::deque<rapidjson::Document>& all) {
    alerts = alert::write_audit(all);
    ours = nullptr;
    for (const alert::WriteAuditAlert& a : alerts)
      if (a.originaluser == login_user) ours = &a;
    if (ours == nullptr) return false;
    return std::count_if(ours->events.begin(), ours->events.end(),
                         [&](const Value* e) { return alert::write_audit_path(*e) == path; }) >= 2;
  });
  ASSERT_NE(ours, nullptr) << "write_audit does not fire for " << login_user << "; documents:\n"
                           << documents_mentioning(path);
  int ours_on_path = 0;
  for (const Value* event : ours->events) {
    if (alert::write_audit_path(*event) != path) continue;
    ++ours_on_path;
    EXPECT_EQ(text(*event, "summary"), "Write: " + path);
    EXPECT_TRUE(has_detail(*event, "user")) << describe(*event);  // the alert reads it
    EXPECT_EQ(detail(*event, "user"), "root");
    EXPECT_EQ(detail(*event, "processname"), "sh");
  }
  EXPECT_GE(ours_on_path, 2) << documents_mentioning(path);
}

// `ip link set lo promisc on` (this kernel has no dummy or veth driver): the kernel's
// ANOM_PROMISCUOUS record needs no rule, only auditing enabled.
TEST_F(MozdefAlerts, PromiscAuditFiresOnPromiscuousModeOn) {
  if (!std::filesystem::exists("/sys/class/net/lo")) GTEST_SKIP() << "no lo interface";
  on_teardown([] { run_command({"ip", "link", "set", "lo", "promisc", "off"}); });
  CommandResult on = run_command({"ip", "link", "set", "lo", "promisc", "on"});
  if (on.exit_code != 0) GTEST_SKIP() << "ip link set lo promisc on refused: " << on.output();
  CommandResult off = run_command({"ip", "link", "set", "lo", "promisc", "off"});
  ASSERT_EQ(off.exit_code, 0) << off.output();

  auto on_lo = [](const Value& d) {
    return text(d, "category") == "promiscuous" && detail(d, "dev") == "lo";
  };
  const Value* turned_on = nullptr;
  const Value* turned_off = nullptr;
  wait_for_documents([&](const std::deque<rapidjson::Document>& all) {
    for (const rapidjson::Document& d : all) {
      if (!on_lo(d)) continue;
      if (detail(d, "promiscuous") != "0") turned_on = &d;
      if (detail(d, "promiscuous") == "0") turned_off = &d;
    }
    return turned_on != nullptr && turned_off != nullptr;
  });
  ASSERT_NE(turned_on, nullptr) << documents_mentioning("romisc");
  EXPECT_TRUE(alert::promisc_audit(*turned_on)) << describe(*turned_on);
  EXPECT_EQ(detail(*turned_on, "dev"), "lo");  // what the alert reads as the interface
  EXPECT_EQ(text(*turned_on, "summary"), "Promisc: Interface lo set promiscuous on by ip");
  ASSERT_NE(turned_off, nullptr) << documents_mentioning("romisc");
  EXPECT_FALSE(alert::promisc_audit(*turned_off)) << describe(*turned_off);
}

// A login: the login uid set by a shell (the kernel's LOGIN record, as pam_loginuid makes it), and
// su's PAM messages (USER_ACCT, CRED_ACQ, USER_START, ... with acct=). get_watchlist finds the
// user in each.
TEST_F(MozdefAlerts, GetWatchlistFindsTheUserOfALogin) {
  const std::string login_user = login_user_name();
  if (login_user.empty()) GTEST_SKIP() << "no user name for uid " << kLoginUid;
  CommandResult ran = run_command(with_login_uid({"/bin/true"}));
  if (ran.exit_code == 97) GTEST_SKIP() << "the login uid cannot be set here";
  ASSERT_EQ(ran.exit_code, 0) << ran.output();
  const std::string shell_pid = std::to_string(printed_pid(ran));

  const Value* login = wait_for_document([&](const Value& d) {
    return text(d, "category") == "login" && detail(d, "pid") == shell_pid;
  });
  ASSERT_NE(login, nullptr) << documents_mentioning("ogin");
  EXPECT_EQ(detail(*login, "originaluid"), std::to_string(kLoginUid));
  EXPECT_EQ(detail(*login, "originaluser"), login_user);
  EXPECT_EQ(alert::watchlist_user(*login), login_user) << describe(*login);
  EXPECT_TRUE(alert::get_watchlist(*login, login_user));
  ASSERT_TRUE(member_value(details_of(*login), "success").IsBool()) << describe(*login);
  EXPECT_TRUE(member_value(details_of(*login), "success").GetBool());

  if (!is_executable("/usr/bin/su") && !is_executable("/bin/su")) return;
  CommandResult su = run_command({"su", login_user, "-s", "/bin/sh", "-c", "true"});
  ASSERT_EQ(su.exit_code, 0) << su.output();
  const Value* session = wait_for_document([&](const Value& d) {
    return text(d, "category") == "user_start" && detail(d, "username") == login_user &&
           detail(d, "process").ends_with("/su");
  });
  ASSERT_NE(session, nullptr) << documents_mentioning("su");
  EXPECT_EQ(alert::watchlist_user(*session), login_user) << describe(*session);
  EXPECT_TRUE(alert::get_watchlist(*session, login_user));
  ASSERT_TRUE(member_value(details_of(*session), "success").IsBool()) << describe(*session);
  EXPECT_TRUE(member_value(details_of(*session), "success").GetBool());
  EXPECT_EQ(detail(*session, "operation"), "PAM:session_open");
}

// --- details.parentprocess live --------------------------------------------------------------

// A pid not in use now (from the top of the pid range down), or 0.
pid_t free_pid(pid_t below) {
  std::ifstream max_file("/proc/sys/kernel/pid_max");
  long pid_max = 32768;
  max_file >> pid_max;
  for (pid_t pid = std::min<pid_t>(below, static_cast<pid_t>(pid_max - 1)); pid > 300; --pid)
    if (!std::filesystem::exists("/proc/" + std::to_string(pid))) return pid;
  return 0;
}

// One pid, first a program named alpha, then one named beta, each starting an audited child: the
// children's parentprocess follow the pid's owner (each owner's execve replaces the table entry).
TEST_F(MozdefParentProcess, AReusedPidNamesItsNewOwner) {
  const std::string alpha = program_named("alpha", "/bin/bash");
  const std::string beta = program_named("beta", "/bin/bash");
  const std::string kid = program_named("kid", "/bin/true");
  pid_t pid = 0;
  int status = 3;
  for (pid_t below = 32000; status == 3 && below > 1000; below = pid - 1) {
    pid = free_pid(below);
    ASSERT_NE(pid, 0) << "no free pid";
    CommandResult first = run_command({AURELAY_SPAWN_TREE, "pid=" + std::to_string(pid), "--",
                                       alpha, "-c", kid + " first; true"});
    status = first.exit_code;
    if (status == 4) GTEST_SKIP() << "this kernel refuses a chosen pid: " << first.output();
    ASSERT_TRUE(status == 0 || status == 3) << first.output();
  }
  ASSERT_EQ(status, 0);
  CommandResult second = run_command(
      {AURELAY_SPAWN_TREE, "pid=" + std::to_string(pid), "--", beta, "-c", kid + " second; true"});
  if (second.exit_code == 3) GTEST_SKIP() << "pid " << pid << " was taken between the two runs";
  ASSERT_EQ(second.exit_code, 0) << second.output();

  const std::string pid_text = std::to_string(pid);
  auto child = [&](const std::string& argument) {
    return wait_for_document([&](const Value& d) {
      return text(d, "category") == "execve" && detail(d, "command") == kid + " " + argument;
    });
  };
  const Value* first_child = child("first");
  const Value* second_child = child("second");
  ASSERT_NE(first_child, nullptr) << documents_mentioning(kid);
  ASSERT_NE(second_child, nullptr) << documents_mentioning(kid);
  EXPECT_EQ(detail(*first_child, "ppid"), pid_text);
  EXPECT_EQ(detail(*second_child, "ppid"), pid_text);
  EXPECT_EQ(detail(*first_child, "parentprocess"), "alpha") << describe(*first_child);
  EXPECT_EQ(detail(*second_child, "parentprocess"), "beta") << describe(*second_child);
}

// The sftp parent exits after starting ssh, all while aurelay is stopped: when aurelay encodes the
// child's event the parent is gone from /proc, and its name comes from the table (the parent's own
// execve, earlier in the stream).
TEST_F(MozdefParentProcess, AParentThatExitedBeforeTheEventWasEncodedIsStillNamed) {
  const std::string sftp = program_named("sftp", "/bin/bash");
  const std::string ssh = program_named("ssh", "/bin/true");
  const pid_t aurelay_pid = aurelay_->pid();
  auto state_of = [&] {
    std::string stat = read_file("/proc/" + std::to_string(aurelay_pid) + "/stat");
    std::size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
  };
  aurelay_->send(SIGSTOP);  // TearDown sends SIGCONT if an assertion ends the test early
  ASSERT_TRUE(wait_for([&] { return state_of() == 'T'; }, 5s));
  CommandResult ran = run_command({sftp, "-c", ssh + " exited-parent; true"});
  const bool still_stopped = state_of() == 'T';
  aurelay_->send(SIGCONT);
  ASSERT_EQ(ran.exit_code, 0) << ran.output();
  ASSERT_TRUE(still_stopped);

  const Value* child = wait_for_document([&](const Value& d) {
    return text(d, "category") == "execve" && detail(d, "command") == ssh + " exited-parent";
  });
  ASSERT_NE(child, nullptr) << documents_mentioning(ssh);
  const std::string parent_pid = detail(*child, "ppid");
  // The parent was reaped before aurelay went on (run_command waited for it).
  const std::string parent_comm = read_file("/proc/" + parent_pid + "/comm");
  EXPECT_NE(parent_comm, "sftp\n") << "pid " << parent_pid << " is an sftp again";
  EXPECT_EQ(detail(*child, "parentprocess"), "sftp") << describe(*child);
  EXPECT_TRUE(alert::auditd_sftp(*child)) << describe(*child);
}

// --- process contexts with real cgroups --------------------------------------------------------

// Where this host mounts cgroup v2 and cgroup v1's name=systemd hierarchy ("" when it does not).
struct CgroupMounts {
  std::string unified;
  std::string named_systemd;
};

CgroupMounts cgroup_mounts() {
  CgroupMounts mounts;
  std::istringstream lines(read_file("/proc/self/mounts"));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string device, point, type, options;
    fields >> device >> point >> type >> options;
    if (type == "cgroup2" && mounts.unified.empty()) mounts.unified = point;
    if (type == "cgroup" && ("," + options + ",").find(",name=systemd,") != std::string::npos)
      mounts.named_systemd = point;
  }
  return mounts;
}

// A cgroup made for one test under `root` (a parent directory of its own, then `name`), removed at
// teardown once its processes are gone.
class TestCgroup {
 public:
  TestCgroup(const std::string& root, const std::string& name)
      : parent_(root + "/aurelay-test-" + std::to_string(::getpid()) + ".slice"),
        path_(parent_ + "/" + name) {
    std::error_code error;
    std::filesystem::create_directories(path_, error);
    made_ = !error && std::filesystem::exists(path_ + "/cgroup.procs");
  }
  ~TestCgroup() {
    for (const std::string& dir : {path_, parent_})
      wait_for([&] { return ::rmdir(dir.c_str()) == 0 || errno == ENOENT; }, 5s, 20ms);
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  bool made() const { return made_; }
  // A shell line that moves the shell into this cgroup.
  std::string enter() const { return "echo $$ > " + path_ + "/cgroup.procs && "; }

 private:
  std::string parent_;
  std::string path_;
  bool made_ = false;
};

std::string json_of(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

const std::string kContainerId = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

using ProcessContextLive = LiveShippedRules;

// seconds since the epoch of "2026-12-06T11:46:31.120+00:00" (ms dropped), or -1.
long long epoch_of(const std::string& iso) {
  std::tm parts{};
  if (iso.size() < 19 ||
      ::strptime(iso.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &parts) == nullptr)
    return -1;
  return static_cast<long long>(::timegm(&parts));
}

// In each hierarchy alone, a process in a cgroup named like a docker scope and one named like a
// systemd service: a long-lived program (alive when its record is read: its own /proc) and a storm
// of /bin/true (mostly gone by then: its parent's), and the start time of the long-lived one.
TEST_F(ProcessContextLive, ContainerAndUnitFromRealCgroupsInBothHierarchies) {
  const CgroupMounts mounts = cgroup_mounts();
  if (mounts.unified.empty() && mounts.named_systemd.empty()) GTEST_SKIP() << "no cgroups";
  // Alive for 0.4 s (the shipped rules never audit /bin/sleep; perl is Essential in Debian).
  const std::string sleeper = program_named("ctxsleep", "/usr/bin/perl");
  const std::string pause = "-e select(undef,undef,undef,0.4) #";
  const std::string quick = program_named("ctxtrue", "/bin/true");
  constexpr int kStorm = 300;
  int hierarchies = 0;
  for (const auto& [root, label] :
       {std::pair{mounts.unified, std::string("v2")}, {mounts.named_systemd, "v1"}}) {
    if (root.empty()) continue;
    ++hierarchies;
    const std::string unit = "aurelay-ctx-" + label + ".service";
    TestCgroup scope(root, "docker-" + kContainerId + ".scope");
    TestCgroup service(root, unit);
    ASSERT_TRUE(scope.made() && service.made()) << "cannot make cgroups under " << root;
    const auto started = std::chrono::system_clock::now();
    for (const auto* cgroup : {&scope, &service}) {
      const std::string tag = label + (cgroup == &scope ? "-scope" : "-service");
      // As a container runtime or systemd starts a program: moved to its cgroup, then exec'd.
      std::string long_lived_command = sleeper;
      long_lived_command.append(" ").append(pause).append(tag);
      std::string storm_prefix = quick;
      storm_prefix.append(" ").append(tag).append("-");
      std::string script = cgroup->enter();
      script += "exec /bin/sh -c 'i=0; while [ $i -lt " + std::to_string(kStorm) + " ]; do ";
      script += storm_prefix;
      script += "$i; i=$((i+1)); done; exec " + sleeper;
      script += " \"" + pause;
      script += tag + "\"'";
      CommandResult ran = run_command({"/bin/sh", "-c", script});
      ASSERT_EQ(ran.exit_code, 0) << ran.output();
      // The long-lived one: sleep's own exec, with the shell's pid.
      const Value* long_lived = wait_for_document([&](const Value& d) {
        return text(d, "category") == "execve" && detail(d, "command") == long_lived_command &&
               (detail(d, "containerid") == kContainerId || detail(d, "systemdunit") == unit);
      });
      ASSERT_NE(long_lived, nullptr) << tag << "\n" << documents_mentioning("ctxsleep");
      if (cgroup == &scope) {
        EXPECT_EQ(detail(*long_lived, "containerid"), kContainerId) << describe(*long_lived);
        EXPECT_EQ(detail(*long_lived, "systemdunit"), "docker-" + kContainerId + ".scope");
      } else {
        EXPECT_EQ(detail(*long_lived, "containerid"), "") << describe(*long_lived);
        EXPECT_EQ(detail(*long_lived, "systemdunit"), unit) << describe(*long_lived);
      }
      const long long start = epoch_of(detail(*long_lived, "processstarttime"));
      const long long begun =
          std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
      EXPECT_GE(start, begun - 2) << describe(*long_lived);
      EXPECT_LE(start, begun + 60) << describe(*long_lived);
      // The storm: at least 99% carry the cgroup's identity.
      ASSERT_TRUE(wait_for_documents([&](const std::deque<rapidjson::Document>& all) {
        return std::count_if(all.begin(), all.end(), [&](const Value& d) {
                 return detail(d, "command").starts_with(storm_prefix);
               }) >= kStorm;
      })) << tag;
      int storm = 0, identified = 0;
      std::string missed;
      for (const rapidjson::Document& d : documents()) {
        if (!detail(d, "command").starts_with(storm_prefix)) continue;
        ++storm;
        const bool found = cgroup == &scope ? detail(d, "containerid") == kContainerId
                                            : detail(d, "systemdunit") == unit;
        identified += found;
        if (!found) missed.append("  ").append(json_of(d["details"]).substr(0, 600)).append("\n");
      }
      EXPECT_EQ(storm, kStorm) << tag;
      EXPECT_GE(identified * 100, storm * 99)
          << tag << ": " << identified << " of " << storm << "; without:\n"
          << missed;
    }
  }
  EXPECT_GT(hierarchies, 0);
}

// One pid, first a program named alpha (its own audited execve puts it in the table), then a new
// owner renamed gamma that makes no audited syscall and starts an audited child: the child's
// parentprocess is gamma (the start times tell the table's alpha from the parent).
TEST_F(ProcessContextLive, AReusedParentPidNamesItsNewOwnerWithoutARecordOfItsOwn) {
  const std::string alpha = program_named("alpha", "/bin/bash");
  const std::string kid = program_named("ctxkid", "/usr/bin/perl");  // alive while read
  pid_t pid = 0;
  int status = 3;
  for (pid_t below = 31000; status == 3 && below > 1000; below = pid - 1) {
    pid = free_pid(below);
    ASSERT_NE(pid, 0) << "no free pid";
    CommandResult first =
        run_command({AURELAY_SPAWN_TREE, "pid=" + std::to_string(pid), "--", alpha, "-c",
                     kid + " -e 'select(undef,undef,undef,0.3)'; true"});
    status = first.exit_code;
    if (status == 4) GTEST_SKIP() << "this kernel refuses a chosen pid: " << first.output();
    ASSERT_TRUE(status == 0 || status == 3) << first.output();
  }
  ASSERT_EQ(status, 0);
  CommandResult second =
      run_command({AURELAY_SPAWN_TREE, "pid=" + std::to_string(pid), "name=gamma", "fork", "--",
                   kid, "-e", "select(undef,undef,undef,0.31)"});
  if (second.exit_code == 3) GTEST_SKIP() << "pid " << pid << " was taken between the two runs";
  ASSERT_EQ(second.exit_code, 0) << second.output();
  auto child = [&](const std::string& argument) {
    return wait_for_document([&](const Value& d) {
      return text(d, "category") == "execve" && detail(d, "command") == kid + " " + argument;
    });
  };
  const Value* first_child = child("-e select(undef,undef,undef,0.3)");
  const Value* second_child = child("-e select(undef,undef,undef,0.31)");
  ASSERT_NE(first_child, nullptr) << documents_mentioning("ctxkid");
  ASSERT_NE(second_child, nullptr) << documents_mentioning("ctxkid");
  EXPECT_EQ(detail(*first_child, "ppid"), std::to_string(pid));
  EXPECT_EQ(detail(*second_child, "ppid"), std::to_string(pid));
  EXPECT_EQ(detail(*first_child, "parentprocess"), "alpha") << describe(*first_child);
  EXPECT_EQ(detail(*second_child, "parentprocess"), "gamma") << describe(*second_child);
  EXPECT_NE(detail(*second_child, "processstarttime"), "") << describe(*second_child);
}

}  // namespace
}  // namespace aurelay::testing
