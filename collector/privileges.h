// Privilege drop: after aurelay holds the audit pid and the rules are loaded it switches to an
// unprivileged user keeping only CAP_AUDIT_CONTROL (AUDIT_GET/SET, giving the pid back) and
// CAP_AUDIT_READ (multicast), with an empty bounding set otherwise (libcap-ng).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace aurelay::collector {

// A user's uid and primary gid.
struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The ids of `user` from the password database, or why it has none.
Result<UserIds> look_up_user(const std::string& user);

// Switches the process to `user` (uid, primary gid, supplementary groups of that user) keeping
// only CAP_AUDIT_CONTROL and CAP_AUDIT_READ in the permitted and effective sets and the bounding
// set; inheritable and ambient sets end empty. Verifies the result.
//
// Must run while the process has a single thread: capabilities are per thread, so threads started
// earlier would keep theirs. Fails saying why (the process is then unchanged or, if
// the switch failed halfway, must exit). Needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP.
Status drop_privileges(const std::string& user);

// Creates `directory` (and parents) when missing and gives it to `user` with mode 0750, so the
// process can still write there after drop_privileges (state file, spool). A world-writable
// directory (/tmp) is left as it is. Call before dropping.
Status prepare_directory_for_user(const std::string& directory, const std::string& user);

}  // namespace aurelay::collector
