// Turns one audit event into one MozDef JSON document that MozDef indexes, enriches and alerts on
// unchanged (its index template, plugins and alerts: ../shared/MOZDEF.md in the development
// checkout; docs/mozdef-fields.md lists every key).
//
// Document: {"category", "summary", "severity", "hostname", "processid", "processname",
// "timestamp", "tags": [...], "details": {...}}.
//
// - Identity: as audisp-json's documents by default: top-level processname is the shipper
//   (EncoderConfig::shipper_name, "audisp-json") and processid aurelay's pid, tags name
//   audisp-json and auditd, so MozDef's auditd plugins and alerts take the documents; the
//   audited program is details.processname (comm) and details.process (exe). An empty
//   shipper_name puts the audited program at the top level instead.
// - timestamp: the event's own time, ISO-8601 UTC with milliseconds: 2026-11-22T10:03:09.858+00:00
// - hostname: the event's node= when present, else EncoderConfig::hostname.
// - category/summary: audisp-json's where it had one (execve "Execve: <command>", write "Write:
//   <path>", read, attribute, chmod, chown, ptrace, time, specialfiles, socket, listen), the
//   syscall name otherwise ("connect", "Connect: 127.0.0.1:443"); an open with write intent is
//   "write". An event whose first record is CONFIG_CHANGE, NETFILTER_CFG, LOGIN or
//   ANOM_PROMISCUOUS keeps that record's category (config_change, netfilter_cfg, login,
//   promiscuous) with a summary that says what happened ("Audit rule added by auditctl: key
//   exec list 4", "Promisc: Interface lo set promiscuous on by ip"). Other events: the lower-case
//   type name of their first record and "<TYPE>: op=... acct=... res=...".
// - details: only the keys of mozdef/details.h, in its order. Strings, except success
//   (a JSON boolean) and the arrays paths, nametypes, extra, truncated; sourceipaddress and
//   destinationipaddress only when they parse as IP addresses. The SYSCALL record's values come
//   first; a later record with another value for a key keeps it in `extra` as TYPE.field=value,
//   as every field that has no key. Values `?`, `(null)` and `(none)` mean "no value" and are
//   left out; PATH file-capability fields equal to 0 too. Enriched fields (after 0x1D) are
//   auditd's reading of the record and are not copied. Values the kernel hex-encodes are
//   decoded.
// - Bytes: any value may hold any byte. Control characters are escaped (\n, \u0001, ...).
//   Invalid UTF-8: each byte that is not part of a valid UTF-8 sequence is written as the code
//   point U+00XX of the same value, so the original bytes stay recoverable. A value longer than
//   max_value_bytes (UTF-8 bytes, after that repair; Elasticsearch refuses a keyword over
//   32,766) is cut at a character boundary and named in details.truncated as "key:bytes".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/document_batch.h"
#include "correlate/event.h"
#include "correlate/process_table.h"

namespace aurelay::mozdef {

// Defaults of the options of the same names (the option table reads them too).
inline constexpr std::string_view kDefaultTags = "audisp-json,auditd,audit,aurelay";
inline constexpr std::string_view kDefaultShipperName = "audisp-json";
inline constexpr std::size_t kDefaultMaxValueBytes = 32000;

// Scratch (document stream, decode buffers, execve arguments) the encoder keeps between
// documents while busy, and once the input is quiet.
inline constexpr std::size_t kScratchKeptWhileBusyBytes = std::size_t{1} << 20;
inline constexpr std::size_t kScratchKeptIdleBytes = std::size_t{64} << 10;

struct EncoderConfig {
  std::string hostname;  // "hostname"; the event's node= wins when present
  std::string severity = "INFO";
  std::string tags{kDefaultTags};    // comma separated: the "tags" array
  std::size_t id_cache_size = 4096;  // uid/gid -> name cache entries (each of users, groups)
  std::string shipper_name{
      kDefaultShipperName};  // top-level processname; empty: the audited program
  std::size_t max_value_bytes = kDefaultMaxValueBytes;  // longer values are cut (UTF-8 bytes)
  correlate::ProcessTableConfig process_table;          // details.parentprocess
};

// clang-format off
#define AURELAY_ENCODER_STATS(COUNTER, GAUGE)                                                     \
  COUNTER(documents_encoded, "documents encoded", "MozDef documents encoded")                  \
  COUNTER(continuation_documents, "continuation documents", "Documents of continuation events") \
  COUNTER(values_truncated, "values truncated", "Values cut to max_value_bytes")               \
  COUNTER(invalid_utf8_fixed, "values with invalid UTF-8 escaped", "Values whose invalid UTF-8 bytes were escaped") \
  COUNTER(extra_fields, "fields kept in extra", "Fields kept in details.extra")                \
  COUNTER(unknown_syscalls, "unknown syscalls", "SYSCALL records whose number has no name")     \
  COUNTER(id_lookups, "uid/gid name lookups", "User and group name lookups (id cache misses)")
// clang-format on

struct EncoderStats {
  AURELAY_STATS_MEMBERS(AURELAY_ENCODER_STATS)
};

class MozdefEncoder {
 public:
  // Counts into `stats` and `process_table_stats` when given (the daemon's Metrics), otherwise
  // into its own.
  explicit MozdefEncoder(EncoderConfig config, EncoderStats* stats = nullptr,
                         correlate::ProcessTableStats* process_table_stats = nullptr);
  ~MozdefEncoder();
  MozdefEncoder(const MozdefEncoder&) = delete;
  MozdefEncoder& operator=(const MozdefEncoder&) = delete;

  // Appends one document for `event` to `batch` (and ends it). Every event has a document:
  // whatever its records hold is written (values repaired or cut, unknown fields in `extra`).
  void encode(const correlate::Event& event, DocumentBatch& batch);
  // Gives back the scratch large events grew beyond what ordinary documents need; the pipeline
  // calls it once the input has been quiet for a while.
  void release_idle_memory();
  // Bytes of scratch the encoder holds between documents.
  std::size_t scratch_bytes() const;

  const EncoderStats& stats() const;
  // Lookups of parent processes (details.parentprocess).
  const correlate::ProcessTableStats& process_table_stats() const;

  struct State;  // defined in the .cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace aurelay::mozdef
