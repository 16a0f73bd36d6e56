#include "collector/privileges.h"

#include <cap-ng.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace aurelay::collector {

Result<UserIds> look_up_user(const std::string& user) {
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    return fail("user '" + user + "' " +
                (rc != 0
                     ? std::string("cannot be looked up: ") + std::strerror(rc)
                     : std::string("does not exist (create it with systemd-sysusers or useradd)")));
  }
  return UserIds{entry.pw_uid, entry.pw_gid};
}

namespace {

// Threads of this process, from /proc/self/status; 0 when unknown.
int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

constexpr unsigned kKeptCapabilities[] = {CAP_AUDIT_CONTROL, CAP_AUDIT_READ};

bool is_kept(unsigned capability) {
  for (unsigned kept : kKeptCapabilities) {
    if (kept == capability) return true;
  }
  return false;
}

}  // namespace

Status drop_privileges(const std::string& user) {
  if (user.empty()) {
    return fail("no user to switch to");
  }
  Result<UserIds> looked_up = look_up_user(user);
  if (!looked_up) return fail(looked_up.error());
  const UserIds ids = *looked_up;
  if (ids.uid == 0) {
    return fail("user '" + user + "' is root; nothing would be dropped");
  }
  if (const int threads = thread_count(); threads > 1) {
    return fail("cannot drop privileges with " + std::to_string(threads) +
                " threads running (capabilities are per thread); drop before starting threads");
  }

  // The bounding set first, by hand: libcap-ng's CAPNG_CLEAR_BOUNDING empties it entirely.
  // Dropping a capability from the bounding set leaves it in the effective set, so CAP_SETUID,
  // CAP_SETGID and CAP_SETPCAP still work for the switch below.
  for (unsigned capability = 0; capability <= CAP_LAST_CAP; ++capability) {
    if (is_kept(capability) || ::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
      return fail("cannot drop capability " + std::to_string(capability) +
                  " from the bounding set (needs CAP_SETPCAP): " + std::strerror(errno));
    }
  }
  capng_clear(CAPNG_SELECT_BOTH);
  for (unsigned capability : kKeptCapabilities) {
    if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                     capability) != 0) {
      return fail("libcap-ng cannot keep capability " + std::to_string(capability));
    }
  }
  const int rc =
      capng_change_id(static_cast<int>(ids.uid), static_cast<int>(ids.gid),
                      static_cast<capng_flags_t>(CAPNG_INIT_SUPP_GRP | CAPNG_CLEAR_AMBIENT));
  if (rc != 0) {
    // libcap-ng's negative codes name the step that failed (setresgid, groups, setresuid …).
    return fail("switching to user '" + user + "' failed (libcap-ng capng_change_id " +
                std::to_string(rc) + ", errno: " + std::strerror(errno) +
                "); needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP");
  }

  // Verify what the kernel now says rather than trusting the calls.
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  ::getresuid(&ruid, &euid, &suid);
  ::getresgid(&rgid, &egid, &sgid);
  if (ruid != ids.uid || euid != ids.uid || suid != ids.uid || rgid != ids.gid || egid != ids.gid ||
      sgid != ids.gid) {
    return fail("after switching to '" + user + "' the process ids are not the user's");
  }
  capng_clear(CAPNG_SELECT_ALL);
  capng_get_caps_process();
  for (unsigned capability = 0; capability <= CAP_LAST_CAP; ++capability) {
    const bool wanted = is_kept(capability);
    const bool effective = capng_have_capability(CAPNG_EFFECTIVE, capability) != 0;
    const bool permitted = capng_have_capability(CAPNG_PERMITTED, capability) != 0;
    const bool inheritable = capng_have_capability(CAPNG_INHERITABLE, capability) != 0;
    if (effective != wanted || permitted != wanted || inheritable) {
      return fail("after switching to '" + user + "' capability " + std::to_string(capability) +
                  (wanted ? " is missing" : " is still held"));
    }
    if ((::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) == 1) != wanted) {
      return fail("after switching to '" + user + "' capability " + std::to_string(capability) +
                  (wanted ? " is missing from" : " is still in") + " the bounding set");
    }
  }
  return {};
}

Status prepare_directory_for_user(const std::string& directory, const std::string& user) {
  Result<UserIds> ids = look_up_user(user);
  if (!ids) return fail(ids.error());
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    return fail("cannot create " + directory + ": " + ec.message());
  }
  // A directory everyone may write to (/tmp) is not aurelay's to take, and the user can already
  // create its files there.
  struct stat info {};
  if (::stat(directory.c_str(), &info) == 0 && (info.st_mode & S_IWOTH) != 0) return {};
  if (::chown(directory.c_str(), ids->uid, ids->gid) != 0 ||
      ::chmod(directory.c_str(), 0750) != 0) {
    return fail("cannot give " + directory + " to " + user + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace aurelay::collector
