#include "collector/startup_steps.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace aurelay::collector {
namespace {

// What the steps did, in order: "run A", "undo A", ...
struct Journal {
  std::vector<std::string> entries;
  bool fail_b = false;
  bool throw_in_c = false;
};

Status run_a(Journal& journal) {
  journal.entries.push_back("run A");
  return {};
}
void undo_a(Journal& journal) { journal.entries.push_back("undo A"); }

Status run_b(Journal& journal) {
  journal.entries.push_back("run B");
  if (journal.fail_b) return fail(kExitAuditPidHeld, "B: the socket refused");
  return {};
}
void undo_b(Journal& journal) { journal.entries.push_back("undo B"); }

// A step with nothing to undo.
Status run_nothing_to_undo(Journal& journal) {
  journal.entries.push_back("run N");
  return {};
}

Status run_c(Journal& journal) {
  journal.entries.push_back("run C");
  if (journal.throw_in_c) throw std::runtime_error("C threw");
  return {};
}
void undo_c(Journal& journal) { journal.entries.push_back("undo C"); }

constexpr StartupStep<Journal> kSteps[] = {
    {"a", &run_a, &undo_a},
    {"n", &run_nothing_to_undo, nullptr},
    {"b", &run_b, &undo_b},
    {"c", &run_c, &undo_c},
};

// Captures what spdlog's default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_st>(text_));
    logger->set_pattern("%l: %v");
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

TEST(StartupSteps, RunInOrderThenUndoInReverseOnce) {
  Journal journal;
  CapturedLog log;
  const Status lived = run_steps<Journal>(kSteps, journal);
  EXPECT_TRUE(lived.ok()) << lived.error();
  EXPECT_EQ(journal.entries, (std::vector<std::string>{"run A", "run N", "run B", "run C", "undo C",
                                                       "undo B", "undo A"}));
  EXPECT_EQ(log.text(), "");
}

TEST(StartupSteps, FailingMiddleStepStopsTheStartUpAndUndoesOnlyTheStepsBeforeIt) {
  Journal journal;
  journal.fail_b = true;
  CapturedLog log;
  const Status lived = run_steps<Journal>(kSteps, journal);
  ASSERT_FALSE(lived.ok());
  EXPECT_EQ(lived.error(), "B: the socket refused");
  EXPECT_EQ(lived.exit_code(), kExitAuditPidHeld);  // the step's exit code reaches the caller
  // C never ran; B failed, so it has nothing to undo; A is undone, once.
  EXPECT_EQ(journal.entries, (std::vector<std::string>{"run A", "run N", "run B", "undo A"}));
  EXPECT_EQ(log.text(), "error: B: the socket refused\n");
}

TEST(StartupSteps, AnExceptionStillUndoesTheStepsThatRan) {
  Journal journal;
  journal.throw_in_c = true;
  EXPECT_THROW((void)run_steps<Journal>(kSteps, journal), std::runtime_error);
  EXPECT_EQ(journal.entries,
            (std::vector<std::string>{"run A", "run N", "run B", "run C", "undo B", "undo A"}));
}

TEST(StartupSteps, TeardownStackRunsEachTeardownOnceEvenWhenRunAllIsCalledAgain) {
  Journal journal;
  {
    TeardownStack<Journal> teardowns(journal);
    teardowns.push(kSteps[0]);
    teardowns.push(kSteps[1]);  // no teardown: not kept
    teardowns.push(kSteps[2]);
    teardowns.run_all();
    teardowns.run_all();
  }  // and the destructor finds nothing left
  EXPECT_EQ(journal.entries, (std::vector<std::string>{"undo B", "undo A"}));
}

}  // namespace
}  // namespace aurelay::collector
