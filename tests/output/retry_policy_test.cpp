#include "output/retry_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace aurelay::output {
namespace {

TEST(ClassifyDelivery, TwoHundredsAreDelivered) {
  EXPECT_EQ(classify_delivery(200, false), DeliveryOutcome::delivered);
  EXPECT_EQ(classify_delivery(204, false), DeliveryOutcome::delivered);
}

TEST(ClassifyDelivery, ServerErrorsTimeoutsAndTransportErrorsAreRetried) {
  EXPECT_EQ(classify_delivery(500, false), DeliveryOutcome::retry);
  EXPECT_EQ(classify_delivery(503, false), DeliveryOutcome::retry);
  EXPECT_EQ(classify_delivery(408, false), DeliveryOutcome::retry);
  EXPECT_EQ(classify_delivery(429, false), DeliveryOutcome::retry);
  EXPECT_EQ(classify_delivery(0, true), DeliveryOutcome::retry);
  EXPECT_EQ(classify_delivery(200, true), DeliveryOutcome::retry);  // cut after the status line
}

TEST(ClassifyDelivery, OtherClientErrorsAreRejected) {
  EXPECT_EQ(classify_delivery(400, false), DeliveryOutcome::rejected);
  EXPECT_EQ(classify_delivery(404, false), DeliveryOutcome::rejected);
  EXPECT_EQ(classify_delivery(413, false), DeliveryOutcome::rejected);
  EXPECT_EQ(classify_delivery(301, false), DeliveryOutcome::rejected);
}

TEST(RetryPolicy, CeilingDoublesUpToTheMaximum) {
  RetryPolicy policy(100, 1000, [](std::uint64_t bound) { return bound; });
  EXPECT_EQ(policy.ceiling_ms(0), 0u);
  EXPECT_EQ(policy.ceiling_ms(1), 100u);
  EXPECT_EQ(policy.ceiling_ms(2), 200u);
  EXPECT_EQ(policy.ceiling_ms(3), 400u);
  EXPECT_EQ(policy.ceiling_ms(4), 800u);
  EXPECT_EQ(policy.ceiling_ms(5), 1000u);
  EXPECT_EQ(policy.ceiling_ms(1000000), 1000u);  // no overflow
}

TEST(RetryPolicy, DelayIsTheRandomDrawBelowTheCeiling) {
  std::vector<std::uint64_t> bounds;
  RetryPolicy policy(100, 1000, [&](std::uint64_t bound) {
    bounds.push_back(bound);
    return bound / 3;
  });
  EXPECT_EQ(policy.delay_ms(1), 33u);
  EXPECT_EQ(policy.delay_ms(2), 66u);
  EXPECT_EQ(policy.delay_ms(4), 266u);
  EXPECT_EQ(policy.delay_ms(9), 333u);
  EXPECT_EQ(bounds, (std::vector<std::uint64_t>{100, 200, 800, 1000}));
  EXPECT_EQ(policy.delay_ms(0), 0u);
  EXPECT_EQ(bounds.size(), 4u);  // no draw without a failure
}

TEST(RetryPolicy, ARandomSourceOutOfRangeIsClamped) {
  RetryPolicy policy(50, 400, [](std::uint64_t bound) { return bound * 10; });
  EXPECT_EQ(policy.delay_ms(2), 100u);
}

TEST(RetryPolicy, DefaultRandomStaysWithinFullJitterBounds) {
  RetryPolicy policy(10, 80);
  bool saw_below_ceiling = false;
  for (int i = 0; i < 200; ++i) {
    std::uint64_t delay = policy.delay_ms(3);
    EXPECT_LE(delay, 40u);
    saw_below_ceiling = saw_below_ceiling || delay < 40;
  }
  EXPECT_TRUE(saw_below_ceiling);
}

TEST(RetryPolicy, MaxBelowBaseIsRaisedToBase) {
  RetryPolicy policy(500, 100, [](std::uint64_t bound) { return bound; });
  EXPECT_EQ(policy.ceiling_ms(3), 500u);
}

}  // namespace
}  // namespace aurelay::output
