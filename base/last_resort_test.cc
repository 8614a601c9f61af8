#include "base/last_resort.h"

#include <stdexcept>
#include <thread>

#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(LastResortDeathTest, AnUncaughtExceptionIsAClearErrorAndExitStatusOne) {
  EXPECT_EXIT(
      {
        InstallLastResortHandler("tool");
        // Escaping a noexcept function: gtest cannot catch it on its way.
        []() noexcept {
          throw std::runtime_error("type_error.302: type must be string, but is null");
        }();
      },
      ::testing::ExitedWithCode(1),
      "tool: internal error: type_error.302: type must be string, but is null");
}

TEST(LastResortDeathTest, AlsoOnAnotherThread) {
  EXPECT_EXIT(
      {
        InstallLastResortHandler("tool");
        std::thread([] { throw std::logic_error("from a worker"); }).join();
      },
      ::testing::ExitedWithCode(1), "tool: internal error: from a worker");
}

}  // namespace
}  // namespace ers
