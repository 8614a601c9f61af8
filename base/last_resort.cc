#include "base/last_resort.h"

#include <unistd.h>

#include <cstdio>
#include <exception>

namespace ers {
namespace {

const char* g_program = "ers";

[[noreturn]] void OnTerminate() {
  const char* what = "an unknown exception";
  try {
    if (std::exception_ptr e = std::current_exception()) std::rethrow_exception(e);
    what = "std::terminate without an exception";
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  fprintf(stderr,
          "%s: internal error: %s\n"
          "%s: this is a bug; please report it with the command that caused it\n",
          g_program, what, g_program);
  fflush(stderr);
  _exit(1);
}

}  // namespace

void InstallLastResortHandler(const char* program) {
  g_program = program;
  std::set_terminate(OnTerminate);
}

}  // namespace ers
