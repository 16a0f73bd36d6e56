#include "collector/written_directories.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace aurelay::collector {
namespace {

using testing::mode_of;
using testing::TempDir;
using testing::write_file;

std::vector<std::string> listed(const std::vector<WrittenDirectory>& directories) {
  std::vector<std::string> lines;
  lines.reserve(directories.size());
  for (const WrittenDirectory& directory : directories)
    lines.push_back(std::string(directory.option) + " " + directory.path);
  return lines;
}

Config config_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  std::string text;
  for (const auto& [key, value] : settings) {
    text += key;
    text += " = ";
    text += value;
    text += '\n';
  }
  Config config;
  Status parsed = parse_config_text(text, "test.conf", config);
  EXPECT_TRUE(parsed.ok()) << parsed.error();
  return config;
}

TEST(WrittenDirectories, AnHttpOutputWritesItsSpoolAndDeadLettersAndALiveRunItsStateFile) {
  Config config = config_with({{"output", "https://mozdef.example/_bulk"},
                               {"spool_dir", "/srv/a/spool"},
                               {"dead_letter_file", "/srv/a/dead.ndjson"},
                               {"state_file", "/srv/run/aurelay.state"},
                               {"serial_file", "/srv/lib/last-serial"},
                               {"metrics_file", "/srv/prom/aurelay.prom"}});
  EXPECT_EQ(listed(written_directories(config, true)),
            (std::vector<std::string>{"spool_dir /srv/a", "state_file /srv/run",
                                      "serial_file /srv/lib", "metrics_file /srv/prom"}));
}

TEST(WrittenDirectories, AReplayToAFileWritesNoSpoolAndNoUnaskedStateFile) {
  Config config = config_with({{"output", "/srv/out/events.json"}});
  EXPECT_EQ(listed(written_directories(config, false)),
            (std::vector<std::string>{"output /srv/out"}));
  EXPECT_FALSE(writes_spool(config));
  EXPECT_FALSE(writes_state_file(config, false));
  EXPECT_TRUE(writes_state_file(config, true));
  Config to_stdout = config_with({{"output", "stdout"}});
  EXPECT_TRUE(written_directories(to_stdout, false).empty());
}

TEST(WrittenDirectories, AnAmqpOutputSpools) {
  Config config = config_with({{"amqp_url", "amqp://guest:guest@127.0.0.1:5672/"},
                               {"spool_dir", "/srv/b/spool"},
                               {"dead_letter_file", "/srv/c/dead.ndjson"}});
  EXPECT_TRUE(writes_spool(config));
  EXPECT_EQ(listed(written_directories(config, false)),
            (std::vector<std::string>{"spool_dir /srv/b", "dead_letter_file /srv/c"}));
}

TEST(WrittenDirectories, MissingDirectoriesAreCreated0750AndExistingOnesAreLeftAlone) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0711), 0);
  const std::filesystem::path deep = dir / "a/b/c";
  const Status created = create_missing_directories(deep.string(), std::nullopt);
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(mode_of(dir / "a"), 0750u);
  EXPECT_EQ(mode_of(dir / "a/b"), 0750u);
  EXPECT_EQ(mode_of(deep), 0750u);
  EXPECT_EQ(mode_of(dir.path()), 0711u);  // existed: the operator's mode stays
  EXPECT_TRUE(create_missing_directories(deep.string(), std::nullopt).ok());
}

TEST(WrittenDirectories, APathThatCannotBeCreatedNamesThePathAndTheOption) {
  TempDir dir;
  write_file(dir / "file", "not a directory\n");
  Config config = config_with({{"output", "https://mozdef.example/_bulk"},
                               {"spool_dir", (dir / "file/spool").string()},
                               {"metrics_file", (dir / "prom/aurelay.prom").string()}});
  const Status created = create_written_directories(config, false, std::nullopt);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error(), "cannot use " + (dir / "file").string() +
                                 ": it is not a directory (the directory of spool_dir " +
                                 (dir / "file/spool").string() + ")");
  Config deeper = config_with({{"output", (dir / "file/x/events.json").string()}});
  const Status under_file = create_written_directories(deeper, false, std::nullopt);
  ASSERT_FALSE(under_file.ok());
  EXPECT_EQ(under_file.error(), "cannot create " + (dir / "file/x").string() +
                                    ": Not a directory (the directory of output " +
                                    (dir / "file/x/events.json").string() + ")");
}

TEST(WrittenDirectories, CreatedDirectoriesBelongToTheUserAfterThePrivilegeDrop) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  TempDir dir;
  const UserIds owner{nobody->pw_uid, nobody->pw_gid};
  ASSERT_TRUE(create_missing_directories((dir / "x/y").string(), owner).ok());
  for (const char* created : {"x", "x/y"}) {
    struct stat info {};
    ASSERT_EQ(::stat((dir / created).c_str(), &info), 0);
    EXPECT_EQ(info.st_uid, owner.uid) << created;
    EXPECT_EQ(info.st_gid, owner.gid) << created;
  }
  struct stat top {};
  ASSERT_EQ(::stat(dir.path().c_str(), &top), 0);
  EXPECT_EQ(top.st_uid, 0u);  // existed before: still root's
}

}  // namespace
}  // namespace aurelay::collector
