// How the HTTP sink frames documents in a POST body: the values of the config option bulk_format,
// parsed in this one place (the option table lists kBulkFormatChoices, a test walks it).
//
// What MozDef's loginput does with each body decides the formats:
//   POST /_bulk first parses the whole body as JSON. An array is published element by element;
//   anything else falls through to a loop over lines, EXCEPT a body that is one JSON object: it
//   parses, and the loop walks its keys, publishing the strings "category", "summary", … with a
//   200. A one-line NDJSON body is such a body, so the event is lost without an error.
//   POST /events takes one JSON object per request (an array or several lines answer 500).
//
//   array   [doc,doc,...] to the URL (normally /_bulk). Always safe, the default.
//   ndjson  doc\ndoc\n... to the URL (normally /_bulk). A batch of ONE document is sent as the
//           one-element array [doc] instead, never as a one-line body.
//   single  one bare document per POST (MozDef /events).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/choice.h"

namespace aurelay::output {

enum class BulkFormat : std::uint8_t { array, ndjson, single };

inline constexpr std::array kBulkFormatNames = {
    ChoiceName<BulkFormat>{"array", BulkFormat::array},
    ChoiceName<BulkFormat>{"ndjson", BulkFormat::ndjson},
    ChoiceName<BulkFormat>{"single", BulkFormat::single},
};
// The option table's list of accepted values and its default.
inline constexpr std::string_view kBulkFormatChoices = "array|ndjson|single";
inline constexpr BulkFormat kDefaultBulkFormat = BulkFormat::array;
static_assert(choices_list_names(kBulkFormatChoices, kBulkFormatNames));

constexpr std::optional<BulkFormat> parse_bulk_format(std::string_view text) {
  return parse_choice(kBulkFormatNames, text);
}

constexpr std::string_view bulk_format_name(BulkFormat format) {
  return choice_name(kBulkFormatNames, format);
}

// The path of an http(s) URL without query and fragment ("" when it has none).
constexpr std::string_view url_path(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto slash = url.find('/', scheme_end + 3);
  if (slash == std::string_view::npos) return {};
  std::string_view path = url.substr(slash);
  return path.substr(0, path.find_first_of("?#"));
}

// True when the URL's path ends in /<endpoint> or /<endpoint>/ (e.g. "events", "_bulk").
constexpr bool url_is_endpoint(std::string_view url, std::string_view endpoint) {
  std::string_view path = url_path(url);
  if (path.ends_with('/')) path.remove_suffix(1);
  if (!path.ends_with(endpoint)) return false;
  path.remove_suffix(endpoint.size());
  return path.ends_with('/');
}

// An http:// or https:// destination (MozDef's loginput).
constexpr bool is_http_url(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}
// MozDef loginput's one-object endpoint: array and NDJSON bodies fail there.
constexpr bool is_events_url(std::string_view url) { return url_is_endpoint(url, "events"); }
// MozDef loginput's bulk endpoint: a bare one-object body is lost there.
constexpr bool is_bulk_url(std::string_view url) { return url_is_endpoint(url, "_bulk"); }

}  // namespace aurelay::output
