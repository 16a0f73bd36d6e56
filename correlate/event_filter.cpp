#include "correlate/event_filter.h"

#include <libaudit.h>
#include <pwd.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "base/text.h"
#include "correlate/interpret.h"

namespace aurelay::correlate {

namespace {

// The non-empty entries of a comma-separated list.
std::vector<std::string> list_of(std::string_view text) {
  std::vector<std::string> entries;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view entry = trim(text.substr(0, comma), " \t");
    if (!entry.empty()) entries.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return entries;
}

const Field* field_named(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& field : fields) {
    if (field.key == name) return &field;
  }
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<EventFilter>> EventFilter::build(const FilterConfig& config) {
  std::unique_ptr<EventFilter> filter(new EventFilter());
  filter->keys_ = list_of(config.keys);
  for (const std::string& name : list_of(config.syscalls)) {
    // Known on this machine (or its 32-bit counterpart): a misspelt name would never match.
    const int machine = audit_detect_machine();
    if (audit_name_to_syscall(name.c_str(), machine) < 0 &&
        audit_name_to_syscall(name.c_str(), MACH_X86) < 0) {
      return fail(kExitConfigError, "filter_syscalls: unknown syscall '" + name + "'");
    }
    filter->syscalls_.insert(name);
  }
  if (!config.exe.empty()) {
    const int error = regcomp(&filter->exe_, config.exe.c_str(), REG_EXTENDED | REG_NOSUB);
    if (error != 0) {
      std::array<char, 256> why{};
      regerror(error, &filter->exe_, why.data(), why.size());
      return fail(kExitConfigError,
                  "filter_exe: '" + config.exe + "' is not a regular expression: " + why.data());
    }
    filter->has_exe_ = true;
  }
  for (const std::string& user : list_of(config.uids)) {
    std::uint32_t uid = 0;
    const auto [end, error] = std::from_chars(user.data(), user.data() + user.size(), uid);
    if (error == std::errc() && end == user.data() + user.size()) {
      filter->uids_.insert(uid);
      continue;
    }
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> buffer{};
    if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
      return fail(kExitConfigError,
                  "filter_uids: '" + user + "' is neither a uid nor a user of this host");
    }
    filter->uids_.insert(found->pw_uid);
  }
  return filter;
}

EventFilter::~EventFilter() {
  if (has_exe_) regfree(&exe_);
}

bool EventFilter::key_matches(const Field& field) {
  // One key is quoted; several are hex-encoded, separated by 0x01.
  std::string_view keys = decode_maybe_hex(field, scratch_);
  while (!keys.empty()) {
    const std::size_t separator = keys.find('\x01');
    const std::string_view key = keys.substr(0, separator);
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return true;
    if (separator == std::string_view::npos) break;
    keys.remove_prefix(separator + 1);
  }
  return false;
}

bool EventFilter::syscall_matches(std::string_view arch, std::string_view number) const {
  std::uint32_t elf = 0;
  int call = 0;
  if (!parse_hex_u32(arch, elf)) return false;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), call);
  if (error != std::errc() || end != number.data() + number.size()) return false;
  const int machine = audit_elf_to_machine(elf);
  const char* name = machine < 0 ? nullptr : audit_syscall_to_name(call, machine);
  return name != nullptr && syscalls_.contains(std::string_view(name));
}

bool EventFilter::exe_matches(const Field& field) {
  const std::string path(decode_maybe_hex(field, scratch_));
  return regexec(&exe_, path.c_str(), 0, nullptr, 0) == 0;
}

FilterMatch EventFilter::match(const Event& event) {
  // The fields that name who did what: the SYSCALL record's, else the first record's (a user
  // message's uid and auid).
  std::size_t record = event.find(kTypeSyscall);
  if (record == event.record_count()) {
    if (event.record_count() == 0) return FilterMatch::none;
    record = 0;
  }
  fields_.clear();
  split_fields(event.record_body(record), fields_);
  if (!keys_.empty()) {
    if (const Field* key = field_named(fields_, "key"); key != nullptr && key_matches(*key))
      return FilterMatch::key;
  }
  if (!syscalls_.empty()) {
    const Field* arch = field_named(fields_, "arch");
    const Field* call = field_named(fields_, "syscall");
    if (arch != nullptr && call != nullptr && syscall_matches(arch->value, call->value))
      return FilterMatch::syscall;
  }
  if (has_exe_) {
    if (const Field* exe = field_named(fields_, "exe"); exe != nullptr && exe_matches(*exe))
      return FilterMatch::exe;
  }
  if (!uids_.empty()) {
    for (std::string_view name : {"uid", "auid"}) {
      const Field* id = field_named(fields_, name);
      std::uint64_t value = 0;
      if (id != nullptr && parse_decimal_u64(id->value, value) && value <= 0xFFFFFFFFU &&
          uids_.contains(static_cast<std::uint32_t>(value))) {
        return FilterMatch::uid;
      }
    }
  }
  return FilterMatch::none;
}

}  // namespace aurelay::correlate
