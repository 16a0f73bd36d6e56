// EXECVE argument reassembly (see execve.h for the kernel's format).
#include "correlate/execve.h"

#include <string_view>

#include "correlate/hex.h"
#include "correlate/record.h"

namespace aurelay::correlate {
namespace {

enum class ArgumentField : std::uint8_t {
  none,       // not an argument field (ignored)
  malformed,  // looks like one ("a" and a digit) but does not parse
  whole,
  length,
  chunk,
};

struct ParsedKey {
  ArgumentField kind = ArgumentField::none;
  std::uint64_t index = 0;
  std::uint64_t chunk = 0;
};

// Parses up to 18 decimal digits at the start of `text`; returns how many were read (0 = none).
std::size_t parse_decimal(std::string_view text, std::uint64_t& value) {
  std::size_t n = 0;
  value = 0;
  while (n < text.size() && n < 18 && text[n] >= '0' && text[n] <= '9')
    value = value * 10 + static_cast<std::uint64_t>(text[n++] - '0');
  if (n < text.size() && n == 18 && text[n] >= '0' && text[n] <= '9') return 0;  // too long
  return n;
}

// "aN", "aN_len" or "aN[i]".
ParsedKey parse_argument_key(std::string_view key) {
  ParsedKey parsed;
  if (key.size() < 2 || key[0] != 'a' || key[1] < '0' || key[1] > '9') return parsed;
  parsed.kind = ArgumentField::malformed;
  std::size_t digits = parse_decimal(key.substr(1), parsed.index);
  if (digits == 0) return parsed;
  std::string_view rest = key.substr(1 + digits);
  if (rest.empty()) {
    parsed.kind = ArgumentField::whole;
  } else if (rest == "_len") {
    parsed.kind = ArgumentField::length;
  } else if (rest.size() >= 3 && rest.front() == '[' && rest.back() == ']') {
    std::string_view inner = rest.substr(1, rest.size() - 2);
    if (parse_decimal(inner, parsed.chunk) == inner.size()) parsed.kind = ArgumentField::chunk;
  }
  return parsed;
}

// Appends a value's bytes: quoted text as is, bare text hex-decoded (kept as text if not hex).
void append_value(const Field& field, std::string& out, ExecveArguments& args) {
  if (field.form != ValueForm::bare) {
    out.append(field.value);
    return;
  }
  if (field.value.empty()) return;
  if (!append_hex_decoded(field.value, out)) {
    out.append(field.value);
    ++args.malformed;
  }
}

class Reassembler {
 public:
  explicit Reassembler(ExecveArguments& out) : out_(out) {}

  void read_record(std::string_view body) {
    out_.fields.clear();
    split_fields(body, out_.fields);
    for (const Field& field : out_.fields) read_field(field);
  }

  void finish() {
    for (std::size_t i = 0; i < out_.used; ++i)
      if (!out_.filled[i]) ++out_.missing;
  }

 private:
  void read_field(const Field& field) {
    if (field.key == "argc") {
      read_argc(field);
      return;
    }
    ParsedKey key = parse_argument_key(field.key);
    if (key.kind == ArgumentField::none) return;  // not an argument field: ignored
    if (key.kind == ArgumentField::malformed || !index_acceptable(key.index)) {
      ++out_.malformed;
      return;
    }
    std::size_t index = static_cast<std::size_t>(key.index);
    switch (key.kind) {
      case ArgumentField::whole:
        if (index < out_.used && out_.filled[index]) {
          ++out_.malformed;  // duplicate
          return;
        }
        reserve_position(index);
        append_value(field, out_.argv[index], out_);
        out_.filled[index] = 1;
        chunked_ = kNoIndex;
        return;
      case ArgumentField::length:
        // The declared length is informative only (never trusted for allocation); it announces
        // the chunks that follow.
        if (index < out_.used && out_.filled[index]) {
          ++out_.malformed;
          return;
        }
        reserve_position(index);
        chunked_ = index;
        next_chunk_ = 0;
        return;
      case ArgumentField::chunk:
        read_chunk(field, index, key.chunk);
        return;
      case ArgumentField::none:
      case ArgumentField::malformed:
        return;
    }
  }

  void read_argc(const Field& field) {
    std::uint64_t value = 0;
    if (argc_seen_ || field.value.empty() ||
        parse_decimal(field.value, value) != field.value.size()) {
      ++out_.malformed;
      return;
    }
    argc_seen_ = true;
    if (value > kMaxExecveArgc) {
      ++out_.malformed;
      value = kMaxExecveArgc;
    }
    out_.argc = value;
  }

  void read_chunk(const Field& field, std::size_t index, std::uint64_t chunk) {
    if (chunked_ != index) {
      // A chunk with no aN_len before it (lost record) or for another argument.
      if (index < out_.used && out_.filled[index] && chunk == 0) {
        ++out_.malformed;
        return;
      }
      reserve_position(index);
      chunked_ = index;
      next_chunk_ = chunk;
      if (out_.filled[index] == 0 && chunk != 0) ++out_.malformed;
    }
    if (chunk != next_chunk_) ++out_.malformed;  // a chunk is missing or repeated: keep the bytes
    next_chunk_ = chunk + 1;
    append_value(field, out_.argv[index], out_);
    out_.filled[index] = 1;
  }

  bool index_acceptable(std::uint64_t index) const {
    if (argc_seen_ ? index >= out_.argc : index >= kMaxExecveArgc) return false;
    return index <= out_.used + kMaxExecveArgumentGap;
  }

  // Makes argv[index] part of this event (clearing reused storage) and everything before it.
  void reserve_position(std::size_t index) {
    while (out_.used <= index) {
      if (out_.used < out_.argv.size())
        out_.argv[out_.used].clear();
      else
        out_.argv.emplace_back();
      if (out_.used < out_.filled.size())
        out_.filled[out_.used] = 0;
      else
        out_.filled.push_back(0);
      ++out_.used;
    }
  }

  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  ExecveArguments& out_;
  bool argc_seen_ = false;
  std::size_t chunked_ = kNoIndex;
  std::uint64_t next_chunk_ = 0;
};

}  // namespace

bool reassemble_execve(const Event& event, ExecveArguments& out) {
  out.clear();
  Reassembler reassembler(out);
  bool found = false;
  for (std::size_t i = 0; i < event.record_count(); ++i) {
    if (event.record_type(i) != kTypeExecve) continue;
    found = true;
    reassembler.read_record(event.record_body(i));
  }
  if (!found) return false;
  reassembler.finish();
  return true;
}

}  // namespace aurelay::correlate
