#include "netlink/audit_control.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "netlink/audit_message.h"

namespace aurelay::netlink {

namespace {

std::string errno_text(int error_number) { return std::strerror(error_number); }

// Receive buffer of the control socket: a rule list message carries a whole audit_rule_data with
// its strings (a watch path alone may be PATH_MAX), and an ack echoes the request it answers.
// Larger datagrams fail with ENOSPC (libmnl's report of MSG_TRUNC).
constexpr std::size_t kControlReceiveBufferSize = std::size_t{128} * 1024;

struct ReplyState {
  audit_status* status = nullptr;
  bool got_status = false;
  std::vector<std::string>* rules = nullptr;
};

int on_reply(const nlmsghdr* header, void* data) {
  auto* state = static_cast<ReplyState*>(data);
  if (header->nlmsg_type == AUDIT_LIST_RULES && state->rules != nullptr) {
    // The whole payload: struct audit_rule_data and its buf, exactly as the kernel sent it.
    state->rules->emplace_back(static_cast<const char*>(mnl_nlmsg_get_payload(header)),
                               mnl_nlmsg_get_payload_len(header));
    return MNL_CB_OK;
  }
  if (header->nlmsg_type == AUDIT_GET && state->status != nullptr) {
    std::size_t size = mnl_nlmsg_get_payload_len(header);
    std::memset(state->status, 0, sizeof(audit_status));
    std::memcpy(state->status, mnl_nlmsg_get_payload(header),
                size < sizeof(audit_status) ? size : sizeof(audit_status));
    state->got_status = true;
    return MNL_CB_STOP;
  }
  return MNL_CB_OK;
}

}  // namespace

AuditStatus to_audit_status(const audit_status& raw) {
  AuditStatus out;
  out.enabled = raw.enabled;
  out.failure = raw.failure;
  out.pid = raw.pid;
  out.rate_limit = raw.rate_limit;
  out.backlog_limit = raw.backlog_limit;
  out.lost = raw.lost;
  out.backlog = raw.backlog;
  out.backlog_wait_time = raw.backlog_wait_time;
  return out;
}

AuditControl::~AuditControl() { close(); }

Status AuditControl::open() {
  close();
  error_number_ = 0;
  socket_ = mnl_socket_open2(NETLINK_AUDIT, SOCK_CLOEXEC);
  if (socket_ == nullptr) {
    error_number_ = errno;
    return fail("audit control socket: " + errno_text(error_number_));
  }
  if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
    error_number_ = errno;
    close();
    return fail("audit control socket bind: " + errno_text(error_number_));
  }
  portid_ = mnl_socket_get_portid(socket_);
  return {};
}

void AuditControl::close() {
  if (socket_ != nullptr) mnl_socket_close(socket_);
  socket_ = nullptr;
}

Status AuditControl::transact(const char* request, std::size_t length, std::uint32_t seq,
                              audit_status* reply, std::vector<std::string>* rules) {
  if (socket_ == nullptr) {
    error_number_ = EBADF;
    return fail("audit control socket not open");
  }
  if (mnl_socket_sendto(socket_, request, length) < 0) {
    error_number_ = errno;
    return fail("audit control send: " + errno_text(error_number_));
  }
  std::unique_ptr<char[]> buffer(new char[kControlReceiveBufferSize]);
  ReplyState state{reply, false, rules};
  pollfd pfd{mnl_socket_get_fd(socket_), POLLIN, 0};
  for (;;) {
    int ready = poll(&pfd, 1, reply_timeout_ms_);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      error_number_ = ready == 0 ? ETIMEDOUT : errno;
      return fail("audit control: no answer from the kernel: " + errno_text(error_number_));
    }
    ssize_t received = mnl_socket_recvfrom(socket_, buffer.get(), kControlReceiveBufferSize);
    if (received < 0) {
      if (errno == EINTR) continue;
      error_number_ = errno;
      return fail("audit control receive: " + errno_text(error_number_));
    }
    // Replies on a control socket have a correct nlmsg_len: libmnl may walk them.
    int result = mnl_cb_run(buffer.get(), received, seq, portid_, on_reply, &state);
    if (result < 0) {
      if (errno == ESRCH || errno == EPROTO) continue;  // a stale answer to an older request
      error_number_ = errno;
      return fail("audit control: kernel refused: " + errno_text(error_number_));
    }
    // A list request carries no NLM_F_ACK, so its only STOP is NLMSG_DONE, after the rules.
    if (result == MNL_CB_STOP) {
      if (reply != nullptr && !state.got_status) continue;  // an ack before the reply
      return {};
    }
  }
}

Result<AuditStatus> AuditControl::get_status() {
  char request[kRequestBufferSize];
  std::uint32_t seq = ++seq_;
  std::size_t length = build_get_status(request, seq);
  audit_status raw{};
  if (Status sent = transact(request, length, seq, &raw, nullptr); !sent) return fail(sent.error());
  return to_audit_status(raw);
}

Status AuditControl::set_status(const audit_status& status) {
  char request[kRequestBufferSize];
  std::uint32_t seq = ++seq_;
  std::size_t length = build_set_status(request, status, seq);
  return transact(request, length, seq, nullptr, nullptr);
}

Status AuditControl::set_enabled(std::uint32_t enabled) {
  if (enabled > 1) {
    error_number_ = EINVAL;
    return fail("refusing to set audit enabled=" + std::to_string(enabled) +
                " (2 locks the configuration until reboot)");
  }
  audit_status status{};
  status.mask = AUDIT_STATUS_ENABLED;
  status.enabled = enabled;
  return set_status(status);
}

Status AuditControl::set_backlog_limit(std::uint32_t limit) {
  audit_status status{};
  status.mask = AUDIT_STATUS_BACKLOG_LIMIT;
  status.backlog_limit = limit;
  return set_status(status);
}

Status AuditControl::set_backlog_wait_time(std::uint32_t wait_time) {
  audit_status status{};
  status.mask = AUDIT_STATUS_BACKLOG_WAIT_TIME;
  status.backlog_wait_time = wait_time;
  return set_status(status);
}

Status AuditControl::set_rate_limit(std::uint32_t rate) {
  audit_status status{};
  status.mask = AUDIT_STATUS_RATE_LIMIT;
  status.rate_limit = rate;
  return set_status(status);
}

Status AuditControl::set_failure(std::uint32_t failure) {
  if (failure > 1) {
    error_number_ = EINVAL;
    return fail(
        "refusing to set audit failure=" + std::to_string(failure) +
        (failure == 2 ? " (2 panics the kernel when audit fails)" : " (not a failure mode)"));
  }
  audit_status status{};
  status.mask = AUDIT_STATUS_FAILURE;
  status.failure = failure;
  return set_status(status);
}

Result<std::vector<std::string>> AuditControl::list_rules() {
  char request[kRequestBufferSize];
  std::uint32_t seq = ++seq_;
  std::size_t length = build_list_rules(request, seq);
  std::vector<std::string> listed;
  if (Status sent = transact(request, length, seq, nullptr, &listed); !sent)
    return fail("listing audit rules: " + sent.error());
  return listed;
}

Status AuditControl::send_rule(std::string_view raw_rule, bool add) {
  const char* what = add ? "adding audit rule: " : "deleting audit rule: ";
  if (raw_rule.size() < sizeof(audit_rule_data)) {
    error_number_ = EINVAL;
    return fail(what + std::to_string(raw_rule.size()) +
                " bytes is too short for a struct audit_rule_data");
  }
  std::vector<char> request(request_size(raw_rule.size()));
  std::uint32_t seq = ++seq_;
  std::size_t length = add ? build_add_rule(request.data(), raw_rule, seq)
                           : build_delete_rule(request.data(), raw_rule, seq);
  Status sent = transact(request.data(), length, seq, nullptr, nullptr);
  if (sent) return {};
  if (!add && error_number_ == ENOENT)
    return fail("deleting audit rule: the kernel has no such rule loaded (ENOENT)");
  if (add && error_number_ == EEXIST)
    return fail("adding audit rule: the kernel has it loaded already (EEXIST)");
  return fail(what + sent.error());
}

Status AuditControl::delete_rule(std::string_view raw_rule) { return send_rule(raw_rule, false); }

Status AuditControl::add_rule(std::string_view raw_rule) { return send_rule(raw_rule, true); }

Status AuditControl::clear_pid() {
  audit_status status{};
  status.mask = AUDIT_STATUS_PID;
  status.pid = 0;
  return set_status(status);
}

// --- KernelSettingsGuard ---

KernelSettingsGuard::~KernelSettingsGuard() {
  // Best effort: an owner that cares about a failed restore calls restore() itself.
  (void)restore();
}

Status KernelSettingsGuard::remember_original() {
  if (found_) return {};
  Result<AuditStatus> status = control_.get_status();
  if (!status) return fail(status.error());
  found_ = *status;
  return {};
}

Status KernelSettingsGuard::set_enabled(std::uint32_t enabled) {
  if (Status found = remember_original(); !found) return found;
  if (Status set = control_.set_enabled(enabled); !set) return set;
  changed_enabled_ = true;
  return {};
}

Status KernelSettingsGuard::set_backlog_limit(std::uint32_t limit) {
  if (Status found = remember_original(); !found) return found;
  if (Status set = control_.set_backlog_limit(limit); !set) return set;
  changed_backlog_limit_ = true;
  return {};
}

Status KernelSettingsGuard::set_backlog_wait_time(std::uint32_t wait_time) {
  if (Status found = remember_original(); !found) return found;
  if (Status set = control_.set_backlog_wait_time(wait_time); !set) return set;
  changed_backlog_wait_time_ = true;
  return {};
}

Status KernelSettingsGuard::set_rate_limit(std::uint32_t rate) {
  if (Status found = remember_original(); !found) return found;
  if (Status set = control_.set_rate_limit(rate); !set) return set;
  changed_rate_limit_ = true;
  return {};
}

Status KernelSettingsGuard::set_failure(std::uint32_t failure) {
  if (Status found = remember_original(); !found) return found;
  if (Status set = control_.set_failure(failure); !set) return set;
  changed_failure_ = true;
  return {};
}

void KernelSettingsGuard::forget() {
  changed_enabled_ = changed_backlog_limit_ = changed_backlog_wait_time_ = false;
  changed_rate_limit_ = changed_failure_ = false;
}

bool KernelSettingsGuard::has_changes() const {
  return changed_enabled_ || changed_backlog_limit_ || changed_backlog_wait_time_ ||
         changed_rate_limit_ || changed_failure_;
}

Status KernelSettingsGuard::restore() {
  if (!has_changes()) return {};
  std::string errors;
  auto note = [&](const Status& done, bool& changed, const char* what) {
    if (done)
      changed = false;
    else
      errors += std::string(errors.empty() ? "" : "; ") + "restoring " + what + ": " + done.error();
  };
  if (changed_rate_limit_)
    note(control_.set_rate_limit(found_->rate_limit), changed_rate_limit_, "rate_limit");
  if (changed_backlog_limit_)
    note(control_.set_backlog_limit(found_->backlog_limit), changed_backlog_limit_,
         "backlog_limit");
  if (changed_backlog_wait_time_)
    note(control_.set_backlog_wait_time(found_->backlog_wait_time), changed_backlog_wait_time_,
         "backlog_wait_time");
  // A failure mode of 2 (panic) found at start is reported, not set back: set_failure refuses it.
  if (changed_failure_) note(control_.set_failure(found_->failure), changed_failure_, "failure");
  if (changed_enabled_) {
    if (found_->enabled > 1) {
      changed_enabled_ = false;  // it was locked: nothing we could have changed
    } else {
      note(control_.set_enabled(found_->enabled), changed_enabled_, "enabled");
    }
  }
  if (!errors.empty()) return fail(errors);
  return {};
}

// --- LostCounter ---

std::uint64_t LostCounter::update(std::uint32_t reading) {
  if (!has_last_) {
    has_last_ = true;
    last_ = reading;
    return 0;
  }
  std::uint64_t delta;
  if (reading >= last_) {
    delta = reading - last_;
  } else {
    ++resets_;
    delta = reading;  // reset (or wrap): count from zero
  }
  last_ = reading;
  total_ += delta;
  return delta;
}

}  // namespace aurelay::netlink
