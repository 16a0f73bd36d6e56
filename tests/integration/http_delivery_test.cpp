// aurelay shipping to a real MozDef stand-in (tests/mozdef_server.py) on 127.0.0.1: the whole
// corpus arrives, an outage while events flow loses nothing, and a SIGKILL while spooling loses
// nothing once aurelay is started again.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <sstream>

#include "aurelay_process.h"
#include "output/mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

// Polling interval of wait_for: the predicates read and parse the whole received file.
constexpr auto kPoll = 50ms;

// Event ids received by the server: id -> times received. Lenient on purpose: it is polled while
// the file is being written, so a line not yet complete is skipped, not a failure.
std::map<std::string, int> received_event_ids(const std::filesystem::path& record) {
  std::map<std::string, int> ids;
  std::istringstream lines(read_file(record));
  for (std::string line; std::getline(lines, line);) {
    rapidjson::Document document;
    document.Parse(line.c_str(), line.size());
    if (document.HasParseError() || !document.IsObject() || !document.HasMember("details"))
      continue;
    ++ids[document["details"]["eventid"].GetString()];
  }
  return ids;
}

// aurelay in the background with an empty config; its standard input is a pipe the test writes
// to, its stderr in `dir`/err.
AurelayProcess shipping_aurelay(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{AURELAY_BINARY, "--config", private_config(dir), "--log_level",
                                "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  return AurelayProcess(argv, dir / "err", AurelayProcess::Stdin::pipe);
}

// `count` single-record events (complete at once) with serials from `first`.
std::string login_events(int first, int count) {
  std::string text;
  for (int serial = first; serial < first + count; ++serial) text += login_record(serial);
  return text;
}

std::uint64_t spool_bytes(const std::filesystem::path& dir) {
  std::uint64_t bytes = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

// The project's netlink capture (177 events, tests/fixtures/capture_netlink.sh), then the shared
// corpus (1,653 events, its README) when present.
TEST(HttpDelivery, ReplayedCaptureArrivesCompleteExactlyOnce) {
  std::vector<std::pair<std::filesystem::path, std::size_t>> inputs = {
      {fixture_path("kernel-capture-netlink.log"), 177}};
  if (std::filesystem::path path = corpus_path("real-small-netlink.log"); !path.empty())
    inputs.emplace_back(path, 1653);
  for (const auto& [input, events] : inputs) {
    SCOPED_TRACE(input.string());
    TempDir dir;
    MozdefTestServer server(dir / "received.ndjson");
    CommandResult run =
        run_command({AURELAY_BINARY, "--config", private_config(dir), "--input", input.string(),
                     "--output", server.url("/_bulk"), "--spool_dir", (dir / "spool").string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::map<std::string, int> ids = received_event_ids(dir / "received.ndjson");
    EXPECT_EQ(ids.size(), events);
    for (const auto& [id, times] : ids) EXPECT_EQ(times, 1) << id;
  }
}

// The outage length. 5 s by default: with retry_base_ms 100 and retry_max_ms 1000 the sender
// climbs every backoff step (100, 200, 400, 800 ms) to the 1 s ceiling and retries there
// several times. The same outage at the 30 s runs in virtual time at the sink level
// (tests/output/http_sink_test.cpp); AURELAY_OUTAGE_SECONDS=30 runs it end to end.
int outage_seconds() {
  const char* value = std::getenv("AURELAY_OUTAGE_SECONDS");
  return value ? std::atoi(value) : 5;
}

TEST(HttpDelivery, ServerDownWhileEventsFlowLosesNothing) {
  constexpr int kEvents = 50000;
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  AurelayProcess aurelay = shipping_aurelay(
      dir, {"--input", "stdin", "--output", server.url("/_bulk"), "--spool_dir",
            (dir / "spool").string(), "--retry_base_ms", "100", "--retry_max_ms", "1000"});
  // The first fifth arrives while the server is up, the rest flows during the outage.
  aurelay.write_stdin(login_events(1, kEvents / 5));
  ASSERT_TRUE(
      wait_for([&] { return received_event_ids(dir / "received.ndjson").size() > 0; }, 20s, kPoll));
  EXPECT_EQ(server.command("refuse"), "ok");
  const int slices = 10;
  for (int i = 0; i < slices; ++i) {
    int first = 1 + kEvents / 5 + i * (kEvents * 4 / 5 / slices);
    aurelay.write_stdin(login_events(first, kEvents * 4 / 5 / slices));
    // The pacing is the test: events keep flowing through the whole outage.
    std::this_thread::sleep_for(std::chrono::milliseconds(outage_seconds() * 1000 / slices));
  }
  EXPECT_GT(spool_bytes(dir / "spool"), 0u) << "the outage should have been spooled";
  EXPECT_EQ(server.command("accept"), "ok");
  ASSERT_TRUE(wait_for(
      [&] { return received_event_ids(dir / "received.ndjson").size() == kEvents; }, 60s, kPoll))
      << received_event_ids(dir / "received.ndjson").size() << " of " << kEvents << "\n"
      << aurelay.stderr_text();
  aurelay.close_stdin();
  EXPECT_EQ(aurelay.wait_exit(30s), 0) << aurelay.stderr_text();
  std::map<std::string, int> ids = received_event_ids(dir / "received.ndjson");
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(spool_bytes(dir / "spool"), 0u);
}

TEST(HttpDelivery, SigkillWhileSpoolingThenRestartDeliversEverything) {
  constexpr int kEvents = 20000;
  TempDir dir;
  write_file(dir / "input.log", login_events(1, kEvents));
  MozdefTestServer server(dir / "received.ndjson");
  EXPECT_EQ(server.command("refuse"), "ok");
  std::vector<std::string> args{"--input",         (dir / "input.log").string(),
                                "--output",        server.url("/_bulk"),
                                "--spool_dir",     (dir / "spool").string(),
                                "--retry_base_ms", "100",
                                "--retry_max_ms",  "500"};
  {
    AurelayProcess first = shipping_aurelay(dir, args);
    ASSERT_TRUE(wait_for([&] { return spool_bytes(dir / "spool") > 0; }, 30s, kPoll))
        << first.stderr_text();
    first.stop(SIGKILL);
  }
  EXPECT_EQ(server.command("accept"), "ok");
  // Started again on the same input and spool: what was spooled goes first, then the replay.
  AurelayProcess second = shipping_aurelay(dir, args);
  EXPECT_EQ(second.wait_exit(60s), 0) << second.stderr_text();
  std::map<std::string, int> ids = received_event_ids(dir / "received.ndjson");
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(spool_bytes(dir / "spool"), 0u);
}

TEST(HttpDelivery, WrongCertificateAuthoritySaysSoAndSpools) {
  TempDir dir;
  // A certificate the client has no reason to trust.
  CommandResult made =
      run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                   "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                   "-keyout", (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  MozdefTestServer server(dir / "received.ndjson", {"--cert", (dir / "cert.pem").string(), "--key",
                                                    (dir / "key.pem").string()});
  write_file(dir / "input.log", login_events(1, 100));
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   (dir / "input.log").string(), "--output",
                                   "https://127.0.0.1:" + std::to_string(server.port()) + "/_bulk",
                                   "--spool_dir", (dir / "spool").string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("certificate"), std::string::npos) << run.err;
  EXPECT_TRUE(received_event_ids(dir / "received.ndjson").empty());
  EXPECT_GT(spool_bytes(dir / "spool"), 0u);
}

TEST(FileOutput, SighupReopensTheOutputAfterLogrotate) {
  TempDir dir;
  AurelayProcess aurelay =
      shipping_aurelay(dir, {"--input", "stdin", "--output", (dir / "events.json").string()});
  aurelay.write_stdin(login_events(1, 100));
  ASSERT_TRUE(
      wait_for([&] { return received_event_ids(dir / "events.json").size() == 100; }, 20s, kPoll));
  std::filesystem::rename(dir / "events.json", dir / "events.json.1");
  aurelay.send(SIGHUP);
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(dir / "events.json"); }, 20s, kPoll))
      << aurelay.stderr_text();
  aurelay.write_stdin(login_events(101, 50));
  aurelay.close_stdin();
  EXPECT_EQ(aurelay.wait_exit(30s), 0) << aurelay.stderr_text();
  EXPECT_EQ(received_event_ids(dir / "events.json.1").size(), 100u);
  EXPECT_EQ(received_event_ids(dir / "events.json").size(), 50u);
}

TEST(ConfigReload, SighupAppliesLogLevelAndNamesKeysThatNeedARestart) {
  TempDir dir;
  auto write_config = [&](const std::string& text) {
    write_file(dir / "aurelay.conf", text);
    std::filesystem::permissions(dir / "aurelay.conf", std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_write);
  };
  write_config("log_level = warn\neoe_timeout_ms = 2000\n");
  AurelayProcess aurelay({AURELAY_BINARY, "--config", (dir / "aurelay.conf").string(), "--input",
                          "stdin", "--output", (dir / "events.json").string()},
                         dir / "err", AurelayProcess::Stdin::pipe);
  aurelay.write_stdin(login_events(1, 10));
  ASSERT_TRUE(wait_for([&] { return received_event_ids(dir / "events.json").size() == 10; }, 20s));
  // A bad file is reported and changes nothing.
  write_config("log_level = chatty\n");
  aurelay.send(SIGHUP);
  ASSERT_TRUE(wait_for(
      [&] { return aurelay.stderr_text().find("config not reloaded") != std::string::npos; }, 20s))
      << aurelay.stderr_text();
  write_config("log_level = info\neoe_timeout_ms = 3000\n");
  aurelay.send(SIGHUP);
  ASSERT_TRUE(wait_for(
      [&] { return aurelay.stderr_text().find("log_level is now info") != std::string::npos; },
      20s))
      << aurelay.stderr_text();
  EXPECT_NE(aurelay.stderr_text().find("only applied after a restart: eoe_timeout_ms"),
            std::string::npos)
      << aurelay.stderr_text();
  aurelay.close_stdin();
  EXPECT_EQ(aurelay.wait_exit(30s), 0) << aurelay.stderr_text();
  // At info level the closing summary is logged now.
  EXPECT_NE(aurelay.stderr_text().find("stopped: 10 records"), std::string::npos)
      << aurelay.stderr_text();
}

}  // namespace
}  // namespace aurelay::testing
