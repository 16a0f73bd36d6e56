#include "mozdef/details.h"

#include <array>

#include "correlate/record.h"
#include "mozdef/field_map.h"

namespace aurelay::mozdef {

namespace {

constexpr std::array<DetailKeySpec, kDetailKeyCount> kDetailKeys = {{
#define AURELAY_DETAIL_SPEC(name, shape, meaning, source, example) \
  {#name, DetailShape::shape, meaning, source, example},
    AURELAY_DETAIL_KEYS(AURELAY_DETAIL_SPEC)
#undef AURELAY_DETAIL_SPEC
}};

}  // namespace

std::span<const DetailKeySpec> detail_keys() { return kDetailKeys; }

std::string field_sources(DetailKey key) {
  std::string sources;
  auto next = [&] {
    if (!sources.empty()) sources += "; ";
  };
  for (const FieldRow& row : kFieldRows) {
    const bool names_id =
        row.transform == Transform::with_user || row.transform == Transform::with_group;
    const bool feeds_key = row.key == key;
    const bool feeds_name =
        names_id && static_cast<std::size_t>(row.key) + 1 == static_cast<std::size_t>(key);
    if (!feeds_key && !feeds_name) continue;
    const std::string listed = row.record_type == kAnyRecord
                                   ? std::string(row.field)
                                   : std::string(correlate::record_type_name(row.record_type)) +
                                         " " + std::string(row.field);
    if (sources.ends_with(listed)) continue;  // one field feeding several keys of one record
    next();
    if (feeds_name) sources += "name of ";
    sources += listed;
  }
  const std::string_view source = detail_key(key).source;
  if (!source.empty()) {
    if (!source.starts_with('('))
      next();
    else if (!sources.empty())
      sources += ' ';
    sources += source;
  }
  return sources;
}

std::string render_field_reference() {
  std::string out =
      "# MozDef document fields\n"
      "\n"
      "Generated from `mozdef/details.h` and `mozdef/field_map.h` by "
      "`tools/generate_docs.sh`; do not edit.\n"
      "\n"
      "Every aurelay document is one JSON object that MozDef's loginput, esworker, plugins and\n"
      "alerts take as they took audisp-json's:\n"
      "\n"
      "| key | meaning |\n"
      "|---|---|\n"
      "| `category` | audisp-json's category (execve, write, read, attribute, chmod, chown, "
      "ptrace, time, specialfiles, socket, listen), the syscall name otherwise, or what the "
      "first record says (config_change, netfilter_cfg, login, promiscuous, user_login, ...) |\n"
      "| `summary` | one line: `Execve: <command>`, `Write: <path>`, `Promisc: Interface lo set "
      "promiscuous on by ip`, `Audit rule added by auditctl: key exec list 4`, ... |\n"
      "| `severity` | `INFO` |\n"
      "| `hostname` | the record's `node=`, else the `hostname` option, else the host's name |\n"
      "| `processid`, `processname` | the shipper: aurelay's pid and `shipper_name` "
      "(`audisp-json` by default, what MozDef's auditd plugins and alerts expect); with an "
      "empty `shipper_name`, the audited process |\n"
      "| `timestamp` | the event's time, ISO-8601 UTC with milliseconds: "
      "`2026-11-22T10:03:09.858+00:00` |\n"
      "| `tags` | the `tags` option: `[\"audisp-json\", \"auditd\", \"audit\", \"aurelay\"]` |\n"
      "| `details` | the keys below, and no others |\n"
      "\n"
      "## details\n"
      "\n"
      "A fixed set of keys (MozDef's index holds at most 1,000 fields for every source it "
      "ingests, so no key name is made from data). Values are strings, except `success` (a JSON "
      "boolean: MozDef's template maps it as boolean) and the arrays. "
      "`sourceipaddress` and `destinationipaddress` (template type ip) appear only when they "
      "parse as an IP address. Rules:\n"
      "\n"
      "- The SYSCALL record is read first, then the other records in arrival order; the first "
      "value of a key wins, an equal later value is dropped, a different one is kept in "
      "`extra`.\n"
      "- A record field without a key of its own is kept in `extra` as `TYPE.field=value` "
      "(the fields of a PATH record other than the chosen one as `PATHn.field=value`, n its "
      "item number). Nothing is dropped except values that say \"no value\" (`?`, `(null)`, "
      "`(none)`), PATH file-capability fields equal to 0, PATH `item` (the position in "
      "`paths`), and enriched fields after 0x1D (auditd's reading of the record).\n"
      "- Values the kernel hex-encodes (name, cwd, comm, exe, key, acct, cmd, proctitle, ...) "
      "are decoded; invalid UTF-8 bytes are written as the code point U+00XX of the byte.\n"
      "- No value is longer than `max_value_bytes` (32000 by default; Elasticsearch refuses a "
      "document with a keyword over 32,766 bytes): a longer one is cut at a character boundary "
      "and named in `truncated` with its length as received (`command:102400`).\n"
      "- `parentprocess` comes from a bounded table of the processes the audit stream showed "
      "(each SYSCALL record names pid, ppid, comm and exe; live, /proc/PPID/comm for a parent "
      "the stream has not shown). What a stale entry can still yield, and the races of the "
      "/proc read: [parentprocess.md](parentprocess.md).\n"
      "\n"
      "| key | type | meaning | from | example |\n"
      "|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < kDetailKeyCount; ++i) {
    const DetailKeySpec& key = kDetailKeys[i];
    out += "| `";
    out += key.name;
    out += "` | ";
    switch (key.shape) {
      case DetailShape::string:
        out += "string";
        break;
      case DetailShape::boolean:
        out += "boolean";
        break;
      case DetailShape::ip:
        out += "ip";
        break;
      case DetailShape::array:
        out += "array of strings";
        break;
    }
    out += " | ";
    out += key.meaning;
    out += " | ";
    out += field_sources(static_cast<DetailKey>(i));
    out += " | `";
    out += key.example;
    out += "` |\n";
  }
  return out;
}

}  // namespace aurelay::mozdef
