// The trickle case, with the aurelay binary and each bulk_format, against the MozDef stand-in that
// answers as loginput does: one event, a pause until the server has it, one more event. Each
// event leaves alone in its POST, which is where a one-line NDJSON body to /_bulk would be read
// as one object and only its key names published. Every event must arrive as a whole document.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "aurelay_process.h"
#include "output/mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;

struct Published {
  std::vector<std::string> event_ids;  // whole documents, in order
  std::vector<std::string> others;     // anything else loginput would have published
};

Published classify(const std::vector<std::string>& messages) {
  Published out;
  for (const std::string& message : messages) {
    rapidjson::Document document;
    document.Parse(message.c_str(), message.size());
    if (!document.HasParseError() && document.IsObject() && document.HasMember("details") &&
        document["details"].HasMember("eventid") && document.HasMember("category")) {
      out.event_ids.push_back(document["details"]["eventid"].GetString());
    } else {
      out.others.push_back(message);
    }
  }
  return out;
}

struct TrickleCase {
  const char* name;
  const char* path;         // of the server URL
  const char* bulk_format;  // "" = not set
  const char* endpoint;     // "endpoint" value the documents must carry, "" = none
};

void PrintTo(const TrickleCase& param, std::ostream* out) { *out << param.name; }

class Trickle : public ::testing::TestWithParam<TrickleCase> {};

TEST_P(Trickle, EveryEventArrivesAsAWholeDocument) {
  const TrickleCase& param = GetParam();
  TempDir dir;
  MozdefTestServer server(dir / "published.ndjson",
                          {"--requests", (dir / "requests.ndjson").string()});
  ASSERT_GT(server.port(), 0);
  std::vector<std::string> argv{AURELAY_BINARY,
                                "--config",
                                private_config(dir),
                                "--log_level",
                                "info",
                                "--input",
                                "stdin",
                                "--output",
                                server.url(param.path),
                                "--batch_flush_ms",
                                "50",
                                "--spool_dir",
                                (dir / "spool").string()};
  if (*param.bulk_format != '\0') {
    argv.push_back("--bulk_format");
    argv.push_back(param.bulk_format);
  }
  AurelayProcess aurelay(argv, dir / "err", AurelayProcess::Stdin::pipe);
  // One event; wait until the server answered its POST; then the next.
  for (int serial = 1; serial <= 2; ++serial) {
    aurelay.write_stdin(login_record(serial));
    ASSERT_TRUE(wait_for(
        [&] { return logged_requests(dir / "requests.ndjson").size() >= std::size_t(serial); }, 20s,
        20ms))
        << aurelay.stderr_text();
  }
  aurelay.close_stdin();
  EXPECT_EQ(aurelay.wait_exit(30s), 0) << aurelay.stderr_text();

  std::vector<LoggedRequest> requests = logged_requests(dir / "requests.ndjson");
  ASSERT_EQ(requests.size(), 2u) << "each event alone in its POST";
  for (const LoggedRequest& request : requests) {
    EXPECT_EQ(request.status, 200) << request.body;
    EXPECT_EQ(request.published, 1) << request.body;
  }
  Published published = classify(server.published());
  EXPECT_EQ(published.event_ids,
            (std::vector<std::string>{"1700000000.000:1", "1700000000.000:2"}));
  EXPECT_TRUE(published.others.empty()) << "published but not a document: " << published.others[0];
  if (*param.endpoint != '\0') {
    for (const std::string& message : server.published())
      EXPECT_NE(message.find(std::string("\"endpoint\":\"") + param.endpoint + "\""),
                std::string::npos)
          << message;
  }
  EXPECT_NE(aurelay.stderr_text().find(
                "bulk_format " + std::string(*param.bulk_format ? param.bulk_format
                                             : std::string(param.path) == "/events" ? "single"
                                                                                    : "array")),
            std::string::npos)
      << aurelay.stderr_text();
}

INSTANTIATE_TEST_SUITE_P(BulkFormats, Trickle,
                         ::testing::Values(TrickleCase{"array", "/_bulk", "array", ""},
                                           TrickleCase{"ndjson", "/_bulk", "ndjson", ""},
                                           TrickleCase{"single", "/events", "single", "events"},
                                           TrickleCase{"default_bulk", "/_bulk", "", ""},
                                           TrickleCase{"default_events", "/events", "", "events"}),
                         [](const auto& info) { return std::string(info.param.name); });

// The combinations loginput fails or loses: refused at start, exit 2, naming the setting.
TEST(BulkFormatConfig, FormatThatCannotWorkAtTheUrlIsAConfigError) {
  TempDir dir;
  for (auto [path, format] : {std::pair{"/events", "array"}, std::pair{"/events/", "ndjson"},
                              std::pair{"/_bulk", "single"}}) {
    CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                     "stdin", "--output", std::string("http://127.0.0.1:9") + path,
                                     "--bulk_format", format});
    EXPECT_EQ(run.exit_code, 2) << path << " " << format << "\n" << run.err;
    EXPECT_NE(run.err.find("bulk_format: '" + std::string(format) + "'"), std::string::npos)
        << run.err;
  }
  CommandResult unknown =
      run_command({AURELAY_BINARY, "--config", private_config(dir), "--input", "stdin", "--output",
                   "http://127.0.0.1:9/_bulk", "--bulk_format", "lines"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("bulk_format: invalid value 'lines', expected one of array, ndjson, "
                             "single"),
            std::string::npos)
      << unknown.err;
}

}  // namespace
}  // namespace aurelay::testing
