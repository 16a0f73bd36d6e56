// Where each part of a MozDef document goes: the top-level members (category, summary,
// severity, hostname, processid, processname, timestamp, tags; the ones that never change
// rendered once) and the details object in key order, written through the JSON writer.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/event.h"
#include "mozdef/decimal.h"
#include "mozdef/details.h"
#include "mozdef/details_store.h"
#include "mozdef/encoder.h"
#include "mozdef/json_writer.h"

namespace aurelay::mozdef {

// Appends the ISO-8601 UTC time of sec.msec: 2026-11-22T10:03:09.858+00:00.
inline void append_timestamp(std::string& out, std::uint64_t sec, std::uint32_t msec) {
  // Days since 1970-01-01 to civil date (Howard Hinnant's algorithm).
  std::int64_t days = static_cast<std::int64_t>(sec / 86400);
  std::uint32_t rem = static_cast<std::uint32_t>(sec % 86400);
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<std::uint32_t>(days - era * 146097);
  std::uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400;
  std::uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::uint32_t mp = (5 * doy + 2) / 153;
  std::uint32_t day = doy - (153 * mp + 2) / 5 + 1;
  std::uint32_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[40];
  char* p = buf;
  auto put = [&](std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(static_cast<std::uint64_t>(year), 4);
  *p++ = '-';
  put(month, 2);
  *p++ = '-';
  put(day, 2);
  *p++ = 'T';
  put(rem / 3600, 2);
  *p++ = ':';
  put(rem / 60 % 60, 2);
  *p++ = ':';
  put(rem % 60, 2);
  *p++ = '.';
  put(msec % 1000, 3);
  std::memcpy(p, "+00:00", 6);
  p += 6;
  out.append(buf, static_cast<std::size_t>(p - buf));
}

struct DocumentLayout {
  // `config` as the encoder completed it (hostname set, max_value_bytes at least 16).
  DocumentLayout(const EncoderConfig& config, JsonDocumentWriter& json, EncoderStats& stats)
      : config(config), json(json), stats(stats) {
    std::string_view rest = config.tags;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view tag = rest.substr(0, comma);
      if (!tag.empty()) tags.emplace_back(tag);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    append_decimal(own_pid, static_cast<std::uint64_t>(getpid()));
    severity_member = render_constant([&] { json.member("severity", config.severity); });
    hostname_member = render_constant([&] { json.member("hostname", config.hostname); });
    if (!config.shipper_name.empty()) {
      shipper_members = render_constant([&] {
        json.member("processid", own_pid);
        json.member("processname", config.shipper_name);
      });
    }
    tags_member = render_constant([&] {
      json.write_key("tags");
      json.open('[');
      for (const std::string& tag : tags) json.string(tag, "tags");
      json.close(']');
    });
  }

  const EncoderConfig& config;
  JsonDocumentWriter& json;
  EncoderStats& stats;  // a constant member's cuts and repairs are counted per document
  std::vector<std::string> tags;
  std::string own_pid;

  // Members whose values are the same in every document (`,"severity":"INFO"`, the tags, ...),
  // rendered once. Empty when rendering one cuts or repairs a value: that has to be counted and
  // noted in each document, so such a member is written per document.
  std::string severity_member, hostname_member, shipper_members, tags_member;

  template <typename Write>
  std::string render_constant(Write write) {
    const std::uint64_t truncated_before = value_of(stats.values_truncated);
    const std::uint64_t fixed_before = value_of(stats.invalid_utf8_fixed);
    json.stream.begin();
    json.need_comma = true;
    write();
    const bool unchanged = value_of(stats.values_truncated) == truncated_before &&
                           value_of(stats.invalid_utf8_fixed) == fixed_before;
    std::string rendered =
        unchanged ? std::string(json.stream.data, json.stream.len) : std::string();
    stats.values_truncated.store(truncated_before, std::memory_order_relaxed);
    stats.invalid_utf8_fixed.store(fixed_before, std::memory_order_relaxed);
    json.clear_truncations();
    return rendered;
  }
  template <typename Write>
  void write_constant(const std::string& rendered, Write write) {
    if (rendered.empty()) {
      write();
      return;
    }
    json.stream.append(rendered.data(), rendered.size());
    json.need_comma = true;
  }

  // category, summary, severity, hostname, processid, processname, timestamp, tags.
  void write_header(const correlate::EventKey& key, std::string_view category,
                    std::string_view summary, const DetailsStore& details) {
    json.member("category", category);
    json.member("summary", summary);
    write_constant(severity_member, [&] { json.member("severity", config.severity); });
    if (key.node.empty())
      write_constant(hostname_member, [&] { json.member("hostname", config.hostname); });
    else
      json.member("hostname", key.node);
    if (!config.shipper_name.empty()) {
      write_constant(shipper_members, [&] {
        json.member("processid", own_pid);
        json.member("processname", config.shipper_name);
      });
    } else {  // the audited program at the top level
      json.member("processid", details.has(DetailKey::pid) ? details.get(DetailKey::pid)
                                                           : std::string_view(own_pid));
      json.member("processname", details.has(DetailKey::processname)
                                     ? details.get(DetailKey::processname)
                                     : std::string_view("aurelay"));
    }
    json.member("timestamp", timestamp_of(key.sec, key.msec));
    write_constant(tags_member, [&] {
      json.write_key("tags");
      json.open('[');
      for (const std::string& tag : tags) json.string(tag, "tags");
      json.close(']');
    });
  }

  // The ISO-8601 time of sec.msec, made once per second: within the second only the three
  // millisecond digits change (append_timestamp's layout is fixed: they follow the 20 bytes of
  // "YYYY-MM-DDTHH:MM:SS.").
  std::uint64_t timestamp_sec = 0;
  std::string timestamp;
  std::string_view timestamp_of(std::uint64_t sec, std::uint32_t msec) {
    constexpr std::size_t kMillisecondsAt = 20;
    if (timestamp.empty() || sec != timestamp_sec) {
      timestamp.clear();
      append_timestamp(timestamp, sec, 0);
      timestamp_sec = sec;
    }
    timestamp[kMillisecondsAt] = static_cast<char>('0' + msec / 100 % 10);
    timestamp[kMillisecondsAt + 1] = static_cast<char>('0' + msec / 10 % 10);
    timestamp[kMillisecondsAt + 2] = static_cast<char>('0' + msec % 10);
    return timestamp;
  }

  // A details member that is a list, a boolean, or a string that needs escaping, repair or a
  // cut (plain_detail_member writes the others).
  [[gnu::noinline]] void write_detail_member(const DetailsStore& details, const DetailKeySpec& spec,
                                             std::size_t i) {
    const auto key = static_cast<DetailKey>(i);
    json.write_detail_key(i);
    if (spec.shape == DetailShape::array) {
      const std::vector<ValueRef>& list = key == DetailKey::paths       ? details.paths
                                          : key == DetailKey::nametypes ? details.nametypes
                                                                        : details.extra;
      json.open('[');
      for (ValueRef ref : list) json.string(details.view(ref), spec.name);
      json.close(']');
    } else if (spec.shape == DetailShape::boolean) {
      json.literal(details.view(details.values[i]));
    } else {
      json.string(details.view(details.values[i]), spec.name);
    }
  }
  // The details object's members: every key that has a value, in key order, and `truncated`.
  void write_details(DetailsStore& details) {
    // The lists are members too: mark them, then walk the keys that have a value, in order.
    if (!details.paths.empty()) details.present.set(static_cast<std::size_t>(DetailKey::paths));
    if (!details.nametypes.empty())
      details.present.set(static_cast<std::size_t>(DetailKey::nametypes));
    if (!details.extra.empty()) details.present.set(static_cast<std::size_t>(DetailKey::extra));
    const std::span<const DetailKeySpec> specs = detail_keys();
    details.present.for_each([&](std::size_t i) {
      const DetailKeySpec& spec = specs[i];
      const bool text = spec.shape == DetailShape::string || spec.shape == DetailShape::ip;
      if (text && json.plain_detail_member(i, details.view(details.values[i]))) return;
      write_detail_member(details, spec, i);
    });
    if (json.truncation_count > 0) {
      json.write_detail_key(static_cast<std::size_t>(DetailKey::truncated));
      json.open('[');
      std::string_view rest = json.truncation;
      while (!rest.empty()) {
        std::size_t end = rest.find('\0');
        json.string(rest.substr(0, end), "truncated");
        rest.remove_prefix(end + 1);
      }
      json.close(']');
    }
  }
};

}  // namespace aurelay::mozdef
