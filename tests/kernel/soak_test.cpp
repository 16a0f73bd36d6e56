// The soak benchmark's short version (bench/soak.sh; bench/README has the 30-minute figures): a
// paced exec storm collected live for 1-2 minutes while the output is down for 10 s every 30-60 s,
// over HTTP (the loginput stand-in) and over AMQP (a private RabbitMQ node stopped and started
// again): nothing lost (the kernel's lost counter and every drop aurelay counts stay 0), the spool
// back to empty after each outage, every document encoded delivered and in the receiver.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_guard.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

// The soak script's report: `seconds` of storm, the output down 10 s at the start of each window
// of `every` seconds; its rule keyed `key`. Retries wait at most 2 s (retry_max_ms), so a window
// this short sees the drain: with the default 30 s the first retry after the output is back may
// come after the window's end.
CommandResult run_soak(const std::string& transport, int seconds, int every, int rate,
                       const std::string& key) {
  const std::filesystem::path build = std::filesystem::path(AURELAY_BINARY).parent_path();
  const std::filesystem::path script =
      std::filesystem::path(AURELAY_TESTS_DIR).parent_path() / "bench" / "soak.sh";
  return run_command({"/bin/bash", script.string(), "-t", transport, "-s", std::to_string(seconds),
                      "-e", std::to_string(every), "-o", "10", "-r", std::to_string(rate), "-b",
                      build.string(), "-k", key, "-R", "2000"});
}

// The soak's per-window table rows ("window events us/event rss_kb spool_max drained_after_s
// lost") for windows 1 and 2: their words, read with plain string splitting.
std::vector<std::vector<std::string>> window_rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string word; words >> word;) row.push_back(word);
    if (row.size() == 7 && (row[0] == "1" || row[0] == "2") && all_digits(row[1]) &&
        all_digits(row[3]) && all_digits(row[4]) && all_digits(row[6]))
      rows.push_back(row);
  }
  return rows;
}

// The number after `label` in `out` (std::nullopt when absent).
std::optional<std::uint64_t> number_after(const std::string& out, const std::string& label) {
  const std::size_t at = out.find(label);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t start = at + label.size();
  const std::size_t end = out.find_first_not_of("0123456789", start);
  if (end == start) return std::nullopt;
  return std::stoull(out.substr(start, end - start));
}

void expect_nothing_lost(const CommandResult& soak) {
  ASSERT_EQ(soak.exit_code, 0) << soak.output();
  const std::string out = soak.output();
  EXPECT_NE(out.find("lost: kernel 0 + counted drops 0 = 0"), std::string::npos) << out;
  // Two windows, each drained after its outage (a number, not "-").
  const std::vector<std::vector<std::string>> rows = window_rows(out);
  for (const std::vector<std::string>& row : rows) {
    EXPECT_NE(row[5], "-") << "window " << row[0] << " did not drain:\n" << out;
    EXPECT_GT(std::stoull(row[4]), 0u) << "window " << row[0] << " never spooled:\n" << out;
  }
  EXPECT_EQ(rows.size(), 2u) << out;
  const std::optional<std::uint64_t> encoded = number_after(out, "documents encoded ");
  const std::optional<std::uint64_t> delivered = number_after(out, ", delivered ");
  const std::optional<std::uint64_t> received = number_after(out, ", receiver has ");
  ASSERT_TRUE(encoded && delivered && received) << out;
  EXPECT_GE(*delivered, *encoded) << out;
  // The receiver's own count (the stand-in's records, the queue's messages): at least once.
  EXPECT_GE(*received, *encoded) << out;
}

class Soak : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    auto state = guard_.start(reason);
    if (state == KernelAuditGuard::Availability::unavailable) GTEST_SKIP() << reason;
    ASSERT_NE(state, KernelAuditGuard::Availability::error) << reason;
    before_ = guard_.status();
    if (before_.pid != 0) GTEST_SKIP() << "another process is the audit daemon";
    const std::filesystem::path build = std::filesystem::path(AURELAY_BINARY).parent_path();
    for (const char* program : {"audit_storm", "amqp_min_publisher"})
      if (!std::filesystem::exists(build / program))
        GTEST_SKIP() << program << " not built (AURELAY_BUILD_BENCH=OFF)";
  }
  // The script puts the kernel back itself; the guard then checks it did (its rule, keyed with
  // the guard's prefix, gone; the audit pid given back; the settings as found) and mends what
  // it did not.
  void TearDown() override {
    if (!kernel_used_) return;
    const netlink::AuditStatus after = guard_.status();
    EXPECT_EQ(after.pid, 0u) << "the soak left the audit pid held";
    EXPECT_TRUE(loaded_rule_keys(kTestKeyPrefix).empty()) << "the soak left its rule loaded";
    guard_.finish();
  }
  CommandResult soak(const std::string& transport, int seconds, int every, int rate) {
    kernel_used_ = true;
    return run_soak(transport, seconds, every, rate, guard_.key("soak"));
  }
  KernelAuditGuard guard_;
  bool kernel_used_ = false;
  netlink::AuditStatus before_;
};

TEST_F(Soak, HttpOutagesLoseNothing) { expect_nothing_lost(soak("http", 60, 30, 500)); }

TEST_F(Soak, AmqpBrokerRestartsLoseNothing) {
  if (!std::filesystem::exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
    GTEST_SKIP() << "rabbitmq-server not installed";
  // A node takes a few seconds to start, aurelay reconnects after its backoff, and a persistent
  // message costs the broker an fsync'd write: longer windows, a lower rate.
  expect_nothing_lost(soak("amqp", 120, 60, 300));
}

}  // namespace
}  // namespace aurelay::testing
