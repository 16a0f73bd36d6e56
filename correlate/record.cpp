// STUB: replaced by the record parser implementation.
#include "correlate/record.h"

namespace aurelay::correlate {
std::string_view to_string(ParseStatus) { return "stub"; }
ParseStatus parse_log_line(std::string_view, RecordView&) { return ParseStatus::no_type; }
ParseStatus parse_netlink_payload(std::uint32_t, std::string_view, RecordView&) {
  return ParseStatus::no_header;
}
std::string_view record_type_name(std::uint32_t) { return {}; }
std::uint32_t record_type_from_name(std::string_view) { return 0; }
std::size_t split_fields(std::string_view, std::vector<Field>& out) { return out.size(); }
}  // namespace aurelay::correlate
