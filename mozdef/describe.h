// The document's category and summary: what happened, in a word and a line, from the details
// of the event (audisp-json's categories for syscalls; what the first record says otherwise).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "correlate/record.h"
#include "mozdef/details_store.h"

namespace aurelay::mozdef {

// Each describe_* writes `summary` (which the caller clears first) and sets `category` to a
// literal or to a view that holds until the next event is described.
struct EventDescriber {
  EventDescriber(const DetailsStore& details, const std::string& syscall)
      : details(details), syscall(syscall) {}

  const DetailsStore& details;  // of the event being described
  const std::string& syscall;   // its syscall's name (empty: none)
  std::string summary;
  std::string type_name;  // lower-case type name scratch

  void summarize_by_process();
  void summarize_capitalized(std::string_view word);

  // The record types that say what happened, whether or not the syscall that caused it is in
  // the event too.
  void describe_config_change(std::string_view& category);
  void describe_netfilter_change(std::string_view& category);
  void describe_login(std::string_view& category);
  void describe_promiscuous(std::string_view& category);

  // A syscall event: audisp-json's category of the syscall (or "syscall"), and a summary that
  // names the command, path or address it acted on.
  // The category the syscall's name alone gives (empty: the name itself), remembered for the
  // last name: a busy host repeats a few syscalls, and the name tests cost more than the rest
  // of describing the event.
  std::string categorized_syscall;
  std::string_view categorized_as;
  bool categorized = false;
  std::string_view category_of_name();
  std::string_view syscall_event_category();
  void describe_syscall(std::string_view& category);
  // "127.0.0.1:443", "[::1]:443", "/run/socket"; other families say theirs ("netlink:0").
  void summarize_address();

  // Any other event: the lower-case type name of its first record, and "<TYPE>: op=... res=..."
  // from that record's fields (`first_record`: empty when there is none).
  void describe_by_type(std::uint32_t type, std::span<const correlate::Field> first_record,
                        std::string& scratch, std::string_view& category);
};

}  // namespace aurelay::mozdef
