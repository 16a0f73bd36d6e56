// The one rate-limited log: one message per interval, the held-back ones counted in the next.
#include "base/rate_limited_log.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "test_support.h"

namespace aurelay {
namespace {

using aurelay::testing::CapturedLog;
using aurelay::testing::count_occurrences;

constexpr std::int64_t kInterval = RateLimitedLog::kDefaultInterval.count();

TEST(RateLimitedLog, RepeatsWithinTheIntervalAreCountedAndReported) {
  CapturedLog log;
  RateLimitedLog warnings;
  EXPECT_TRUE(warnings.warn(1000, "spool full"));
  EXPECT_FALSE(warnings.warn(1000 + kInterval - 1, "spool full"));
  EXPECT_FALSE(warnings.warn(1000 + kInterval - 1, "spool full"));
  EXPECT_EQ(count_occurrences(log.text(), "spool full"), 1u) << log.text();
  EXPECT_TRUE(warnings.warn(1000 + kInterval, "spool full"));
  EXPECT_EQ(count_occurrences(log.text(), "spool full"), 2u) << log.text();
  EXPECT_EQ(count_occurrences(log.text(), "spool full (2 similar message(s) suppressed)"), 1u)
      << log.text();
}

TEST(RateLimitedLog, AllowReportsTheHeldBackCountOnce) {
  RateLimitedLog limiter(std::chrono::milliseconds(100));
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.allow(0, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.allow(50, suppressed));
  EXPECT_FALSE(limiter.allow(99, suppressed));
  EXPECT_TRUE(limiter.allow(100, suppressed));
  EXPECT_EQ(suppressed, 2u);
  EXPECT_TRUE(limiter.allow(200, suppressed));
  EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace aurelay
