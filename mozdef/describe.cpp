#include "mozdef/describe.h"

#include <initializer_list>

#include "correlate/interpret.h"
#include "mozdef/field_text.h"

namespace aurelay::mozdef {

namespace {

using K = DetailKey;

std::string_view lower_type_name(std::uint32_t type, std::string& scratch) {
  std::string_view name = correlate::record_type_name(type);
  scratch.clear();
  if (name.empty()) {
    scratch.append("unknown");
    char buf[12];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, type);
    scratch.append(buf, static_cast<std::size_t>(end - buf));
    return scratch;
  }
  for (char c : name) scratch.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  return scratch;
}

// audisp-json's categories by syscall name (it matched name prefixes; the lists here name the
// syscalls those prefixes meant, plus the obvious siblings it missed).
std::string_view syscall_category(std::string_view name) {
  auto starts = [&](std::string_view prefix) { return name.starts_with(prefix); };
  auto one_of = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
      if (n == name) return true;
    return false;
  };
  if (starts("execve")) return "execve";
  if (starts("write") || starts("pwrite") || starts("unlink") || starts("rename") ||
      one_of({"truncate", "ftruncate", "creat"}))
    return "write";
  if (starts("read") || starts("pread") || starts("open") || starts("link") || starts("mmap") ||
      starts("sendfile"))
    return "read";
  if (one_of({"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
              "setxattrat", "removexattrat"}))
    return "attribute";
  if (one_of({"chmod", "fchmod", "fchmodat", "fchmodat2"})) return "chmod";
  if (starts("chown") || starts("fchown") || starts("lchown")) return "chown";
  if (is(name, "ptrace")) return "ptrace";
  if (one_of({"adjtimex", "settimeofday", "clock_settime", "clock_adjtime", "stime"}))
    return "time";
  if (starts("mknod")) return "specialfiles";
  if (one_of({"socket", "socketpair"})) return "socket";
  if (is(name, "listen")) return "listen";
  return {};
}

}  // namespace

void EventDescriber::summarize_by_process() {
  std::string_view name = details.get(K::processname);
  if (name.empty()) name = details.get(K::process);
  if (!name.empty()) {
    summary.append(" by ");
    summary.append(name);
  }
}

void EventDescriber::summarize_capitalized(std::string_view word) {
  if (word.empty()) return;
  char c = word[0];
  summary.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  summary.append(word.substr(1));
}

void EventDescriber::describe_config_change(std::string_view& category) {
  category = "config_change";
  std::string_view op = details.get(K::operation);
  if (is(op, "add_rule"))
    summary.append("Audit rule added");
  else if (is(op, "remove_rule"))
    summary.append("Audit rule removed");
  else
    summary.append("Audit configuration changed");
  summarize_by_process();
  if (details.has(K::rulekey)) {
    summary.append(": key ");
    summary.append(details.get(K::rulekey));
  } else if (!op.empty() && !is(op, "add_rule") && !is(op, "remove_rule")) {
    summary.append(": ");
    summary.append(op);
  }
  if (details.has(K::rulelist)) {
    summary.append(" list ");
    summary.append(details.get(K::rulelist));
  }
}

void EventDescriber::describe_netfilter_change(std::string_view& category) {
  category = "netfilter_cfg";
  summary.append("Netfilter table ");
  summary.append(details.has(K::nftable) ? details.get(K::nftable) : std::string_view("?"));
  summary.append(" changed");
  if (details.has(K::operation)) {
    summary.append(" (");
    summary.append(details.get(K::operation));
    summary.push_back(')');
  }
  summarize_by_process();
}

void EventDescriber::describe_login(std::string_view& category) {
  category = "login";
  summary.append("Login: session ");
  summary.append(details.get(K::session));
  summary.append(" for ");
  summary.append(details.has(K::originaluser) ? details.get(K::originaluser)
                                              : details.get(K::originaluid));
  summarize_by_process();
}

void EventDescriber::describe_promiscuous(std::string_view& category) {
  category = "promiscuous";
  summary.append("Promisc: Interface ");
  summary.append(details.get(K::dev));
  summary.append(" set promiscuous ");
  summary.append(details.has(K::promiscuous) && details.get(K::promiscuous) != "0" ? "on" : "off");
  summarize_by_process();
}

std::string_view EventDescriber::category_of_name() {
  if (categorized && syscall == categorized_syscall) return categorized_as;
  std::string_view category =
      syscall.empty() ? std::string_view("syscall") : syscall_category(syscall);
  // A name libaudit gave is lower case letters, digits and '_'; anything else (a number
  // unknown for the arch, a malformed value) is no category.
  if (syscall.empty() ||
      syscall.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
          std::string_view::npos ||
      syscall.find_first_not_of("0123456789") == std::string_view::npos)
    category = "syscall";
  categorized_syscall.assign(syscall);
  categorized_as = category;  // a literal, never a view of the name
  categorized = true;
  return category;
}

std::string_view EventDescriber::syscall_event_category() {
  std::string_view category = category_of_name();
  if (category.empty()) category = syscall;
  // audisp-json called every open "read"; an open that may write is a write.
  if (is(category, "read") && (is(syscall, "open") || is(syscall, "openat"))) {
    std::string_view flags = details.get(is(syscall, "open") ? K::a1 : K::a2);
    std::uint32_t value = 0;
    constexpr std::uint32_t kMayWrite = 03 | 0100 | 01000;  // O_WRONLY|O_RDWR|O_CREAT|O_TRUNC
    if (correlate::parse_hex_u32(flags, value) && (value & kMayWrite) != 0) category = "write";
  }
  return category;
}

void EventDescriber::describe_syscall(std::string_view& category) {
  category = syscall_event_category();
  const std::string_view path = details.get(K::path);
  if (is(category, "execve")) {
    summary.append("Execve: ");
    summary.append(details.has(K::command) ? details.get(K::command) : path);
  } else if (is(category, "write") || is(category, "read") || is(category, "attribute") ||
             is(category, "chmod") || is(category, "chown")) {
    summarize_capitalized(category);
    if (path.empty()) {
      summary.append(" by ");
      summary.append(details.get(K::processname));
    } else {
      summary.append(": ");
      summary.append(path);
    }
  } else if (is(category, "ptrace")) {
    summary.append("Ptrace");
  } else if (is(category, "time")) {
    summary.append("time has been modified");
  } else if (is(category, "specialfiles")) {
    summary.append("special file has been created");
  } else if (is(category, "socket")) {
    summary.append("Socket");
  } else if (is(category, "listen")) {
    summary.append("Listen");
  } else {
    if (is(category, "syscall")) {
      summary.append("Syscall ");
      summary.append(syscall);
    } else {
      summarize_capitalized(syscall);
    }
    if (!path.empty()) {
      summary.append(": ");
      summary.append(path);
    } else if (details.has(K::address)) {
      summary.append(": ");
      summarize_address();
    } else {
      summary.append(" by ");
      summary.append(details.get(K::processname));
    }
  }
}

void EventDescriber::summarize_address() {
  std::string_view family = details.get(K::family);
  if (!is(family, "inet") && !is(family, "inet6") && !is(family, "unix")) {
    summary.append(family);
    summary.push_back(':');
  }
  bool v6 = is(family, "inet6") && details.has(K::port);
  if (v6) summary.push_back('[');
  summary.append(details.get(K::address));
  if (v6) summary.push_back(']');
  if (details.has(K::port)) {
    summary.push_back(':');
    summary.append(details.get(K::port));
  }
}

void EventDescriber::describe_by_type(std::uint32_t type,
                                      std::span<const correlate::Field> first_record,
                                      std::string& scratch, std::string_view& category) {
  category = lower_type_name(type, type_name);
  std::string_view name = correlate::record_type_name(type);
  if (name.empty()) name = category;
  summary.append(name);
  summary.push_back(':');
  for (std::string_view k :
       {"op", "acct", "id", "cmd", "auid", "comm", "exe", "dev", "key", "res"}) {
    const correlate::Field* f = nullptr;
    for (const correlate::Field& field : first_record) {
      if (field.key == k) {
        f = &field;
        break;
      }
    }
    if (f == nullptr) continue;
    summary.push_back(' ');
    summary.append(k);
    summary.push_back('=');
    summary.append(field_text(*f, scratch));
  }
}

}  // namespace aurelay::mozdef
