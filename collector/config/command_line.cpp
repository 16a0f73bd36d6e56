// Parsed by hand from the option table rather than with CLI11: the table already knows every
// key, its type and its text, so --help, the man page and the config file stay one source, and
// errors come back as values with the exit code instead of CLI11's exceptions and formatter.
#include "collector/config/command_line.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/rules_dir.h"

namespace aurelay::collector {

namespace {

Failure usage_error(const std::string& message) {
  return fail(kExitConfigError, "aurelay: " + message + "\nTry 'aurelay --help'.\n");
}

Failure config_error(const std::string& message) {
  return fail(kExitConfigError, "aurelay: " + message + "\n");
}

bool looks_like_bool(std::string_view text) {
  for (std::string_view word : {"yes", "no", "true", "false", "on", "off", "1", "0"}) {
    if (text == word) return true;
  }
  return false;
}

// The flags that choose what the program does instead of running (they take no value).
struct ActionFlag {
  std::string_view name;   // as written after "--"
  std::string_view alias;  // the '_' spelling, or empty
  CommandLineAction action;
};
constexpr std::array kActionFlags = {
    ActionFlag{"help", "", CommandLineAction::kHelp},
    ActionFlag{"version", "", CommandLineAction::kVersion},
    ActionFlag{"check-config", "check_config", CommandLineAction::kCheckConfig},
    ActionFlag{"dump-config", "dump_config", CommandLineAction::kDumpConfig},
    ActionFlag{"dump-man", "dump_man", CommandLineAction::kDumpMan},
};

// What the arguments say, before any file is read.
struct Arguments {
  CommandLineAction action = CommandLineAction::kRun;
  std::string config_path{kDefaultConfigPath};
  bool config_path_given = false;
  std::vector<std::pair<const OptionSpec*, std::string>> overrides;  // in command-line order
};

Result<Arguments> scan_arguments(int argc, char** argv) {
  Arguments scanned;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      return usage_error("unexpected argument '" + std::string(arg) + "'");
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string value;
    bool has_inline_value = false;
    if (const auto equals = arg.find('='); equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = std::string(arg.substr(equals + 1));
      has_inline_value = true;
    }
    const auto flag = std::find_if(kActionFlags.begin(), kActionFlags.end(), [&](const auto& f) {
      return name == f.name || (!f.alias.empty() && name == f.alias);
    });
    if (flag != kActionFlags.end()) {
      if (has_inline_value) return usage_error("--" + std::string(flag->name) + " takes no value");
      scanned.action = flag->action;
      continue;
    }
    const bool is_config = name == "config";
    const OptionSpec* spec = is_config ? nullptr : find_option(name);
    if (!is_config && spec == nullptr) {
      return usage_error("unknown option '--" + std::string(name) + "'");
    }
    if (!has_inline_value) {
      const bool next_is_value = i + 1 < argc;
      if (spec != nullptr && spec->type == OptionType::kBool &&
          (!next_is_value || !looks_like_bool(argv[i + 1]))) {
        value = "yes";  // a bare boolean flag: --curl_verbose
      } else if (!next_is_value) {
        return usage_error("option '--" + std::string(name) + "' needs a value");
      } else {
        value = argv[++i];
      }
    }
    if (is_config) {
      scanned.config_path = value;
      scanned.config_path_given = true;
    } else {
      scanned.overrides.emplace_back(spec, std::move(value));
    }
  }
  return scanned;
}

}  // namespace

Result<CommandLine> parse_command_line(int argc, char** argv) {
  Result<Arguments> scanned = scan_arguments(argc, argv);
  if (!scanned) return scanned.failure();
  const auto& [action, config_path, config_path_given, overrides] = *scanned;

  CommandLine result;
  result.action = action;
  switch (action) {
    case CommandLineAction::kHelp:
      result.output = render_help("aurelay");
      return result;
    case CommandLineAction::kVersion:
      result.output = "aurelay " AURELAY_VERSION "\n";
      return result;
    case CommandLineAction::kDumpConfig:
      result.output = render_config_file();
      return result;
    case CommandLineAction::kDumpMan:
      result.output = render_man_page();
      return result;
    default:
      break;
  }

  Config& config = result.config;
  struct stat st {};
  const bool exists = ::stat(config_path.c_str(), &st) == 0 || errno != ENOENT;
  if (config_path_given || exists) {
    if (config_path.empty()) return usage_error("--config needs a file name");
    if (Status loaded = load_config_file(config_path, config); !loaded)
      return config_error(loaded.error());
  }
  for (const auto& [spec, value] : overrides) {
    if (Status applied = set_option(config, *spec, value, "command line"); !applied)
      return usage_error(applied.error());
  }
  if (Status taken = apply_auditd_conf(config); !taken) return config_error(taken.error());
  if (Status valid = validate_config(config); !valid) return config_error(valid.error());

  if (action == CommandLineAction::kCheckConfig) {
    result.output = "aurelay: configuration OK (" +
                    (config.config_file.empty() ? std::string("defaults, no config file")
                                                : config.config_file) +
                    ")\n";
    // The rule set a start would load, as augenrules would write it.
    if (!config.rules_dir.empty()) {
      Result<rules::MergedRules> merged = rules::merge_rules_dir(config.rules_dir);
      if (!merged) return config_error(merged.error());
      result.output += merged->text;
    }
  }
  return result;
}

std::optional<int> finish_without_running(const Result<CommandLine>& command_line) {
  if (!command_line) {
    const std::string& error = command_line.error();
    std::fwrite(error.data(), 1, error.size(), stderr);
    return command_line.exit_code_or(kExitConfigError);
  }
  if (command_line->action == CommandLineAction::kRun) return std::nullopt;
  const std::string& output = command_line->output;
  if (!output.empty()) {
    std::fwrite(output.data(), 1, output.size(), stdout);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace aurelay::collector
