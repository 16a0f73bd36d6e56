// The local audit log, as auditd keeps /var/log/audit/audit.log: every record written in
// auditd's format the moment the correlator thread takes its batch (before correlation, so an
// output outage never delays it), flushed, rotated and guarded against a full disk with
// auditd.conf's settings and actions, and DAEMON_START / DAEMON_ROTATE / DAEMON_RESUME /
// DAEMON_END records of its own. One owner thread writes; rotation and resumption (SIGUSR1,
// SIGUSR2) are asked for from any thread and done by the owner at its next batch or tick().
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "auditlog/log_settings.h"
#include "auditlog/record_format.h"
#include "base/rate_limited_log.h"
#include "base/result.h"
#include "base/stats.h"
#include "correlate/record_batch.h"

namespace aurelay::auditlog {

#define AURELAY_AUDIT_LOG_STATS(COUNTER, GAUGE)                                                  \
  COUNTER(audit_log_records, "audit log records", "Records written to the local audit log")      \
  COUNTER(audit_log_bytes, "audit log bytes", "Bytes written to the local audit log")            \
  COUNTER(audit_log_records_not_written, "audit log records not written",                        \
          "Records the local audit log did not take: logging suspended, or the write failed")    \
  COUNTER(audit_log_rotations, "audit log rotations", "Rotations of the local audit log")        \
  COUNTER(audit_log_write_errors, "audit log write errors",                                      \
          "Failed writes, flushes or rotations of the local audit log (a full disk included)")   \
  COUNTER(audit_log_disk_actions, "audit log disk actions",                                      \
          "space_left, admin_space_left, disk_full and disk_error actions taken")                \
  COUNTER(audit_log_auparse_lookups, "audit log auparse lookups",                                \
          "Records enriched through libauparse (the common kernel records take a shorter path)") \
  GAUGE(audit_log_suspended, "audit log suspended",                                              \
        "1 while the local audit log is suspended (by a disk or size action); SIGUSR2 resumes")  \
  GAUGE(audit_log_size_bytes, "audit log size bytes", "Size of the current local audit log file")

struct AuditLogStats {
  AURELAY_STATS_MEMBERS(AURELAY_AUDIT_LOG_STATS)
};

// Who sent a signal, for the DAEMON_* record it causes (auditd writes the sender's ids).
struct SignalSender {
  pid_t pid = 0;
  uid_t uid = 0;
};

// The node name of every line under `format` (name_format; `name` for user). Empty for none.
Result<std::string> node_name(NameFormat format, const std::string& name);

class AuditLog {
 public:
  // Opens (creates) log_file as auditd does: the directory 0750 (0700 without a log_group) and
  // the file 0640 (0600), owned by `owner_uid` and log_group; logs beyond num_logs are removed
  // under ROTATE. Writes DAEMON_START. `stats` may be null (the log keeps its own).
  static Result<std::unique_ptr<AuditLog>> open(const AuditLogConfig& config, AuditLogStats* stats,
                                                uid_t owner_uid = 0);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Writes every record of `batch` (EOE records are left out, as auditd does). Owner thread.
  void write(const correlate::RecordBatch& batch);
  // Does what was asked for from other threads; the owner calls it when idle.
  void tick();
  // Writes DAEMON_END (the stop's sender) and flushes; nothing is written after. Owner thread.
  void close(SignalSender stopped_by);

  // From any thread: rotate now (SIGUSR1), resume a suspended log (SIGUSR2).
  void request_rotate(SignalSender sender);
  void request_resume(SignalSender sender);

  bool suspended() const { return suspended_; }
  const std::string& path() const { return config_.log_file; }

 private:
  AuditLog(const AuditLogConfig& config, LogPolicy policy, std::string node, gid_t group,
           uid_t owner, AuditLogStats* stats);
  Status open_file();
  void close_file();
  void fix_permissions();
  // Appends `record` to the pending bytes; writes them out first when rotation is due.
  void append_daemon_record(std::uint32_t type, const std::string& text);
  void flush_pending(std::uint64_t records);
  void after_write();
  void check_size();
  void check_space();
  void rotate(unsigned int num_logs);
  void shift_logs();
  void remove_excess_logs();
  void disk_full();
  void disk_error(const char* what, int error);
  void take_action(const DiskAction& action, const char* why);
  void suspend(const char* why);
  void resume(SignalSender sender);
  void request_flush();
  void flush_thread_main();
  std::string sender_fields(const char* op, SignalSender sender) const;

  AuditLogConfig config_;
  LogPolicy policy_;
  std::string node_;
  gid_t group_ = 0;
  uid_t owner_ = 0;
  StatsStorage<AuditLogStats> stats_;
  Enricher enricher_;

  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string pending_;
  std::uint64_t records_since_flush_ = 0;
  bool suspended_ = false;
  bool space_left_ = true;     // false once disk_full ran, until resumed
  bool space_warned_ = false;  // space_left action done
  bool admin_warned_ = false;  // admin_space_left action done
  unsigned int disk_errors_logged_ = 0;
  unsigned int last_log_ = 1;  // KEEP_LOGS: the highest number seen
  std::uint32_t daemon_serial_ = 0;
  bool closed_ = false;
  RateLimitedLog warning_;

  // Requests from other threads.
  std::mutex requests_mutex_;
  std::atomic<bool> requests_pending_{false};
  bool rotate_requested_ = false;  // under requests_mutex_
  bool resume_requested_ = false;
  SignalSender rotate_sender_;
  SignalSender resume_sender_;

  // INCREMENTAL_ASYNC: a thread that fsyncs when asked (started by the first request).
  std::mutex flush_mutex_;
  std::condition_variable flush_wanted_;
  bool flush_requested_ = false;  // under flush_mutex_
  bool flush_stop_ = false;
  std::thread flush_thread_;
};

}  // namespace aurelay::auditlog
