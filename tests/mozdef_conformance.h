// What MozDef needs of a document for it to be indexed, enriched and alerted on (the facts of
// ../shared/MOZDEF.md and MozDef's index template, defaultMappingTemplate.json, under
// Elasticsearch 6.8's rules), as one check the conformance, replay and live tests share.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "mozdef/details.h"

namespace aurelay::testing {

// Elasticsearch refuses a whole document with a keyword value over this many UTF-8 bytes.
inline constexpr std::size_t kKeywordLimitBytes = 32766;

inline bool parses_as_ip_address(std::string_view text) {
  std::string buf(text);
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, buf.c_str(), addr) == 1 || inet_pton(AF_INET6, buf.c_str(), addr) == 1;
}

// ISO-8601 with milliseconds and an offset, as MozDef's dateOptionalTime parses it:
// 2026-11-22T10:03:09.858+00:00 (d = digit).
inline bool is_iso8601_with_milliseconds(std::string_view text) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd";
  if (text.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = text[i];
    if (kShape[i] == 'd' ? (c < '0' || c > '9')
                         : (kShape[i] == '+' ? (c != '+' && c != '-') : c != kShape[i]))
      return false;
  }
  return true;
}

// Checks one document; returns "" when MozDef takes it, else what is wrong. `keys_seen`
// collects the details keys of every document checked (the index's field budget).
inline std::string mozdef_violation(std::string_view text, std::set<std::string>* keys_seen) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return std::string("not valid UTF-8 JSON: ") + rapidjson::GetParseError_En(doc.GetParseError());
  if (!doc.IsObject()) return "not a JSON object";
  // loginput's /_bulk skips array elements with a top-level `index` key (bulk action lines).
  if (doc.HasMember("index")) return "top-level key index: loginput would skip it";
  for (const char* key :
       {"category", "summary", "severity", "hostname", "processid", "processname", "timestamp"}) {
    if (!doc.HasMember(key) || !doc[key].IsString()) return std::string("no string ") + key;
    if (doc[key].GetStringLength() > kKeywordLimitBytes && std::strcmp(key, "summary") != 0)
      return std::string(key) + " over the keyword limit";
  }
  if (!is_iso8601_with_milliseconds(doc["timestamp"].GetString()))
    return std::string("timestamp not ISO-8601 with milliseconds: ") + doc["timestamp"].GetString();
  const std::string category = doc["category"].GetString();
  for (char c : category)
    if (c >= 'A' && c <= 'Z') return "category not lower case: " + category;
  if (!doc.HasMember("tags") || !doc["tags"].IsArray()) return "tags not an array";
  for (auto& tag : doc["tags"].GetArray())
    if (!tag.IsString()) return "a tag is not a string";
  if (!doc.HasMember("details") || !doc["details"].IsObject()) return "details not an object";

  std::set<std::string> documented, seen;
  for (const mozdef::DetailKeySpec& spec : mozdef::detail_keys()) documented.emplace(spec.name);
  for (auto& member : doc["details"].GetObject()) {
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    if (!documented.contains(key)) return "undocumented details key " + key;
    if (!seen.insert(key).second) return "details key twice: " + key;
    if (keys_seen != nullptr) keys_seen->insert(key);
    const rapidjson::Value& value = member.value;
    if (key == "success") {
      // ES 6 takes only true/false for a boolean field; "yes" fails the whole document.
      if (!value.IsBool()) return "details.success is not a boolean";
      continue;
    }
    if (value.IsArray()) {
      for (auto& element : value.GetArray()) {
        if (!element.IsString()) return "details." + key + " holds a non-string";
        if (element.GetStringLength() > kKeywordLimitBytes)
          return "an element of details." + key + " is over the keyword limit";
      }
      continue;
    }
    if (!value.IsString()) return "details." + key + " is not a string";
    if (value.GetStringLength() > kKeywordLimitBytes)
      return "details." + key + " is over the keyword limit";
    if ((key == "sourceipaddress" || key == "destinationipaddress") &&
        !parses_as_ip_address(std::string_view(value.GetString(), value.GetStringLength())))
      return "details." + key + " does not parse as an IP address: " + value.GetString();
  }
  return "";
}

}  // namespace aurelay::testing
