// The books balance: every document encoded is delivered, in memory, in flight, in the spool,
// dropped (counted by reason) or dead-lettered, at every report and at exit:
//
//   documents encoded = delivered + queued + in flight + spool documents + dropped + dead-lettered
//
// checked from the state file against a real MozDef stand-in (tests/mozdef_server.py) that is
// down, rejects a document, hangs (accepts and never answers), or while the spool is full. A
// stall is named in a warning within about 2 s, and the exit line says why output was not
// flushed.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "aurelay_process.h"
#include "output/mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

std::string login_events(int first, int count, int reject_serial = -1) {
  std::string text;
  for (int serial = first; serial < first + count; ++serial) {
    text += login_record(serial, serial == reject_serial ? "rejectme" : "root");
  }
  return text;
}

struct Books {
  std::uint64_t encoded = 0;
  std::uint64_t delivered = 0;
  std::uint64_t queued = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t spooled = 0;
  std::uint64_t dropped = 0;
  std::uint64_t dead_lettered = 0;

  std::uint64_t accounted() const {
    return delivered + queued + in_flight + spooled + dropped + dead_lettered;
  }
};

Books read_books(const std::string& state) {
  return {state_number(state, "documents encoded"),
          state_number(state, "documents delivered"),
          state_number(state, "output queued documents"),
          state_number(state, "documents in flight"),
          state_number(state, "spool documents"),
          state_number(state, "documents dropped output"),
          state_number(state, "documents dead-lettered")};
}

// `dead_letter_file` empty: rejected documents are only counted (and no default path is
// written).
std::vector<std::string> aurelay_args(const TempDir& dir, const std::string& url,
                                      std::vector<std::string> extra,
                                      const std::string& dead_letter_file = "") {
  std::vector<std::string> argv{AURELAY_BINARY,
                                "--config",
                                private_config(dir),
                                "--log_level",
                                "info",
                                "--output",
                                url,
                                "--state_file",
                                (dir / "state").string(),
                                "--retry_base_ms",
                                "100",
                                "--retry_max_ms",
                                "500",
                                "--dead_letter_file",
                                dead_letter_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Replays the file `input` of `dir` to `url`, spooling to `dir`/spool.
CommandResult replay(const TempDir& dir, const std::string& url, const std::string& input,
                     std::vector<std::string> extra = {},
                     const std::string& dead_letter_file = "") {
  extra.insert(extra.begin(),
               {"--input", (dir / input).string(), "--spool_dir", (dir / "spool").string()});
  return run_command(aurelay_args(dir, url, std::move(extra), dead_letter_file));
}

// The books in the state file of `dir`, checked to balance with `encoded` documents encoded.
Books balanced_books(const TempDir& dir, std::uint64_t encoded) {
  const std::string state = read_file(dir / "state");
  const Books books = read_books(state);
  EXPECT_EQ(books.encoded, encoded) << state;
  EXPECT_EQ(books.accounted(), books.encoded) << state;
  return books;
}

TEST(BooksBalance, ServerDownEverythingEndsInTheSpoolAndTheExitLineSaysWhy) {
  constexpr int kEvents = 300;
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  ASSERT_EQ(server.command("refuse"), "ok");
  write_file(dir / "input.log", login_events(1, kEvents));
  CommandResult run = replay(dir, server.url("/_bulk"), "input.log");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Books books = balanced_books(dir, kEvents);
  EXPECT_EQ(books.spooled, books.encoded);
  EXPECT_EQ(books.delivered, 0u);
  EXPECT_NE(run.err.find("output not fully flushed at shutdown: http sink: after"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("kept in the spool for the next start"), std::string::npos) << run.err;

  // The next start with the server back delivers the spool: it empties, the books still balance
  // (what the spool held at start counts as input).
  ASSERT_EQ(server.command("accept"), "ok");
  write_file(dir / "empty.log", "");
  CommandResult again = replay(dir, server.url("/_bulk"), "empty.log");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const std::string after = read_file(dir / "state");
  EXPECT_EQ(state_number(after, "documents delivered"), static_cast<std::uint64_t>(kEvents))
      << after;
  EXPECT_EQ(state_number(after, "spool documents"), 0u) << after;
}

TEST(BooksBalance, RejectedDocumentsAreDeadLetteredOrCountedAsDropped) {
  constexpr int kEvents = 40;
  for (const bool dead_letter : {true, false}) {
    SCOPED_TRACE(dead_letter ? "with dead_letter_file" : "without dead_letter_file");
    TempDir dir;
    MozdefTestServer server(dir / "received.ndjson", {"--reject-marker", "rejectme"});
    write_file(dir / "input.log", login_events(1, kEvents, 17));
    CommandResult run = replay(dir, server.url("/_bulk"), "input.log", {},
                               dead_letter ? (dir / "dead").string() : std::string());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const Books books = balanced_books(dir, kEvents);
    EXPECT_EQ(books.delivered, static_cast<std::uint64_t>(kEvents - 1));
    EXPECT_EQ(books.dead_lettered, dead_letter ? 1u : 0u);
    EXPECT_EQ(state_number(read_file(dir / "state"), "documents dropped rejected"),
              dead_letter ? 0u : 1u);
  }
}

TEST(BooksBalance, FullSpoolDropsAreCountedInTheBooks) {
  constexpr int kEvents = 8000;  // more than the 1 MiB spool holds
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  ASSERT_EQ(server.command("refuse"), "ok");
  write_file(dir / "input.log", login_events(1, kEvents));
  CommandResult run = replay(dir, server.url("/_bulk"), "input.log",
                             {"--spool_max_bytes", "1M", "--spool_full_action", "drop_newest"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Books books = balanced_books(dir, kEvents);
  EXPECT_GT(state_number(read_file(dir / "state"), "documents dropped spool full"), 0u);
  EXPECT_GT(books.spooled, 0u);
}

// A server that accepts the connection and never answers: named within about 2 s, new documents
// go to the spool, the books balance while it hangs and after a stop with work in flight, and
// delivery resumes once the server answers again.
TEST(BooksBalance, AServerThatNeverAnswersIsAnOutageNamedWithinTwoSeconds) {
  constexpr int kEvents = 200;
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  ASSERT_EQ(server.command("mode hang"), "ok");
  AurelayProcess aurelay(aurelay_args(dir, server.url("/_bulk"),
                                      {"--input", "stdin", "--spool_dir", (dir / "spool").string(),
                                       "--report_interval", "1"}),
                         dir / "err", AurelayProcess::Stdin::pipe);
  const auto started = std::chrono::steady_clock::now();
  aurelay.write_stdin(login_events(1, kEvents / 2));
  ASSERT_TRUE(wait_for(
      [&] { return aurelay.stderr_text().find("has not answered for") != std::string::npos; }, 10s,
      50ms))
      << aurelay.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  aurelay.write_stdin(login_events(1 + kEvents / 2, kEvents / 2));
  ASSERT_TRUE(wait_for(
      [&] {
        const Books books = read_books(request_state_file(aurelay.pid(), dir / "state"));
        return books.encoded == kEvents && books.spooled > 0;
      },
      10s, 100ms))
      << read_file(dir / "state");
  const std::string state = request_state_file(aurelay.pid(), dir / "state");
  const Books books = read_books(state);
  EXPECT_EQ(books.accounted(), books.encoded) << state;
  EXPECT_GT(books.in_flight, 0u) << state;
  EXPECT_GE(state_number(state, "output stalls"), 1u) << state;

  ASSERT_EQ(aurelay.stop(), 0) << aurelay.stderr_text();
  const std::string at_exit = read_file(dir / "state");
  const Books final_books = read_books(at_exit);
  EXPECT_EQ(final_books.encoded, static_cast<std::uint64_t>(kEvents)) << at_exit;
  EXPECT_EQ(final_books.accounted(), final_books.encoded) << at_exit;
  EXPECT_EQ(final_books.in_flight, 0u) << at_exit;
  EXPECT_NE(aurelay.stderr_text().find("has not answered for"), std::string::npos);
  EXPECT_NE(aurelay.stderr_text().find("output not fully flushed at shutdown"), std::string::npos)
      << aurelay.stderr_text();
}

}  // namespace
}  // namespace aurelay::testing
