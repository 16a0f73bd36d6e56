// Result<T> and Status carry either a value or the message of what failed, and a failure
// passes up through callers with context added.
#include "correlate/result.h"

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

}  // namespace
}  // namespace aurelay
