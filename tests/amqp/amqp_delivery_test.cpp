// aurelay publishing to a real RabbitMQ (a private broker started by the tests, one for the
// whole binary) and read back by a real AMQP consumer: the documents arrive exactly once and equal
// to the file output, a broker killed with SIGKILL loses nothing, unroutable messages are never
// counted as delivered, and a wrong password, a closed port or an untrusted certificate are clear
// errors that keep the documents in the spool.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "aurelay_process.h"
#include "rabbitmq_test_broker.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

// The broker shared by every test of this binary: started on first use, stopped at the end.
class BrokerEnvironment : public ::testing::Environment {
 public:
  static RabbitmqTestBroker* broker() {
    if (!started_) {
      started_ = true;
      if (!RabbitmqTestBroker::installed()) {
        error_ = "rabbitmq-server is not installed (tools/setup.sh installs it)";
        return nullptr;
      }
      broker_ = std::make_unique<RabbitmqTestBroker>();
      if (!broker_->start(error_, /*tls=*/true)) broker_.reset();
    }
    return broker_.get();
  }
  static const std::string& error() { return error_; }
  void TearDown() override { broker_.reset(); }

 private:
  static inline bool started_ = false;
  static inline std::unique_ptr<RabbitmqTestBroker> broker_;
  static inline std::string error_;
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

// `var` is the name being declared: it cannot be parenthesized there.
#define SHARED_BROKER_OR_SKIP(var)                                                                \
  RabbitmqTestBroker* var = BrokerEnvironment::broker(); /* NOLINT(bugprone-macro-parentheses) */ \
  if ((var) == nullptr && !RabbitmqTestBroker::installed())                                       \
    GTEST_SKIP() << BrokerEnvironment::error();                                                   \
  ASSERT_NE((var), nullptr) << BrokerEnvironment::error()

std::uint64_t spool_bytes(const std::filesystem::path& dir) {
  std::uint64_t bytes = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

// `count` single-record events (complete at once) with serials from `first`.
std::string login_events(int first, int count) {
  std::string text;
  for (int serial = first; serial < first + count; ++serial)
    text += "type=USER_LOGIN msg=audit(1700000000.000:" + std::to_string(serial) +
            "): pid=1 uid=0 auid=0 ses=1 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" "
            "hostname=? addr=10.0.0.1 terminal=ssh res=success'\n";
  return text;
}

std::vector<std::string> aurelay_args(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{AURELAY_BINARY,          "--config", private_config(dir),
                                "--log_level",           "info",     "--state_file",
                                (dir / "state").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// A document as text without its top-level processid (aurelay's own pid, different per run),
// members in the encoder's order.
std::string without_processid(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  if (document.HasParseError() || !document.IsObject()) return "(not a JSON object) " + json;
  document.RemoveMember("processid");
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return buffer.GetString();
}

// The event's serial (details.auditserial), unique per event of these inputs.
std::string event_serial(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("details") ||
      !document["details"].HasMember("auditserial"))
    return {};
  return document["details"]["auditserial"].GetString();
}

TEST(AmqpDelivery, FixturesArriveExactlyOnceEqualToTheFileOutput) {
  SHARED_BROKER_OR_SKIP(broker);
  int round = 0;
  for (const char* fixture : {"kernel-capture-mozdef.log", "kernel-capture-enriched.log"}) {
    SCOPED_TRACE(fixture);
    TempDir dir;
    const std::string queue = "aurelay-test-corpus-" + std::to_string(++round);
    const std::string input = fixture_path(fixture).string();
    CommandResult file_run = run_command(
        aurelay_args(dir, {"--input", input, "--output", (dir / "documents.ndjson").string()}));
    ASSERT_EQ(file_run.exit_code, 0) << file_run.err;
    std::vector<std::string> expected;
    {
      std::istringstream lines(read_file(dir / "documents.ndjson"));
      for (std::string line; std::getline(lines, line);)
        expected.push_back(without_processid(line));
    }
    ASSERT_GT(expected.size(), 10u);

    CommandResult run = run_command(
        aurelay_args(dir, {"--input", input, "--output", broker->url(), "--amqp_exchange",
                           queue + "-x", "--amqp_queue", queue, "--amqp_routing_key",
                           queue + "-key", "--spool_dir", (dir / "spool").string()}));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err.find("guest:guest"), std::string::npos) << "credentials in the log";

    AmqpTestConsumer consumer(broker->port());
    ASSERT_TRUE(consumer.connected());
    std::vector<AmqpTestMessage> messages = consumer.drain(queue);
    std::vector<std::string> received;
    for (const AmqpTestMessage& message : messages) {
      EXPECT_EQ(message.content_type, "application/json");
      EXPECT_EQ(message.delivery_mode, 2) << "not persistent";
      EXPECT_EQ(message.exchange, queue + "-x");
      EXPECT_EQ(message.routing_key, queue + "-key");
      received.push_back(without_processid(message.body));
    }
    std::sort(expected.begin(), expected.end());
    std::sort(received.begin(), received.end());
    EXPECT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected) << "the messages differ from the file output";

    const std::string state = read_file(dir / "state");
    EXPECT_EQ(state_number(state, "amqp messages published"), expected.size()) << state;
    EXPECT_EQ(state_number(state, "amqp messages confirmed"), expected.size()) << state;
    EXPECT_EQ(state_number(state, "documents delivered"), expected.size()) << state;
    EXPECT_EQ(state_number(state, "amqp messages returned"), 0u) << state;
    EXPECT_NE(state.find("output = amqp://***@127.0.0.1:"), std::string::npos) << state;
    EXPECT_EQ(state.find("guest:guest"), std::string::npos) << state;
    EXPECT_EQ(spool_bytes(dir / "spool"), 0u);
  }
}

TEST(AmqpDelivery, UnroutableMessagesAreReturnedCountedAndKept) {
  SHARED_BROKER_OR_SKIP(broker);
  TempDir dir;
  const std::string exchange = "aurelay-test-unbound";
  write_file(dir / "input.log", login_events(1, 50));
  // The exchange exists (declared), no queue is bound to it.
  CommandResult run = run_command(aurelay_args(
      dir, {"--input", (dir / "input.log").string(), "--output", broker->url(), "--amqp_exchange",
            exchange, "--amqp_queue=", "--spool_dir", (dir / "spool").string(), "--retry_base_ms",
            "50", "--retry_max_ms", "500"}));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("NO_ROUTE"), std::string::npos) << run.err;
  const std::string state = read_file(dir / "state");
  EXPECT_GT(state_number(state, "amqp messages returned"), 0u) << state;
  EXPECT_EQ(state_number(state, "amqp messages confirmed"), 0u) << state;
  EXPECT_EQ(state_number(state, "documents delivered"), 0u) << state;
  EXPECT_GT(spool_bytes(dir / "spool"), 0u) << "the returned documents must be kept";

  // Once a queue is bound, the next start delivers what was kept, each event at least once.
  AmqpTestConsumer consumer(broker->port());
  ASSERT_TRUE(consumer.declare(exchange, "aurelay-test-unbound-q", "eventtask"));
  write_file(dir / "empty.log", "");
  CommandResult second = run_command(aurelay_args(
      dir, {"--input", (dir / "empty.log").string(), "--output", broker->url(), "--amqp_exchange",
            exchange, "--amqp_queue=", "--spool_dir", (dir / "spool").string()}));
  EXPECT_EQ(second.exit_code, 0) << second.err;
  std::map<std::string, int> ids;
  for (const AmqpTestMessage& message : consumer.drain("aurelay-test-unbound-q"))
    ++ids[event_serial(message.body)];
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_EQ(spool_bytes(dir / "spool"), 0u);
}

TEST(AmqpDelivery, WrongPasswordIsAClearErrorWithoutThePassword) {
  SHARED_BROKER_OR_SKIP(broker);
  TempDir dir;
  write_file(dir / "input.log", login_events(1, 20));
  CommandResult run = run_command(aurelay_args(
      dir, {"--input", (dir / "input.log").string(), "--output",
            broker->url("guest", "not-the-password"), "--spool_dir", (dir / "spool").string(),
            "--retry_base_ms", "100", "--retry_max_ms", "1000"}));
  // As for an unreachable HTTP server: retried, kept in the spool, exit 0 at the end of a replay.
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("ACCESS_REFUSED"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("not-the-password"), std::string::npos) << run.err;
  EXPECT_EQ(read_file(dir / "state").find("not-the-password"), std::string::npos);
  EXPECT_GT(spool_bytes(dir / "spool"), 0u);

  // A configuration error quotes the URL without its credentials.
  CommandResult check =
      run_command({AURELAY_BINARY, "--config", private_config(dir), "--output",
                   "amqp://guest:not-the-password@127.0.0.1:port/", "--check-config"});
  EXPECT_EQ(check.exit_code, 2) << check.output();
  EXPECT_EQ(check.output().find("not-the-password"), std::string::npos) << check.output();
}

TEST(AmqpDelivery, BrokerNotListeningIsRetriedAndSpooled) {
  TempDir dir;
  write_file(dir / "input.log", login_events(1, 20));
  const int port = free_tcp_port();
  CommandResult run = run_command(
      aurelay_args(dir, {"--input", (dir / "input.log").string(), "--output",
                         "amqp://guest:guest@127.0.0.1:" + std::to_string(port) +
                             "/,amqp://guest:guest@127.0.0.1:" + std::to_string(port) + "/",
                         "--spool_dir", (dir / "spool").string(), "--retry_base_ms", "100",
                         "--retry_max_ms", "1000"}));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("cannot connect to amqp://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << run.err;
  EXPECT_GT(spool_bytes(dir / "spool"), 0u);
  const std::string state = read_file(dir / "state");
  EXPECT_EQ(state_number(state, "documents delivered"), 0u);
  EXPECT_NE(state.find("amqp current broker = none"), std::string::npos) << state;
}

TEST(AmqpDelivery, UntrustedCertificateIsRefusedTrustedOneDelivers) {
  SHARED_BROKER_OR_SKIP(broker);
  TempDir dir;
  write_file(dir / "input.log", login_events(1, 20));
  const std::string url =
      "amqps://guest:guest@localhost:" + std::to_string(broker->tls_port()) + "/";
  CommandResult run = run_command(
      aurelay_args(dir, {"--input", (dir / "input.log").string(), "--output", url, "--amqp_queue",
                         "aurelay-test-tls", "--spool_dir", (dir / "spool").string(),
                         "--retry_base_ms", "100", "--retry_max_ms", "1000"}));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("SSL"), std::string::npos) << run.err;
  EXPECT_EQ(state_number(read_file(dir / "state"), "documents delivered"), 0u);
  EXPECT_GT(spool_bytes(dir / "spool"), 0u);

  // Trusting the broker's certificate (curl_cainfo, as for HTTPS) sends what was kept.
  write_file(dir / "empty.log", "");
  CommandResult trusted = run_command(
      aurelay_args(dir, {"--input", (dir / "empty.log").string(), "--output", url, "--amqp_queue",
                         "aurelay-test-tls", "--curl_cainfo", broker->tls_certificate().string(),
                         "--spool_dir", (dir / "spool").string()}));
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_EQ(state_number(read_file(dir / "state"), "documents delivered"), 20u) << trusted.err;
  AmqpTestConsumer consumer(broker->port());
  EXPECT_EQ(consumer.drain("aurelay-test-tls").size(), 20u);
  EXPECT_EQ(spool_bytes(dir / "spool"), 0u);
}

// The one slow test (about a minute): events paced on stdin, the broker SIGKILLed, restarted
// 20 s later on the same data directory.
TEST(AmqpDelivery, BrokerKilledMidStreamAndRestartedLosesNothing) {
  SHARED_BROKER_OR_SKIP(broker);
  TempDir dir;
  const std::string queue = "aurelay-test-crash";
  AurelayProcess aurelay(
      aurelay_args(
          dir, {"--input", "stdin", "--output", broker->url(), "--amqp_queue", queue, "--spool_dir",
                (dir / "spool").string(), "--retry_base_ms", "100", "--retry_max_ms", "2000"}),
      dir / "err", AurelayProcess::Stdin::pipe);

  // About 3000 events/s: 100 every 33 ms, until told to stop.
  std::atomic<bool> stop_writing{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto next = std::chrono::steady_clock::now();
    while (!stop_writing.load()) {
      aurelay.write_stdin(login_events(written.load() + 1, 100));
      written += 100;
      next += 33ms;
      std::this_thread::sleep_until(next);
    }
  });
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(6s);
  broker->kill_hard();
  const int written_at_kill = written.load();
  std::this_thread::sleep_for(20s);
  std::string error;
  const bool restarted = broker->start(error);
  // Keep feeding a while after the broker is back, 30 s in all at least.
  std::this_thread::sleep_until(std::max(started + 30s, std::chrono::steady_clock::now() + 5s));
  stop_writing = true;
  writer.join();
  ASSERT_TRUE(restarted) << error;
  // The daemon drains its spool while running (the end of input would give it only the 10 s of
  // the shutdown flush, and keep the rest for the next start).
  EXPECT_TRUE(wait_for([&] { return spool_bytes(dir / "spool") == 0; }, 120s, 200ms))
      << "the spool must drain: " << spool_bytes(dir / "spool") << " bytes left\n"
      << aurelay.stderr_text();
  aurelay.close_stdin();
  EXPECT_EQ(aurelay.wait_exit(120s), 0) << aurelay.stderr_text();
  const int total = written.load();
  EXPECT_GT(written_at_kill, 5000);

  AmqpTestConsumer consumer(broker->port());
  ASSERT_TRUE(consumer.connected());
  std::map<std::string, int> ids;
  std::uint64_t messages = 0;
  for (const AmqpTestMessage& message : consumer.drain(queue, 3s)) {
    ++ids[event_serial(message.body)];
    ++messages;
  }
  int missing = 0;
  for (int serial = 1; serial <= total; ++serial)
    if (!ids.contains(std::to_string(serial))) ++missing;
  std::uint64_t duplicates = messages - ids.size();
  std::cout << "[ broker crash ] " << total << " events written, " << messages
            << " messages received, " << duplicates << " duplicates, " << missing << " missing\n";
  RecordProperty("duplicates", static_cast<int>(duplicates));
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(total));
  EXPECT_EQ(spool_bytes(dir / "spool"), 0u) << "the spool must end empty";
  const std::string state = read_file(dir / "state");
  EXPECT_GE(state_number(state, "amqp reconnects"), 1u) << state;
  EXPECT_GT(state_number(state, "spool segments") + state_number(state, "documents delivered"), 0u);
}

// documents encoded = delivered + queued + in flight + spool documents + dropped + dead-lettered
std::uint64_t books_accounted(const std::string& state) {
  return state_number(state, "documents delivered") +
         state_number(state, "output queued documents") +
         state_number(state, "documents in flight") + state_number(state, "spool documents") +
         state_number(state, "documents dropped output") +
         state_number(state, "documents dead-lettered");
}

// A memory alarm on the broker (vm_memory_high_watermark 0) blocks publishing connections: the
// block is named in a warning within about 2 s, new documents go to the spool, the books
// balance while blocked, and everything is delivered once the alarm clears. A second run stops
// while the broker blocks: the exit line says why and the books balance at exit.
TEST(AmqpDelivery, BrokerBlockedByAMemoryAlarmIsNamedSpooledAndResumed) {
  SHARED_BROKER_OR_SKIP(broker);
  struct AlarmGuard {
    RabbitmqTestBroker* broker;
    ~AlarmGuard() {
      std::string ignored;
      broker->ctl({"set_vm_memory_high_watermark", "0.4"}, ignored);
    }
  } guard{broker};
  for (const bool resume : {true, false}) {
    SCOPED_TRACE(resume ? "alarm cleared while running" : "stop while blocked");
    constexpr int kEvents = 400;
    TempDir dir;
    const std::string queue = std::string("aurelay-test-blocked-") + (resume ? "1" : "2");
    std::string output;
    ASSERT_TRUE(broker->ctl({"set_vm_memory_high_watermark", "0"}, output)) << output;
    AurelayProcess aurelay(
        aurelay_args(
            dir, {"--input", "stdin", "--output", broker->url(), "--amqp_queue", queue,
                  "--spool_dir", (dir / "spool").string(), "--retry_base_ms", "100",
                  "--retry_max_ms", "1000", "--report_interval", "1", "--dead_letter_file", ""}),
        dir / "err", AurelayProcess::Stdin::pipe);
    const auto started = std::chrono::steady_clock::now();
    aurelay.write_stdin(login_events(1, kEvents / 2));
    ASSERT_TRUE(wait_for(
        [&] {
          return aurelay.stderr_text().find("RabbitMQ blocked the connection") != std::string::npos;
        },
        15s, 50ms))
        << aurelay.stderr_text();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
    aurelay.write_stdin(login_events(1 + kEvents / 2, kEvents / 2));
    ASSERT_TRUE(wait_for(
        [&] {
          const std::string state = request_state_file(aurelay.pid(), dir / "state");
          return state_number(state, "documents encoded") == kEvents &&
                 state_number(state, "spool documents") > 0;
        },
        15s, 100ms))
        << read_file(dir / "state") << aurelay.stderr_text();
    const std::string blocked = request_state_file(aurelay.pid(), dir / "state");
    EXPECT_EQ(books_accounted(blocked), state_number(blocked, "documents encoded")) << blocked;
    // The broker may confirm the first messages it read before it blocks: not all of them.
    EXPECT_LT(state_number(blocked, "documents delivered"), static_cast<std::uint64_t>(kEvents))
        << blocked;
    EXPECT_GE(state_number(blocked, "output stalls"), 1u) << blocked;
    if (resume) {
      ASSERT_TRUE(broker->ctl({"set_vm_memory_high_watermark", "0.4"}, output)) << output;
      ASSERT_TRUE(wait_for(
          [&] {
            const std::string state = request_state_file(aurelay.pid(), dir / "state");
            return state_number(state, "documents delivered") == kEvents;
          },
          60s, 200ms))
          << read_file(dir / "state") << aurelay.stderr_text();
      EXPECT_NE(aurelay.stderr_text().find("takes documents again"), std::string::npos)
          << aurelay.stderr_text();
    }
    aurelay.close_stdin();
    EXPECT_EQ(aurelay.wait_exit(60s), 0) << aurelay.stderr_text();
    const std::string at_exit = read_file(dir / "state");
    EXPECT_EQ(state_number(at_exit, "documents encoded"), static_cast<std::uint64_t>(kEvents));
    EXPECT_EQ(books_accounted(at_exit), state_number(at_exit, "documents encoded")) << at_exit;
    if (resume) {
      EXPECT_EQ(state_number(at_exit, "documents delivered"), static_cast<std::uint64_t>(kEvents));
      AmqpTestConsumer consumer(broker->port());
      ASSERT_TRUE(consumer.connected());
      std::map<std::string, int> ids;
      for (const AmqpTestMessage& message : consumer.drain(queue, 3s))
        ++ids[event_serial(message.body)];
      EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
    } else {
      EXPECT_EQ(
          state_number(at_exit, "spool documents") + state_number(at_exit, "documents delivered"),
          static_cast<std::uint64_t>(kEvents))
          << at_exit;
      EXPECT_NE(aurelay.stderr_text().find(
                    "output not fully flushed at shutdown: amqp sink: after 10000 ms"),
                std::string::npos)
          << aurelay.stderr_text();
      EXPECT_NE(aurelay.stderr_text().find("RabbitMQ blocked the connection"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace aurelay::testing
