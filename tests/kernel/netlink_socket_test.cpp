// Real-kernel tests of the audit data and control sockets (root, CONFIG_AUDIT; skip elsewhere).
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "kernel/kernel_guard.h"
#include "netlink/audit_control.h"
#include "netlink/audit_socket.h"

namespace aurelay::netlink {
namespace {

using testing::KernelAuditGuard;
using testing::run_command;
using testing::succeeded;

std::string unique_marker() {
  std::random_device random;
  return "aurelay-marker-" + std::to_string(getpid()) + "-" + std::to_string(random());
}

// The serial of a netlink payload "audit(sec.msec:serial): ...", or nullopt.
std::optional<std::uint64_t> serial_of(std::string_view payload) {
  if (payload.rfind("audit(", 0) != 0) return std::nullopt;
  std::size_t colon = payload.find(':');
  std::size_t close = payload.find(')');
  if (colon == std::string_view::npos || close == std::string_view::npos || close < colon)
    return std::nullopt;
  return std::stoull(std::string(payload.substr(colon + 1, close - colon - 1)));
}

struct MarkerEvent {
  std::uint64_t serial = 0;
  std::string syscall;
  std::string execve;
  bool eoe = false;
};

// Reads from `socket` until the event whose EXECVE contains `marker` is complete (SYSCALL,
// EXECVE and EOE seen) or `timeout` passes. Also checks every record payload is well formed.
std::optional<MarkerEvent> find_marker(AuditDataSocket& socket, const std::string& marker,
                                       std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<std::uint64_t, MarkerEvent> events;
  std::optional<std::uint64_t> marker_serial;
  correlate::RecordBatch batch;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{socket.fd(), POLLIN, 0};
    poll(&pfd, 1, 100);
    batch.clear();
    ReceiveResult result = socket.receive_batch(batch, 256);
    EXPECT_EQ(result.error, 0);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string_view text = batch.text(i);
      std::optional<std::uint64_t> serial = serial_of(text);
      EXPECT_TRUE(serial.has_value()) << "type " << batch.type(i) << ": " << text;
      if (!serial) continue;
      MarkerEvent& event = events[*serial];
      event.serial = *serial;
      if (batch.type(i) == AUDIT_SYSCALL) event.syscall = std::string(text);
      if (batch.type(i) == AUDIT_EXECVE) {
        event.execve = std::string(text);
        if (text.find("\"" + marker + "\"") != std::string_view::npos) marker_serial = serial;
      }
      if (batch.type(i) == AUDIT_EOE) event.eoe = true;
    }
    if (marker_serial) {
      const MarkerEvent& event = events[*marker_serial];
      if (event.eoe && !event.syscall.empty()) return event;
    }
  }
  if (marker_serial)
    return events[*marker_serial];  // incomplete: let the caller say what's missing
  return std::nullopt;
}

void run_marker(const std::string& marker) {
  auto result = run_command({"/bin/echo", marker});
  ASSERT_EQ(result.exit_code, 0) << result.output();
}

// A child process that registers as the audit daemon and drains until told to stop (the stop
// pipe closes), then gives the pid back.
class PidHolder {
 public:
  bool start(std::string& error) {
    int ready[2];
    int stop[2];
    if (pipe(ready) != 0 || pipe(stop) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(stop[1]);
      AuditDataSocket socket;
      char ok = socket.open(DataSocketOptions{}).ok() ? '1' : '0';
      (void)!write(ready[1], &ok, 1);
      close(ready[1]);
      correlate::RecordBatch batch;
      for (;;) {
        pollfd fds[2] = {{socket.fd(), POLLIN, 0}, {stop[0], POLLIN, 0}};
        poll(fds, 2, 1000);
        if (fds[1].revents != 0) break;
        batch.clear();
        socket.receive_batch(batch, 1024);
      }
      socket.close();
      _exit(0);
    }
    close(ready[1]);
    close(stop[0]);
    stop_fd_ = stop[1];
    char ok = '0';
    bool got = read(ready[0], &ok, 1) == 1;
    close(ready[0]);
    if (!got || ok != '1') {
      error = "holder child could not register";
      return false;
    }
    return true;
  }
  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ <= 0) return;
    close(stop_fd_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  ~PidHolder() { stop(); }

 private:
  pid_t pid_ = -1;
  int stop_fd_ = -1;
};

TEST(NetlinkKernel, UnicastReceivesTheMarkerExecve) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  std::string error;
  ASSERT_TRUE(succeeded(guard.enable_audit()));

  AuditDataSocket socket;
  const Status opened = socket.open(DataSocketOptions{});
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_TRUE(socket.registered());
  EXPECT_GE(socket.receive_buffer_bytes(), 1024 * 1024);
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(getpid()));

  std::string key =
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "execve", error);
  ASSERT_FALSE(key.empty()) << error;
  std::string marker = unique_marker();
  run_marker(marker);

  std::optional<MarkerEvent> event = find_marker(socket, marker);
  ASSERT_TRUE(event.has_value()) << "marker EXECVE not received";
  EXPECT_TRUE(event->eoe) << "no EOE for serial " << event->serial;
  EXPECT_NE(event->syscall.find("syscall=59"), std::string::npos) << event->syscall;
  EXPECT_NE(event->syscall.find("key=\"" + key + "\""), std::string::npos) << event->syscall;
  // Payload length from the bytes received: the record ends with the last argument, not 16
  // bytes early (nlmsg_len quirk) and not with padding.
  std::string tail = "a1=\"" + marker + "\"";
  ASSERT_GE(event->execve.size(), tail.size());
  EXPECT_EQ(event->execve.substr(event->execve.size() - tail.size()), tail) << event->execve;
  EXPECT_EQ(socket.stats().records_truncated.load(), 0u);
  EXPECT_GT(socket.stats().records_received.load(), 2u);

  socket.close();
  EXPECT_EQ(guard.status().pid, 0u) << "close() must give the pid back";
}

TEST(NetlinkKernel, UnicastSocketRefusesRecordsFromAnotherSocket) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  std::string error;
  ASSERT_TRUE(succeeded(guard.enable_audit()));
  AuditDataSocket socket;
  const Status opened = socket.open(DataSocketOptions{});
  ASSERT_TRUE(opened.ok()) << opened.error();
  sockaddr_nl data{};
  socklen_t length = sizeof(data);
  ASSERT_EQ(getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&data), &length), 0);

  // A forged record, unicast to the data socket's port from another netlink socket.
  int forger = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  ASSERT_GE(forger, 0);
  struct {
    nlmsghdr header;
    char text[64];
  } forged{};
  std::snprintf(forged.text, sizeof(forged.text), "audit(1.000:1): forged");
  forged.header.nlmsg_len = sizeof(forged);
  forged.header.nlmsg_type = AUDIT_USER;
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_pid = data.nl_pid;
  ssize_t sent =
      sendto(forger, &forged, sizeof(forged), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  int sent_errno = errno;
  ::close(forger);
  // The kernel refuses it (the socket is connected to the kernel): it never reaches a batch.
  EXPECT_EQ(sent, -1);
  EXPECT_EQ(sent_errno, ECONNREFUSED);
  correlate::RecordBatch batch;
  (void)socket.receive_batch(batch, 256);
  for (std::size_t i = 0; i < batch.size(); ++i)
    EXPECT_EQ(batch.text(i).find("forged"), std::string_view::npos) << batch.text(i);
  socket.close();
}

TEST(NetlinkKernel, SecondSocketInTheSameProcessGetsEexistNamingThePid) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  std::string error;
  AuditDataSocket first;
  const Status opened = first.open(DataSocketOptions{});
  ASSERT_TRUE(opened.ok()) << opened.error();

  AuditDataSocket second;
  const Status refused = second.open(DataSocketOptions{});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.exit_code(), kExitAuditPidHeld);
  EXPECT_NE(refused.error().find("process " + std::to_string(getpid())), std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("multicast"), std::string::npos) << refused.error();
  EXPECT_FALSE(second.is_open());
  second.close();  // never registered: must not give away the first socket's pid
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(getpid()));

  // The kernel probed the healthy daemon with AUDIT_REPLACE before refusing: ignored, counted.
  correlate::RecordBatch batch;
  for (int i = 0; i < 20 && first.stats().replace_probes_ignored.load() == 0; ++i) {
    pollfd pfd{first.fd(), POLLIN, 0};
    poll(&pfd, 1, 50);
    first.receive_batch(batch, 1024);
  }
  EXPECT_GE(first.stats().replace_probes_ignored.load(), 1u);
  for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_NE(batch.type(i), 1329u);

  const Status released = first.release();
  EXPECT_TRUE(released.ok()) << released.error();
  EXPECT_EQ(guard.status().pid, 0u);
}

TEST(NetlinkKernel, EexistFromAnotherProcessNamesThatPid) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  std::string error;
  PidHolder holder;
  ASSERT_TRUE(holder.start(error)) << error;
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(holder.pid()));

  AuditDataSocket socket;
  const Status refused = socket.open(DataSocketOptions{});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.exit_code(), kExitAuditPidHeld);
  EXPECT_NE(refused.error().find("process " + std::to_string(holder.pid())), std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("EEXIST"), std::string::npos) << refused.error();
  socket.close();
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(holder.pid()));

  holder.stop();
  EXPECT_EQ(guard.status().pid, 0u) << "the holder gives the pid back when it stops";
}

TEST(NetlinkKernel, MulticastReceivesTheMarkerWhileAnotherProcessHoldsThePid) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  std::string error;
  ASSERT_TRUE(succeeded(guard.enable_audit()));
  PidHolder holder;
  ASSERT_TRUE(holder.start(error)) << error;

  DataSocketOptions options;
  options.mode = DataSocketMode::multicast;
  AuditDataSocket socket;
  const Status opened = socket.open(options);
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_FALSE(socket.registered());

  std::string key =
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "mcast", error);
  ASSERT_FALSE(key.empty()) << error;
  std::string marker = unique_marker();
  run_marker(marker);
  std::optional<MarkerEvent> event = find_marker(socket, marker);
  ASSERT_TRUE(event.has_value()) << "marker EXECVE not received on multicast";
  EXPECT_TRUE(event->eoe);
  EXPECT_NE(event->syscall.find("key=\"" + key + "\""), std::string::npos) << event->syscall;
  std::string tail = "a1=\"" + marker + "\"";
  ASSERT_GE(event->execve.size(), tail.size());
  EXPECT_EQ(event->execve.substr(event->execve.size() - tail.size()), tail);

  socket.close();
  EXPECT_EQ(guard.status().pid, static_cast<std::uint32_t>(holder.pid()))
      << "closing a multicast socket must not touch the audit pid";
  holder.stop();
  EXPECT_EQ(guard.status().pid, 0u);
}

TEST(NetlinkKernel, ControlSettersRoundTripAndTheGuardRestores) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  AuditControl& control = guard.control();
  const AuditStatus before = guard.status();
  EXPECT_EQ(before.backlog_wait_time, 0u) << "the test guard sets backlog_wait_time 0";

  const std::uint32_t new_limit = before.backlog_limit + 1234;
  const std::uint32_t new_rate = before.rate_limit + 100000;
  const std::uint32_t new_enabled = before.enabled == 1 ? 0 : 1;
  {
    KernelSettingsGuard settings(control);
    EXPECT_FALSE(settings.has_changes());
    ASSERT_TRUE(succeeded(settings.set_backlog_limit(new_limit)));
    ASSERT_TRUE(succeeded(settings.set_rate_limit(new_rate)));
    ASSERT_TRUE(succeeded(settings.set_backlog_wait_time(250)));
    ASSERT_TRUE(succeeded(settings.set_enabled(new_enabled)));
    EXPECT_TRUE(settings.has_changes());
    const AuditStatus during = guard.status();
    EXPECT_EQ(during.backlog_limit, new_limit);
    EXPECT_EQ(during.rate_limit, new_rate);
    EXPECT_EQ(during.backlog_wait_time, 250u);
    EXPECT_EQ(during.enabled, new_enabled);
    EXPECT_EQ(during.failure, before.failure);

    // explicit restore, then the destructor has nothing left to do
    ASSERT_TRUE(succeeded(settings.restore()));
    EXPECT_FALSE(settings.has_changes());
  }
  AuditStatus after = guard.status();
  EXPECT_EQ(after.backlog_limit, before.backlog_limit);
  EXPECT_EQ(after.rate_limit, before.rate_limit);
  EXPECT_EQ(after.backlog_wait_time, before.backlog_wait_time);
  EXPECT_EQ(after.enabled, before.enabled);

  // Destructor restores too.
  {
    KernelSettingsGuard settings(control);
    ASSERT_TRUE(succeeded(settings.set_backlog_limit(new_limit + 1)));
  }
  after = guard.status();
  EXPECT_EQ(after.backlog_limit, before.backlog_limit);

  EXPECT_FALSE(control.set_enabled(2).ok()) << "locking must be refused";
  after = guard.status();
  EXPECT_NE(after.enabled, 2u);
}

TEST(NetlinkKernel, EexistWhileARealAuditdRunsAndMulticastBesideIt) {
  AURELAY_KERNEL_GUARD_OR_SKIP(guard);
  if (guard.found().pid != 0) GTEST_SKIP() << "audit pid held by " << guard.found().pid;
  if (testing::TestAuditd::binary() == nullptr) GTEST_SKIP() << "auditd not installed";
  std::string error;
  ASSERT_TRUE(succeeded(guard.enable_audit()));
  testing::TestAuditd auditd;
  ASSERT_TRUE(auditd.start(guard.control(), error)) << error;

  AuditDataSocket unicast;
  const Status refused = unicast.open(DataSocketOptions{});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.exit_code(), kExitAuditPidHeld);
  EXPECT_NE(refused.error().find("process " + std::to_string(auditd.pid()) + " (auditd)"),
            std::string::npos)
      << refused.error();

  DataSocketOptions options;
  options.mode = DataSocketMode::multicast;
  AuditDataSocket multicast;
  const Status opened = multicast.open(options);
  ASSERT_TRUE(opened.ok()) << opened.error();
  std::string key =
      guard.add_rule({"-a", "always,exit", "-F", "arch=b64", "-S", "execve"}, "auditd", error);
  ASSERT_FALSE(key.empty()) << error;
  std::string marker = unique_marker();
  run_marker(marker);
  std::optional<MarkerEvent> event = find_marker(multicast, marker);
  ASSERT_TRUE(event.has_value()) << "marker not received on multicast beside auditd";
  EXPECT_TRUE(event->eoe);
  multicast.close();

  auditd.stop();
  EXPECT_EQ(guard.status().pid, 0u) << "auditd gives the pid back when stopped";
}

}  // namespace
}  // namespace aurelay::netlink
