// A process's life as an ordered list of steps: each step does one job of the start-up (open the
// output, become the audit daemon, load the rules, ...) and may name a teardown that undoes it.
// run_steps() runs the steps in order and stops at the first failure; the teardowns of the steps
// that succeeded then run in reverse order, exactly once, whether the list ended by a failure, by
// its last step returning (the daemon's main loop is a step), or by an exception.
//
//   constexpr StartupStep<Ctx> kSteps[] = {
//       {"open output", &open_output, &close_output},
//       {"serve", &serve, nullptr},
//   };
//   Status lived = run_steps<Ctx>(kSteps, context);
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace aurelay::collector {

template <typename Context>
struct StartupStep {
  std::string_view name;
  // Does the step's job. A failure's message is logged as it is (the step words it for the
  // operator) and ends the start-up; its exit code, if it carries one, is the process's.
  Status (*run)(Context&) = nullptr;
  // Undoes the step; runs only when `run` succeeded. nullptr: nothing to undo.
  void (*teardown)(Context&) = nullptr;
};

// The teardowns of the steps done so far. Runs them in reverse order on run_all() or destruction,
// each exactly once.
template <typename Context>
class TeardownStack {
 public:
  explicit TeardownStack(Context& context) : context_(context) {}
  ~TeardownStack() { run_all(); }
  TeardownStack(const TeardownStack&) = delete;
  TeardownStack& operator=(const TeardownStack&) = delete;

  void push(const StartupStep<Context>& step) {
    if (step.teardown != nullptr) steps_.push_back(&step);
  }

  void run_all() {
    while (!steps_.empty()) {
      const StartupStep<Context>* step = steps_.back();
      steps_.pop_back();  // before running it: a teardown that throws is not run again
      spdlog::debug("teardown: {}", step->name);
      step->teardown(context_);
    }
  }

 private:
  Context& context_;
  std::vector<const StartupStep<Context>*> steps_;
};

// Runs `steps` in order, then the teardowns of those that succeeded in reverse. Returns the first
// failure (already logged at error level), or success when every step ran.
template <typename Context>
Status run_steps(std::span<const StartupStep<Context>> steps, Context& context) {
  TeardownStack<Context> teardowns(context);
  for (const StartupStep<Context>& step : steps) {
    spdlog::debug("start-up: {}", step.name);
    Status done = step.run(context);
    if (!done) {
      spdlog::error("{}", done.error());
      spdlog::debug("start-up step '{}' failed; undoing the steps before it", step.name);
      return done;  // the teardowns run as `teardowns` goes out of scope
    }
    teardowns.push(step);
  }
  return {};
}

}  // namespace aurelay::collector
