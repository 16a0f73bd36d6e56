// STUB: replaced by the MozDef encoder implementation.
#include "output/mozdef_encoder.h"

namespace aurelay::output {
struct MozdefEncoder::State {
  EncoderConfig config;
  EncoderCounters counters;
};
MozdefEncoder::MozdefEncoder(EncoderConfig config) : state_(new State{std::move(config), {}}) {}
MozdefEncoder::~MozdefEncoder() = default;
bool MozdefEncoder::encode(const correlate::Event&, DocumentBatch&) { return false; }
const EncoderCounters& MozdefEncoder::counters() const { return state_->counters; }
}  // namespace aurelay::output
