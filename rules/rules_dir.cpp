#include "rules/rules_dir.h"

#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/write_all.h"

namespace aurelay::rules {

namespace {

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The length of `s` without its file suffix: trailing runs of '.' + letter or '~' + letters,
// digits and '~' (".rules", ".tar.gz").
std::size_t prefix_length(std::string_view s) {
  std::size_t prefix = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    ++i;
    prefix = i;
    while (i + 1 < s.size() && s[i] == '.' &&
           (is_alpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '~')) {
      for (i += 2; i < s.size() && (is_alpha(static_cast<unsigned char>(s[i])) ||
                                    is_digit(static_cast<unsigned char>(s[i])) || s[i] == '~');
           ++i) {
      }
    }
  }
  return prefix;
}

// The weight of a non-digit character: the end first, then '~', digits, letters, the rest.
int order(std::string_view s, std::size_t pos) {
  if (pos == s.size()) return -1;
  const auto c = static_cast<unsigned char>(s[pos]);
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return c;
  if (c == '~') return -2;
  return c + 256;
}

// Debian's version comparison: non-digit runs by order(), digit runs by numeric value.
int compare_versions(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !is_digit(static_cast<unsigned char>(a[i]))) ||
           (j < b.size() && !is_digit(static_cast<unsigned char>(b[j])))) {
      const int x = order(a, i);
      const int y = order(b, j);
      if (x != y) return x - y;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    int first_difference = 0;
    while (i < a.size() && j < b.size() && is_digit(static_cast<unsigned char>(a[i])) &&
           is_digit(static_cast<unsigned char>(b[j]))) {
      if (first_difference == 0) first_difference = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(static_cast<unsigned char>(a[i]))) return 1;
    if (j < b.size() && is_digit(static_cast<unsigned char>(b[j]))) return -1;
    if (first_difference != 0) return first_difference;
  }
  return 0;
}

int compare_file_versions(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() ? (b.empty() ? 0 : -1) : 1;
  if (a.front() == '.' || b.front() == '.') {  // hidden names first ("." and ".." before them)
    if (a.front() != '.') return 1;
    if (b.front() != '.') return -1;
  }
  const std::size_t a_prefix = prefix_length(a);
  const std::size_t b_prefix = prefix_length(b);
  const int result = compare_versions(a.substr(0, a_prefix), b.substr(0, b_prefix));
  if (result != 0 || (a_prefix == a.size() && b_prefix == b.size())) return result;
  return compare_versions(a, b);
}

// augenrules' patterns as Debian's awk (mawk) reads them: there "\s" is a plain 's', so
// "^\s*#" is "^s*#" (an indented comment is kept as a rule line, auditctl skips it).
bool starts_with_option(std::string_view line, std::string_view option) {
  std::size_t at = 0;
  while (at < line.size() && line[at] == 's') ++at;
  return line.substr(at).starts_with(option);
}
bool is_delete_all(std::string_view line) {  // ^s*-Ds*$
  std::size_t at = 0;
  while (at < line.size() && line[at] == 's') ++at;
  if (!line.substr(at).starts_with("-D")) return false;
  for (at += 2; at < line.size(); ++at) {
    if (line[at] != 's') return false;
  }
  return true;
}

std::string path_in(const std::string& dir, std::string_view name) {
  std::string path = dir;
  path += '/';
  path += name;
  return path;
}

std::string cannot_read(const std::string& dir, const std::string& path) {
  return "rules_dir " + dir + ": cannot read " + path + ": " + std::strerror(errno);
}

Result<std::vector<std::string>> rules_files(const std::string& dir) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr)
    return fail("rules_dir " + dir + ": cannot read the directory: " + std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name.front() == '.' || !name.ends_with(".rules")) continue;  // ls -1 | grep '\.rules$'
    struct stat st {};
    const std::string path = path_in(dir, name);
    if (::stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;  // cat skips them
    names.emplace_back(name);
  }
  ::closedir(listing);
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return version_sort_before(a, b); });
  return names;
}

}  // namespace

bool version_sort_before(std::string_view a, std::string_view b) {
  const int by_version = compare_file_versions(a, b);
  return by_version != 0 ? by_version < 0 : a < b;  // ls: equal versions by bytes
}

std::string MergedRules::origin_of(int line) const {
  if (line >= 1 && static_cast<std::size_t>(line) <= origin.size() &&
      !origin[static_cast<std::size_t>(line) - 1].empty())
    return origin[static_cast<std::size_t>(line) - 1];
  return dir + " (merged line " + std::to_string(line) + ")";
}

Result<MergedRules> merge_rules_dir(const std::string& dir) {
  Result<std::vector<std::string>> names = rules_files(dir);
  if (!names) return names.failure();
  MergedRules merged;
  merged.name = "rules_dir " + dir;
  merged.dir = dir;
  merged.files = std::move(names).value();

  // `cat` of every file: one stream, so a file without a final newline runs into the next one.
  std::string stream;
  std::vector<std::pair<std::size_t, std::string>> starts;  // stream offset -> file
  for (const std::string& name : merged.files) {
    const std::string path = path_in(dir, name);
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(cannot_read(dir, path));
    starts.emplace_back(stream.size(), path);
    stream.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  struct SourceLine {
    std::string text;
    std::string origin;
  };
  SourceLine delete_all;
  SourceLine backlog;
  SourceLine failure;
  SourceLine enable;
  std::vector<SourceLine> rest;
  std::size_t file = 0;
  int line_in_file = 0;
  for (std::size_t at = 0; at < stream.size();) {
    while (file + 1 < starts.size() && starts[file + 1].first <= at) {
      ++file;
      line_in_file = 0;
    }
    ++line_in_file;
    std::size_t end = stream.find('\n', at);
    if (end == std::string::npos) end = stream.size();
    SourceLine line{stream.substr(at, end - at),
                    starts[file].second + ":" + std::to_string(line_in_file)};
    at = end + 1;
    if (line.text.empty() || starts_with_option(line.text, "#")) continue;
    if (starts_with_option(line.text, "-e")) {
      enable = std::move(line);
    } else if (is_delete_all(line.text)) {
      delete_all = std::move(line);
    } else if (starts_with_option(line.text, "-f")) {
      failure = std::move(line);
    } else if (starts_with_option(line.text, "-b")) {
      backlog = std::move(line);
    } else {
      rest.push_back(std::move(line));
    }
  }

  auto emit = [&merged](const SourceLine& line) {
    merged.text += line.text;
    merged.text += '\n';
    merged.origin.push_back(line.origin);
  };
  emit({"## This file is automatically generated from " + dir, ""});
  emit(delete_all);
  emit(backlog);
  emit(failure);
  for (const SourceLine& line : rest) emit(line);
  emit(enable);
  return merged;
}

Result<std::optional<MergedRules>> lock_last(const std::string& rules_file) {
  std::ifstream in(rules_file, std::ios::binary);
  if (!in) return fail("cannot read rules file " + rules_file + ": " + std::strerror(errno));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  auto is_lock = [](const std::string& line) {
    std::istringstream words(line);
    std::string option;
    std::string value;
    std::string more;
    return static_cast<bool>(words >> option >> value) && option == "-e" && value == "2" &&
           !(words >> more);
  };
  auto is_rule_line = [](const std::string& line) {
    const auto first = line.find_first_not_of(" \t");
    return first != std::string::npos && line[first] != '#';
  };
  bool lock_seen = false;
  bool moves = false;
  for (const std::string& line : lines) {
    if (is_lock(line))
      lock_seen = true;
    else if (lock_seen && is_rule_line(line))
      moves = true;
  }
  if (!moves) return std::optional<MergedRules>();
  MergedRules reordered;
  reordered.name = rules_file;
  reordered.dir = rules_file;
  reordered.files = {rules_file};
  std::vector<std::size_t> locks;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_lock(lines[i])) {
      locks.push_back(i);
      continue;
    }
    reordered.text += lines[i] + '\n';
    reordered.origin.push_back(rules_file + ":" + std::to_string(i + 1));
  }
  for (std::size_t i : locks) {
    reordered.text += lines[i] + '\n';
    reordered.origin.push_back(rules_file + ":" + std::to_string(i + 1));
  }
  return std::optional<MergedRules>(std::move(reordered));
}

RulesLoadResult load_merged_rules(const MergedRules& rules, const std::string& auditctl_path) {
  RulesLoadResult result;
  // Inherited by auditctl (no MFD_CLOEXEC), which opens it as /proc/self/fd/N: a regular file
  // owned by root and not world-writable, as auditctl -R requires, that never touches the disk.
  const int fd = ::memfd_create("aurelay-rules", 0);
  // A memory file starts 0777; auditctl -R refuses a world-writable rules file (silently).
  if (fd >= 0 && ::fchmod(fd, 0600) != 0) {
    result.error = rules.name + ": fchmod of the merged rules: " + std::strerror(errno);
    ::close(fd);
    return result;
  }
  if (fd < 0) {
    result.error = rules.name + ": memfd_create: " + std::strerror(errno);
    return result;
  }
  if (!write_all(fd, rules.text)) {
    result.error = rules.name + ": writing the merged rules: " + std::strerror(errno);
    ::close(fd);
    return result;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  result = load_rules_file(
      path, auditctl_path,
      {.name = rules.name, .origin_of = [&rules](int line) { return rules.origin_of(line); }});
  ::close(fd);
  return result;
}

}  // namespace aurelay::rules
