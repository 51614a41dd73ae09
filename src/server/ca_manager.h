#pragma once
// The Connect CA on the server side: creates the first root (a leader duty), keeps a loaded
// provider for the active root, allocates certificate serials through the log, signs leaf CSRs,
// and rotates the root (cross-signed by the old one) when the configuration asks for it.
//
// Threading: core loop only. Signing runs inline (~0.3 ms); a CA worker thread is the next step
// if issuance rate matters more than latency.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ca/builtin_provider.h"
#include "server/writer.h"
#include "state/store.h"

namespace trellis::server {

// The CA's Config map (Consul's field names) with defaults.
struct CaSettings {
  std::string cluster_id;
  std::string leaf_cert_ttl = "72h";
  std::string intermediate_cert_ttl = "8760h";
  std::string root_cert_ttl = "87600h";
  std::string rotation_period = "2160h";
  std::string private_key_type = "ec";
  int private_key_bits = 256;
  int csr_max_per_second = 50;
  int csr_max_concurrent = 0;
  std::string private_key;  // import: PEM (never rendered back)
  std::string root_cert;    // import: PEM

  nlohmann::json toJson(bool with_secrets) const;
  // Decodes Consul's Config map (any key casing, snake_case); unknown keys are an error.
  static Result<CaSettings> fromJson(const nlohmann::json& j, const CaSettings& base);
};

class CaManager {
 public:
  CaManager(state::Store& store, Writer& writer) : store_(store), writer_(writer) {}

  // Leader duty at start: the first root when the store has none. `initial` comes from the
  // agent config (connect.ca_config); its cluster_id may be empty (a random UUID is used).
  boost::asio::awaitable<Status> initialize(CaSettings initial);
  // PUT /v1/connect/ca/configuration. Rotates the root when the key type/size changes or a key
  // is imported.
  boost::asio::awaitable<Status> setConfig(const std::string& provider, CaSettings settings,
                                           bool force_without_cross_signing);
  // Signs a CSR for `service` (SPIFFE ID from our trust domain and `datacenter`).
  boost::asio::awaitable<Result<ca::IssuedLeaf>> signServiceLeaf(const std::string& csr_pem,
                                                                 const std::string& service,
                                                                 const std::string& datacenter);

  CaSettings settings() const;
  std::string trustDomain() const;
  std::string activeRootId() const;
  std::chrono::seconds leafTtl() const;
  bool ready() const { return !store_.ca().roots().empty(); }

 private:
  boost::asio::awaitable<Result<uint64_t>> nextSerial();
  // CSRMaxPerSecond (token bucket, burst = one second's worth) or, when set, CSRMaxConcurrent.
  Status admitCsr();

  double csr_tokens_ = -1;
  std::chrono::steady_clock::time_point csr_refill_{};
  int csr_in_flight_ = 0;
  Result<const ca::BuiltinProvider*> provider();

  state::Store& store_;
  Writer& writer_;
  std::unique_ptr<ca::BuiltinProvider> provider_;
  std::string provider_root_id_;
};

}  // namespace trellis::server
