#pragma once
// Building the few X.509 extensions the CA writes. Internal to trellis_ca.

#include <string>
#include <string_view>

#include "ca/ossl.h"
#include "common/status.h"

namespace trellis::ca {

// GENERAL_NAMES holding the single URI `uri`.
ossl::GeneralNamesPtr makeUriSan(std::string_view uri);

// Adds an extension from OpenSSL's config syntax, e.g. (NID_basic_constraints, "critical,CA:TRUE").
Status addConfExtension(X509* cert, int nid, const char* value);
Status addUriSanExtension(X509* cert, std::string_view uri, bool critical);
// SubjectKeyId / AuthorityKeyId (keyIdentifier only) from raw key ID bytes.
Status addSubjectKeyId(X509* cert, std::string_view key_id);
Status addAuthorityKeyId(X509* cert, std::string_view key_id);

}  // namespace trellis::ca
