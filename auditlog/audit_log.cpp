#include "auditlog/audit_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libaudit.h>
#include <netdb.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "base/write_all.h"

#ifndef AURELAY_VERSION
#define AURELAY_VERSION "0"
#endif

namespace aurelay::auditlog {

namespace {

constexpr std::uint64_t kMebibyte = std::uint64_t{1024} * 1024;
// auditd never takes the last blocks of the file system.
constexpr std::uint64_t kReservedBlocks = 5;

std::string strerror_text(int error) { return std::strerror(error); }

std::string dirname_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A small number from a /proc file (loginuid, sessionid), -1 when unreadable.
std::uint32_t read_proc_number(pid_t pid, const char* what) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/" + what);
  std::uint64_t value = 4294967295U;
  if (!(file >> value)) return 4294967295U;
  return static_cast<std::uint32_t>(value);
}

Result<gid_t> group_id(const std::string& name) {
  if (name.empty() || name == "root") return gid_t{0};
  gid_t number = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (error == std::errc() && end == name.data() + name.size()) return number;
  group entry{};
  group* found = nullptr;
  std::array<char, 4096> buffer{};
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return fail(kExitConfigError, "log_group: no group named '" + name + "'");
  }
  return found->gr_gid;
}

Status create_directories(const std::string& directory, uid_t owner, gid_t group) {
  if (directory.empty() || directory == "/" || directory == ".") return {};
  struct stat st {};
  if (::stat(directory.c_str(), &st) == 0) return {};
  if (Status parent = create_directories(dirname_of(directory), owner, group); !parent) {
    return parent;
  }
  if (::mkdir(directory.c_str(), 0750) != 0 && errno != EEXIST) {
    return fail("cannot create " + directory + ": " + strerror_text(errno));
  }
  if (::chown(directory.c_str(), owner, group) != 0) {
    spdlog::warn("audit log: cannot give {} to uid {} gid {}: {}", directory, owner, group,
                 strerror_text(errno));
  }
  return {};
}

// Runs `program` with `argument` (may be null) detached from aurelay's signal mask, no
// environment (as auditd does); the pid, or -1.
pid_t spawn(const std::string& program, const char* argument) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  std::string program_copy = program;
  std::string argument_copy = argument == nullptr ? "" : argument;
  char* argv[3] = {program_copy.data(), argument == nullptr ? nullptr : argument_copy.data(),
                   nullptr};
  char* envp[1] = {nullptr};
  pid_t pid = -1;
  const int error = posix_spawn(&pid, program.c_str(), nullptr, &attributes, argv, envp);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    spdlog::error("audit log: cannot run {}: {}", program, strerror_text(error));
    return -1;
  }
  return pid;
}

std::vector<pid_t>& children() {
  static std::vector<pid_t> pids;  // owner thread only
  return pids;
}

}  // namespace

Result<std::string> node_name(NameFormat format, const std::string& name) {
  switch (format) {
    case NameFormat::none:
      return std::string();
    case NameFormat::user:
      if (name.empty()) return fail(kExitConfigError, "name_format = user needs `name`");
      return name;
    case NameFormat::hostname:
    case NameFormat::fqd:
    case NameFormat::numeric:
      break;
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    return fail("name_format: cannot read the host name: " + strerror_text(errno));
  }
  if (format == NameFormat::hostname) return std::string(host.data());
  addrinfo hints{};
  hints.ai_flags = format == NameFormat::fqd ? AI_CANONNAME : AI_ADDRCONFIG;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int error = ::getaddrinfo(host.data(), nullptr, &hints, &found); error != 0) {
    return fail(std::string("name_format: cannot resolve ") + host.data() + ": " +
                gai_strerror(error));
  }
  std::string result;
  if (format == NameFormat::fqd) {
    result = found->ai_canonname == nullptr ? host.data() : found->ai_canonname;
  } else {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* address =
        found->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr);
    if (::inet_ntop(found->ai_family, address, text.data(), text.size()) != nullptr) {
      result = text.data();
    }
  }
  ::freeaddrinfo(found);
  if (result.empty()) return fail(std::string("name_format: no address for ") + host.data());
  return result;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const AuditLogConfig& config, AuditLogStats* stats,
                                                 uid_t owner_uid) {
  auto policy = parse_log_policy(config);
  if (!policy) return fail(kExitConfigError, policy.error());
  auto node = node_name(config.name_format, config.name);
  if (!node) return node.failure();
  auto group = group_id(config.log_group);
  if (!group) return group.failure();
  const std::string directory = dirname_of(config.log_file);
  if (Status made = create_directories(directory, owner_uid, *group); !made) {
    return made.failure("log_file: ");
  }
  struct stat st {};
  if (::stat(directory.c_str(), &st) == 0 && (st.st_mode & (S_IWOTH | S_ISVTX)) != 0) {
    return fail(kExitConfigError, "log_file: " + directory +
                                      " is writable by everyone; the audit log needs a "
                                      "directory of its own (its mode is set to 0750)");
  }
  std::unique_ptr<AuditLog> log(
      new AuditLog(config, *policy, std::move(*node), *group, owner_uid, stats));
  log->fix_permissions();
  if (Status opened = log->open_file(); !opened) return opened.failure();
  log->remove_excess_logs();
  log->check_size();
  log->check_space();
  // The start record, as auditd writes it (subj only when the process has a label).
  utsname system{};
  ::uname(&system);
  std::string subject;
  {
    std::ifstream current("/proc/self/attr/current");
    std::getline(current, subject, '\0');
    while (!subject.empty() && (subject.back() == '\n' || subject.back() == '\0'))
      subject.pop_back();
  }
  char text[512];
  std::snprintf(
      text, sizeof text,
      "op=start ver=%s format=%s kernel=%.56s auid=%u pid=%d uid=%u ses=%u %s%s%sres=success",
      AURELAY_VERSION, config.format == LogFormat::raw ? "raw" : "enriched", system.release,
      audit_getloginuid(), ::getpid(), ::getuid(), audit_get_session(),
      subject.empty() ? "" : "subj=", subject.c_str(), subject.empty() ? "" : " ");
  log->append_daemon_record(AUDIT_DAEMON_START, text);
  log->flush_pending(1);
  return log;
}

AuditLog::AuditLog(const AuditLogConfig& config, LogPolicy policy, std::string node, gid_t group,
                   uid_t owner, AuditLogStats* stats)
    : config_(config),
      policy_(std::move(policy)),
      node_(std::move(node)),
      group_(group),
      owner_(owner),
      stats_(stats) {
  std::random_device seed;
  daemon_serial_ = seed() % 10000;
}

AuditLog::~AuditLog() {
  if (!closed_) close(SignalSender{::getpid(), ::getuid()});
}

void AuditLog::fix_permissions() {
  const bool grouped = group_ != 0;
  const std::string directory = dirname_of(config_.log_file);
  // A log handed to an unprivileged user: new files after a rotation take the directory's group.
  const mode_t directory_mode = (grouped ? 0750 : 0700) | (owner_ != 0 && grouped ? S_ISGID : 0);
  if (::chmod(directory.c_str(), directory_mode) != 0 ||
      ::chown(directory.c_str(), owner_, group_) != 0) {
    spdlog::debug("audit log: cannot set the mode and owner of {}: {}", directory,
                  strerror_text(errno));
  }
  for (unsigned int i = 1; i < config_.num_logs; ++i) {
    const std::string rotated = config_.log_file + "." + std::to_string(i);
    if (::chmod(rotated.c_str(), grouped ? 0440 : 0400) != 0 && errno == ENOENT) break;
  }
  (void)::chmod(config_.log_file.c_str(), grouped ? 0640 : 0600);
}

Status AuditLog::open_file() {
  int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
  if (config_.flush == FlushMode::data) flags |= O_DSYNC;
  if (config_.flush == FlushMode::sync) flags |= O_SYNC;
  int fd = ::open(config_.log_file.c_str(), flags);
  if (fd < 0 && errno == ENOENT) fd = ::open(config_.log_file.c_str(), flags | O_CREAT, 0600);
  if (fd < 0) {
    return fail("cannot open the audit log " + config_.log_file + ": " + strerror_text(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("cannot stat the audit log " + config_.log_file + ": " + strerror_text(error));
  }
  const bool grouped = group_ != 0;
  if (::fchmod(fd, grouped ? 0640 : 0600) != 0 ||
      ((st.st_uid != owner_ || st.st_gid != group_) && ::fchown(fd, owner_, group_) != 0)) {
    const int error = errno;
    if (::geteuid() == 0) {
      ::close(fd);
      return fail("cannot set the mode and owner of the audit log " + config_.log_file + ": " +
                  strerror_text(error));
    }
  }
  {
    std::lock_guard lock(flush_mutex_);  // the flush thread copies fd_ under it
    fd_ = fd;
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  set(stats_->audit_log_size_bytes, static_cast<std::int64_t>(size_));
  return {};
}

void AuditLog::close_file() {
  if (fd_ < 0) return;
  std::lock_guard lock(flush_mutex_);  // the flush thread copies fd_ under it
  ::close(fd_);
  fd_ = -1;
}

std::string AuditLog::sender_fields(const char* op, SignalSender sender) const {
  return std::string("op=") + op +
         " auid=" + std::to_string(read_proc_number(sender.pid, "loginuid")) +
         " uid=" + std::to_string(sender.uid) +
         " ses=" + std::to_string(read_proc_number(sender.pid, "sessionid")) +
         " pid=" + std::to_string(sender.pid) + " res=success";
}

void AuditLog::append_daemon_record(std::uint32_t type, const std::string& text) {
  if (suspended_ || fd_ < 0) {
    increment(stats_->audit_log_records_not_written);
    return;
  }
  timeval now{};
  ::gettimeofday(&now, nullptr);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "audit(%lld.%03u:%u): ", static_cast<long long>(now.tv_sec),
                static_cast<unsigned>(now.tv_usec / 1000), daemon_serial_++);
  const std::size_t start = pending_.size();
  append_raw_line(pending_, node_, type, std::string(stamp) + text);
  if (config_.format == LogFormat::enriched) enricher_.enrich(pending_, start, type);
  pending_ += '\n';
  size_ += pending_.size() - start;
}

void AuditLog::write(const correlate::RecordBatch& batch) {
  if (requests_pending_.load(std::memory_order_acquire)) tick();
  if (closed_) return;
  std::uint64_t records = 0;
  std::uint64_t skipped = 0;
  const std::uint64_t lookups_before = enricher_.auparse_lookups();
  const std::uint64_t max_bytes = config_.max_log_file_mib * kMebibyte;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::uint32_t type = batch.type(i);
    if (type == correlate::kTypeEoe) continue;  // for real-time readers only, as auditd
    if (suspended_ || fd_ < 0) {
      ++skipped;
      continue;
    }
    const std::size_t start = pending_.size();
    if (type == correlate::RecordBatch::kLogLine) {
      std::string_view line = batch.text(i);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
      if (line.empty() || line.find("type=EOE ") != std::string_view::npos) continue;
      pending_ += line;
      if (config_.format == LogFormat::enriched && line.find('\x1d') == std::string_view::npos) {
        enricher_.enrich_with_auparse(pending_, start);
      }
    } else {
      append_raw_line(pending_, node_, type, batch.text(i));
      if (config_.format == LogFormat::enriched) enricher_.enrich(pending_, start, type);
    }
    pending_ += '\n';
    size_ += pending_.size() - start;
    ++records;
    if (max_bytes != 0 && size_ >= max_bytes) {
      flush_pending(records);
      records = 0;
      check_size();
    }
  }
  if (skipped != 0) increment(stats_->audit_log_records_not_written, skipped);
  increment(stats_->audit_log_auparse_lookups, enricher_.auparse_lookups() - lookups_before);
  flush_pending(records);
  if (fd_ >= 0 && !suspended_) check_space();
}

void AuditLog::flush_pending(std::uint64_t records) {
  if (pending_.empty()) return;
  if (fd_ < 0) {
    increment(stats_->audit_log_records_not_written, records);
    pending_.clear();
    return;
  }
  const bool written = write_all(fd_, pending_);
  const int error = errno;
  if (!written) {
    increment(stats_->audit_log_write_errors);
    increment(stats_->audit_log_records_not_written, records);
    // What did reach the file is in its size; rereading it keeps max_log_file honest.
    struct stat st {};
    if (::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
    pending_.clear();
    if (error == ENOSPC && space_left_) {
      space_left_ = false;
      disk_full();
    } else if (error != ENOSPC) {
      disk_error("write", error);
    }
    return;
  }
  increment(stats_->audit_log_records, records);
  increment(stats_->audit_log_bytes, pending_.size());
  set(stats_->audit_log_size_bytes, static_cast<std::int64_t>(size_));
  pending_.clear();
  if (config_.flush != FlushMode::incremental && config_.flush != FlushMode::incremental_async)
    return;
  records_since_flush_ += records;
  if (config_.freq == 0 || records_since_flush_ < config_.freq) return;
  records_since_flush_ = 0;
  if (config_.flush == FlushMode::incremental) {
    if (::fsync(fd_) != 0) disk_error("fsync", errno);
  } else {
    request_flush();
  }
}

void AuditLog::check_size() {
  if (config_.max_log_file_mib == 0 || fd_ < 0) return;
  if (size_ / kMebibyte < config_.max_log_file_mib) return;
  switch (config_.max_log_file_action) {
    case SizeAction::ignore:
      break;
    case SizeAction::syslog:
      warning_.warn("audit log " + config_.log_file + " is larger than max_log_file (" +
                    std::to_string(config_.max_log_file_mib) + " MiB)");
      break;
    case SizeAction::suspend:
      suspend("the audit log reached max_log_file");
      break;
    case SizeAction::rotate:
      if (config_.num_logs > 1) {
        spdlog::info("audit log: rotating {}", config_.log_file);
        rotate(0);
      }
      break;
    case SizeAction::keep_logs:
      spdlog::info("audit log: rotating {} (keeping every log)", config_.log_file);
      shift_logs();
      break;
  }
}

void AuditLog::check_space() {
  struct statfs fs {};
  if (::fstatfs(fd_, &fs) != 0) return;
  const auto block = static_cast<std::uint64_t>(fs.f_bsize);
  const std::uint64_t available = static_cast<std::uint64_t>(fs.f_bavail) * block;
  const std::uint64_t total = static_cast<std::uint64_t>(fs.f_blocks) * block;
  if (static_cast<std::uint64_t>(fs.f_bavail) < kReservedBlocks) {
    if (space_left_) {
      space_left_ = false;
      disk_full();
    }
    return;
  }
  if (available < policy_.space_left.bytes(total)) {
    if (!space_warned_) {
      space_warned_ = true;
      take_action(policy_.space_left_action, "space_left");
    }
  } else if (space_warned_ && policy_.space_left_action.kind == DiskActionKind::syslog) {
    space_warned_ = false;  // as auditd: only a syslog warning re-arms by itself
  }
  if (fd_ < 0 || suspended_) return;
  if (available < policy_.admin_space_left.bytes(total)) {
    if (!admin_warned_) {
      admin_warned_ = true;
      take_action(policy_.admin_space_left_action, "admin_space_left");
    }
  } else if (admin_warned_ && policy_.admin_space_left_action.kind == DiskActionKind::syslog) {
    admin_warned_ = false;
  }
}

void AuditLog::disk_full() {
  spdlog::error("audit log: no space left on the file system of {}", config_.log_file);
  take_action(policy_.disk_full_action, "disk_full");
}

void AuditLog::disk_error(const char* what, int error) {
  const std::string message = std::string(what) + ": error writing the audit log " +
                              config_.log_file + " (" + strerror_text(error) + ")";
  if (policy_.disk_error_action.kind == DiskActionKind::syslog) {
    if (disk_errors_logged_ < 5) {
      ++disk_errors_logged_;
      spdlog::error("audit log: {}", message);
    }
    increment(stats_->audit_log_disk_actions);
    return;
  }
  spdlog::error("audit log: {}", message);
  take_action(policy_.disk_error_action, "disk_error");
}

void AuditLog::take_action(const DiskAction& action, const char* why) {
  increment(stats_->audit_log_disk_actions);
  switch (action.kind) {
    case DiskActionKind::ignore:
      return;
    case DiskActionKind::syslog:
      spdlog::warn("audit log: low on disk space for {} ({} reached)", config_.log_file, why);
      return;
    case DiskActionKind::rotate:
      if (config_.num_logs > 1) {
        spdlog::warn("audit log: {} reached, rotating {}", why, config_.log_file);
        rotate(0);
      }
      return;
    case DiskActionKind::exec: {
      // As auditd: the log is closed (the script may move or compress it) and stays suspended
      // until SIGUSR2.
      close_file();
      suspend((std::string(why) + " reached, ran " + action.exe).c_str());
      if (const pid_t pid = spawn(action.exe, nullptr); pid > 0) children().push_back(pid);
      return;
    }
    case DiskActionKind::suspend:
      suspend((std::string(why) + " reached").c_str());
      return;
    case DiskActionKind::single:
      spdlog::critical("audit log: {} reached, changing the system to single user mode", why);
      if (const pid_t pid = spawn("/sbin/init", "1"); pid > 0) children().push_back(pid);
      return;
    case DiskActionKind::halt:
      spdlog::critical("audit log: {} reached, halting the system", why);
      if (const pid_t pid = spawn("/sbin/init", "0"); pid > 0) children().push_back(pid);
      return;
  }
}

void AuditLog::suspend(const char* why) {
  if (!suspended_) {
    spdlog::error(
        "audit log: suspended ({}): records are not written to {} until SIGUSR2; "
        "documents keep flowing",
        why, config_.log_file);
  }
  suspended_ = true;
  set(stats_->audit_log_suspended, 1);
}

void AuditLog::resume(SignalSender sender) {
  spdlog::info("audit log: resuming logging to {}", config_.log_file);
  suspended_ = false;
  space_left_ = true;
  space_warned_ = false;
  admin_warned_ = false;
  disk_errors_logged_ = 0;
  set(stats_->audit_log_suspended, 0);
  if (fd_ < 0) {
    fix_permissions();
    if (Status opened = open_file(); !opened) {
      spdlog::error("audit log: {}", opened.error());
      suspend("the audit log could not be reopened");
      return;
    }
    check_size();
  }
  append_daemon_record(AUDIT_DAEMON_RESUME, sender_fields("resume-logging", sender));
  flush_pending(1);
}

void AuditLog::rotate(unsigned int num_logs) {
  if (config_.num_logs < 2) {
    spdlog::info("audit log: rotation disabled (num_logs < 2), skipping");
    return;
  }
  const bool grouped = group_ != 0;
  if (fd_ >= 0) {
    (void)::fchmod(fd_, grouped ? 0440 : 0400);
    close_file();
  }
  if (num_logs == 0) num_logs = config_.num_logs;
  auto numbered = [&](unsigned int n) { return config_.log_file + "." + std::to_string(n); };
  for (unsigned int i = num_logs - 1; i > 1; --i) {
    if (::rename(numbered(i - 1).c_str(), numbered(i).c_str()) != 0 && errno != ENOENT) {
      const int error = errno;
      increment(stats_->audit_log_write_errors);
      spdlog::error("audit log: cannot rotate {} to {}: {}", numbered(i - 1), numbered(i),
                    strerror_text(error));
    }
  }
  if (::rename(config_.log_file.c_str(), numbered(1).c_str()) != 0 && errno != ENOENT) {
    const int error = errno;
    increment(stats_->audit_log_write_errors);
    spdlog::error("audit log: cannot rotate {} to {}: {}", config_.log_file, numbered(1),
                  strerror_text(error));
    (void)::chmod(config_.log_file.c_str(), grouped ? 0640 : 0600);
  }
  increment(stats_->audit_log_rotations);
  if (Status opened = open_file(); !opened) {
    spdlog::error("audit log: could not reopen after rotating: {}", opened.error());
    suspend("the audit log could not be reopened after rotating");
    disk_error("reopen", errno);
  }
}

void AuditLog::shift_logs() {
  auto exists = [&](unsigned int n) {
    return ::access((config_.log_file + "." + std::to_string(n)).c_str(), R_OK) == 0;
  };
  unsigned int last = last_log_;
  while (exists(last)) ++last;
  if (last <= last_log_ && last_log_ > 1) {
    spdlog::warn("audit log: the last known log {}.{} disappeared", config_.log_file, last_log_);
    last = 1;
    while (exists(last)) ++last;
  }
  last_log_ = last;
  rotate(last + 1);
}

void AuditLog::remove_excess_logs() {
  if (config_.max_log_file_action != SizeAction::rotate || config_.num_logs < 2) return;
  for (unsigned int i = config_.num_logs;; ++i) {
    const std::string name = config_.log_file + "." + std::to_string(i);
    if (::unlink(name.c_str()) != 0) break;
    spdlog::info("audit log: removed {}: beyond num_logs", name);
  }
}

void AuditLog::request_rotate(SignalSender sender) {
  std::lock_guard lock(requests_mutex_);
  rotate_requested_ = true;
  rotate_sender_ = sender;
  requests_pending_.store(true, std::memory_order_release);
}

void AuditLog::request_resume(SignalSender sender) {
  std::lock_guard lock(requests_mutex_);
  resume_requested_ = true;
  resume_sender_ = sender;
  requests_pending_.store(true, std::memory_order_release);
}

void AuditLog::tick() {
  for (auto it = children().begin(); it != children().end();) {
    it = ::waitpid(*it, nullptr, WNOHANG) == 0 ? it + 1 : children().erase(it);
  }
  if (!requests_pending_.exchange(false, std::memory_order_acq_rel) || closed_) return;
  bool rotate_now = false;
  bool resume_now = false;
  SignalSender rotate_sender;
  SignalSender resume_sender;
  {
    std::lock_guard lock(requests_mutex_);
    std::swap(rotate_now, rotate_requested_);
    std::swap(resume_now, resume_requested_);
    rotate_sender = rotate_sender_;
    resume_sender = resume_sender_;
  }
  if (resume_now) resume(resume_sender);
  if (rotate_now) {
    spdlog::info("audit log: rotating {} (SIGUSR1 from pid {})", config_.log_file,
                 rotate_sender.pid);
    if (config_.max_log_file_action == SizeAction::keep_logs) {
      shift_logs();
    } else {
      rotate(0);
    }
    append_daemon_record(AUDIT_DAEMON_ROTATE, sender_fields("rotate-logs", rotate_sender));
    flush_pending(1);
  }
}

void AuditLog::close(SignalSender stopped_by) {
  if (closed_) return;
  append_daemon_record(AUDIT_DAEMON_END, sender_fields("terminate", stopped_by));
  flush_pending(1);
  if (fd_ >= 0 && config_.flush != FlushMode::none) (void)::fsync(fd_);
  {
    std::lock_guard lock(flush_mutex_);
    flush_stop_ = true;
  }
  flush_wanted_.notify_one();
  if (flush_thread_.joinable()) flush_thread_.join();
  close_file();
  closed_ = true;
}

void AuditLog::request_flush() {
  // Started at the first flush, not at open: the daemon opens the log before it drops its
  // privileges, which it can only do while it runs a single thread.
  if (!flush_thread_.joinable()) flush_thread_ = std::thread([this] { flush_thread_main(); });
  {
    std::lock_guard lock(flush_mutex_);
    flush_requested_ = true;
  }
  flush_wanted_.notify_one();
}

void AuditLog::flush_thread_main() {
  for (;;) {
    int fd = -1;
    {
      std::unique_lock lock(flush_mutex_);
      flush_wanted_.wait(lock, [&] { return flush_requested_ || flush_stop_; });
      if (flush_stop_) return;
      flush_requested_ = false;
      // A descriptor of its own: the owner may close or rotate its own meanwhile.
      fd = fd_ < 0 ? -1 : ::dup(fd_);
    }
    if (fd >= 0) {
      (void)::fsync(fd);
      ::close(fd);
    }
  }
}

}  // namespace aurelay::auditlog
