#include "collector/config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "output/http/bulk_format.h"
#include "test_support.h"

namespace aurelay::collector {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "aurelay-config-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    fs::path file = path_ / name;
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(ConfigTable, EveryDefaultParsesAndMatchesTheDefaultConfig) {
  const Config defaults;
  for (const auto& spec : option_table()) {
    Config config;
    Status result = set_option(config, spec, spec.default_value, "test");
    EXPECT_TRUE(result.ok()) << spec.name << ": " << result.error();
    EXPECT_EQ(format_option_value(config, spec), format_option_value(defaults, spec)) << spec.name;
    EXPECT_FALSE(spec.description.empty()) << spec.name;
    EXPECT_FALSE(spec.value_name.empty()) << spec.name;
  }
  EXPECT_TRUE(defaults.origin.empty());
  EXPECT_TRUE(validate_config(defaults).ok()) << validate_config(defaults).error();
}

TEST(ConfigTable, NamesAreUniqueAndCoverTheIssueKeys) {
  std::set<std::string> names;
  for (const auto& spec : option_table()) {
    EXPECT_TRUE(names.insert(std::string(spec.name)).second) << "duplicate " << spec.name;
  }
  for (const char* key : {"input",
                          "output",
                          "receive_buffer_bytes",
                          "queue_full_action",
                          "ring_capacity",
                          "eoe_timeout_ms",
                          "max_in_flight",
                          "backlog_limit",
                          "backlog_wait_time",
                          "rate_limit",
                          "enabled",
                          "rules_file",
                          "auditctl",
                          "rules_missing_auditctl",
                          "rules_errors",
                          "state_file",
                          "report_interval",
                          "metrics_file",
                          "log_level",
                          "log_target",
                          "user",
                          "hostname",
                          "http_max_inflight",
                          "batch_max_events",
                          "batch_max_bytes",
                          "batch_flush_ms",
                          "bulk_format",
                          "retry_base_ms",
                          "retry_max_ms",
                          "ssl_verify",
                          "curl_cainfo",
                          "ssl_client_cert",
                          "ssl_client_key",
                          "curl_verbose",
                          "curl_logfile",
                          "spool_dir",
                          "spool_max_bytes",
                          "spool_full_action",
                          "spool_fsync",
                          "dead_letter_file",
                          "mozdef_url",
                          "file_log",
                          "prepend_msg",
                          "postpend_msg"}) {
    EXPECT_TRUE(names.contains(key)) << key;
  }
}

TEST(ConfigDefaults, AreTheDocumentedOnes) {
  const Config config;
  EXPECT_EQ(config.input, "netlink");
  EXPECT_EQ(config.output, "stdout");
  EXPECT_EQ(config.pipeline.queue_full_action, QueueFullAction::block);
  EXPECT_EQ(config.state_file, "/run/aurelay/aurelay.state");
  EXPECT_EQ(config.rules_file, "/etc/aurelay/audit.rules");
  EXPECT_EQ(config.rules_errors, RulesErrors::follow_file);
  EXPECT_EQ(config.data_socket.receive_buffer_bytes, 32u * 1024 * 1024);
  EXPECT_TRUE(config.tls.verify);
  EXPECT_FALSE(config.http.curl_verbose);
  EXPECT_EQ(config.backlog_wait_time, -1);
  EXPECT_EQ(config.user, "");
  EXPECT_EQ(config.effective_output(), "stdout");
}

TEST(ConfigParse, ReadsKeyValueLinesCommentsAndBlankLines) {
  Config config;
  const std::string text =
      "# a comment\n"
      "\n"
      "   input = multicast   \n"
      "output=/var/log/aurelay.json\n"
      "receive_buffer_bytes = 8M\n"
      "ssl_verify = NO\n"
      "queue_full_action = Drop\n"
      "backlog_wait_time = 0\n"
      "prepend_msg = \"  audit: \"\n"
      "\t# indented comment\r\n"
      "ring_capacity = 4096\r\n";
  Status result = parse_config_text(text, "/etc/x.conf", config);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(config.input, "multicast");
  EXPECT_EQ(config.output, "/var/log/aurelay.json");
  EXPECT_EQ(config.data_socket.receive_buffer_bytes, 8u * 1024 * 1024);
  EXPECT_FALSE(config.tls.verify);
  EXPECT_EQ(config.pipeline.queue_full_action, QueueFullAction::drop);
  EXPECT_EQ(config.backlog_wait_time, 0);
  EXPECT_EQ(config.file.prepend_msg, "  audit: ");
  EXPECT_EQ(config.pipeline.record_batches, 4096u);
  EXPECT_EQ(config.origin.at("input"), "/etc/x.conf:3");
  EXPECT_EQ(config.origin.at("ring_capacity"), "/etc/x.conf:11");
  EXPECT_FALSE(config.is_set("user"));
}

struct BadLine {
  std::string text;
  std::string expected_error;
};

class ConfigParseError : public ::testing::TestWithParam<BadLine> {};

TEST_P(ConfigParseError, NamesFileLineAndProblem) {
  Config config;
  Status result =
      parse_config_text("# ok\ninput = netlink\n" + GetParam().text + "\n", "/etc/a.conf", config);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.exit_code(), kExitConfigError);
  EXPECT_EQ(result.error(), GetParam().expected_error);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ConfigParseError,
    ::testing::Values(
        BadLine{"no_such_key = 1", "/etc/a.conf:3: unknown key 'no_such_key'"},
        BadLine{"queue-full-action = drop", "/etc/a.conf:3: unknown key 'queue-full-action'"},
        BadLine{"just words", "/etc/a.conf:3: expected 'key = value', got 'just words'"},
        BadLine{"queue_full_action = maybe",
                "/etc/a.conf:3: queue_full_action: invalid value 'maybe', expected one of "
                "block, drop"},
        BadLine{"bulk_format = lines",
                "/etc/a.conf:3: bulk_format: invalid value 'lines', expected one of array, "
                "ndjson, single"},
        BadLine{"ssl_verify = perhaps",
                "/etc/a.conf:3: ssl_verify: invalid value 'perhaps', expected yes or no"},
        BadLine{"eoe_timeout_ms = 5",
                "/etc/a.conf:3: eoe_timeout_ms: 5 is out of range 10..600000"},
        BadLine{"eoe_timeout_ms = 12abc",
                "/etc/a.conf:3: eoe_timeout_ms: invalid value '12abc', expected an integer in "
                "10..600000"},
        BadLine{"batch_max_bytes = 1T",
                "/etc/a.conf:3: batch_max_bytes: invalid value '1T', expected a size in bytes "
                "(suffix K, M or G) in 1024..268435456"},
        BadLine{"backlog_limit = -2",
                "/etc/a.conf:3: backlog_limit: -2 is out of range "
                "-1..2147483647"},
        BadLine{"spool_dir = relative/dir",
                "/etc/a.conf:3: spool_dir: 'relative/dir' is not a path (absolute, or starting "
                "with ./)"},
        BadLine{"input = stdin", "/etc/a.conf:3: input is already set on line 2"}));

TEST(ConfigValidate, CrossOptionChecksNameWhereTheValueCameFrom) {
  Config config;
  ASSERT_TRUE(parse_config_text("ring_capacity = 1000\n", "/c", config).ok());
  Status result = validate_config(config);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "/c:1: ring_capacity: 1000 is not a power of two");

  Config retry;
  ASSERT_TRUE(parse_config_text("retry_max_ms = 50\nretry_base_ms = 100\n", "/c", retry).ok());
  EXPECT_EQ(validate_config(retry).error(),
            "/c:2: retry_base_ms: is larger than retry_max_ms (50)");

  Config input;
  ASSERT_TRUE(parse_config_text("input = netlnk\n", "/c", input).ok());
  EXPECT_EQ(validate_config(input).error(),
            "/c:1: input: 'netlnk' is not netlink, multicast, stdin or a file path (write "
            "./netlnk for a file in the current directory)");

  Config output;
  ASSERT_TRUE(parse_config_text("output = ftp://x\n", "/c", output).ok());
  EXPECT_EQ(validate_config(output).error(),
            "/c:1: output: 'ftp://x' is not an http(s):// URL or an amqp(s):// URL");
  Config url;
  ASSERT_TRUE(parse_config_text("mozdef_url = /not/a/url\n", "/c", url).ok());
  EXPECT_EQ(validate_config(url).error(),
            "/c:1: mozdef_url: '/not/a/url' is not an http(s):// URL");

  Config tls;
  ASSERT_TRUE(parse_config_text("ssl_client_cert = /etc/c.pem\n", "/c", tls).ok());
  EXPECT_FALSE(validate_config(tls).ok());
}

// Every value the table lists for bulk_format is one the HTTP sink knows, each its own format,
// and the table's default is the sink's.
TEST(ConfigBulkFormat, EveryListedValueMapsToItsOwnFormat) {
  const OptionSpec* spec = find_option("bulk_format");
  ASSERT_NE(spec, nullptr);
  std::set<output::BulkFormat> formats;
  std::string_view rest = spec->choices;
  int listed = 0;
  while (!rest.empty()) {
    const auto bar = rest.find('|');
    const std::string value(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    ++listed;
    Config config;
    ASSERT_TRUE(parse_config_text("bulk_format = " + value + "\n", "/c", config).ok()) << value;
    EXPECT_EQ(output::bulk_format_name(config.http.bulk_format), value);
    formats.insert(config.http.bulk_format);
  }
  EXPECT_EQ(listed, 3);
  EXPECT_EQ(formats.size(), 3u);
  EXPECT_EQ(Config().http.bulk_format, output::BulkFormat::array);
  EXPECT_EQ(spec->default_value, "array");
}

TEST(ConfigBulkFormat, AFormatLoginputFailsOrLosesAtTheUrlIsRefused) {
  struct Case {
    std::string text;
    std::string error;  // "" = valid
  };
  for (const Case& c : std::vector<Case>{
           {"output = https://m/events\nbulk_format = array\n",
            "/c:2: bulk_format: 'array' with https://m/events: MozDef's /events takes one JSON "
            "object per POST and answers 500 to an array or several lines; use single there (the "
            "default for an /events URL) or post to /_bulk"},
           {"mozdef_url = https://m/events/\nbulk_format = ndjson\n", "/c:2: bulk_format: "},
           {"bulk_format = single\noutput = http://m:8080/_bulk\n",
            "/c:1: bulk_format: 'single' with http://m:8080/_bulk: MozDef's /_bulk reads a "
            "one-object body as a dict and publishes its key names, losing every event; use "
            "array or ndjson there, or post to /events"},
           {"output = https://m/events\n", ""},  // unset: single is chosen for /events
           {"output = https://m/events\nbulk_format = single\n", ""},
           {"output = https://m/_bulk\nbulk_format = ndjson\n", ""},
           {"output = https://m/custom\nbulk_format = single\n", ""},
           {"output = /var/log/a.json\nbulk_format = single\n", ""},
       }) {
    Config config;
    ASSERT_TRUE(parse_config_text(c.text, "/c", config).ok()) << c.text;
    Status result = validate_config(config);
    if (c.error.empty()) {
      EXPECT_TRUE(result.ok()) << c.text << result.error();
    } else {
      EXPECT_FALSE(result.ok()) << c.text;
      EXPECT_EQ(result.exit_code(), kExitConfigError);
      EXPECT_EQ(result.error().rfind(c.error, 0), 0u) << result.error();
    }
  }
}

TEST(ConfigEffectiveOutput, AudispJsonKeysApplyWhenOutputIsNotSet) {
  Config mozdef;
  ASSERT_TRUE(parse_config_text("mozdef_url = https://m.example/events\n", "/c", mozdef).ok());
  EXPECT_EQ(mozdef.effective_output(), "https://m.example/events");

  Config file_log;
  ASSERT_TRUE(
      parse_config_text("mozdef_url = https://m.example/events\nfile_log = /var/log/a.json\n", "/c",
                        file_log)
          .ok());
  EXPECT_EQ(file_log.effective_output(), "/var/log/a.json");

  Config both;
  ASSERT_TRUE(
      parse_config_text("mozdef_url = https://m.example/events\noutput = stdout\n", "/c", both)
          .ok());
  EXPECT_EQ(both.effective_output(), "stdout");
}

TEST(ConfigFile, AnAudispJsonConfigLoads) {
  // audisp-json's shipped audisp-json.conf, as its users have it.
  TempDir dir;
  const fs::path file = dir.write("audisp-json.conf",
                                  "mozdef_url = https://127.0.0.1:8443/events\n"
                                  "ssl_verify = yes\n"
                                  "curl_verbose = no\n"
                                  "curl_logfile = /tmp/audisp-json-curl.log\n"
                                  "curl_cainfo = /etc/ssl/certs/ca-certificates.crt\n"
                                  "#file_log = /var/log/audisp-json.log\n"
                                  "prepend_msg = \n"
                                  "postpend_msg = \n",
                                  0600);
  Config config;
  Status result = load_config_file(file.string(), config);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(config.effective_output(), "https://127.0.0.1:8443/events");
  EXPECT_EQ(config.tls.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(config.http.curl_logfile, "/tmp/audisp-json-curl.log");
  EXPECT_EQ(config.config_file, file.string());
  EXPECT_TRUE(validate_config(config).ok());
}

TEST(ConfigFile, WorldWritableFileIsRefused) {
  TempDir dir;
  const fs::path file = dir.write("a.conf", "input = stdin\n", 0666);
  ::chmod(file.c_str(), 0666);
  Config config;
  Status result = load_config_file(file.string(), config);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.exit_code(), kExitConfigError);
  EXPECT_EQ(result.error(), file.string() + ": is world-writable (chmod o-w)");
  EXPECT_EQ(config.input, "netlink");  // nothing applied
}

TEST(ConfigFile, MissingOrUnreadableFileNamesTheFile) {
  TempDir dir;
  Config config;
  Status missing = load_config_file((dir.path() / "absent.conf").string(), config);
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(),
            (dir.path() / "absent.conf").string() + ": cannot open: No such file or directory");
  Status directory = load_config_file(dir.path().string(), config);
  EXPECT_FALSE(directory.ok());
  EXPECT_NE(directory.error().find(dir.path().string()), std::string::npos);
}

TEST(ConfigFile, NotOwnedByRootIsRefusedWhenRunningAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  TempDir dir;
  const fs::path file = dir.write("a.conf", "input = stdin\n", 0644);
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  Config config;
  Status result = load_config_file(file.string(), config);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error(), file.string() +
                                ": is not owned by root (uid 65534); aurelay runs as root and only "
                                "reads root's config");
  ASSERT_EQ(::chown(file.c_str(), 0, 0), 0);
  Config owned;
  EXPECT_TRUE(load_config_file(file.string(), owned).ok());
  EXPECT_EQ(owned.input, "stdin");
}

TEST(ConfigFile, ErrorsInTheFileNameItsLine) {
  TempDir dir;
  const fs::path file = dir.write("a.conf", "input = stdin\n\n# c\nlog_level = loud\n", 0600);
  Config config;
  Status result = load_config_file(file.string(), config);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error().rfind(file.string() + ":4: log_level: invalid value 'loud'", 0), 0u)
      << result.error();
}

TEST(ConfigRender, GeneratedConfigFileParsesToTheShippedValues) {
  const std::string text = render_config_file();
  Config config;
  Status result = parse_config_text(text, "generated", config);
  ASSERT_TRUE(result.ok()) << result.error();
  for (const auto& spec : option_table()) {
    // Every key is documented with its default, commented out.
    EXPECT_NE(
        text.find("\n#" + std::string(spec.name) + " = " + std::string(spec.default_value) + "\n"),
        std::string::npos)
        << spec.name;
    if (!spec.shipped_value.empty()) {
      EXPECT_EQ(format_option_value(config, spec), spec.shipped_value);
    }
  }
  EXPECT_EQ(config.user, "aurelay");
  EXPECT_TRUE(validate_config(config).ok());
}

TEST(ConfigRender, HelpAndManPageListEveryOption) {
  const std::string help = render_help("aurelay");
  const std::string man = render_man_page();
  for (const auto& spec : option_table()) {
    EXPECT_NE(help.find("--" + std::string(spec.name) + " "), std::string::npos) << spec.name;
    std::string roff_name;
    for (char c : spec.name) roff_name += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_NE(man.find(".TP\n\\fB" + roff_name + "\\fR"), std::string::npos) << spec.name;
  }
  EXPECT_NE(help.find("Exit status: 0 success, 1 runtime failure, 2 configuration"),
            std::string::npos);
  EXPECT_EQ(man.rfind(".\\\"", 0), 0u);
  EXPECT_NE(man.find(".SH EXIT STATUS"), std::string::npos);
}

// The shipped files are generated; this fails when the table changed and they were not
// regenerated (tools/generate_docs.sh).
TEST(ConfigRender, ShippedFilesAreUpToDate) {
  EXPECT_EQ(testing::read_file(fs::path(AURELAY_SOURCE_DIR) / "collector" / "aurelay.conf"),
            render_config_file())
      << "run tools/generate_docs.sh";
  EXPECT_EQ(testing::read_file(fs::path(AURELAY_SOURCE_DIR) / "collector" / "aurelay.8"),
            render_man_page())
      << "run tools/generate_docs.sh";
}

TEST(ConfigRender, EffectiveConfigShowsOrigins) {
  Config config;
  ASSERT_TRUE(parse_config_text("input = stdin\n", "/c", config).ok());
  const std::string text = render_effective_config(config);
  EXPECT_NE(text.find("input = stdin  # /c:1\n"), std::string::npos);
  EXPECT_NE(text.find("output = stdout\n"), std::string::npos);
}

}  // namespace
}  // namespace aurelay::collector

namespace aurelay::collector {
namespace {

// Debian's auditd.conf as an operator may have tuned it: aurelay takes the local audit log's
// keys from it, its own settings win, the other keys are named and ignored.
TEST(AuditdConf, TakesTheLogKeysWhereAurelaysConfigLeftThemUnset) {
  testing::TempDir dir;
  testing::write_file(dir / "auditd.conf",
                      "#\n# This file controls the configuration of the audit daemon\n#\n\n"
                      "local_events = yes\nwrite_logs = yes\nlog_file = /var/log/audit/audit.log\n"
                      "log_group = adm\nlog_format = ENRICHED\nflush = INCREMENTAL\nfreq = 20\n"
                      "max_log_file = 6\nnum_logs = 9\npriority_boost = 4\n"
                      "name_format = USER\nname = web1\nmax_log_file_action = KEEP_LOGS\n"
                      "space_left = 25%\nspace_left_action = exec /usr/local/sbin/low\n"
                      "admin_space_left = 10%\nadmin_space_left_action = SUSPEND\n"
                      "disk_full_action = SUSPEND\ndisk_error_action = SYSLOG\n"
                      "q_depth = 2000\nplugin_dir = /etc/audit/plugins.d\n");
  Config config;
  ASSERT_TRUE(parse_config_text("auditd_conf = " + (dir / "auditd.conf").string() +
                                    "\nlog_format = raw\nnum_logs = 3\n",
                                "/etc/aurelay/aurelay.conf", config)
                  .ok());
  ASSERT_TRUE(testing::succeeded(apply_auditd_conf(config)));
  ASSERT_TRUE(testing::succeeded(validate_config(config)));
  const auditlog::AuditLogConfig& log = config.audit_log;
  EXPECT_TRUE(log.write_logs);
  EXPECT_EQ(log.log_group, "adm");
  EXPECT_EQ(log.format, auditlog::LogFormat::raw);  // aurelay.conf's
  EXPECT_EQ(log.num_logs, 3U);                      // aurelay.conf's
  EXPECT_EQ(log.flush, auditlog::FlushMode::incremental);
  EXPECT_EQ(log.freq, 20U);
  EXPECT_EQ(log.max_log_file_mib, 6U);
  EXPECT_EQ(log.max_log_file_action, auditlog::SizeAction::keep_logs);
  EXPECT_EQ(log.name_format, auditlog::NameFormat::user);
  EXPECT_EQ(log.name, "web1");
  EXPECT_EQ(log.space_left, "25%");
  EXPECT_EQ(log.space_left_action, "exec /usr/local/sbin/low");
  EXPECT_EQ(log.disk_error_action, "SYSLOG");
  EXPECT_EQ(config.origin.at("freq"), (dir / "auditd.conf").string() + ":11");
  EXPECT_EQ(config.auditd_conf_ignored,
            (std::vector<std::string>{"local_events", "priority_boost", "q_depth", "plugin_dir"}));
}

TEST(AuditdConf, ABadValueNamesTheFileAndLine) {
  testing::TempDir dir;
  testing::write_file(dir / "auditd.conf", "write_logs = yes\nflush = SOMETIMES\n");
  Config config;
  config.auditd_conf = (dir / "auditd.conf").string();
  Status taken = apply_auditd_conf(config);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.exit_code_or(0), kExitConfigError);
  EXPECT_NE(taken.error().find("auditd.conf:2: flush:"), std::string::npos) << taken.error();

  testing::write_file(dir / "auditd.conf", "disk_full_action = email\n");
  ASSERT_TRUE(testing::succeeded(apply_auditd_conf(config)));
  Status valid = validate_config(config);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().find("auditd.conf:1: disk_full_action: 'email' is not supported"),
            std::string::npos)
      << valid.error();

  config.auditd_conf = (dir / "missing.conf").string();
  EXPECT_FALSE(apply_auditd_conf(config));
}

TEST(AuditLogConfig, AuditdsSanityChecksApply) {
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"space_left = 40\nadmin_space_left = 50\n", "space_left"},
           {"space_left_action = exec\n", "space_left_action"},
           {"disk_error_action = rotate\n", "disk_error_action"},
           {"admin_space_left = 5 percent\n", "admin_space_left"},
           {"name_format = user\n", "name"}}) {
    Config config;
    ASSERT_TRUE(parse_config_text(text, "/c", config).ok()) << text;
    Status valid = validate_config(config);
    ASSERT_FALSE(valid) << text;
    EXPECT_NE(valid.error().find(key + ": "), std::string::npos) << valid.error();
  }
  Config percent;
  ASSERT_TRUE(parse_config_text("space_left = 20%\nadmin_space_left = 60\n", "/c", percent).ok());
  EXPECT_TRUE(testing::succeeded(validate_config(percent)));  // different units: not compared
}

}  // namespace
}  // namespace aurelay::collector
