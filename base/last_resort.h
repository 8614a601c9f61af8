// last_resort.h: what a program does when an exception escapes everything
// else: a clear message and exit status 1, instead of std::terminate's abort
// (a core file that may hold a token, and no word on what happened).
#ifndef ERS_BASE_LAST_RESORT_H_
#define ERS_BASE_LAST_RESORT_H_

namespace ers {

// InstallLastResortHandler makes an uncaught exception print
// "<program>: internal error: <what>" to standard error and exit with status
// 1, writing no core file. |program| must outlive the process (a literal).
void InstallLastResortHandler(const char* program);

}  // namespace ers

#endif  // ERS_BASE_LAST_RESORT_H_
