// The ADS server over real gRPC on 127.0.0.1, driven by a fake SnapshotSource and the test client.
#include "xds/server/ads_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "xds/server/stream_common.h"
#include "xds/server/testing/ads_client.h"
#include "xds/server/testing/sets.h"

namespace trellis::xds {
namespace {

using namespace std::chrono_literals;
using testing::AdsTestClient;
using testing::ClientOptions;
using testing::makeSet;
using testing::View;

const std::string kC(kClusterType);
const std::string kE(kEndpointType);
const std::string kL(kListenerType);

// Pushes the current set to every subscriber; refuses node "refused". It also keeps every
// on_update it was given, to prove that calling one after its stream ended is harmless.
class FakeSource : public SnapshotSource {
 public:
  class Sub : public Subscription {
   public:
    Sub(FakeSource& source, int id) : source_(source), id_(id) {}
    ~Sub() override {
      std::lock_guard lock(source_.mu_);
      source_.live_.erase(id_);
    }
    void interest(std::string_view type_url, const std::vector<std::string>& names,
                  bool wildcard) override {
      std::lock_guard lock(source_.mu_);
      source_.interests_.push_back({std::string(type_url), names, wildcard});
    }

   private:
    FakeSource& source_;
    int id_;
  };

  Result<std::unique_ptr<Subscription>> subscribe(
      const NodeInfo& node, std::function<void(ResourceSetPtr)> on_update) override {
    std::lock_guard lock(mu_);
    nodes_.push_back(node);
    if (node.id == "refused") return Status(Code::kPermissionDenied, "no service:write");
    int id = next_id_++;
    live_[id] = on_update;
    all_.push_back(on_update);
    if (current_) on_update(current_);
    return std::unique_ptr<Subscription>(new Sub(*this, id));
  }

  void push(ResourceSetPtr set) {
    std::lock_guard lock(mu_);
    current_ = set;
    for (auto& [id, fn] : live_) fn(set);
  }
  // Calls every on_update ever handed out, live or not.
  void pushToAll(ResourceSetPtr set) {
    std::lock_guard lock(mu_);
    for (auto& fn : all_) fn(set);
  }
  size_t live() {
    std::lock_guard lock(mu_);
    return live_.size();
  }
  std::vector<NodeInfo> nodes() {
    std::lock_guard lock(mu_);
    return nodes_;
  }
  std::vector<Interest> interests() {
    std::lock_guard lock(mu_);
    return interests_;
  }

 private:
  std::mutex mu_;
  ResourceSetPtr current_;
  std::map<int, std::function<void(ResourceSetPtr)>> live_;
  std::vector<std::function<void(ResourceSetPtr)>> all_;
  std::vector<NodeInfo> nodes_;
  std::vector<Interest> interests_;
  int next_id_ = 0;
};

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::vector<std::string> keys(const View& view, const std::string& type) {
  std::vector<std::string> out;
  if (auto it = view.find(type); it != view.end()) {
    for (const auto& [name, version] : it->second) out.push_back(name);
  }
  return out;
}

ClientOptions proxyOptions(std::string id) {
  ClientOptions o;
  o.node_id = std::move(id);
  o.subscribe = {{kC, {}}, {kE, {"a", "b"}}, {kL, {}}};
  return o;
}

class AdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = AdsServer::start(source_, metrics_, AdsServerOptions{});
    ASSERT_TRUE(server) << server.status().message();
    server_ = std::move(*server);
    target_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  FakeSource source_;
  XdsMetrics metrics_;
  std::unique_ptr<AdsServer> server_;
  std::string target_;
};

TEST_F(AdsServerTest, DeltaStreamReceivesAcksUpdatesAndRemovals) {
  source_.push(makeSet(
      1,
      {{kC, {{"a", "ca"}, {"b", "cb"}}}, {kE, {{"a", "ea"}, {"b", "eb"}}}, {kL, {{"l", "l1"}}}}));
  AdsTestClient client(target_);
  auto stream = client.openDelta(proxyOptions("web-sidecar"));
  ASSERT_TRUE(stream->waitFor(
      [](const View& v, size_t) {
        return keys(v, kC).size() == 2 && keys(v, kE).size() == 2 && keys(v, kL).size() == 1;
      },
      10s));
  auto nodes = source_.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].id, "web-sidecar");
  EXPECT_EQ(nodes[0].cluster, "test");
  EXPECT_EQ(nodes[0].user_agent_name, "trellis-test-client");
  bool saw_eds = false;
  for (const auto& i : source_.interests()) {
    if (i.type_url == kE) saw_eds = i.names == std::vector<std::string>{"a", "b"} && !i.wildcard;
  }
  EXPECT_TRUE(saw_eds);

  const std::string old_a = stream->view().at(kC).at("a");
  source_.push(makeSet(2, {{kC, {{"a", "ca2"}}}, {kE, {{"a", "ea"}}}, {kL, {{"l", "l1"}}}}));
  ASSERT_TRUE(stream->waitFor(
      [&](const View& v, size_t) {
        return keys(v, kC) == std::vector<std::string>{"a"} && v.at(kC).at("a") != old_a &&
               keys(v, kE) == std::vector<std::string>{"a"};
      },
      10s));
  EXPECT_TRUE(eventually([&] { return metrics_.acks.load() >= 5; }));
  EXPECT_EQ(metrics_.nacks.load(), 0u);
  EXPECT_EQ(metrics_.streams_active.load(), 1);
  EXPECT_GE(metrics_.resources_removed.load(), 2u);
  EXPECT_GT(metrics_.push_latency.count(), 0u);
}

TEST_F(AdsServerTest, SotwStreamReceivesAndUpdates) {
  source_.push(makeSet(1, {{kC, {{"a", "ca"}, {"b", "cb"}}}, {kE, {{"a", "ea"}, {"c", "ec"}}}}));
  AdsTestClient client(target_);
  auto stream = client.openSotw(proxyOptions("grpc-client"));
  ASSERT_TRUE(stream->waitFor(
      [](const View& v, size_t) { return keys(v, kC).size() == 2 && keys(v, kE).size() == 1; },
      10s));
  source_.push(makeSet(2, {{kC, {{"a", "ca"}}}, {kE, {{"a", "ea"}, {"b", "eb"}}}}));
  ASSERT_TRUE(stream->waitFor(
      [](const View& v, size_t) { return keys(v, kC).size() == 1 && keys(v, kE).size() == 2; },
      10s));
  auto responses = stream->responses();
  ASSERT_FALSE(responses.empty());
  EXPECT_EQ(responses.front().response.type_url(), kC);
  EXPECT_EQ(responses.back().response.version_info().substr(0, 2), "2-");
}

TEST_F(AdsServerTest, NothingIsSentBeforeTheSetIsComplete) {
  source_.push(makeSet(1, {{kC, {{"a", "ca"}}}}, /*complete=*/false));
  AdsTestClient client(target_);
  auto stream = client.openDelta(proxyOptions("early"));
  ASSERT_TRUE(eventually([&] { return source_.live() == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(stream->responseCount(), 0u);
  source_.push(makeSet(2, {{kC, {{"a", "ca"}}}}));
  EXPECT_TRUE(stream->waitFor([](const View& v, size_t) { return keys(v, kC).size() == 1; }, 10s));
}

TEST_F(AdsServerTest, NackIsCountedAndNotResent) {
  source_.push(makeSet(1, {{kC, {{"a", "ca"}}}}));
  AdsTestClient client(target_);
  ClientOptions options;
  options.node_id = "nacker";
  options.subscribe = {{kC, {}}};
  auto stream = client.openDelta(options);
  ASSERT_TRUE(stream->waitForCount(1, 10s));
  stream->nackNext("cluster a: bad");
  source_.push(makeSet(2, {{kC, {{"a", "bad"}}}}));
  ASSERT_TRUE(eventually([&] { return metrics_.nacks.load() == 1; }));
  source_.push(makeSet(3, {{kC, {{"a", "bad"}}}}));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(stream->responseCount(), 2u);
}

TEST_F(AdsServerTest, RefusedAndNodelessStreamsEndWithAnError) {
  AdsTestClient client(target_);
  auto refused = client.openDelta(proxyOptions("refused"));
  auto status = refused->waitDone(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ClientOptions nodeless = proxyOptions("");
  auto anonymous = client.openSotw(nodeless);
  status = anonymous->waitDone(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(metrics_.streams_refused.load(), 2u);
  EXPECT_TRUE(eventually([&] { return metrics_.streams_active.load() == 0; }));
}

TEST_F(AdsServerTest, ClientsLeavingMidPushLeaveNothingBehind) {
  // Large sets so that writes are in flight when the clients go away.
  testing::Bodies big;
  for (int i = 0; i < 200; ++i) big[kC]["c" + std::to_string(i)] = std::string(10000, 'x');
  std::atomic<bool> stop = false;
  std::thread pusher([&] {
    for (uint64_t i = 1; !stop; ++i) {
      big[kC]["c0"] = std::to_string(i);
      source_.push(makeSet(i, big));
      std::this_thread::sleep_for(1ms);
    }
  });
  AdsTestClient client(target_, 2);
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<testing::DeltaClientStream>> streams;
    for (int i = 0; i < 20; ++i) {
      ClientOptions o = proxyOptions("p" + std::to_string(i));
      o.record = false;
      o.auto_ack = i % 2 == 0;
      streams.push_back(client.openDelta(o));
    }
    for (auto& s : streams) EXPECT_TRUE(s->waitForCount(1, 10s));
    streams.clear();  // cancels every stream, some mid-write
  }
  stop = true;
  pusher.join();
  EXPECT_TRUE(eventually([&] { return source_.live() == 0; }));
  EXPECT_TRUE(eventually([&] { return metrics_.streams_active.load() == 0; }));
  // Late updates through the callbacks of streams that are gone do nothing.
  source_.pushToAll(makeSet(1000000, big));
  EXPECT_EQ(metrics_.streams_total.load(), 100u);
}

TEST_F(AdsServerTest, ServerStopWithOpenStreams) {
  source_.push(makeSet(1, {{kC, {{"a", "ca"}}}}));
  AdsTestClient client(target_);
  std::vector<std::unique_ptr<testing::SotwClientStream>> streams;
  for (int i = 0; i < 20; ++i)
    streams.push_back(client.openSotw(proxyOptions("s" + std::to_string(i))));
  for (auto& s : streams) ASSERT_TRUE(s->waitForCount(1, 10s));
  server_->stop();
  for (auto& s : streams) {
    auto status = s->waitDone(10s);
    ASSERT_TRUE(status);
    EXPECT_FALSE(status->ok());
  }
  EXPECT_EQ(source_.live(), 0u);
  EXPECT_EQ(metrics_.streams_active.load(), 0);
  source_.pushToAll(makeSet(2, {{kC, {{"a", "late"}}}}));
}

TEST_F(AdsServerTest, FiveHundredStreamsAllReceiveAnUpdate) {
  constexpr int kStreams = 500;
  source_.push(makeSet(1, {{kC, {{"a", "v1"}, {"b", "b"}}}, {kE, {{"a", "ea"}}}}));
  AdsTestClient client(target_, 4);
  std::vector<std::unique_ptr<testing::DeltaClientStream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    ClientOptions o = proxyOptions("proxy-" + std::to_string(i));
    o.record = false;
    streams.push_back(client.openDelta(o));
  }
  const std::string v1 = makeResource("a", "v1")->version;
  const std::string v2 = makeResource("a", "v2")->version;
  for (auto& s : streams) {
    ASSERT_TRUE(s->waitFor(
        [&](const View& v, size_t) {
          return v.count(kC) && v.at(kC).count("a") && v.at(kC).at("a") == v1;
        },
        30s));
  }
  EXPECT_EQ(metrics_.streams_active.load(), kStreams);
  auto start = std::chrono::steady_clock::now();
  source_.push(makeSet(2, {{kC, {{"a", "v2"}, {"b", "b"}}}, {kE, {{"a", "ea"}}}}));
  for (auto& s : streams) {
    ASSERT_TRUE(s->waitFor([&](const View& v, size_t) { return v.at(kC).at("a") == v2; }, 30s));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  RecordProperty("update_ms", static_cast<int>(took.count()));
  std::printf("500 streams converged in %lld ms\n", static_cast<long long>(took.count()));
  streams.clear();
  EXPECT_TRUE(eventually([&] { return metrics_.streams_active.load() == 0; }));
}

}  // namespace
}  // namespace trellis::xds
