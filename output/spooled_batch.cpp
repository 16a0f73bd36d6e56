#include "output/spooled_batch.h"

#include <spdlog/spdlog.h>

namespace aurelay::output {

namespace {

constexpr std::size_t kHeadBytes = 8;

void put_u64(char* out, std::uint64_t value) {
  for (std::size_t i = 0; i < kHeadBytes; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

std::uint64_t get_u64(const char* in) {
  std::uint64_t value = 0;
  for (std::size_t i = kHeadBytes; i-- > 0;) value = value << 8 | static_cast<unsigned char>(in[i]);
  return value;
}

}  // namespace

Result<std::unique_ptr<Spool>> open_sink_spool(std::string_view sink_name, SpoolConfig config) {
  auto spool = std::make_unique<Spool>(std::move(config));
  if (Status opened = spool->open(); !opened) return fail(opened.error());
  if (!spool->empty()) {
    spdlog::info("{}: {} document(s) left in spool {} by a previous run: sending them first",
                 sink_name, spool->unread_items(), spool->config().dir);
  }
  return spool;
}

SpoolWrite spool_batch(Spool& spool, std::uint32_t count, std::uint64_t oldest_ms,
                       std::string_view ndjson) {
  char head[kHeadBytes];
  put_u64(head, oldest_ms);
  const std::uint64_t dropped_before = spool.counters().dropped_items;
  SpoolWrite written;
  written.result = spool.append(count, std::string_view(head, sizeof(head)), ndjson);
  written.dropped_spool_full = spool.counters().dropped_items - dropped_before;
  switch (written.result) {
    case SpoolAppendResult::appended:
      written.spooled = count;
      break;
    case SpoolAppendResult::appended_after_dropping_oldest:
      written.spooled = count;
      written.problem = "spool full: oldest segment dropped";
      break;
    case SpoolAppendResult::dropped_newest:
      written.problem = "spool full: newest documents dropped";
      break;
    case SpoolAppendResult::io_error:
      written.problem = spool.last_error();
      break;
  }
  return written;
}

std::optional<SpooledBatch> read_spooled_batch(std::string payload) {
  if (payload.size() < kHeadBytes) return std::nullopt;
  SpooledBatch batch;
  batch.oldest_ms = get_u64(payload.data());
  payload.erase(0, kHeadBytes);
  batch.ndjson = std::move(payload);
  return batch;
}

}  // namespace aurelay::output
