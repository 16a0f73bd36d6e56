// libFuzzer entry point for the local audit log's lines: the input is a record (type from the
// first byte, payload after it) formatted as auditd's RAW line and then enriched twice, by the
// short path and by libauparse alone. The two must agree byte for byte (the short path is only
// allowed where it is sure), and the line must stay one line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auditlog/record_format.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// The record types the short path takes, and a few it leaves to libauparse.
constexpr std::uint32_t kTypes[] = {1300, 1302, 1307, 1309, 1321, 1327, 1320,
                                    1305, 1306, 1112, 1006, 1400, 9999};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint32_t type = kTypes[data[0] % std::size(kTypes)];
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  static aurelay::auditlog::Enricher direct;
  static aurelay::auditlog::Enricher through_auparse;
  std::string raw;
  aurelay::auditlog::append_raw_line(raw, (data[0] & 0x80) != 0 ? "node1" : "", type, payload);
  check(raw.starts_with("type=") || raw.starts_with("node=node1 type="));
  check(raw.find('\n') == std::string::npos);
  check(raw.size() < aurelay::auditlog::kFormatBufferLength);
  std::string fast = raw;
  std::string slow = raw;
  direct.enrich(fast, 0, type);
  through_auparse.enrich_with_auparse(slow, 0);
  check(fast == slow);
  check(fast.starts_with(raw));
  check(fast.find('\n') == std::string::npos);
  return 0;
}
