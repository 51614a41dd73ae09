#include "api/query.h"

#include <algorithm>
#include <random>

#include "api/respond.h"
#include "common/duration.h"
#include "http/park.h"

namespace trellis::api {

namespace asio = boost::asio;

Result<QueryOptions> parseQueryOptions(const Context& ctx, const http::Request& req) {
  QueryOptions o;
  if (req.has("stale") && req.has("consistent")) {
    return invalidArgument("Cannot specify ?stale with ?consistent, conflicting semantics.");
  }
  if (auto w = req.param("wait")) {
    auto d = parseGoDuration(*w);
    if (!d || d->count() < 0) return invalidArgument("Invalid wait time");
    o.wait = *d;
  }
  if (auto i = req.param("index")) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(i->c_str(), &end, 10);
    if (i->empty() || *end != '\0' || errno != 0 || (*i)[0] == '-') {
      return invalidArgument("Invalid index");
    }
    o.index = v;
  }
  if (o.wait.count() == 0) o.wait = ctx.config.default_wait;
  if (o.wait > ctx.config.max_wait) o.wait = ctx.config.max_wait;
  if (auto f = req.param("filter"); f && !f->empty()) {
    auto e = filter::Expression::parse(*f);
    if (!e) return invalidArgument("Failed to create boolean expression evaluator: " + e.status().message());
    o.filter = std::move(*e);
  }
  return o;
}

void applyFilter(const QueryOptions& opts, Json& collection) {
  if (!opts.filter) return;
  if (collection.is_array()) {
    Json kept = Json::array();
    for (auto& e : collection) {
      if (opts.filter->matches(nlohmann::json(e))) kept.push_back(std::move(e));
    }
    collection = std::move(kept);
  } else if (collection.is_object()) {
    Json kept = Json::object();
    for (auto it = collection.begin(); it != collection.end(); ++it) {
      if (opts.filter->matches(nlohmann::json(it.value()))) kept[it.key()] = std::move(it.value());
    }
    collection = std::move(kept);
  }
}

asio::awaitable<Response> blockingRead(Context& ctx, Exchange& ex, const QueryOptions& opts,
                                       std::vector<std::string> topics,
                                       std::function<ReadResult()> read) {
  ReadResult r = read();
  if (opts.index == 0 || r.index > opts.index) {
    setQueryMeta(ctx, ex, r.response, r.index);
    co_return std::move(r.response);
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto jitter = std::chrono::nanoseconds(
      std::uniform_int_distribution<int64_t>(0, opts.wait.count() / 16)(rng));
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts.wait + jitter);
  http::Parker parker(co_await asio::this_coro::executor, ex);
  state::Waiter waiter([&parker] { parker.wake(); });
  for (;;) {
    for (const auto& t : topics) ctx.store.watches().watch(waiter, t);
    bool woke = co_await parker.wait(deadline);
    waiter.cancel();
    if (ex.clientGone()) co_return Response::text(499, "client closed request");
    r = read();
    if (!woke || r.index > opts.index || std::chrono::steady_clock::now() >= deadline) break;
  }
  setQueryMeta(ctx, ex, r.response, r.index);
  co_return std::move(r.response);
}

namespace {

// The cache key: the path and every query parameter except those that only steer blocking.
std::string cacheKey(const http::Request& req) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& kv : req.query) {
    if (kv.first != "index" && kv.first != "wait") q.push_back(kv);
  }
  std::sort(q.begin(), q.end());
  std::string key = req.path;
  for (const auto& [k, v] : q) key += "\n" + k + "=" + v;
  return key;
}

}  // namespace

asio::awaitable<Response> blockingJson(Context& ctx, Exchange& ex, const QueryOptions& opts,
                                       std::vector<std::string> topics,
                                       std::function<uint64_t(Json&)> read) {
  const std::string key = cacheKey(ex.request);
  co_return co_await blockingRead(ctx, ex, opts, std::move(topics), [&]() {
    ReadCache& cache = ctx.read_cache;
    if (cache.store_index != ctx.store.lastIndex() || cache.entries.size() > 1024) {
      cache.entries.clear();
      cache.store_index = ctx.store.lastIndex();
    }
    auto hit = cache.entries.find(key);
    if (hit != cache.entries.end()) {
      Response r;
      r.body = hit->second.body;
      r.set("Content-Type", "application/json");
      return ReadResult{hit->second.index, std::move(r)};
    }
    Json body;
    uint64_t idx = read(body);
    applyFilter(opts, body);
    Response r = jsonResponse(ctx, ex, body);
    cache.entries.emplace(key, ReadCache::Entry{idx, r.body});
    return ReadResult{idx, std::move(r)};
  });
}

}  // namespace trellis::api
