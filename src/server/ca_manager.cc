#include "server/ca_manager.h"

#include "common/duration.h"
#include "common/log.h"
#include "common/uuid.h"
#include "model/decode.h"

namespace trellis::server {

namespace asio = boost::asio;

namespace {

ca::TimePoint nowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(ca::Clock::now());
}

pb::CaRoot toRecord(const ca::StoredRoot& s, bool active) {
  const ca::CaRoot& r = s.root;
  pb::CaRoot p;
  p.set_id(r.id);
  p.set_name(r.name);
  p.set_serial_number(r.serial_number);
  p.set_signing_key_id(r.signing_key_id);
  p.set_external_trust_domain(r.external_trust_domain);
  p.set_trust_domain(r.trust_domain);
  p.set_not_before(r.not_before.time_since_epoch().count());
  p.set_not_after(r.not_after.time_since_epoch().count());
  p.set_root_cert(r.root_cert_pem);
  for (const auto& c : r.intermediate_certs) p.add_intermediate_certs(c);
  p.set_active(active);
  p.set_private_key_type(r.private_key_type);
  p.set_private_key_bits(r.private_key_bits);
  p.set_signing_key_pem(s.signing_key_pem);
  return p;
}

ca::StoredRoot fromRecord(const pb::CaRoot& p) {
  ca::StoredRoot s;
  ca::CaRoot& r = s.root;
  r.id = p.id();
  r.name = p.name();
  r.serial_number = p.serial_number();
  r.signing_key_id = p.signing_key_id();
  r.external_trust_domain = p.external_trust_domain();
  r.trust_domain = p.trust_domain();
  r.not_before = ca::TimePoint(std::chrono::seconds(p.not_before()));
  r.not_after = ca::TimePoint(std::chrono::seconds(p.not_after()));
  r.root_cert_pem = p.root_cert();
  r.intermediate_certs.assign(p.intermediate_certs().begin(), p.intermediate_certs().end());
  r.private_key_type = p.private_key_type();
  r.private_key_bits = p.private_key_bits();
  s.signing_key_pem = p.signing_key_pem();
  return s;
}

Result<std::chrono::seconds> ttl(const std::string& field, const std::string& v) {
  auto d = parseGoDuration(v);
  if (!d || d->count() <= 0) return invalidArgument("invalid " + field + ": \"" + v + "\"");
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

}  // namespace

nlohmann::json CaSettings::toJson(bool with_secrets) const {
  nlohmann::json j;
  j["LeafCertTTL"] = leaf_cert_ttl;
  j["IntermediateCertTTL"] = intermediate_cert_ttl;
  j["RootCertTTL"] = root_cert_ttl;
  j["RotationPeriod"] = rotation_period;
  j["PrivateKeyType"] = private_key_type;
  j["PrivateKeyBits"] = private_key_bits;
  j["CSRMaxPerSecond"] = csr_max_per_second;
  j["CSRMaxConcurrent"] = csr_max_concurrent;
  j["ClusterID"] = cluster_id;
  if (with_secrets) {
    j["PrivateKey"] = private_key;
    j["RootCert"] = root_cert;
  }
  return j;
}

Result<CaSettings> CaSettings::fromJson(const nlohmann::json& in, const CaSettings& base) {
  CaSettings s = base;
  s.private_key.clear();
  s.root_cert.clear();
  auto f = model::Fields::of(in, "CAConfig");
  if (!f) return f.status();
  Status st;
  int32_t bits = s.private_key_bits, per_second = s.csr_max_per_second,
          concurrent = s.csr_max_concurrent;
  if (!(st = f->str("LeafCertTTL", &s.leaf_cert_ttl)) ||
      !(st = f->str("IntermediateCertTTL", &s.intermediate_cert_ttl)) ||
      !(st = f->str("RootCertTTL", &s.root_cert_ttl)) ||
      !(st = f->str("RotationPeriod", &s.rotation_period)) ||
      !(st = f->str("PrivateKeyType", &s.private_key_type)) ||
      !(st = f->i32("PrivateKeyBits", &bits)) || !(st = f->i32("CSRMaxPerSecond", &per_second)) ||
      !(st = f->i32("CSRMaxConcurrent", &concurrent)) ||
      !(st = f->str("ClusterID", &s.cluster_id)) || !(st = f->str("PrivateKey", &s.private_key)) ||
      !(st = f->str("RootCert", &s.root_cert))) {
    return st;
  }
  if (Status fin = f->finish(); !fin) return fin;
  s.private_key_bits = bits;
  s.csr_max_per_second = per_second;
  s.csr_max_concurrent = concurrent;
  auto leaf = ttl("LeafCertTTL", s.leaf_cert_ttl);
  if (!leaf) return leaf.status();
  if (*leaf < std::chrono::hours(1) || *leaf > std::chrono::hours(24 * 365)) {
    return invalidArgument("LeafCertTTL must be between 1h0m0s and 8760h0m0s");
  }
  for (const auto& [name, v] : {std::pair{"IntermediateCertTTL", s.intermediate_cert_ttl},
                                std::pair{"RootCertTTL", s.root_cert_ttl},
                                std::pair{"RotationPeriod", s.rotation_period}}) {
    if (auto d = ttl(name, v); !d) return d.status();
  }
  if (auto k = ca::parseKeySpec(s.private_key_type, s.private_key_bits); !k) return k.status();
  if (s.private_key.empty() != s.root_cert.empty() && !s.root_cert.empty()) {
    return invalidArgument("RootCert requires PrivateKey");
  }
  return s;
}

CaSettings CaManager::settings() const {
  CaSettings s;
  const auto& cfg = store_.ca().config();
  if (!cfg.config_json().empty()) {
    auto j = nlohmann::json::parse(cfg.config_json(), nullptr, false);
    if (auto parsed = CaSettings::fromJson(j, s)) s = *parsed;
  }
  s.cluster_id = cfg.cluster_id();
  return s;
}

std::string CaManager::trustDomain() const {
  return ca::trustDomainForCluster(store_.ca().config().cluster_id());
}

std::string CaManager::activeRootId() const {
  for (const auto& r : store_.ca().roots()) {
    if (r.active()) return r.id();
  }
  return "";
}

std::chrono::seconds CaManager::leafTtl() const {
  auto d = ttl("LeafCertTTL", settings().leaf_cert_ttl);
  return d ? *d : std::chrono::hours(72);
}

asio::awaitable<Result<uint64_t>> CaManager::nextSerial() {
  pb::Command cmd;
  cmd.mutable_ca()->set_op("serial");
  auto r = co_await writer_.submit(cmd);
  if (!r) co_return r.status();
  co_return r->index;
}

Result<const ca::BuiltinProvider*> CaManager::provider() {
  std::string active = activeRootId();
  if (active.empty()) return Status(Code::kUnavailable, "CA is not initialized yet");
  if (!provider_ || provider_root_id_ != active) {
    for (const auto& r : store_.ca().roots()) {
      if (!r.active()) continue;
      auto p = ca::BuiltinProvider::create(fromRecord(r));
      if (!p) return p.status();
      provider_ = std::move(*p);
      provider_root_id_ = active;
    }
  }
  return provider_.get();
}

asio::awaitable<Status> CaManager::initialize(CaSettings initial) {
  if (ready()) co_return Status::ok();
  if (initial.cluster_id.empty()) initial.cluster_id = newUuid();
  if (Status s = ca::validateClusterTrustDomain(ca::trustDomainForCluster(initial.cluster_id)); !s) {
    co_return invalidArgument("connect.ca_config.cluster_id: " + s.message());
  }
  co_return co_await setConfig("consul", std::move(initial), false);
}

asio::awaitable<Status> CaManager::setConfig(const std::string& provider_name, CaSettings next,
                                             bool force) {
  if (!provider_name.empty() && provider_name != "consul") {
    co_return invalidArgument("CA provider \"" + provider_name +
                              "\" is not supported yet; only \"consul\" is");
  }
  CaSettings current = settings();
  if (ready()) {
    if (!next.cluster_id.empty() && next.cluster_id != current.cluster_id) {
      co_return invalidArgument("cannot change ClusterID");
    }
    next.cluster_id = current.cluster_id;
  }
  bool rotate = !ready() || !next.private_key.empty() ||
                next.private_key_type != current.private_key_type ||
                next.private_key_bits != current.private_key_bits;
  pb::CaState state = store_.ca();
  auto* cfg = state.mutable_config();
  cfg->set_provider("consul");
  cfg->set_cluster_id(next.cluster_id);
  cfg->set_force_without_cross_signing(force);
  cfg->set_config_json(next.toJson(false).dump());
  if (rotate) {
    auto key = ca::parseKeySpec(next.private_key_type, next.private_key_bits);
    if (!key) co_return key.status();
    auto root_ttl = ttl("RootCertTTL", next.root_cert_ttl);
    if (!root_ttl) co_return root_ttl.status();
    auto serial = co_await nextSerial();
    if (!serial) co_return serial.status();
    ca::RootOptions opts;
    opts.cluster_id = next.cluster_id;
    opts.key = *key;
    opts.ttl = *root_ttl;
    opts.serial = *serial;
    opts.now = nowSeconds();
    auto root = next.private_key.empty()
                    ? ca::BuiltinProvider::generateRoot(opts)
                    : ca::BuiltinProvider::importRoot(next.private_key, next.root_cert, opts);
    if (!root) co_return root.status();
    if (ready()) {
      // Rotation: the old root vouches for the new one so peers that only trust the old root
      // accept the new leaves until they learn the new root.
      auto old = provider();
      if (!old) co_return old.status();
      if (!force) {
        auto cross_serial = co_await nextSerial();
        if (!cross_serial) co_return cross_serial.status();
        auto cross = (*old)->crossSign(root->root.root_cert_pem, *cross_serial, nowSeconds());
        if (!cross) co_return cross.status();
        root->root.intermediate_certs.push_back(*cross);
      }
      for (auto& r : *state.mutable_roots()) r.set_active(false);
      TLOG_INFO("ca: rotating root {} -> {}", activeRootId(), root->root.id);
    }
    *state.add_roots() = toRecord(*root, true);
  }
  pb::Command cmd;
  cmd.mutable_ca()->set_op("set");
  *cmd.mutable_ca()->mutable_state() = state;
  co_return appliedStatus(co_await writer_.submit(cmd));
}

Status CaManager::admitCsr() {
  CaSettings s = settings();
  const Status limited(Code::kRateLimited,
                       "Rate limit reached, try again later: CSR signing is limited by the CA "
                       "configuration (CSRMaxPerSecond / CSRMaxConcurrent)");
  if (s.csr_max_concurrent > 0) {
    return csr_in_flight_ < s.csr_max_concurrent ? Status::ok() : limited;
  }
  if (s.csr_max_per_second <= 0) return Status::ok();
  auto now = std::chrono::steady_clock::now();
  double rate = s.csr_max_per_second;
  if (csr_tokens_ < 0) {
    csr_tokens_ = rate;
  } else {
    csr_tokens_ = std::min(rate, csr_tokens_ + rate * std::chrono::duration<double>(
                                                      now - csr_refill_).count());
  }
  csr_refill_ = now;
  if (csr_tokens_ < 1) return limited;
  csr_tokens_ -= 1;
  return Status::ok();
}

asio::awaitable<Result<ca::IssuedLeaf>> CaManager::signServiceLeaf(const std::string& csr_pem,
                                                                   const std::string& service,
                                                                   const std::string& dc) {
  if (Status s = admitCsr(); !s) co_return s;
  ++csr_in_flight_;
  struct Done {
    int& n;
    ~Done() { --n; }
  } done{csr_in_flight_};
  auto p = provider();
  if (!p) co_return p.status();
  auto serial = co_await nextSerial();
  if (!serial) co_return serial.status();
  p = provider();  // the root may have rotated while the serial was being allocated
  if (!p) co_return p.status();
  ca::ServiceId id;
  id.trust_domain = trustDomain();
  id.datacenter = dc;
  id.service = service;
  ca::LeafRequest req;
  req.csr_pem = csr_pem;
  req.expected_id = id;
  req.ttl = leafTtl();
  req.serial = *serial;
  req.now = nowSeconds();
  co_return (*p)->signLeaf(req);
}

}  // namespace trellis::server
