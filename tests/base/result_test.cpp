// Result<T> and Status carry either a value or the message of what failed (with the exit code
// it asks for, if any), and a failure passes up through callers with context added.
#include "base/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace aurelay {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return fail(std::string("not a digit: ") + c);
  return c - '0';
}

Status check_digit(char c) {
  auto digit = parse_digit(c);
  if (!digit) return fail("check: " + digit.error());
  return {};
}

TEST(Result, CarriesTheValueOnSuccess) {
  auto seven = parse_digit('7');
  ASSERT_TRUE(seven.ok());
  EXPECT_TRUE(static_cast<bool>(seven));
  EXPECT_EQ(*seven, 7);
  EXPECT_EQ(seven.value(), 7);
  EXPECT_TRUE(seven.error().empty());
}

TEST(Result, CarriesTheMessageOnFailure) {
  auto bad = parse_digit('x');
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "not a digit: x");
}

TEST(Result, StatusPassesAFailureUpWithContext) {
  EXPECT_TRUE(check_digit('3').ok());
  Status failed = check_digit('?');
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.error(), "check: not a digit: ?");
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  ASSERT_TRUE(owned);
  std::unique_ptr<int> taken = std::move(owned).value();
  EXPECT_EQ(*taken, 5);
  Result<std::unique_ptr<int>> missing = fail("none");
  EXPECT_EQ(missing.error(), "none");
}

Result<int> parse_port(const std::string& text) {
  if (text.empty()) return fail(kExitConfigError, "empty port");
  return 8080;
}

Status listen_on(const std::string& text) {
  Result<int> port = parse_port(text);
  if (!port) return port.failure("listen: ");
  return {};
}

TEST(Result, AFailureWithoutAnExitCodeLeavesItToTheCaller) {
  Status failed = check_digit('?');
  EXPECT_FALSE(failed.exit_code().has_value());
  EXPECT_EQ(failed.exit_code_or(kExitRuntimeFailure), kExitRuntimeFailure);
}

TEST(Result, CarriesTheExitCodeItFailsWith) {
  Result<int> port = parse_port("");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error(), "empty port");
  EXPECT_EQ(port.exit_code(), kExitConfigError);
  EXPECT_EQ(port.exit_code_or(kExitRuntimeFailure), kExitConfigError);

  Status held = fail(kExitAuditPidHeld, "pid taken");
  EXPECT_EQ(held.exit_code(), kExitAuditPidHeld);
  EXPECT_EQ(held.error(), "pid taken");
}

TEST(Result, TheExitCodeTravelsUpWithContextAdded) {
  EXPECT_TRUE(listen_on("80").ok());
  Status failed = listen_on("");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), "listen: empty port");
  EXPECT_EQ(failed.exit_code(), kExitConfigError);

  // Passed on unchanged to a Result of another type.
  Result<std::string> again = failed.failure();
  EXPECT_EQ(again.error(), "listen: empty port");
  EXPECT_EQ(again.exit_code(), kExitConfigError);
}

TEST(Result, TheExitCodesKeepTheirDocumentedValues) {
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitRuntimeFailure, 1);
  EXPECT_EQ(kExitConfigError, 2);
  EXPECT_EQ(kExitAuditPidHeld, 3);
}

}  // namespace
}  // namespace aurelay
