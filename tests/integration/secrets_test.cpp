// A password in an output URL, or in a credentials file, never shows: not in aurelay's log lines
// (start-up, retry warnings), not in curl's verbose output (its Authorization header), not in the
// state file, not in --check-config or configuration errors. Every output is searched for the
// secret and for the base64 of user:secret (what an Authorization: Basic header carries).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "output/mozdef_test_server.h"
#include "output/url_credentials.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

constexpr const char* kSecret = "s3cretpw";
constexpr const char* kBasicOfUserSecret = "dXNlcjpzM2NyZXRwdw==";  // base64("user:s3cretpw")

void expect_no_secret(const std::string& where, const std::string& text) {
  EXPECT_EQ(text.find(kSecret), std::string::npos) << where << ":\n" << text.substr(0, 4000);
  EXPECT_EQ(text.find(kBasicOfUserSecret), std::string::npos) << where;
}

std::vector<std::string> replay_args(const TempDir& dir, const std::string& url) {
  return {AURELAY_BINARY,
          "--config",
          private_config(dir),
          "--input",
          fixture_path("kernel-capture-mozdef.log").string(),
          "--output",
          url,
          "--curl_verbose",
          "yes",
          "--curl_logfile",
          (dir / "curl.log").string(),
          "--spool_dir",
          (dir / "spool").string(),
          "--state_file",
          (dir / "aurelay.state").string(),
          "--retry_base_ms",
          "50",
          "--retry_max_ms",
          "200",
          "--log_level",
          "info"};
}

TEST(Secrets, PasswordInTheUrlShowsNowhereWhileTheServerFails) {
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson", {"--mode", "500"});
  ASSERT_GT(server.port(), 0);
  const std::string url = "http://user:" + std::string(kSecret) +
                          "@127.0.0.1:" + std::to_string(server.port()) + "/_bulk";
  const CommandResult run = run_command(replay_args(dir, url));
  const std::string log = run.output();
  // It did try, and said so, with the URL masked.
  EXPECT_NE(log.find("http://***@127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("HTTP 500"), std::string::npos) << log;
  expect_no_secret("aurelay's log", log);
  const std::string curl_log = read_file(dir / "curl.log");
  EXPECT_NE(curl_log.find("Authorization: Basic ***"), std::string::npos)
      << curl_log.substr(0, 3000);
  expect_no_secret("curl's verbose log", curl_log);
  const std::string state = read_file(dir / "aurelay.state");
  EXPECT_NE(state.find("http://***@127.0.0.1:"), std::string::npos) << state;
  expect_no_secret("state file", state);
}

TEST(Secrets, CheckConfigAndConfigurationErrorsMaskTheUrl) {
  TempDir dir;
  const std::string url = "https://user:" + std::string(kSecret) + "@mozdef.example/_bulk";
  CommandResult check = run_command(
      {AURELAY_BINARY, "--config", private_config(dir), "--check-config", "--output", url});
  EXPECT_EQ(check.exit_code, 0) << check.output();
  expect_no_secret("--check-config", check.output());
  CommandResult refused =
      run_command({AURELAY_BINARY, "--config", private_config(dir), "--check-config", "--output",
                   url, "--bulk_format", "single"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output().find("https://***@mozdef.example/_bulk"), std::string::npos)
      << refused.output();
  expect_no_secret("configuration error", refused.output());
}

TEST(Secrets, CredentialsFileIsUsedAndRefusedWhenOthersCanReadIt) {
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  ASSERT_GT(server.port(), 0);
  const std::filesystem::path credentials = dir / "credentials";
  write_file(credentials, "user:" + std::string(kSecret) + "\n");
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/_bulk";
  std::vector<std::string> args = replay_args(dir, url);
  args.insert(args.end(), {"--http_credentials_file", credentials.string()});

  ::chmod(credentials.c_str(), 0644);
  const CommandResult refused = run_command(args);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output().find("can be read by its group or others"), std::string::npos)
      << refused.output();
  EXPECT_TRUE(server.published().empty());

  ::chmod(credentials.c_str(), 0600);
  const CommandResult run = run_command(args);
  EXPECT_EQ(run.exit_code, 0) << run.output();
  EXPECT_FALSE(server.published().empty());
  const std::string curl_log = read_file(dir / "curl.log");
  EXPECT_NE(curl_log.find("Authorization: Basic ***"), std::string::npos);
  expect_no_secret("aurelay's log", run.output());
  expect_no_secret("curl's verbose log", curl_log);
  expect_no_secret("state file", read_file(dir / "aurelay.state"));
}

TEST(Secrets, RedactionKeepsEverythingButTheUserInformation) {
  using output::redact_authorization_header;
  using output::redact_url_credentials;
  EXPECT_EQ(redact_url_credentials("https://u:p@h:8443/_bulk?x=1"), "https://***@h:8443/_bulk?x=1");
  EXPECT_EQ(redact_url_credentials("amqp://token@broker/vhost"), "amqp://***@broker/vhost");
  EXPECT_EQ(redact_url_credentials("https://h/path@not-userinfo"), "https://h/path@not-userinfo");
  EXPECT_EQ(redact_url_credentials("/var/log/aurelay/events.json"), "/var/log/aurelay/events.json");
  EXPECT_EQ(redact_authorization_header("Authorization: Basic dXNlcjpw\r\n"),
            "Authorization: Basic ***\r\n");
  EXPECT_EQ(redact_authorization_header("authorization: Bearer abc"), "authorization: Bearer ***");
  EXPECT_EQ(redact_authorization_header("Accept: */*\r\n"), "Accept: */*\r\n");
}

}  // namespace
}  // namespace aurelay::testing
