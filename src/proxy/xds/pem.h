#pragma once
// PEM checks done once at config time with OpenSSL, so that the data plane never meets a
// certificate or key it cannot load: a bad PEM rejects the xDS update that carried it.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trellis::proxy::xds {

// One or more certificates, nothing but whitespace between or after them.
Status checkCertificates(std::string_view pem, std::string_view what);
// One private key; when `cert_chain_pem` is not empty, it must match the chain's first certificate.
Status checkPrivateKey(std::string_view key_pem, std::string_view cert_chain_pem);
// The trust domains the bundle's certificates name in `spiffe://<trust-domain>` URI SANs (our
// roots and Consul's carry one), lower-cased, in order, without repeats; empty if none or if the
// bundle does not parse.
std::vector<std::string> spiffeTrustDomains(std::string_view pem);

}  // namespace trellis::proxy::xds
