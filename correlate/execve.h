// EXECVE argument reassembly: arguments may span several EXECVE records (argc only in the
// first), long ones come as aN_len= plus aN[i]= hex chunks, unquoted values are hex-encoded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "correlate/event.h"

namespace aurelay::correlate {

struct ExecveArguments {
  std::uint64_t argc = 0;         // as declared in the first EXECVE record
  std::vector<std::string> argv;  // decoded bytes in order (any byte kept); may be < argc
  std::size_t used = 0;           // argv[0..used) are this event's; the rest is reused storage

  bool complete() const { return used == argc; }
  void clear() { argc = 0, used = 0; }
};

// Reassembles the arguments of the EXECVE records of `event`, in order. Returns false (and
// leaves `out` cleared) when the event has no EXECVE record. Missing arguments (argc larger than
// what arrived) leave `used < argc`; a missing middle argument is kept as an empty string so the
// positions stay right.
bool reassemble_execve(const Event& event, ExecveArguments& out);

}  // namespace aurelay::correlate
