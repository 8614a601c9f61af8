// version.h: the release of ers that this tree builds, one place for every
// program (ers --version, ers-clm --version, the manual pages, the client
// field of CLM batches) and for tools/install.sh and tools/package.sh,
// which read it from this line.
#ifndef ERS_BASE_VERSION_H_
#define ERS_BASE_VERSION_H_

namespace ers {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace ers

#endif  // ERS_BASE_VERSION_H_
