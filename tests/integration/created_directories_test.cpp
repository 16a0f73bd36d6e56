// A source build has no package to make /var/lib/aurelay and friends: aurelay creates the
// directories its configuration writes into, and names the option of one it cannot create.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "output/mozdef_test_server.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

TEST(CreatedDirectories, AReplayToMozdefCreatesTheMissingParentsOfEveryPathItWrites) {
  TempDir dir;
  MozdefTestServer server(dir / "received.ndjson");
  write_file(dir / "input.log", login_record(1) + login_record(2));
  const std::filesystem::path var = dir / "var";  // nothing under it exists yet
  CommandResult run = run_command(
      {AURELAY_BINARY, "--config", private_config(dir), "--input", (dir / "input.log").string(),
       "--output", server.url("/_bulk"), "--spool_dir", (var / "lib/aurelay/spool").string(),
       "--dead_letter_file", (var / "lib/aurelay/dead-letter.ndjson").string(), "--state_file",
       (var / "run/aurelay/aurelay.state").string(), "--metrics_file",
       (var / "prom/node/aurelay.prom").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(documents_in(dir / "received.ndjson").size(), 2u);
  for (const char* created : {"", "lib", "lib/aurelay", "run", "run/aurelay", "prom", "prom/node"})
    EXPECT_EQ(mode_of(var / created), 0750u) << created;
  EXPECT_TRUE(std::filesystem::is_directory(var / "lib/aurelay/spool"));
  EXPECT_TRUE(std::filesystem::exists(var / "run/aurelay/aurelay.state"));
  EXPECT_TRUE(std::filesystem::exists(var / "prom/node/aurelay.prom"));
}

TEST(CreatedDirectories, AFileOutputInAMissingDirectoryIsWritten) {
  TempDir dir;
  write_file(dir / "input.log", login_record(1));
  const std::filesystem::path out = dir / "log/aurelay/events.json";
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   (dir / "input.log").string(), "--output", out.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(documents_in(out).size(), 1u);
  EXPECT_EQ(mode_of(dir / "log"), 0750u);
}

TEST(CreatedDirectories, ADirectoryThatCannotBeCreatedIsAnErrorNamingPathAndOption) {
  TempDir dir;
  write_file(dir / "input.log", login_record(1));
  write_file(dir / "blocker", "a file where a directory should be\n");
  const std::string spool = (dir / "blocker/spool").string();
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   (dir / "input.log").string(), "--output",
                                   "http://127.0.0.1:9/_bulk", "--spool_dir", spool});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("cannot use " + (dir / "blocker").string() +
                         ": it is not a directory (the directory of spool_dir " + spool + ")"),
            std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace aurelay::testing
