// libFuzzer entry point for the whole record-to-document path: the input is read as audit log
// lines, grouped by the event assembler and encoded; every document must be one MozDef indexes
// (tests/mozdef_conformance.h: valid UTF-8 JSON, documented keys only, success a boolean, ip
// fields that parse, no value over the keyword limit). Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "mozdef/encoder.h"
#include "mozdef_conformance.h"

namespace {

using aurelay::correlate::EventAssembler;

aurelay::mozdef::EncoderConfig encoder_config() {
  aurelay::mozdef::EncoderConfig config;
  config.hostname = "fuzz";
  config.max_value_bytes = 1024;  // small, so cuts happen often
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static aurelay::mozdef::MozdefEncoder encoder(encoder_config());
  aurelay::DocumentBatch batch;
  EventAssembler assembler({std::chrono::milliseconds(1000), 64, 64},
                           [&](const aurelay::correlate::Event& event) {
                             const std::size_t before = batch.count();
                             encoder.encode(event, batch);
                             if (batch.count() != before + 1) std::abort();
                           });
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    aurelay::correlate::RecordView record;
    if (aurelay::correlate::parse_log_line(text.substr(start, end - start), record) ==
        aurelay::correlate::ParseStatus::ok)
      assembler.add(record, EventAssembler::TimePoint{});
    start = end + 1;
  }
  assembler.flush();
  for (std::size_t i = 0; i < batch.count(); ++i) {
    const std::string violation = aurelay::testing::mozdef_violation(batch.document(i), nullptr);
    if (!violation.empty()) {
      std::fprintf(stderr, "MozDef would refuse: %s\n%.*s\n", violation.c_str(),
                   static_cast<int>(batch.document(i).size()), batch.document(i).data());
      std::abort();
    }
  }
  return 0;
}
