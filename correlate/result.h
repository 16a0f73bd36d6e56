#pragma once
// The one error style across aurelay's components: a function that can fail returns a
// Result<T> (a value, or a message saying what failed) or a Status (Result<void>). Both are
// [[nodiscard]], so a caller cannot drop a failure by accident, and neither throws.
//
// This header lives in correlate/ because aurelay_correlate is the base library every other
// component links.
//
//   Result<int> parse_port(std::string_view text) {
//     if (text.empty()) return fail("empty port");
//     return 8080;
//   }
//   Status open_thing() {
//     auto port = parse_port(text);
//     if (!port) return fail("listen: " + port.error());
//     return {};  // ok
//   }

#include <optional>
#include <string>
#include <utility>

namespace aurelay {

// What a failing function returns: `return fail("what went wrong");`.
struct Failure {
  std::string message;
};

inline Failure fail(std::string message) { return Failure{std::move(message)}; }

template <typename T = void>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Failure failure) : error_(std::move(failure.message)) {}  // NOLINT

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

  // Only on failure: what went wrong, ready for a log line.
  const std::string& error() const { return error_; }

 private:
  std::optional<T> value_;
  std::string error_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;                                                          // success
  Result(Failure failure) : ok_(false), error_(std::move(failure.message)) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  bool ok_ = true;
  std::string error_;
};

using Status = Result<void>;

}  // namespace aurelay
