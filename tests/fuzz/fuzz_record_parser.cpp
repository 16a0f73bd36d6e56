// libFuzzer entry point for the record parser: the input is parsed as an auditd log line, as a
// netlink payload (type from the first two bytes) and as a record body, and the results are
// checked for invariants (views inside the input, non-empty keys, sane enriched index).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "correlate/record.h"

namespace {

using aurelay::correlate::Field;
using aurelay::correlate::ParseStatus;
using aurelay::correlate::RecordView;

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_fields(std::string_view body, std::vector<Field>& fields) {
  fields.clear();
  fields.push_back(Field{"pre", "existing", aurelay::correlate::ValueForm::bare});
  const std::size_t first_enriched = aurelay::correlate::split_fields(body, fields);
  check(first_enriched >= 1 && first_enriched <= fields.size());
  check(fields[0].key == "pre");
  for (std::size_t i = 1; i < fields.size(); ++i) {
    check(!fields[i].key.empty());
    check(inside(fields[i].key, body));
    check(inside(fields[i].value, body));
  }
}

void check_record(ParseStatus status, const RecordView& record, std::string_view text) {
  check(!aurelay::correlate::to_string(status).empty());
  if (status != ParseStatus::ok) return;
  check(inside(record.body, text));
  check(inside(record.key.node, text));
  check(record.key.msec < 1000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::vector<Field> fields;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  RecordView record;
  ParseStatus status = aurelay::correlate::parse_log_line(text, record);
  check_record(status, record, text);
  if (status == ParseStatus::ok) {
    check(record.type != 0);
    check_fields(record.body, fields);
  }

  if (size >= 2) {
    const std::uint32_t type = static_cast<std::uint32_t>(data[0]) << 8 | data[1];
    const std::string_view payload = text.substr(2);
    status = aurelay::correlate::parse_netlink_payload(type, payload, record);
    check_record(status, record, payload);
    if (status == ParseStatus::ok) check(record.type == type);
  }

  check_fields(text, fields);

  // Type names round-trip for whatever a name-shaped prefix of the input is.
  const std::string_view name = text.substr(0, text.find(' '));
  const std::uint32_t type = aurelay::correlate::record_type_from_name(name);
  if (type != 0 && !name.starts_with("UNKNOWN[")) {
    check(aurelay::correlate::record_type_name(type) == name);
  }
  return 0;
}
