#include "collector/privileges.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace aurelay::collector {
namespace {

// One user per test process: ctest runs tests in parallel, each in its own process.
const std::string kTestUser = "aurelay-pt-" + std::to_string(::getpid());
constexpr std::uint64_t kAuditControl = 1ull << 30;
constexpr std::uint64_t kAuditRead = 1ull << 37;

// Creates a system user for the test when running as root, deletes it afterwards.
class PrivilegesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer runs a thread of its own, and a drop refuses while other threads run.
    GTEST_SKIP() << "not under ThreadSanitizer (its background thread)";
#endif
    if (::getpwnam(kTestUser.c_str()) == nullptr) {
      const std::string command = std::string("useradd --system --no-create-home --shell ") +
                                  "/usr/sbin/nologin " + kTestUser + " >/dev/null 2>&1";
      // useradd fails while another process holds the passwd lock: try again a few times.
      bool added = false;
      for (int attempt = 0; attempt < 20 && !added; ++attempt) {
        added = std::system(command.c_str()) == 0;
        // A pause between attempts (nothing signals the lock's release).
        if (!added) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!added) GTEST_SKIP() << "useradd failed";
      created_ = true;
    }
    const struct passwd* entry = ::getpwnam(kTestUser.c_str());
    ASSERT_NE(entry, nullptr);
    uid_ = entry->pw_uid;
    gid_ = entry->pw_gid;
  }
  void TearDown() override {
    if (created_) {
      EXPECT_EQ(std::system((std::string("userdel ") + kTestUser + " >/dev/null 2>&1").c_str()), 0);
    }
  }

  // Runs `body` in a forked child and returns what it wrote to the pipe.
  template <typename Body>
  std::string in_child(Body body) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      const std::string text = body();
      (void)!::write(fds[1], text.data(), text.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, n);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    return out;
  }

  bool created_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

std::map<std::string, std::string> status_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

std::uint64_t hex(const std::string& text) { return std::stoull(text, nullptr, 16); }

TEST_F(PrivilegesTest, KeepsOnlyAuditCapabilitiesAsTheUser) {
  const std::string out = in_child([] {
    if (Status dropped = drop_privileges(kTestUser); !dropped) return "ERROR " + dropped.error();
    std::ifstream status("/proc/self/status");
    std::stringstream text;
    text << status.rdbuf();
    return text.str();
  });
  ASSERT_EQ(out.rfind("ERROR", 0), std::string::npos) << out;
  const auto fields = status_fields(out);
  const std::string u = std::to_string(uid_);
  const std::string g = std::to_string(gid_);
  EXPECT_EQ(fields.at("Uid"), u + "\t" + u + "\t" + u + "\t" + u);
  EXPECT_EQ(fields.at("Gid"), g + "\t" + g + "\t" + g + "\t" + g);
  EXPECT_EQ(fields.at("Groups"), g);
  EXPECT_EQ(hex(fields.at("CapEff")), kAuditControl | kAuditRead);
  EXPECT_EQ(hex(fields.at("CapPrm")), kAuditControl | kAuditRead);
  EXPECT_EQ(hex(fields.at("CapBnd")), kAuditControl | kAuditRead);
  EXPECT_EQ(hex(fields.at("CapInh")), 0u);
  EXPECT_EQ(hex(fields.at("CapAmb")), 0u);
}

TEST_F(PrivilegesTest, RefusesWithThreadsRunning) {
  const std::string out = in_child([] {
    // A second thread that runs until the drop has been tried.
    std::promise<void> tried;
    std::thread waiter([done = tried.get_future()]() mutable { done.wait(); });
    const Status dropped = drop_privileges(kTestUser);
    tried.set_value();
    waiter.join();
    return std::string(dropped ? "dropped" : dropped.error()) +
           " uid=" + std::to_string(::getuid());
  });
  EXPECT_EQ(out,
            "cannot drop privileges with 2 threads running (capabilities are per thread); drop "
            "before starting threads uid=0");
}

TEST(Privileges, UnknownUserAndRootAreErrors) {
  const Status unknown = drop_privileges("aurelay-no-such-user-xyz");
  EXPECT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(),
            "user 'aurelay-no-such-user-xyz' does not exist (create it with systemd-sysusers or "
            "useradd)");
  const Status root = drop_privileges("root");
  EXPECT_FALSE(root.ok());
  EXPECT_EQ(root.error(), "user 'root' is root; nothing would be dropped");
  EXPECT_FALSE(drop_privileges("").ok());
}

TEST_F(PrivilegesTest, PreparedDirectoryBelongsToTheUser) {
  std::string pattern = (std::filesystem::temp_directory_path() / "aurelay-priv-XXXXXX").string();
  const std::filesystem::path base = ::mkdtemp(pattern.data());
  const std::filesystem::path dir = base / "spool" / "a";
  const Status prepared = prepare_directory_for_user(dir.string(), kTestUser);
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_);
  EXPECT_EQ(st.st_gid, gid_);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  std::filesystem::remove_all(base);
}

TEST_F(PrivilegesTest, AWorldWritableDirectoryIsNotTaken) {
  std::string pattern = (std::filesystem::temp_directory_path() / "aurelay-priv-XXXXXX").string();
  const std::filesystem::path shared = ::mkdtemp(pattern.data());
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);  // like /tmp
  const Status prepared = prepare_directory_for_user(shared.string(), kTestUser);
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  struct stat st {};
  ASSERT_EQ(::stat(shared.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  std::filesystem::remove_all(shared);
}

}  // namespace
}  // namespace aurelay::collector
