// The fixed set of `details` keys a MozDef document may carry, and which record field feeds
// which key. One table: the encoder writes keys in its order, the conformance test checks that a
// document holds no other key, and docs/mozdef-fields.md documents each row (a test checks that
// every key here has a row there). Which record fields feed a key is kFieldRows
// (mozdef/field_map.h), which the docs' `from` column is rendered from.
//
// MozDef's index holds at most 1,000 fields for every source it ingests, so key names are never
// generated from data: a record field that has no key here is kept as one string
// "TYPE.field=value" in the `extra` array.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace aurelay::mozdef {

// How the value of a key is written.
enum class DetailShape : std::uint8_t {
  string,   // a JSON string
  boolean,  // true/false (MozDef's template maps details.success as boolean)
  ip,       // a string that parses as an IPv4 or IPv6 address (template type ip)
  array,    // an array of strings
};

#define AURELAY_DETAIL_KEYS(X)                                                                     \
  X(auditserial, string, "event serial number", "audit(sec.msec:SERIAL) header", "6427")           \
  X(eventid, string, "stable event id ([node:]sec.msec:serial), for de-duplication",               \
    "audit(...) header", "1795305789.998:6427")                                                    \
  X(recordtypes, string, "record types in arrival order, comma separated", "every record",         \
    "SYSCALL,EXECVE,CWD,PATH,PATH,PROCTITLE")                                                      \
  X(completion, string,                                                                            \
    "why the event was complete: eoe, terminal, timeout, overflow, "                               \
    "end_of_input",                                                                                \
    "assembler", "eoe")                                                                            \
  X(continuation, string,                                                                          \
    "\"true\" when these records arrived after their event id had "                                \
    "already been emitted (e.g. the SYSCALL ... EOE after a user message)",                        \
    "assembler", "true")                                                                           \
  X(arch, string, "machine name of the syscall's architecture", "", "x86_64")                      \
  X(syscall, string, "syscall name (the number when unknown for the arch)", "", "openat")          \
  X(success, boolean, "whether the syscall or operation succeeded",                                \
    "(yes/no; success/failed, 1/0)", "true")                                                       \
  X(exit, string, "syscall return value", "", "3")                                                 \
  X(a0, string, "first syscall argument (hex)", "", "ffffff9c")                                    \
  X(a1, string, "second syscall argument (hex)", "", "7ffd2b1c")                                   \
  X(a2, string, "third syscall argument (hex)", "", "241")                                         \
  X(a3, string, "fourth syscall argument (hex)", "", "1b6")                                        \
  X(items, string, "number of PATH records", "", "2")                                              \
  X(personality, string, "process personality when not the default", "", "400000")                 \
  X(pid, string, "process id", "", "471")                                                          \
  X(ppid, string, "parent process id", "", "442")                                                  \
  X(parentprocess, string,                                                                         \
    "parent's process name (comm), from aurelay's process table "                                  \
    "(live: /proc when the stream has not shown it)",                                              \
    "SYSCALL comm of the parent pid", "sftp")                                                      \
  X(originaluid, string, "login (audit) uid", "", "1001")                                          \
  X(originaluser, string, "login (audit) user name; \"unset\" for 4294967295", "", "alice")        \
  X(uid, string, "user id", "", "0")                                                               \
  X(user, string, "user name of uid", "", "root")                                                  \
  X(gid, string, "group id", "", "0")                                                              \
  X(group, string, "group name of gid", "", "root")                                                \
  X(euid, string, "effective uid", "", "0")                                                        \
  X(suid, string, "saved uid", "", "0")                                                            \
  X(fsuid, string, "filesystem uid", "", "0")                                                      \
  X(egid, string, "effective gid", "", "0")                                                        \
  X(sgid, string, "saved gid", "", "0")                                                            \
  X(fsgid, string, "filesystem gid", "", "0")                                                      \
  X(tty, string, "controlling terminal", "", "pts0")                                               \
  X(session, string, "audit session id", "", "7")                                                  \
  X(processname, string, "the audited program's name (comm)", "", "bash")                          \
  X(process, string, "the audited program's executable", "", "/usr/bin/bash")                      \
  X(processstarttime, string,                                                                      \
    "when the process started (ISO-8601 UTC, 10 ms steps); live only, absent when the process "    \
    "was gone before aurelay read its record",                                                     \
    "/proc/PID/stat, read as the record is read", "2026-12-06T11:46:31.120+00:00")                 \
  X(containerid, string,                                                                           \
    "64-hex id of the container the process ran in (docker, containerd/CRI, cri-o, podman); "      \
    "live only; a process gone before aurelay read its record has its parent's",                   \
    "/proc/PID/cgroup (cgroup v2, else v1 name=systemd)",                                          \
    "4f1e8a7c0b2d93e65f7a1c4d8e2b0f96a3c5d7e9f1b3a5c7d9e1f3a5b7c9d1e3")                            \
  X(systemdunit, string,                                                                           \
    "systemd unit the process ran in (a service, or a session's or container's scope); live only", \
    "/proc/PID/cgroup (cgroup v2, else v1 name=systemd)", "nginx.service")                         \
  X(subject, string, "security context of the process", "", "unconfined")                          \
  X(auditkey, string, "key of the rule that fired", "(the rule's -k)", "exec")                     \
  X(command, string,                                                                               \
    "the command line: EXECVE arguments joined by spaces (any byte), or "                          \
    "the command a user-space message names",                                                      \
    "", "ls -l /etc")                                                                              \
  X(argc, string, "number of arguments", "", "3")                                                  \
  X(argcomplete, string, "\"false\" when fewer arguments than argc arrived", "", "false")          \
  X(proctitle, string, "process title: argv joined by spaces, cut by the kernel at 128 bytes", "", \
    "bash -c id")                                                                                  \
  X(cwd, string, "working directory", "", "/root")                                                 \
  X(path, string, "the path the syscall acted on: the first PATH record that is not a PARENT", "", \
    "/etc/passwd")                                                                                 \
  X(nametype, string, "what happened to path", "", "NORMAL")                                       \
  X(inode, string, "inode of path", "", "1234")                                                    \
  X(dev, string,                                                                                   \
    "device of path (major:minor), or the network interface of a promiscuous "                     \
    "mode change",                                                                                 \
    "", "fd:01")                                                                                   \
  X(mode, string, "file mode of path (octal)", "", "0100644")                                      \
  X(ouid, string, "owner uid of path", "", "0")                                                    \
  X(ogid, string, "owner gid of path", "", "0")                                                    \
  X(rdev, string, "device number when path is a device", "", "00:00")                              \
  X(paths, array, "every PATH name in record order (events with two or more PATH records)",        \
    "PATH name", "[\"/etc/\", \"/etc/passwd+\"]")                                                  \
  X(nametypes, array, "nametype of each entry of paths", "PATH nametype",                          \
    "[\"PARENT\", \"CREATE\"]")                                                                    \
  X(family, string, "socket address family", "", "inet")                                           \
  X(address, string, "socket address: IP, unix path or netlink port id", "", "127.0.0.1")          \
  X(port, string, "socket port (inet, inet6)", "", "443")                                          \
  X(saddr, string, "raw socket address (hex) of a family aurelay does not decode", "", "1c000000") \
  X(destinationipaddress, ip,                                                                      \
    "peer address of connect, sendto, sendmsg (MozDef's GeoIP "                                    \
    "plugins read it)",                                                                            \
    "", "93.184.216.34")                                                                           \
  X(destinationport, string, "peer port of connect, sendto, sendmsg", "", "443")                   \
  X(sourceipaddress, ip,                                                                           \
    "peer address of accept, accept4, recvfrom, recvmsg; the remote "                              \
    "address of a login or authentication",                                                        \
    "", "192.0.2.7")                                                                               \
  X(sourceport, string, "peer port of accept, accept4, recvfrom, recvmsg; rport", "", "51234")     \
  X(operation, string, "what a user-space or configuration message did", "", "PAM:session_open")   \
  X(username, string, "account a login, authentication or account change names", "", "alice")      \
  X(accountid, string, "account id a user or group change names", "", "1002")                      \
  X(remotehostname, string, "remote host of a login or authentication", "", "laptop.example")      \
  X(terminal, string, "terminal of a login or authentication", "", "ssh")                          \
  X(grantors, string, "PAM modules that granted it", "", "pam_unix")                               \
  X(unit, string, "systemd unit", "", "ssh")                                                       \
  X(message, string, "free text of a user-space message without fields", "msg='...'", "text")      \
  X(rulelist, string, "audit rule list number of a rule change", "", "4")                          \
  X(rulekey, string, "key of the audit rule added or removed", "", "exec")                         \
  X(promiscuous, string, "new promiscuous flag (1 on, 0 off)", "", "256")                          \
  X(oldpromiscuous, string, "previous promiscuous flag", "", "0")                                  \
  X(oldoriginaluid, string, "login uid before a login", "", "4294967295")                          \
  X(oldsession, string, "session before a login", "", "4294967295")                                \
  X(signal, string, "signal number", "", "31")                                                     \
  X(seccompaction, string, "seccomp return code (hex)", "", "0x80000000")                          \
  X(nftable, string, "netfilter table changed", "", "filter")                                      \
  X(nfentries, string, "number of netfilter entries changed", "", "3")                             \
  X(nffamily, string, "netfilter protocol family", "", "2")                                        \
  X(targetpid, string, "pid of the process acted on (signal, ptrace)", "", "512")                  \
  X(targetprocessname, string, "name of the process acted on", "", "sleep")                        \
  X(extra, array,                                                                                  \
    "every record field that has no key of its own, as TYPE.field=value "                          \
    "(PATH fields of the other PATH records as PATHn.field=value)",                                \
    "any record", "[\"BPRM_FCAPS.fp=0\"]")                                                         \
  X(truncated, array, "values cut to max_value_bytes, as key:bytes_as_received", "encoder",        \
    "[\"command:102400\"]")

enum class DetailKey : std::uint8_t {
#define AURELAY_DETAIL_ENUM(name, shape, meaning, source, example) name,
  AURELAY_DETAIL_KEYS(AURELAY_DETAIL_ENUM)
#undef AURELAY_DETAIL_ENUM
      count
};

inline constexpr std::size_t kDetailKeyCount = static_cast<std::size_t>(DetailKey::count);

struct DetailKeySpec {
  std::string_view name;
  DetailShape shape;
  std::string_view meaning;
  // Where the value comes from besides the record fields of kFieldRows (mozdef/field_map.h),
  // which give the rest of the docs' `from` column; "(...)" qualifies those fields.
  std::string_view source;
  std::string_view example;
};

// Every key, in the order documents carry them.
std::span<const DetailKeySpec> detail_keys();
inline const DetailKeySpec& detail_key(DetailKey key) {
  return detail_keys()[static_cast<std::size_t>(key)];
}

// docs/mozdef-fields.md: the field reference, one row per key (tools/generate_docs.sh writes it;
// a unit test fails when the checked-in file is stale).
std::string render_field_reference();

}  // namespace aurelay::mozdef
