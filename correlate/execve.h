// EXECVE argument reassembly: arguments may span several EXECVE records (argc only in the
// first), long ones come as aN_len= plus aN[i]= chunks, unquoted values are hex-encoded.
//
// Kernel format (kernel/auditsc.c audit_log_execve_info): `argc=N` then ` aI="text"` (quoted when
// the argument has no special byte) or ` aI=HEX`; an argument too long for one record is written as
// ` aI_len=L aI[0]=... aI[1]=...` (L = length as logged, i.e. twice the bytes when hex), and its
// chunks may continue in the next EXECVE record. Each chunk is itself quoted or hex.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "correlate/event.h"

namespace aurelay::correlate {

// Bounds that keep garbage from costing memory: argc above kMaxExecveArgc is clamped (and counted
// as malformed); an argument index more than kMaxExecveArgumentGap past the arguments seen so far
// is skipped as malformed (one EXECVE record holds far fewer arguments than that, so a real gap
// from a lost record stays within it).
inline constexpr std::uint64_t kMaxExecveArgc = std::uint64_t{1} << 20;
inline constexpr std::size_t kMaxExecveArgumentGap = 4096;

struct ExecveArguments {
  std::uint64_t argc = 0;         // as declared in the first EXECVE record (clamped)
  std::vector<std::string> argv;  // decoded bytes in order (any byte kept); may be < argc
  std::size_t used = 0;           // argv[0..used) are this event's; the rest is reused storage
  std::size_t missing = 0;        // positions below `used` that no record filled (kept empty)
  std::size_t malformed = 0;      // fields skipped or repaired: index >= argc, bad hex, ...

  bool complete() const { return used == argc && missing == 0; }
  void clear() { argc = 0, used = 0, missing = 0, malformed = 0; }

  // Scratch kept between calls so reuse allocates nothing.
  std::vector<std::uint8_t> filled;  // which positions a record filled
  std::vector<Field> fields;         // split_fields output of the record being read
};

// Reassembles the arguments of the EXECVE records of `event`, in order. Returns false (and
// leaves `out` cleared) when the event has no EXECVE record. Missing arguments (argc larger than
// what arrived) leave `used < argc`; a missing middle argument is kept as an empty string so the
// positions stay right (and counted in `missing`). A bare value that is not valid hex is kept as
// its text and counted in `malformed`.
bool reassemble_execve(const Event& event, ExecveArguments& out);

}  // namespace aurelay::correlate
