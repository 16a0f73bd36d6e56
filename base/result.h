#pragma once
// The one error style across aurelay's components: a function that can fail returns a
// Result<T> (a value, or a message saying what failed) or a Status (Result<void>). Both are
// [[nodiscard]], so a caller cannot drop a failure by accident, and neither throws.
//
// A failure that decides how the process ends also carries the exit code main returns (kExit*
// below): a bad config file exits 2, another audit daemon holding the audit pid exits 3. The
// code travels up with the message; a caller that adds context keeps it.
//
// This header lives in correlate/ because aurelay_correlate is the base library every other
// component links.
//
//   Result<int> parse_port(std::string_view text) {
//     if (text.empty()) return fail(kExitConfigError, "empty port");
//     return 8080;
//   }
//   Status open_thing() {
//     auto port = parse_port(text);
//     if (!port) return port.failure("listen: ");  // "listen: empty port", still exit code 2
//     return {};  // ok
//   }
//   ...
//   return status.exit_code_or(kExitRuntimeFailure);

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace aurelay {

// Process exit codes (documented in --help and the man page; the unit's RestartPreventExitStatus
// lists the ones a restart cannot fix).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeFailure = 1;
inline constexpr int kExitConfigError = 2;   // bad config file or command line
inline constexpr int kExitAuditPidHeld = 3;  // another process (auditd) is the audit daemon

// What a failing function returns: `return fail("what went wrong");`, or
// `return fail(kExitConfigError, "what went wrong");` when the failure decides the exit code.
struct Failure {
  std::string message;
  std::optional<int> exit_code;  // empty: the caller decides
};

inline Failure fail(std::string message) { return Failure{std::move(message), std::nullopt}; }
inline Failure fail(int exit_code, std::string message) {
  return Failure{std::move(message), exit_code};
}

// What Result<T> and Status share: the failure's message and exit code.
class FailureDetails {
 public:
  // Only on failure: what went wrong, ready for a log line.
  const std::string& error() const { return error_; }
  // Only on failure: the exit code the failure asks for, if it asks for one.
  std::optional<int> exit_code() const { return exit_code_; }
  int exit_code_or(int fallback) const { return exit_code_.value_or(fallback); }
  // Only on failure: the failure again, for a caller that returns it as its own (a Result of
  // another type), with `context` put before the message. The exit code stays.
  Failure failure(std::string_view context = {}) const {
    return Failure{std::string(context) + error_, exit_code_};
  }

 protected:
  FailureDetails() = default;
  explicit FailureDetails(Failure failure)
      : error_(std::move(failure.message)), exit_code_(failure.exit_code) {}

 private:
  std::string error_;
  std::optional<int> exit_code_;
};

template <typename T = void>
class [[nodiscard]] Result : public FailureDetails {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Failure failure) : FailureDetails(std::move(failure)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  // Only on success.
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
};

template <>
class [[nodiscard]] Result<void> : public FailureDetails {
 public:
  Result() = default;                                                          // success
  Result(Failure failure) : FailureDetails(std::move(failure)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }

 private:
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace aurelay
