#include "enroll/csr.h"

#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/host_name.h"
#include "base/list_syntax.h"
#include "enroll/key.h"

namespace ers {
namespace {

// AddName files one entry (a DNS name, "*.name" or an address) into
// |names|, once.
absl::Status AddName(absl::string_view entry, RequestNames* names) {
  if (absl::StatusOr<IpAddress> ip = ParseIpAddress(entry); ip.ok()) {
    if (std::find(names->ips.begin(), names->ips.end(), *ip) == names->ips.end()) {
      names->ips.push_back(*ip);
    }
    return absl::OkStatus();
  }
  std::string dns = absl::AsciiStrToLower(entry);
  absl::string_view base = dns;
  absl::ConsumePrefix(&base, "*.");
  if (base.find('*') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("name \"", entry, "\": a wildcard is only the whole leftmost label"));
  }
  if (absl::Status s = ValidateHostName(base); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("name \"", entry, "\": ", s.message()));
  }
  if (base.find('.') == absl::string_view::npos && dns != base) {
    return absl::InvalidArgumentError(
        absl::StrCat("name \"", entry, "\": a wildcard needs a domain of two labels or more"));
  }
  if (std::find(names->dns.begin(), names->dns.end(), dns) == names->dns.end()) {
    names->dns.push_back(std::move(dns));
  }
  return absl::OkStatus();
}

// IpBytes returns |ip| as the 4 or 16 bytes of an iPAddress GeneralName.
std::string IpBytes(const IpAddress& ip) {
  std::string out(ip.Bits() / 8, '\0');
  absl::uint128 v = ip.value;
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = static_cast<char>(static_cast<uint8_t>(v & 0xff));
    v >>= 8;
  }
  return out;
}

bool IpFromBytes(const uint8_t* data, size_t len, IpAddress* out) {
  if (len != 4 && len != 16) return false;
  absl::uint128 v = 0;
  for (size_t i = 0; i < len; ++i) v = (v << 8) | data[i];
  *out = len == 4 ? IpAddress::V4(static_cast<uint32_t>(v)) : IpAddress::V6(v);
  return true;
}

std::string Utf8(const ASN1_STRING* s) {
  uint8_t* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string ObjectName(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) return OBJ_nid2sn(nid);
  char text[128];
  return OBJ_obj2txt(text, sizeof(text), obj, 1) > 0 ? std::string(text) : "unknown";
}

}  // namespace

absl::StatusOr<RequestNames> ParseRequestNames(absl::string_view common_name,
                                               absl::string_view sans) {
  RequestNames names;
  if (common_name.empty()) return absl::InvalidArgumentError("the common name is empty");
  if (absl::Status s = AddName(common_name, &names); !s.ok()) return s;
  names.common_name = names.dns.empty() ? names.ips[0].ToString() : names.dns[0];
  if (!sans.empty()) {
    absl::StatusOr<std::vector<absl::string_view>> entries = SplitList(sans, "name list");
    if (!entries.ok()) return entries.status();
    for (absl::string_view entry : *entries) {
      if (absl::Status s = AddName(entry, &names); !s.ok()) return s;
    }
  }
  if (names.dns.size() + names.ips.size() > kMaxRequestNames) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxRequestNames, " names in one request"));
  }
  return names;
}

std::vector<std::string> NameStrings(const RequestNames& names) {
  std::vector<std::string> out = names.dns;
  for (const IpAddress& ip : names.ips) out.push_back(ip.ToString());
  return out;
}

absl::StatusOr<std::string> BuildCsr(const RequestNames& names, EVP_PKEY* key) {
  bssl::UniquePtr<X509_REQ> req(X509_REQ_new());
  bssl::UniquePtr<X509_NAME> subject(X509_NAME_new());
  bssl::UniquePtr<GENERAL_NAMES> sans(sk_GENERAL_NAME_new_null());
  if (!req || !subject || !sans || !X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) ||
      !X509_NAME_add_entry_by_NID(
          subject.get(), NID_commonName, MBSTRING_UTF8,
          reinterpret_cast<const uint8_t*>(names.common_name.data()),
          static_cast<int>(names.common_name.size()), -1, 0) ||
      !X509_REQ_set_subject_name(req.get(), subject.get()) ||
      !X509_REQ_set_pubkey(req.get(), key)) {
    return absl::InternalError("BoringSSL could not build the request");
  }
  auto add = [&](int type, const std::string& bytes) {
    bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
    bssl::UniquePtr<ASN1_STRING> value(
        ASN1_STRING_type_new(type == GEN_DNS ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING));
    if (!name || !value || !ASN1_STRING_set(value.get(), bytes.data(), bytes.size())) {
      return false;
    }
    GENERAL_NAME_set0_value(name.get(), type, value.release());
    return bssl::PushToStack(sans.get(), std::move(name));
  };
  for (const std::string& dns : names.dns) {
    if (!add(GEN_DNS, dns)) return absl::InternalError("BoringSSL could not add a DNS name");
  }
  for (const IpAddress& ip : names.ips) {
    if (!add(GEN_IPADD, IpBytes(ip))) return absl::InternalError("BoringSSL could not add an IP");
  }
  bssl::UniquePtr<STACK_OF(X509_EXTENSION)> extensions(sk_X509_EXTENSION_new_null());
  bssl::UniquePtr<X509_EXTENSION> san(X509V3_EXT_i2d(NID_subject_alt_name, 0, sans.get()));
  if (!extensions || !san || !bssl::PushToStack(extensions.get(), std::move(san)) ||
      !X509_REQ_add_extensions(req.get(), extensions.get()) ||
      !X509_REQ_sign(req.get(), key, EVP_sha256())) {
    return absl::InternalError("BoringSSL could not sign the request");
  }
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509_REQ(bio.get(), req.get())) {
    return absl::InternalError("BoringSSL could not encode the request");
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

absl::StatusOr<CsrInfo> ParseCsr(absl::string_view pem) {
  if (pem.size() > kMaxCsrBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CSR is larger than ", kMaxCsrBytes / 1024, " KiB"));
  }
  if (!absl::StrContains(pem, "-----BEGIN CERTIFICATE REQUEST-----")) {
    return absl::InvalidArgumentError("the CSR is not a PEM \"CERTIFICATE REQUEST\"");
  }
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  CsrInfo info;
  info.request.reset(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
  if (!info.request) return absl::InvalidArgumentError("the CSR does not parse (malformed DER)");
  uint8_t* der = nullptr;
  const int der_len = i2d_X509_REQ(info.request.get(), &der);
  if (der_len <= 0) return absl::InvalidArgumentError("the CSR does not re-encode");
  info.der_sha256 =
      Sha256Hex(absl::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  bssl::UniquePtr<EVP_PKEY> key(X509_REQ_get_pubkey(info.request.get()));
  if (!key) return absl::InvalidArgumentError("the CSR's public key does not parse");
  info.key = DescribeKey(key.get());
  if (X509_REQ_verify(info.request.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        "the CSR's signature does not verify with its own public key");
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(info.request.get());
  const int cn_index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn_index >= 0) {
    info.names.common_name = absl::AsciiStrToLower(
        Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn_index))));
  }
  bssl::UniquePtr<STACK_OF(X509_EXTENSION)> extensions(
      X509_REQ_get_extensions(info.request.get()));
  for (size_t i = 0; extensions && i < sk_X509_EXTENSION_num(extensions.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(extensions.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) {
      info.other_extensions.push_back(ObjectName(X509_EXTENSION_get_object(ext)));
      continue;
    }
    bssl::UniquePtr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (!sans) return absl::InvalidArgumentError("the CSR's subjectAltName does not parse");
    for (size_t j = 0; j < sk_GENERAL_NAME_num(sans.get()); ++j) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), j);
      if (name->type == GEN_DNS) {
        const ASN1_STRING* s = name->d.dNSName;
        std::string dns = absl::AsciiStrToLower(absl::string_view(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<size_t>(ASN1_STRING_length(s))));
        if (absl::Status added = AddName(dns, &info.names); !added.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("the CSR's subjectAltName: ", added.message()));
        }
      } else if (name->type == GEN_IPADD) {
        IpAddress ip;
        if (!IpFromBytes(ASN1_STRING_get0_data(name->d.iPAddress),
                         static_cast<size_t>(ASN1_STRING_length(name->d.iPAddress)), &ip)) {
          return absl::InvalidArgumentError("the CSR's subjectAltName has a malformed address");
        }
        if (std::find(info.names.ips.begin(), info.names.ips.end(), ip) == info.names.ips.end()) {
          info.names.ips.push_back(ip);
        }
      } else if (name->type == GEN_EMAIL) {
        info.names.others.push_back(absl::StrCat("email:", Utf8(name->d.rfc822Name)));
      } else if (name->type == GEN_URI) {
        info.names.others.push_back(absl::StrCat("uri:", Utf8(name->d.uniformResourceIdentifier)));
      } else {
        info.names.others.push_back(absl::StrCat("general-name-type-", name->type));
      }
      if (info.names.dns.size() + info.names.ips.size() + info.names.others.size() >
          kMaxRequestNames) {
        return absl::InvalidArgumentError(
            absl::StrCat("the CSR asks for more than ", kMaxRequestNames, " names"));
      }
    }
  }
  return info;
}

}  // namespace ers
