// Filters that keep noise out of MozDef before an event is encoded: by audit key, syscall name,
// executable (a regular expression) and uid or auid. Each option is a list; an event matching any
// entry of any filter is filtered, and the filter that took it is named (for its counter).
// Built once at start from the options' text: a filter that can never match (an unknown syscall
// name, a bad regular expression, a uid that is not a number or user) is refused there.
#pragma once

#include <regex.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "correlate/event.h"
#include "correlate/record.h"

namespace aurelay::correlate {

struct FilterConfig {
  std::string keys;      // filter_keys: audit keys, comma-separated
  std::string syscalls;  // filter_syscalls: syscall names, comma-separated
  std::string exe;       // filter_exe: an extended regular expression on the exe path
  std::string uids;      // filter_uids: uids or user names, comma-separated (uid or auid)
  bool any() const { return !keys.empty() || !syscalls.empty() || !exe.empty() || !uids.empty(); }
};

// Which filter took an event.
enum class FilterMatch : std::uint8_t { none, key, syscall, exe, uid };

class EventFilter {
 public:
  // The filters of `config`; a failure names the option ("filter_syscalls: unknown syscall
  // 'nosuchcall'").
  static Result<std::unique_ptr<EventFilter>> build(const FilterConfig& config);
  ~EventFilter();
  EventFilter(const EventFilter&) = delete;
  EventFilter& operator=(const EventFilter&) = delete;

  // The first filter that takes `event` (keys, syscalls, exe, uids, in that order), or none.
  // One thread at a time.
  FilterMatch match(const Event& event);

 private:
  EventFilter() = default;
  bool key_matches(const Field& field);
  bool syscall_matches(std::string_view arch, std::string_view number) const;
  bool exe_matches(const Field& field);

  std::vector<std::string> keys_;
  std::set<std::string, std::less<>> syscalls_;
  bool has_exe_ = false;
  regex_t exe_{};
  std::set<std::uint32_t> uids_;
  std::vector<Field> fields_;  // scratch
  std::string scratch_;
};

}  // namespace aurelay::correlate
