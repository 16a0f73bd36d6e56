// The fixed set of `details` keys a MozDef document may carry, and which record field feeds
// which key. One table: the encoder writes keys in its order, the conformance test checks that a
// document holds no other key, and docs/mozdef-fields.md documents each row (a test checks that
// every key here has a row there).
//
// MozDef's index holds at most 1,000 fields for every source it ingests, so key names are never
// generated from data: a record field that has no key here is kept as one string
// "TYPE.field=value" in the `extra` array.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace aurelay::output {

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
  X(arch, string, "machine name of the syscall's architecture", "SYSCALL/SECCOMP arch", "x86_64")  \
  X(syscall, string, "syscall name (the number when unknown for the arch)",                        \
    "SYSCALL/SECCOMP syscall", "openat")                                                           \
  X(success, boolean, "whether the syscall or operation succeeded",                                \
    "SYSCALL success (yes/no); res (success/failed, 1/0) of other records", "true")                \
  X(exit, string, "syscall return value", "SYSCALL exit", "3")                                     \
  X(a0, string, "first syscall argument (hex)", "SYSCALL a0", "ffffff9c")                          \
  X(a1, string, "second syscall argument (hex)", "SYSCALL a1", "7ffd2b1c")                         \
  X(a2, string, "third syscall argument (hex)", "SYSCALL a2", "241")                               \
  X(a3, string, "fourth syscall argument (hex)", "SYSCALL a3", "1b6")                              \
  X(items, string, "number of PATH records", "SYSCALL items", "2")                                 \
  X(personality, string, "process personality when not the default", "SYSCALL per", "400000")      \
  X(pid, string, "process id", "pid of SYSCALL and user-space messages", "471")                    \
  X(ppid, string, "parent process id", "SYSCALL ppid", "442")                                      \
  X(parentprocess, string,                                                                         \
    "parent's process name (comm), from aurelay's process table "                                  \
    "(live: /proc when the stream has not shown it)",                                              \
    "SYSCALL comm of the parent pid", "sftp")                                                      \
  X(originaluid, string, "login (audit) uid", "auid", "1001")                                      \
  X(originaluser, string, "login (audit) user name; \"unset\" for 4294967295", "auid", "alice")    \
  X(uid, string, "user id", "uid", "0")                                                            \
  X(user, string, "user name of uid", "uid", "root")                                               \
  X(gid, string, "group id", "gid", "0")                                                           \
  X(group, string, "group name of gid", "gid", "root")                                             \
  X(euid, string, "effective uid", "SYSCALL euid", "0")                                            \
  X(suid, string, "saved uid", "SYSCALL suid", "0")                                                \
  X(fsuid, string, "filesystem uid", "SYSCALL fsuid", "0")                                         \
  X(egid, string, "effective gid", "SYSCALL egid", "0")                                            \
  X(sgid, string, "saved gid", "SYSCALL sgid", "0")                                                \
  X(fsgid, string, "filesystem gid", "SYSCALL fsgid", "0")                                         \
  X(tty, string, "controlling terminal", "tty", "pts0")                                            \
  X(session, string, "audit session id", "ses", "7")                                               \
  X(processname, string, "the audited program's name (comm)", "comm", "bash")                      \
  X(process, string, "the audited program's executable", "exe", "/usr/bin/bash")                   \
  X(subject, string, "security context of the process", "subj", "unconfined")                      \
  X(auditkey, string, "key of the rule that fired", "SYSCALL key (-k)", "exec")                    \
  X(command, string,                                                                               \
    "the command line: EXECVE arguments joined by spaces (any byte), or "                          \
    "the command a user-space message names",                                                      \
    "EXECVE a0..aN; USER_CMD cmd", "ls -l /etc")                                                   \
  X(argc, string, "number of arguments", "EXECVE argc", "3")                                       \
  X(argcomplete, string, "\"false\" when fewer arguments than argc arrived", "EXECVE", "false")    \
  X(proctitle, string, "process title: argv joined by spaces, cut by the kernel at 128 bytes",     \
    "PROCTITLE proctitle", "bash -c id")                                                           \
  X(cwd, string, "working directory", "CWD cwd; USER_CMD cwd", "/root")                            \
  X(path, string, "the path the syscall acted on: the first PATH record that is not a PARENT",     \
    "PATH name", "/etc/passwd")                                                                    \
  X(nametype, string, "what happened to path", "PATH nametype", "NORMAL")                          \
  X(inode, string, "inode of path", "PATH inode", "1234")                                          \
  X(dev, string,                                                                                   \
    "device of path (major:minor), or the network interface of a promiscuous "                     \
    "mode change",                                                                                 \
    "PATH dev; ANOM_PROMISCUOUS dev", "fd:01")                                                     \
  X(mode, string, "file mode of path (octal)", "PATH mode", "0100644")                             \
  X(ouid, string, "owner uid of path", "PATH ouid", "0")                                           \
  X(ogid, string, "owner gid of path", "PATH ogid", "0")                                           \
  X(rdev, string, "device number when path is a device", "PATH rdev", "00:00")                     \
  X(paths, array, "every PATH name in record order (events with two or more PATH records)",        \
    "PATH name", "[\"/etc/\", \"/etc/passwd+\"]")                                                  \
  X(nametypes, array, "nametype of each entry of paths", "PATH nametype",                          \
    "[\"PARENT\", \"CREATE\"]")                                                                    \
  X(family, string, "socket address family", "SOCKADDR saddr", "inet")                             \
  X(address, string, "socket address: IP, unix path or netlink port id", "SOCKADDR saddr",         \
    "127.0.0.1")                                                                                   \
  X(port, string, "socket port (inet, inet6)", "SOCKADDR saddr", "443")                            \
  X(saddr, string, "raw socket address (hex) of a family aurelay does not decode",                 \
    "SOCKADDR saddr", "1c000000")                                                                  \
  X(destinationipaddress, ip,                                                                      \
    "peer address of connect, sendto, sendmsg (MozDef's GeoIP "                                    \
    "plugins read it)",                                                                            \
    "SOCKADDR saddr", "93.184.216.34")                                                             \
  X(destinationport, string, "peer port of connect, sendto, sendmsg", "SOCKADDR saddr", "443")     \
  X(sourceipaddress, ip,                                                                           \
    "peer address of accept, accept4, recvfrom, recvmsg; the remote "                              \
    "address of a login or authentication",                                                        \
    "SOCKADDR saddr; addr", "192.0.2.7")                                                           \
  X(sourceport, string, "peer port of accept, accept4, recvfrom, recvmsg; rport",                  \
    "SOCKADDR saddr; rport", "51234")                                                              \
  X(operation, string, "what a user-space or configuration message did", "op", "PAM:session_open") \
  X(username, string, "account a login, authentication or account change names", "acct", "alice")  \
  X(accountid, string, "account id a user or group change names", "id", "1002")                    \
  X(remotehostname, string, "remote host of a login or authentication", "hostname",                \
    "laptop.example")                                                                              \
  X(terminal, string, "terminal of a login or authentication", "terminal", "ssh")                  \
  X(grantors, string, "PAM modules that granted it", "grantors", "pam_unix")                       \
  X(unit, string, "systemd unit", "SERVICE_START/STOP unit", "ssh")                                \
  X(message, string, "free text of a user-space message without fields", "msg='...'", "text")      \
  X(rulelist, string, "audit rule list number of a rule change", "CONFIG_CHANGE list", "4")        \
  X(rulekey, string, "key of the audit rule added or removed", "CONFIG_CHANGE key", "exec")        \
  X(promiscuous, string, "new promiscuous flag (1 on, 0 off)", "ANOM_PROMISCUOUS prom", "256")     \
  X(oldpromiscuous, string, "previous promiscuous flag", "ANOM_PROMISCUOUS old_prom", "0")         \
  X(oldoriginaluid, string, "login uid before a login", "LOGIN old-auid", "4294967295")            \
  X(oldsession, string, "session before a login", "LOGIN old-ses", "4294967295")                   \
  X(signal, string, "signal number", "SECCOMP/ANOM_ABEND sig", "31")                               \
  X(seccompaction, string, "seccomp return code (hex)", "SECCOMP code", "0x80000000")              \
  X(nftable, string, "netfilter table changed", "NETFILTER_CFG table", "filter")                   \
  X(nfentries, string, "number of netfilter entries changed", "NETFILTER_CFG entries", "3")        \
  X(nffamily, string, "netfilter protocol family", "NETFILTER_CFG family", "2")                    \
  X(targetpid, string, "pid of the process acted on (signal, ptrace)", "OBJ_PID opid", "512")      \
  X(targetprocessname, string, "name of the process acted on", "OBJ_PID ocomm", "sleep")           \
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

}  // namespace aurelay::output
