// issuing_policy.h: which certificates the reference CLM issues to whom.
// The policy file has one line per client:
//   CLIENT key=value ...
// CLIENT is the client's name as the CLM knows it ("token:NAME",
// "cert:CN"), or "*" for every client without a line of its own. Keys:
//   dns=SUFFIX,...    DNS names it may ask for: a suffix allows itself and
//                     every name below it (dns=example.com allows
//                     example.com and www.example.com)
//   wildcards=yes|no  whether "*.name" may be asked for (default no)
//   ip=RANGE,...      addresses it may ask for (CIDR blocks, ranges)
//   keys=TYPE,...     key types (default ec-p256,ec-p384,rsa-2048,rsa-3072)
//   days=N            the longest validity (default 90, at most 825)
//   approval=auto|hold  issue at once, or hold for ers-clm --approve
// '#' starts a comment. A client with no line (and no "*") may request
// nothing.
#ifndef ERS_CLM_ISSUING_POLICY_H_
#define ERS_CLM_ISSUING_POLICY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "enroll/csr.h"

namespace ers {

struct ClientIssuingPolicy {
  std::vector<std::string> dns_suffixes;
  bool wildcards = false;
  std::vector<IpRange> ip_ranges;
  std::set<std::string> key_types = {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"};
  int max_days = 90;
  bool hold = false;
};

class IssuingPolicy {
 public:
  // Parse reads a policy file's |text|; errors name |source| and the line.
  [[nodiscard]] static absl::StatusOr<IssuingPolicy> Parse(absl::string_view text,
                                                           absl::string_view source);

  // For returns |client|'s policy, "*"'s, or nullptr.
  const ClientIssuingPolicy* For(const std::string& client) const;

 private:
  std::map<std::string, ClientIssuingPolicy> clients_;
};

// JudgeRequest says whether |policy| lets |csr| be issued for |days|
// (0: the policy's longest). kPermissionDenied names what the policy does
// not allow (a name outside it, a key type, the validity); kInvalidArgument
// what no policy allows (a weak key, extensions beyond subjectAltName, names
// that are not DNS names or addresses, a common name outside the SANs).
[[nodiscard]] absl::Status JudgeRequest(const ClientIssuingPolicy& policy, const CsrInfo& csr,
                                        int days);

}  // namespace ers

#endif  // ERS_CLM_ISSUING_POLICY_H_
