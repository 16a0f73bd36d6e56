#include "mozdef/encoder.h"

#include <arpa/inet.h>
#include <libaudit.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "correlate/execve.h"
#include "correlate/interpret.h"
#include "correlate/process_table.h"
#include "correlate/record.h"
#include "mozdef/decimal.h"
#include "mozdef/describe.h"
#include "mozdef/details.h"
#include "mozdef/details_store.h"
#include "mozdef/document_layout.h"
#include "mozdef/field_map.h"
#include "mozdef/field_text.h"
#include "mozdef/json_writer.h"

namespace aurelay::mozdef {

namespace {

using correlate::Field;
using correlate::ValueForm;

// One record of the event being encoded: its own fields are State::fields[begin, end) (the
// enriched fields after 0x1D are auditd's reading of the record and are not kept).
struct RecordFields {
  std::uint32_t type;
  std::uint32_t begin;
  std::uint32_t end;
};

using K = DetailKey;
using T = Transform;

// The field maps of the record types with rows of their own in kFieldRows, and of the others.
constexpr FieldMap kCommonFields = FieldMap::of(kAnyRecord);
constexpr FieldMap kSyscallFields = FieldMap::of(AUDIT_SYSCALL);
constexpr FieldMap kSeccompFields = FieldMap::of(AUDIT_SECCOMP);
constexpr FieldMap kTargetProcessFields = FieldMap::of(AUDIT_OBJ_PID);
constexpr FieldMap kAbendFields = FieldMap::of(AUDIT_ANOM_ABEND);
constexpr FieldMap kPromiscuousFields = FieldMap::of(AUDIT_ANOM_PROMISCUOUS);
constexpr FieldMap kConfigChangeFields = FieldMap::of(AUDIT_CONFIG_CHANGE);
constexpr FieldMap kNetfilterFields = FieldMap::of(AUDIT_NETFILTER_CFG);
constexpr FieldMap kLoginFields = FieldMap::of(AUDIT_LOGIN);
constexpr FieldMap kUserCommandFields = FieldMap::of(AUDIT_USER_CMD);
constexpr FieldMap kPathFields = FieldMap::of(AUDIT_PATH);
constexpr FieldMap kCwdFields = FieldMap::of(AUDIT_CWD);
constexpr FieldMap kProctitleFields = FieldMap::of(AUDIT_PROCTITLE);

// Values that say "no value": kept out of the document (documented in the field reference).
inline bool is_absent_marker(std::string_view value) {
  switch (value.size()) {
    case 0:
      return true;
    case 1:
      return value[0] == '?';
    case 6:
      return is(value, "(null)") || is(value, "(none)");
    default:
      return false;
  }
}

// File capability fields of PATH records: "0" (no file capabilities) in nearly every record.
bool is_empty_file_capability(const Field& f) {
  return f.key.starts_with("cap_f") && is(f.value, "0");
}

// Where the peer address of a socket syscall goes.
enum class PeerRole : std::uint8_t { none, destination, source };
PeerRole peer_role(std::string_view syscall) {
  if (is(syscall, "connect") || is(syscall, "sendto") || is(syscall, "sendmsg") ||
      is(syscall, "sendmmsg"))
    return PeerRole::destination;
  if (is(syscall, "accept") || is(syscall, "accept4") || is(syscall, "recvfrom") ||
      is(syscall, "recvmsg") || is(syscall, "recvmmsg"))
    return PeerRole::source;
  return PeerRole::none;
}

bool parses_as_ip(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

// What the encoder needs to know of an event before it takes its records.
struct EventOutline {
  static constexpr std::size_t kNone = SIZE_MAX;
  std::size_t syscall_record = kNone;  // the first SYSCALL record: its values win
  std::size_t first_record = kNone;    // the first record that is not EOE
  std::size_t chosen_path = kNone;     // the PATH record whose fields get keys (K::path, ...)
  std::size_t path_count = 0;
  bool has_execve = false;
  bool changes_accounts = false;  // a user or group was added, removed or changed
};

struct RecordRole;
constexpr const RecordRole* role_of(std::uint32_t type);
const FieldMap& field_map_of(std::uint32_t type);

}  // namespace

// One event becomes one document in four steps (encode()): its records are split and outlined,
// their fields taken into the details store as kFieldRows and each record type's role say
// (collect_details), the describer gives category and summary, and the layout writes the
// document through the JSON writer. The parts: mozdef/details_store.h, mozdef/field_map.h,
// mozdef/describe.h, mozdef/document_layout.h, mozdef/json_writer.h.
struct MozdefEncoder::State {
  EncoderConfig config;
  StatsStorage<EncoderStats> stats;

  correlate::SyscallNames syscalls;
  correlate::IdNames ids;
  correlate::ExecveArguments execve;
  correlate::SocketAddress sockaddr;
  correlate::ProcessTable processes;

  std::vector<Field> fields;
  std::vector<RecordFields> records;
  EventOutline outline;

  DetailsStore details{*stats};

  std::string category;
  std::string syscall;
  EventDescriber describer{details, syscall};  // category and summary
  std::string text;                            // general scratch (ids, timestamps)
  std::string decoded;                         // hex decoding scratch

  JsonDocumentWriter json{*stats, config.max_value_bytes};
  DocumentLayout layout{config, json, *stats};

  State(EncoderConfig c, EncoderStats* external_stats,
        correlate::ProcessTableStats* process_table_stats)
      : config(with_defaults(std::move(c))),
        stats(external_stats),
        syscalls(&stats->unknown_syscalls),
        ids(config.id_cache_size, correlate::IdNames::default_account_files(), &stats->id_lookups),
        processes(config.process_table, process_table_stats) {}

  // `c` with the host's name for an empty hostname and max_value_bytes at least 16.
  static EncoderConfig with_defaults(EncoderConfig c) {
    if (c.hostname.empty()) {
      char host[256] = {};
      if (gethostname(host, sizeof host - 1) == 0) c.hostname = host;
      if (c.hostname.empty()) c.hostname = "localhost";
    }
    if (c.max_value_bytes < 16) c.max_value_bytes = 16;
    return c;
  }

  // --- the event's records ---

  // Splits every record of `event` once and notes what the event holds.
  void outline_records(const correlate::Event& event) {
    fields.clear();
    records.clear();
    outline = EventOutline{};
    for (std::size_t i = 0; i < event.record_count(); ++i) {
      const std::uint32_t type = event.record_type(i);
      const auto begin = static_cast<std::uint32_t>(fields.size());
      const std::size_t own_end = correlate::split_fields(event.record_body(i), fields);
      fields.resize(own_end);
      records.push_back(RecordFields{type, begin, static_cast<std::uint32_t>(own_end)});
      if (type != AUDIT_EOE && outline.first_record == EventOutline::kNone)
        outline.first_record = i;
      if (type == AUDIT_SYSCALL && outline.syscall_record == EventOutline::kNone)
        outline.syscall_record = i;
      if (type == AUDIT_EXECVE) outline.has_execve = true;
      if (type == AUDIT_PATH) ++outline.path_count;
      if (changes_accounts(type)) outline.changes_accounts = true;
    }
    // The path the syscall acted on: the first PATH record that is not a PARENT (else the first).
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].type != AUDIT_PATH) continue;
      if (outline.chosen_path == EventOutline::kNone) outline.chosen_path = i;
      const Field* nametype = find(i, "nametype");
      if (nametype == nullptr || !is(nametype->value, "PARENT")) {
        outline.chosen_path = i;
        break;
      }
    }
  }
  static bool changes_accounts(std::uint32_t type);  // after the record roles

  std::span<const Field> record_fields(std::size_t r) const {
    return std::span<const Field>(fields.data() + records[r].begin,
                                  records[r].end - records[r].begin);
  }
  const Field* find(std::size_t r, std::string_view k) const {
    for (const Field& f : record_fields(r))
      if (f.key == k) return &f;
    return nullptr;
  }

  // --- what each record type contributes (kRecordRoles below lists which type does what) ---

  // One field of a record of `type` with the key `field_map` gives it (or `extra` without one).
  void take_field(std::uint32_t type, const FieldMap& field_map, const Field& f,
                  const Field* arch) {
    if (f.form != ValueForm::single_quoted) {
      const FieldTarget target = field_map.find(f.key);
      if (target.key != K::count && target.transform == T::plain) {  // most fields
        if (!is_absent_marker(f.value)) details.set(target.key, f.value, type, f.key);
        return;
      }
      take_field_as(type, target, f, arch);
      return;
    }
    take_field_as(type, FieldTarget{K::count, T::plain}, f, arch);
  }
  // libaudit's names of the arch and the syscall, remembered for the last ones named (a busy
  // host repeats a few syscalls). Only names are remembered: an unknown number is looked up,
  // and counted, each time. The names are libaudit's own strings, valid for good.
  std::string named_arch, named_syscall_arch, named_syscall_number;
  std::string_view arch_name, syscall_name;
  std::string_view arch_name_of(std::string_view arch_hex) {
    if (!arch_name.empty() && arch_hex == named_arch) return arch_name;
    std::uint32_t number = 0;
    std::string_view name;
    if (correlate::parse_hex_u32(arch_hex, number)) name = syscalls.arch_name(number);
    named_arch.assign(arch_hex);
    arch_name = name;
    return name;
  }
  std::string_view syscall_name_of(std::string_view arch_hex, std::string_view number) {
    if (!syscall_name.empty() && number == named_syscall_number && arch_hex == named_syscall_arch)
      return syscall_name;
    const std::string_view name = syscalls.name(arch_hex, number);
    named_syscall_arch.assign(arch_hex);
    named_syscall_number.assign(number);
    syscall_name = name;
    return name;
  }

  // take_field() for a field that is not a plain value (`target` is its key and transform).
  [[gnu::noinline]] void take_field_as(std::uint32_t type, FieldTarget target, const Field& f,
                                       const Field* arch) {
    if (f.form == ValueForm::single_quoted) {
      // A user message's msg='...': its fields follow as nested fields; plain text is a message.
      if (is(f.key, "msg") && f.value.find('=') == std::string_view::npos)
        details.set(K::message, f.value, type, f.key);
      else if (!is(f.key, "msg"))
        details.add_extra(type, f.key, f.value);
      return;
    }
    if (target.key == K::count) {
      details.add_extra(type, f.key, field_text(f, decoded));
      return;
    }
    std::string_view value =
        target.transform == T::decoded ? field_text(f, decoded) : std::string_view(f.value);
    if (is_absent_marker(value)) return;
    switch (target.transform) {
      case T::plain:
      case T::decoded:
        details.set(target.key, value, type, f.key);
        break;
      case T::with_user:
        details.set(target.key, value, type, f.key);
        details.set(static_cast<DetailKey>(static_cast<std::size_t>(target.key) + 1),
                    ids.user(value), type, f.key);
        break;
      case T::with_group:
        details.set(target.key, value, type, f.key);
        details.set(static_cast<DetailKey>(static_cast<std::size_t>(target.key) + 1),
                    ids.group(value), type, f.key);
        break;
      case T::boolean:
        if (is(value, "yes") || is(value, "success") || is(value, "1"))
          details.set_lasting(target.key, "true", type, f.key);
        else if (is(value, "no") || is(value, "failed") || is(value, "fail") || is(value, "0"))
          details.set_lasting(target.key, "false", type, f.key);
        else
          details.add_extra(type, f.key, value);
        break;
      case T::ip_address:
        if (parses_as_ip(value))
          details.set(target.key, value, type, f.key);
        else
          details.add_extra(type, f.key, value);
        break;
      case T::arch_name: {
        const std::string_view name = arch_name_of(value);
        details.set_lasting(target.key, name.empty() ? value : name, type, f.key);
        break;
      }
      case T::syscall_name: {
        std::string_view name;
        if (arch != nullptr) name = syscall_name_of(arch->value, value);
        details.set_lasting(target.key, name.empty() ? value : name, type, f.key);
        break;
      }
      case T::joined_arguments:  // read by their records' own take_* (in no record's FieldMap)
      case T::socket_address:
      case T::proctitle:
        break;
    }
  }

  // Field by field, each to the key its type's field map names (the default).
  void take_fields(std::size_t r) {
    const std::uint32_t type = records[r].type;
    const FieldMap& field_map = field_map_of(type);
    for (const Field& f : record_fields(r)) take_field(type, field_map, f, nullptr);
  }

  // Field by field, naming the syscall number by the record's own arch (SYSCALL, SECCOMP).
  void take_fields_with_arch(std::size_t r) {
    const std::uint32_t type = records[r].type;
    const FieldMap& field_map = field_map_of(type);
    const Field* arch = find(r, "arch");
    for (const Field& f : record_fields(r)) take_field(type, field_map, f, arch);
  }

  void take_nothing(std::size_t /*record*/) {}

  static_assert(has_row(AUDIT_EXECVE, "a0..aN", K::command) &&
                has_row(AUDIT_EXECVE, "argc", K::argc) &&
                has_row(AUDIT_EXECVE, "argc", K::argcomplete));
  // The arguments of every EXECVE record of the event, joined (taken once, right after the
  // SYSCALL record, so they win over a command a later record names).
  void take_execve_arguments(const correlate::Event& event) {
    if (!correlate::reassemble_execve(event, execve)) return;
    text.clear();
    for (std::size_t a = 0; a < execve.used; ++a) {
      if (a > 0) text.push_back(' ');
      text.append(execve.argv[a]);
    }
    details.set(K::command, text, AUDIT_EXECVE, "a0");
    text.clear();
    append_decimal(text, execve.argc);
    details.set(K::argc, text, AUDIT_EXECVE, "argc");
    if (!execve.complete()) details.set(K::argcomplete, "false", AUDIT_EXECVE, "argc");
  }

  void take_cwd(std::size_t r) {
    for (const Field& f : record_fields(r)) {
      const DetailKey key = kCwdFields.find(f.key).key;
      if (key != K::count)
        details.set(key, field_text(f, decoded), AUDIT_CWD, f.key);
      else
        details.add_extra(AUDIT_CWD, f.key, f.value);
    }
  }

  void take_proctitle(std::size_t r) {
    for (const Field& f : record_fields(r)) {
      const DetailKey key = kProctitleFields.find(f.key).key;
      if (key != K::count) {
        const std::size_t from = details.arena.size();
        correlate::decode_proctitle(f,
                                    details.arena);  // decoded where the document's values are kept
        details.set_from_arena(key, from, AUDIT_PROCTITLE, f.key, text);
      } else {
        details.add_extra(AUDIT_PROCTITLE, f.key, f.value);
      }
    }
  }

  // The chosen PATH record gives path, nametype, inode, ...; with two or more PATH records every
  // name and nametype also go to paths and nametypes; the other records' fields go to `extra`.
  void take_path(std::size_t r) {
    const bool chosen = r == outline.chosen_path;
    const bool several = outline.path_count >= 2;
    const Field* item = find(r, "item");
    for (const Field& f : record_fields(r)) {
      if (is(f.key, "item") || is_empty_file_capability(f)) continue;
      if (several && (is(f.key, "name") || is(f.key, "nametype"))) {
        (is(f.key, "name") ? details.paths : details.nametypes)
            .push_back(details.store(field_text(f, decoded)));
      }
      const DetailKey key = kPathFields.find(f.key).key;
      if (chosen && key != K::count) {
        std::string_view value = key == K::path ? field_text(f, decoded) : f.value;
        if (!is_absent_marker(value)) details.set(key, value, AUDIT_PATH, f.key);
      } else if (!chosen && key != K::path && key != K::nametype) {
        details.add_extra(AUDIT_PATH, f.key, field_text(f, decoded),
                          item != nullptr ? item->value : std::string_view());
      } else if (chosen) {
        details.add_extra(AUDIT_PATH, f.key, field_text(f, decoded));
      }
    }
  }

  static_assert(std::ranges::all_of(
      std::initializer_list<DetailKey>{K::family, K::address, K::port, K::saddr,
                                       K::destinationipaddress, K::destinationport,
                                       K::sourceipaddress, K::sourceport},
      [](DetailKey key) { return has_row(AUDIT_SOCKADDR, "saddr", key); }));
  // saddr decoded to family, address and port; the peer of a connect or accept as the
  // destination or source address.
  void take_sockaddr(std::size_t r) {
    const Field* saddr = find(r, "saddr");
    bool decoded_ok = saddr != nullptr && correlate::decode_sockaddr(saddr->value, sockaddr);
    for (const Field& f : record_fields(r)) {
      if (&f != saddr) details.add_extra(AUDIT_SOCKADDR, f.key, f.value);
    }
    if (saddr == nullptr) return;
    if (!decoded_ok) {
      details.set(K::saddr, saddr->value, AUDIT_SOCKADDR, "saddr");
      return;
    }
    details.set(K::family, sockaddr.family, AUDIT_SOCKADDR, "saddr");
    if (!sockaddr.decoded) {
      details.set(K::saddr, saddr->value, AUDIT_SOCKADDR, "saddr");
      return;
    }
    if (!sockaddr.address.empty())
      details.set(K::address, sockaddr.address, AUDIT_SOCKADDR, "saddr");
    if (!sockaddr.port.empty()) details.set(K::port, sockaddr.port, AUDIT_SOCKADDR, "saddr");
    const bool ip = is(sockaddr.family, "inet") || is(sockaddr.family, "inet6");
    if (!ip || !parses_as_ip(sockaddr.address)) return;
    switch (peer_role(syscall)) {
      case PeerRole::destination:
        details.set(K::destinationipaddress, sockaddr.address, AUDIT_SOCKADDR, "saddr");
        if (!sockaddr.port.empty())
          details.set(K::destinationport, sockaddr.port, AUDIT_SOCKADDR, "saddr");
        break;
      case PeerRole::source:
        details.set(K::sourceipaddress, sockaddr.address, AUDIT_SOCKADDR, "saddr");
        if (!sockaddr.port.empty())
          details.set(K::sourceport, sockaddr.port, AUDIT_SOCKADDR, "saddr");
        break;
      case PeerRole::none:
        break;
    }
  }

  void collect_details(const correlate::Event& event);  // after the record roles

  // The parent's name, from what the stream showed of the parent (or what the reader found in
  // /proc when it read the record; or /proc now, live).
  void take_parent(const correlate::ProcessContext* context) {
    if (outline.syscall_record == EventOutline::kNone) return;
    std::uint64_t pid = 0, ppid = 0;
    if (!correlate::parse_decimal_u64(details.get(K::pid), pid) ||
        !correlate::parse_decimal_u64(details.get(K::ppid), ppid))
      return;
    processes.observe(static_cast<std::uint32_t>(pid), static_cast<std::uint32_t>(ppid),
                      details.get(K::processname), details.get(K::process),
                      context != nullptr ? context->start_ticks : 0);
    correlate::ParentSighting sighting;
    if (context != nullptr) sighting = {context->parent_start_ticks, context->parent_name()};
    std::string_view parent = processes.name_of(static_cast<std::uint32_t>(ppid), sighting);
    if (!parent.empty()) details.set(K::parentprocess, parent, AUDIT_SYSCALL, "ppid");
  }

  // Container, unit and start time of the event's process, as the reader found them in /proc.
  void take_process_context(const correlate::ProcessContext* context) {
    if (context == nullptr || outline.syscall_record == EventOutline::kNone) return;
    if (!context->container().empty())
      details.set_lasting(K::containerid, context->container(), AUDIT_SYSCALL, "pid");
    if (!context->systemd_unit().empty())
      details.set_lasting(K::systemdunit, context->systemd_unit(), AUDIT_SYSCALL, "pid");
    if (context->start_ms != 0) {
      const std::size_t from = details.arena.size();
      append_timestamp(details.arena, context->start_ms / 1000,
                       static_cast<std::uint32_t>(context->start_ms % 1000));
      details.set_from_arena(K::processstarttime, from, AUDIT_SYSCALL, "pid", text);
    }
  }

  void describe(const correlate::Event& event);  // after the record roles

  // The string scratch buffers, and the bytes the execve arguments and the type list hold.
  std::array<std::string*, 6> scratch_strings() {
    return {&details.arena, &text, &decoded, &json.sanitized, &describer.summary, &json.truncation};
  }
  std::size_t argument_bytes() const {
    std::size_t bytes = 0;
    for (std::size_t a = 0; a < execve.used; ++a) bytes += execve.argv[a].capacity();
    return bytes;
  }

  std::size_t type_list_bytes() const {
    return type_list.capacity() + listed_types.capacity() * sizeof(std::uint32_t);
  }

  // Bytes of scratch held between documents.
  std::size_t scratch_bytes() {
    std::size_t bytes = json.stream.cap + argument_bytes() + type_list_bytes();
    for (const std::string* scratch : scratch_strings()) bytes += scratch->capacity();
    return bytes;
  }

  // Gives back scratch over `kept_bytes` that large events (a 100 KB EXECVE) grew, so the
  // encoder keeps only what ordinary documents need.
  void give_back_large_buffers(std::size_t kept_bytes) {
    if (json.stream.cap > kept_bytes) json.stream.release();
    for (std::string* scratch : scratch_strings())
      if (scratch->capacity() > kept_bytes) std::string().swap(*scratch);
    if (argument_bytes() > kept_bytes || execve.argv.size() > kept_bytes / 64) {
      std::vector<std::string>().swap(execve.argv);
      std::vector<std::uint8_t>().swap(execve.filled);
      execve.clear();
    }
    if (type_list_bytes() > kept_bytes) {
      std::string().swap(type_list);  // with the types it lists: the list is made again
      std::vector<std::uint32_t>().swap(listed_types);
    }
  }

  // --- the document ---

  void write_document(const correlate::Event& event) {
    json.begin_document();
    json.open('{');
    layout.write_header(event.key(), category, describer.summary, details);
    json.write_key("details");
    json.open('{');
    take_event_identity(event);
    layout.write_details(details);
    json.close('}');
    json.close('}');
  }

  // auditserial, eventid, recordtypes, completion, continuation: the event's, not its records'.
  void take_event_identity(const correlate::Event& event) {
    const correlate::EventKey& key = event.key();
    // eventid is [node:]sec.msec:serial; auditserial is its last part.
    text.clear();
    if (!key.node.empty()) {
      text.append(key.node);
      text.push_back(':');
    }
    append_decimal(text, key.sec);
    const char ms[5] = {'.', static_cast<char>('0' + key.msec / 100 % 10),
                        static_cast<char>('0' + key.msec / 10 % 10),
                        static_cast<char>('0' + key.msec % 10), ':'};
    text.append(ms, 5);
    const std::size_t serial_at = text.size();
    append_decimal(text, key.serial);
    details.set(K::eventid, text, 0, "serial");
    details.set(K::auditserial, std::string_view(text).substr(serial_at), 0, "serial");
    details.set_lasting(K::recordtypes, record_type_list(event), 0, "type");
    details.set_lasting(K::completion, to_string(event.completion()), 0, "completion");
    if (event.is_continuation()) {
      details.set_lasting(K::continuation, "true", 0, "continuation");
      increment(stats->continuation_documents);
    }
  }
  // The event's record types, comma separated; remembered for the last sequence of types (a
  // busy host repeats a few shapes of event).
  std::vector<std::uint32_t> listed_types;
  std::string type_list;
  std::string_view record_type_list(const correlate::Event& event) {
    const std::size_t count = event.record_count();
    bool same = listed_types.size() == count;
    for (std::size_t i = 0; same && i < count; ++i) same = listed_types[i] == event.record_type(i);
    if (same) return type_list;
    listed_types.clear();
    type_list.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t type = event.record_type(i);
      listed_types.push_back(type);
      if (i > 0) type_list.push_back(',');
      append_record_type_name(type_list, type);
    }
    return type_list;
  }
};

namespace {

using State = MozdefEncoder::State;

// Every record type the encoder gives a meaning of its own, and what a record of it contributes
// to the document. A type not listed here gives its fields to the keys of kCommonFields; any
// field without a key goes to `extra` as TYPE.field=value.
//   fields:   the keys its own fields feed (nullptr: kCommonFields; kFieldRows lists them)
//   take:     how its record reaches the details (nullptr: take_fields, field by field)
//   describe: the document's category and summary when it is the event's first record
//   accounts: it changes the user or group database (the uid/gid name cache is refreshed)
struct RecordRole {
  std::uint32_t type;
  const FieldMap* fields;
  void (State::*take)(std::size_t record);
  void (EventDescriber::*describe)(std::string_view& category);
  bool accounts;
};

constexpr RecordRole kRecordRoles[] = {
    // The syscall: its values come first and win (collect_details takes it before the others).
    {AUDIT_SYSCALL, &kSyscallFields, &State::take_fields_with_arch, nullptr, false},
    // Joined arguments of all EXECVE records, once, after the SYSCALL: take_execve_arguments.
    {AUDIT_EXECVE, nullptr, &State::take_nothing, nullptr, false},
    {AUDIT_CWD, &kCwdFields, &State::take_cwd, nullptr, false},
    {AUDIT_PATH, &kPathFields, &State::take_path, nullptr, false},
    {AUDIT_SOCKADDR, nullptr, &State::take_sockaddr, nullptr, false},
    {AUDIT_PROCTITLE, &kProctitleFields, &State::take_proctitle, nullptr, false},
    {AUDIT_EOE, nullptr, &State::take_nothing, nullptr, false},
    {AUDIT_SECCOMP, &kSeccompFields, &State::take_fields_with_arch, nullptr, false},
    {AUDIT_OBJ_PID, &kTargetProcessFields, nullptr, nullptr, false},
    {AUDIT_ANOM_ABEND, &kAbendFields, nullptr, nullptr, false},
    {AUDIT_ANOM_PROMISCUOUS, &kPromiscuousFields, nullptr, &EventDescriber::describe_promiscuous,
     false},
    {AUDIT_CONFIG_CHANGE, &kConfigChangeFields, nullptr, &EventDescriber::describe_config_change,
     false},
    {AUDIT_NETFILTER_CFG, &kNetfilterFields, nullptr, &EventDescriber::describe_netfilter_change,
     false},
    {AUDIT_LOGIN, &kLoginFields, nullptr, &EventDescriber::describe_login, false},
    {AUDIT_USER_CMD, &kUserCommandFields, nullptr, nullptr, false},
    {AUDIT_USER_MGMT, nullptr, nullptr, nullptr, true},
    {AUDIT_ADD_USER, nullptr, nullptr, nullptr, true},
    {AUDIT_DEL_USER, nullptr, nullptr, nullptr, true},
    {AUDIT_ADD_GROUP, nullptr, nullptr, nullptr, true},
    {AUDIT_DEL_GROUP, nullptr, nullptr, nullptr, true},
    {AUDIT_GRP_MGMT, nullptr, nullptr, nullptr, true},
};

// Record type -> 1 + its row in kRecordRoles (0: none), for the types below kRoleIndexSize.
constexpr std::size_t kRoleIndexSize = 2000;
static_assert(std::ranges::all_of(kRecordRoles, [](const RecordRole& role) {
  return role.type < kRoleIndexSize;
}));
constexpr auto kRoleIndex = [] {
  std::array<std::uint8_t, kRoleIndexSize> index{};
  for (std::size_t row = 0; row < std::size(kRecordRoles); ++row)
    index[kRecordRoles[row].type] = static_cast<std::uint8_t>(row + 1);
  return index;
}();

constexpr const RecordRole* role_of(std::uint32_t type) {
  if (type >= kRoleIndexSize || kRoleIndex[type] == 0) return nullptr;
  return &kRecordRoles[kRoleIndex[type] - 1];
}

const FieldMap& field_map_of(std::uint32_t type) {
  const RecordRole* role = role_of(type);
  return role != nullptr && role->fields != nullptr ? *role->fields : kCommonFields;
}

// Every record type with field rows of its own has its map in kRecordRoles (the rows its own
// code reads, EXECVE's and SOCKADDR's, excepted).
static_assert(std::ranges::all_of(kFieldRows, [](const FieldRow& row) {
  if (row.record_type == kAnyRecord || row.transform == Transform::joined_arguments ||
      row.transform == Transform::socket_address)
    return true;
  const RecordRole* role = role_of(row.record_type);
  return role != nullptr && role->fields != nullptr;
}));

}  // namespace

bool MozdefEncoder::State::changes_accounts(std::uint32_t type) {
  const RecordRole* role = role_of(type);
  return role != nullptr && role->accounts;
}

// The SYSCALL record first (its values win), then the EXECVE arguments, then every other record
// in order, each as its role says.
void MozdefEncoder::State::collect_details(const correlate::Event& event) {
  if (outline.changes_accounts) ids.invalidate_if_changed();
  std::string_view event_text;  // every record body of the event (contiguous)
  if (event.record_count() > 0) {
    const std::string_view first = event.record_body(0);
    const std::string_view last = event.record_body(event.record_count() - 1);
    event_text = std::string_view(
        first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data()));
  }
  details.clear(event_text);
  json.clear_truncations();
  if (outline.syscall_record != EventOutline::kNone) take_fields_with_arch(outline.syscall_record);
  syscall.assign(details.get(K::syscall));  // a copy: the arena grows below
  if (outline.has_execve) take_execve_arguments(event);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i == outline.syscall_record) continue;
    const RecordRole* role = role_of(records[i].type);
    if (role != nullptr && role->take != nullptr)
      (this->*role->take)(i);
    else
      take_fields(i);
  }
  take_process_context(event.process_context());
  take_parent(event.process_context());
}

// What happened: the first record's own description (CONFIG_CHANGE, LOGIN, ...), else a
// promiscuous mode change anywhere in the event, else the syscall's, else the first record's type.
void MozdefEncoder::State::describe(const correlate::Event& event) {
  describer.summary.clear();
  std::uint32_t first_type = 0;
  if (outline.first_record != EventOutline::kNone)
    first_type = event.record_type(outline.first_record);
  else if (event.record_count() > 0)
    first_type = event.record_type(0);
  std::string_view described;
  const RecordRole* first = role_of(first_type);
  if (first != nullptr && first->describe != nullptr)
    (describer.*first->describe)(described);
  else if (event.find(AUDIT_ANOM_PROMISCUOUS) < event.record_count())
    describer.describe_promiscuous(described);
  else if (outline.syscall_record != EventOutline::kNone)
    describer.describe_syscall(described);
  else
    describer.describe_by_type(first_type,
                               outline.first_record != EventOutline::kNone
                                   ? record_fields(outline.first_record)
                                   : std::span<const Field>(),
                               decoded, described);
  category.assign(described);  // it may view the arena, which grows below
}

MozdefEncoder::MozdefEncoder(EncoderConfig config, EncoderStats* stats,
                             correlate::ProcessTableStats* process_table_stats)
    : state_(std::make_unique<State>(std::move(config), stats, process_table_stats)) {}
MozdefEncoder::~MozdefEncoder() = default;

const EncoderStats& MozdefEncoder::stats() const { return *state_->stats; }

const correlate::ProcessTableStats& MozdefEncoder::process_table_stats() const {
  return state_->processes.stats();
}

void MozdefEncoder::encode(const correlate::Event& event, DocumentBatch& batch) {
  State& s = *state_;
  s.outline_records(event);
  s.collect_details(event);
  s.describe(event);
  s.write_document(event);
  batch.buffer().append(s.json.stream.data, s.json.stream.len);
  batch.end_document(event.key().sec * 1000 + event.key().msec);
  increment(s.stats->documents_encoded);
  // During a burst the scratch a large event grew is kept for the next one (giving it back
  // after each would map and unmap it per event); only a pathological event's is let go at
  // once. What remains goes back when the input is quiet (release_idle_memory).
  s.give_back_large_buffers(kScratchKeptWhileBusyBytes);
}

std::size_t MozdefEncoder::scratch_bytes() const { return state_->scratch_bytes(); }

void MozdefEncoder::release_idle_memory() {
  state_->give_back_large_buffers(kScratchKeptIdleBytes);
}

}  // namespace aurelay::mozdef
