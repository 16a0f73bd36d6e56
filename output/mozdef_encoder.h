// Turns one audit event into one MozDef JSON document (the fields audisp-json sent).
//
// Document: {"category", "summary", "severity", "hostname", "processid", "processname",
// "timestamp", "tags": [...], "details": {...}}; every value in details is a string.
//
// - timestamp: the event's own time, ISO-8601 UTC with milliseconds: 2026-11-22T10:03:09.858+00:00
// - hostname: the event's node= when present, else EncoderConfig::hostname (gethostname() when
//   that is empty). processid/processname: the audited process (pid and comm, or exe when there
//   is no comm) when the event names one; otherwise aurelay's own pid and "aurelay".
// - category: syscall events (a SYSCALL record) take audisp-json's categories where they apply
//   (execve, write, read, attribute, chmod, chown, ptrace, time, specialfiles, socket, listen;
//   promiscuous when an ANOM_PROMISCUOUS record is present), else the syscall name ("connect"),
//   "syscall" when the number is unknown for the arch. open/openat with O_WRONLY, O_RDWR,
//   O_CREAT or O_TRUNC in their flags are "write" (audisp-json called every open "read"). Other
//   events: the type name of their first record in lower case ("user_login", "unknown1234" for
//   unnamed types).
// - summary: "Execve: <command>", "Write: <path>", "Read: <path>", "Chmod: <path>", ...,
//   "Promisc: Interface <dev> set promiscuous on|off", "Connect: 127.0.0.1:443" (other syscalls:
//   "<Name>: <path or address>" or "<Name> by <processname>"); other events "<TYPE>:" followed by
//   op= acct= id= cmd= auid= comm= exe= dev= key= res= of the first record when present.
// - details, always: auditserial, eventid ("sec.msec:serial", "node:sec.msec:serial" with a
//   node), recordtypes (type names in record order, comma separated), completion (eoe,
//   terminal, timeout, overflow, end_of_input, fragment); fragment = "true" for fragments.
//   SYSCALL (and the first record of a non-syscall event, user messages with their nested
//   msg='...' fields in place of msg): every field, renamed as audisp-json did: arch -> machine
//   name, syscall -> name, auid -> originaluid + originaluser (name), uid -> uid + user,
//   gid -> gid + group, ses -> session, comm -> processname, exe -> process, key -> auditkey.
//   EXECVE -> command (arguments joined by single spaces, any byte) and argc, plus
//   argcomplete = "false" when fewer arguments than argc arrived. CWD -> cwd. PROCTITLE ->
//   proctitle (argv joined by spaces). SOCKADDR -> family, address, port (unknown families:
//   family number and the raw saddr).
//   PATH: the first record whose nametype is not PARENT (else the first PATH) gives path (name=),
//   inode, dev, mode, ouid, ogid, rdev, nametype and its other fields unnumbered; when there are
//   two or more PATH records every one of them also appears numbered by its position among the
//   PATH records: path0, inode0, nametype0, ..., path1, ...
//   Any other record (and a repeated CWD/SOCKADDR/PROCTITLE/SYSCALL): every field as
//   "<type>_<key>" with the lower-case type name ("config_change_op"), "<type><k>_<key>" for
//   the k-th further record of that type. Nothing is dropped; EOE has no fields.
//   Values the kernel hex-encodes (name, cwd, comm, exe, key, cmd, acct, data, ...) are decoded
//   when written unquoted.
// - Bytes: any value may hold any byte. Control characters are escaped (\n, \u0001, ...).
//   Invalid UTF-8: each byte that is not part of a valid UTF-8 sequence is written as the
//   code point U+00XX of the same value (the Latin-1 reading of that byte), so the original
//   bytes stay recoverable; EncoderCounters::invalid_utf8_fixed counts the values so fixed.
//   Nothing is truncated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "correlate/event.h"
#include "output/document_batch.h"

namespace aurelay::output {

struct EncoderConfig {
  std::string hostname;  // "hostname"; the event's node= wins when present
  std::string severity = "INFO";
  std::string tags = "aurelay,audit";  // comma separated list, becomes the "tags" array
  std::size_t id_cache_size = 4096;    // uid/gid -> name cache entries (each of users, groups)
};

struct EncoderCounters {
  std::uint64_t documents = 0;
  std::uint64_t invalid_utf8_fixed = 0;  // values whose invalid UTF-8 bytes were escaped
  std::uint64_t failed = 0;              // events that could not be encoded (never sent)
  std::uint64_t fragments = 0;           // documents of fragment events
  std::uint64_t unknown_syscalls = 0;    // SYSCALL records whose number/arch has no name
  std::uint64_t id_lookups = 0;          // getpwuid_r/getgrgid_r calls (id cache misses)
};

class MozdefEncoder {
 public:
  explicit MozdefEncoder(EncoderConfig config);
  ~MozdefEncoder();
  MozdefEncoder(const MozdefEncoder&) = delete;
  MozdefEncoder& operator=(const MozdefEncoder&) = delete;

  // Appends one document for `event` to `batch` (and ends it). Returns false, leaving the batch
  // as it was, when the event cannot be encoded.
  bool encode(const correlate::Event& event, DocumentBatch& batch);

  const EncoderCounters& counters() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::output
