// Connect CA endpoints: roots (/v1/connect/ca/roots, /v1/agent/connect/ca/roots, ?pem=true), the
// CA configuration (GET/PUT), and the agent's leaf certificates with their cache and renewal.
#include <ctime>
#include <random>

#include "api/connect_access.h"
#include "api/endpoints.h"
#include "api/query.h"
#include "api/respond.h"
#include "ca/cert_util.h"
#include "common/duration.h"
#include "ca/spiffe.h"
#include "http/park.h"
#include "model/decode.h"

namespace trellis::api {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

Json renderRoots(const Context& ctx) {
  const pb::CaState& st = ctx.store.ca();
  Json roots = Json::array();
  std::string active;
  for (const auto& r : st.roots()) {
    if (r.active()) active = r.id();
    Json j;
    j["ID"] = r.id();
    j["Name"] = r.name();
    j["SerialNumber"] = r.serial_number();
    j["SigningKeyID"] = r.signing_key_id();
    j["ExternalTrustDomain"] = r.external_trust_domain();
    j["NotBefore"] = formatRfc3339(r.not_before());
    j["NotAfter"] = formatRfc3339(r.not_after());
    j["RootCert"] = r.root_cert();
    j["IntermediateCerts"] = r.intermediate_certs_size() == 0
                                 ? Json(nullptr)
                                 : Json(std::vector<std::string>(r.intermediate_certs().begin(),
                                                                 r.intermediate_certs().end()));
    j["Active"] = r.active();
    j["PrivateKeyType"] = r.private_key_type();
    j["PrivateKeyBits"] = r.private_key_bits();
    j["CreateIndex"] = r.create_index();
    j["ModifyIndex"] = r.modify_index();
    roots.push_back(std::move(j));
  }
  Json out;
  out["ActiveRootID"] = active;
  out["TrustDomain"] = ctx.ca != nullptr && ctx.ca->ready() ? ctx.ca->trustDomain() : "";
  out["Roots"] = std::move(roots);
  return out;
}

// Renews at a random point between 60% and 90% of the leaf's lifetime.
steady_clock::time_point renewAt(const ca::IssuedLeaf& leaf) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto life = leaf.valid_before - leaf.valid_after;
  double f = std::uniform_real_distribution<double>(0.6, 0.9)(rng);
  auto at = leaf.valid_after + std::chrono::duration_cast<std::chrono::seconds>(life * f);
  auto from_now = at - std::chrono::time_point_cast<std::chrono::seconds>(ca::Clock::now());
  return steady_clock::now() + from_now;
}

}  // namespace

asio::awaitable<Result<const Context::Leaf*>> ensureLeaf(Context& ctx, const std::string& service) {
  auto it = ctx.leaves.find(service);
  bool fresh = it != ctx.leaves.end() && steady_clock::now() < it->second.renew_at &&
               it->second.root_id == ctx.ca->activeRootId();
  if (fresh) co_return &it->second;
  ca::ServiceId id;
  id.trust_domain = ctx.ca->trustDomain();
  id.datacenter = ctx.config.datacenter;
  id.service = service;
  auto key = ca::generateLeafKeyAndCsr(ca::formatSpiffeId(id));
  if (!key) co_return key.status();
  auto leaf = co_await ctx.ca->signServiceLeaf(key->csr_pem, service, ctx.config.datacenter);
  if (!leaf) co_return leaf.status();
  Context::Leaf entry;
  entry.index = leaf->serial;
  entry.root_id = ctx.ca->activeRootId();
  entry.renew_at = renewAt(*leaf);
  entry.private_key_pem = key->private_key_pem;
  entry.leaf = std::move(*leaf);
  // Any client may ask for any service name: keep the cache bounded. Evicted leaves are simply
  // issued again when asked for.
  constexpr size_t kMaxCachedLeaves = 4096;
  if (ctx.leaves.size() >= kMaxCachedLeaves && ctx.leaves.count(service) == 0) {
    auto now = steady_clock::now();
    for (auto i = ctx.leaves.begin(); i != ctx.leaves.end();) {
      i = now >= i->second.renew_at ? ctx.leaves.erase(i) : std::next(i);
    }
    while (ctx.leaves.size() >= kMaxCachedLeaves) ctx.leaves.erase(ctx.leaves.begin());
  }
  auto& slot = ctx.leaves[service];
  if (slot.index < entry.index) slot = std::move(entry);  // a concurrent, newer issue wins
  co_return &slot;
}

namespace {

Json renderLeaf(const Context::Leaf& e) {
  const ca::IssuedLeaf& l = e.leaf;
  Json j;
  j["SerialNumber"] = l.serial_number;
  j["CertPEM"] = l.cert_pem;
  j["PrivateKeyPEM"] = e.private_key_pem;
  j["Service"] = l.service;
  j["ServiceURI"] = l.service_uri;
  j["ValidAfter"] = formatRfc3339(l.valid_after.time_since_epoch().count());
  j["ValidBefore"] = formatRfc3339(l.valid_before.time_since_epoch().count());
  j["CreateIndex"] = e.index;
  j["ModifyIndex"] = e.index;
  return j;
}

}  // namespace

asio::awaitable<Response> caRoots(Context& ctx, Exchange& ex, std::string) {
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  bool pem = ex.request.param("pem") == std::optional<std::string>("true");
  co_return co_await blockingRead(
      ctx, ex, *opts, oneTopic(state::WatchHub::tableTopic(state::kCaRoots)), [&]() {
        uint64_t idx = ctx.store.tableIndex(state::kCaRoots);
        if (!pem) return ReadResult{idx, jsonResponse(ctx, ex, renderRoots(ctx))};
        Response r;
        for (const auto& root : ctx.store.ca().roots()) {
          if (!root.active()) continue;
          r.body += root.root_cert();
          for (const auto& c : root.intermediate_certs()) r.body += c;
        }
        for (const auto& root : ctx.store.ca().roots()) {
          if (!root.active()) r.body += root.root_cert();
        }
        r.set("Content-Type", "application/pem-certificate-chain");
        return ReadResult{idx, std::move(r)};
      });
}

asio::awaitable<Response> caConfiguration(Context& ctx, Exchange& ex, std::string) {
  if (ctx.ca == nullptr || !ctx.ca->ready()) {
    co_return Response::text(500, "CA is not initialized yet");
  }
  if (ex.request.method == "PUT") {
    auto body = model::parseBody(ex.request.body);
    if (!body) co_return errorResponse(body.status());
    auto f = model::Fields::of(*body, "CAConfiguration");
    if (!f) co_return errorResponse(f.status());
    std::string provider;
    bool force = false;
    Status s;
    if (!(s = f->str("Provider", &provider)) || !(s = f->boolean("ForceWithoutCrossSigning", &force))) {
      co_return errorResponse(s);
    }
    const model::InJson* config = f->take("Config");
    f->take("State");
    f->take("CreateIndex");
    f->take("ModifyIndex");
    if (Status fin = f->finish(); !fin) co_return errorResponse(fin);
    auto settings = server::CaSettings::fromJson(config ? *config : model::InJson::object(),
                                                 ctx.ca->settings());
    if (!settings) co_return errorResponse(settings.status());
    s = co_await ctx.ca->setConfig(provider, std::move(*settings), force);
    if (!s) co_return errorResponse(s);
    co_return emptyOk();
  }
  const pb::CaConfig& cfg = ctx.store.ca().config();
  Json out;
  out["Provider"] = cfg.provider();
  out["Config"] = Json(ctx.ca->settings().toJson(false));
  out["State"] = nullptr;
  out["ForceWithoutCrossSigning"] = cfg.force_without_cross_signing();
  out["CreateIndex"] = cfg.create_index();
  out["ModifyIndex"] = cfg.modify_index();
  Response r = jsonResponse(ctx, ex, out);
  setQueryMeta(ctx, ex, r, ctx.store.tableIndex(state::kCaConfig));
  co_return r;
}

asio::awaitable<Response> agentCaLeaf(Context& ctx, Exchange& ex, std::string service) {
  if (service.empty() || service.find('/') != std::string::npos) {
    co_return Response::text(400, "Invalid service name: \"" + service + "\"");
  }
  if (ctx.ca == nullptr || !ctx.ca->ready()) {
    co_return Response::text(500, "CA is not initialized yet");
  }
  auto opts = parseQueryOptions(ctx, ex.request);
  if (!opts) co_return errorResponse(opts.status());
  auto deadline = steady_clock::now() +
                  std::chrono::duration_cast<steady_clock::duration>(opts->wait);
  http::Parker parker(co_await asio::this_coro::executor, ex);
  state::Waiter waiter([&parker] { parker.wake(); });
  for (;;) {
    auto leaf = co_await ensureLeaf(ctx, service);
    if (!leaf) {
      Response r = errorResponse(leaf.status());
      if (r.status == 429) r.set("Retry-After", "1");
      co_return r;
    }
    const Context::Leaf* e = *leaf;
    if (opts->index == 0 || e->index > opts->index || steady_clock::now() >= deadline) {
      Response r = jsonResponse(ctx, ex, renderLeaf(*e));
      setQueryMeta(ctx, ex, r, e->index);
      co_return r;
    }
    // Park until renewal is due, the roots change (rotation), the wait ends or the client leaves.
    ctx.store.watches().watch(waiter, state::WatchHub::tableTopic(state::kCaRoots));
    co_await parker.wait(std::min(deadline, e->renew_at));
    waiter.cancel();
    if (ex.clientGone()) co_return Response::text(499, "client closed request");
  }
}

}  // namespace trellis::api
