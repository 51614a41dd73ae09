#include "xds/server/delta_stream.h"

#include <gtest/gtest.h>

#include "xds/server/testing/sets.h"

namespace trellis::xds {
namespace {

using testing::makeSet;
using Request = DeltaStream::Request;
using Response = DeltaStream::Response;

const std::string kC(kClusterType);
const std::string kE(kEndpointType);
const std::string kL(kListenerType);
const std::string kR(kRouteType);
const std::string kS(kSecretType);

Request subscribe(const std::string& type, std::vector<std::string> names = {}) {
  Request r;
  r.set_type_url(type);
  for (auto& n : names) r.add_resource_names_subscribe(n);
  return r;
}

Request ack(const Response& response) {
  Request r;
  r.set_type_url(response.type_url());
  r.set_response_nonce(response.nonce());
  return r;
}

Request nack(const Response& response) {
  Request r = ack(response);
  r.mutable_error_detail()->set_code(3);
  r.mutable_error_detail()->set_message("bad cluster");
  return r;
}

std::vector<std::string> names(const Response& r) {
  std::vector<std::string> out;
  for (const auto& res : r.resources()) out.push_back(res.name());
  return out;
}

std::vector<std::string> removed(const Response& r) {
  return {r.removed_resources().begin(), r.removed_resources().end()};
}

class DeltaStreamTest : public ::testing::Test {
 protected:
  XdsMetrics metrics_;
  DeltaStream stream_{metrics_, "test"};
};

TEST_F(DeltaStreamTest, NothingIsSentBeforeTheFirstCompleteSet) {
  stream_.onRequest(subscribe(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "1"}}}}, /*complete=*/false));
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onResourceSet(makeSet(2, {{kC, {{"a", "1"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type_url(), kC);
  EXPECT_EQ(names(*r), std::vector<std::string>{"a"});
  EXPECT_EQ(r->system_version_info(), "2");
  EXPECT_EQ(r->resources(0).resource().type_url(), kC);
  EXPECT_EQ(r->resources(0).resource().value(), "1");
  EXPECT_EQ(r->resources(0).version(), makeResource("a", "1")->version);
  // A later incomplete set does not replace the complete one.
  stream_.onResourceSet(makeSet(3, {}, false));
  EXPECT_FALSE(stream_.nextResponse());
}

TEST_F(DeltaStreamTest, EmptyFirstRequestForClustersIsWildcardAndReportsInterest) {
  auto interest = stream_.onRequest(subscribe(kC));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_TRUE(interest[0].wildcard);
  EXPECT_TRUE(interest[0].names.empty());
  // An empty first request for endpoints is not a wildcard.
  interest = stream_.onRequest(subscribe(kE));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_FALSE(interest[0].wildcard);

  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "1"}, {"b", "2"}}}, {kE, {{"a", "e"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a", "b"}));
  stream_.onRequest(ack(*r));
  EXPECT_EQ(metrics_.acks.load(), 1u);
  // The first endpoints response is owed even though it carries nothing.
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type_url(), kE);
  EXPECT_EQ(r->resources_size(), 0);
  EXPECT_FALSE(stream_.nextResponse());
  EXPECT_TRUE(stream_.settled());
}

TEST_F(DeltaStreamTest, NamedSubscriptionGetsOnlyItsNamesAndLearnsMissingOnes) {
  auto interest = stream_.onRequest(subscribe(kE, {"b", "a", "missing"}));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_EQ(interest[0].names, (std::vector<std::string>{"a", "b", "missing"}));
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(removed(*r), std::vector<std::string>{"missing"});
  stream_.onRequest(ack(*r));
  // Reported once, not on every set.
  stream_.onResourceSet(makeSet(2, {{kE, {{"a", "1"}, {"b", "2"}, {"c", "4"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
  // When it appears it is sent.
  stream_.onResourceSet(makeSet(3, {{kE, {{"a", "1"}, {"b", "2"}, {"missing", "m"}}}}));
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), std::vector<std::string>{"missing"});
  EXPECT_TRUE(removed(*r).empty());
}

TEST_F(DeltaStreamTest, UpdatesCarryOnlyChangedResourcesAndRemovals) {
  stream_.onRequest(subscribe(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}));
  stream_.onRequest(ack(*stream_.nextResponse()));
  stream_.onResourceSet(makeSet(2, {{kC, {{"a", "1"}, {"b", "2b"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), std::vector<std::string>{"b"});
  EXPECT_EQ(removed(*r), std::vector<std::string>{"c"});
  EXPECT_EQ(stream_.clientVersions(kC).size(), 2u);
  stream_.onRequest(ack(*r));
  EXPECT_FALSE(stream_.nextResponse());
}

TEST_F(DeltaStreamTest, UnsubscribedResourceIsNotRemovedAndResubscribeResends) {
  stream_.onRequest(subscribe(kE, {"a", "b"}));
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "1"}, {"b", "2"}}}}));
  stream_.onRequest(ack(*stream_.nextResponse()));
  Request unsub;
  unsub.set_type_url(kE);
  unsub.add_resource_names_unsubscribe("a");
  auto interest = stream_.onRequest(unsub);
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_EQ(interest[0].names, std::vector<std::string>{"b"});
  stream_.onResourceSet(makeSet(2, {{kE, {{"b", "2"}}}}));
  EXPECT_FALSE(stream_.nextResponse()) << "the client dropped 'a' itself";

  stream_.onResourceSet(makeSet(3, {{kE, {{"a", "1"}, {"b", "2"}}}}));
  stream_.onRequest(subscribe(kE, {"a"}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), std::vector<std::string>{"a"});
  // Subscribing again to a name held must resend it: the client may have dropped it.
  stream_.onRequest(ack(*r));
  EXPECT_TRUE(stream_.onRequest(subscribe(kE, {"b"})).empty());
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), std::vector<std::string>{"b"});
}

TEST_F(DeltaStreamTest, NackIsCountedAndTheRejectedVersionIsNotResent) {
  stream_.onRequest(subscribe(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "1"}}}}));
  stream_.onRequest(ack(*stream_.nextResponse()));
  stream_.onResourceSet(makeSet(2, {{kC, {{"a", "bad"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_TRUE(stream_.awaitingAck(kC));
  stream_.onRequest(nack(*r));
  EXPECT_EQ(metrics_.nacks.load(), 1u);
  EXPECT_EQ(metrics_.acks.load(), 1u);
  EXPECT_FALSE(stream_.awaitingAck(kC));
  // The same content again (a new index) is not pushed a second time.
  stream_.onResourceSet(makeSet(3, {{kC, {{"a", "bad"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
  // A fix is.
  stream_.onResourceSet(makeSet(4, {{kC, {{"a", "fixed"}}}}));
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resources(0).resource().value(), "fixed");
}

TEST_F(DeltaStreamTest, ReconnectWithInitialVersionsSendsOnlyWhatChanged) {
  auto set = makeSet(5, {{kC, {{"a", "1"}, {"b", "2"}, {"c", "3"}}}});
  Request first = subscribe(kC);
  (*first.mutable_initial_resource_versions())["a"] = set->by_type.at(kC).at("a")->version;
  (*first.mutable_initial_resource_versions())["b"] = "stale";
  (*first.mutable_initial_resource_versions())["gone"] = "x";
  stream_.onRequest(first);
  stream_.onResourceSet(set);
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(removed(*r), std::vector<std::string>{"gone"});
}

TEST_F(DeltaStreamTest, ReconnectWithEverythingCurrentStillGetsAnEmptyFirstResponse) {
  auto set = makeSet(5, {{kC, {{"a", "1"}}}});
  Request first = subscribe(kC);
  (*first.mutable_initial_resource_versions())["a"] = set->by_type.at(kC).at("a")->version;
  stream_.onRequest(first);
  stream_.onResourceSet(set);
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resources_size(), 0);
  EXPECT_EQ(r->removed_resources_size(), 0);
  stream_.onRequest(ack(*r));
  EXPECT_FALSE(stream_.nextResponse());
}

TEST_F(DeltaStreamTest, ListenersWaitForTheClustersAck) {
  stream_.onRequest(subscribe(kL));
  stream_.onRequest(subscribe(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"c", "1"}}}, {kL, {{"l", "1"}}}}));
  auto clusters = stream_.nextResponse();
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->type_url(), kC);
  EXPECT_FALSE(stream_.nextResponse()) << "listeners must wait for the clusters ACK";
  EXPECT_FALSE(stream_.settled());
  stream_.onRequest(ack(*clusters));
  auto listeners = stream_.nextResponse();
  ASSERT_TRUE(listeners);
  EXPECT_EQ(listeners->type_url(), kL);
  stream_.onRequest(ack(*listeners));

  // A NACK releases them as well.
  stream_.onResourceSet(makeSet(2, {{kC, {{"c", "2"}}}, {kL, {{"l", "2"}}}}));
  clusters = stream_.nextResponse();
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->type_url(), kC);
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onRequest(nack(*clusters));
  listeners = stream_.nextResponse();
  ASSERT_TRUE(listeners);
  EXPECT_EQ(listeners->type_url(), kL);

  // Listener changes alone go out at once.
  stream_.onRequest(ack(*listeners));
  stream_.onResourceSet(makeSet(3, {{kC, {{"c", "2"}}}, {kL, {{"l", "3"}}}}));
  listeners = stream_.nextResponse();
  ASSERT_TRUE(listeners);
  EXPECT_EQ(listeners->type_url(), kL);
}

TEST_F(DeltaStreamTest, TypesArePushedInOrder) {
  stream_.onRequest(subscribe(kR, {"r"}));
  stream_.onRequest(subscribe(kL));
  stream_.onRequest(subscribe(kE, {"c"}));
  stream_.onRequest(subscribe(kC));
  stream_.onRequest(subscribe(kS, {"s"}));
  stream_.onResourceSet(makeSet(1, {{kS, {{"s", "1"}}},
                                    {kC, {{"c", "1"}}},
                                    {kE, {{"c", "1"}}},
                                    {kL, {{"l", "1"}}},
                                    {kR, {{"r", "1"}}}}));
  std::vector<std::string> order;
  while (auto r = stream_.nextResponse()) {
    order.push_back(r->type_url());
    stream_.onRequest(ack(*r));
  }
  EXPECT_EQ(order, (std::vector<std::string>{kS, kC, kE, kL, kR}));
}

TEST_F(DeltaStreamTest, UnknownTypeIsCountedAndAnsweredWithNothing) {
  Request r = subscribe("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig");
  EXPECT_TRUE(stream_.onRequest(r).empty());
  EXPECT_TRUE(stream_.onRequest(r).empty());
  EXPECT_EQ(metrics_.unknown_types.load(), 2u);
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "1"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
}

TEST_F(DeltaStreamTest, WildcardCanBeAddedAndRemovedExplicitly) {
  stream_.onRequest(subscribe(kE, {"*"}));
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "1"}, {"b", "2"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a", "b"}));
  stream_.onRequest(ack(*r));
  Request unsub;
  unsub.set_type_url(kE);
  unsub.add_resource_names_unsubscribe("*");
  auto interest = stream_.onRequest(unsub);
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_FALSE(interest[0].wildcard);
  EXPECT_TRUE(stream_.clientVersions(kE).empty());
  stream_.onResourceSet(makeSet(2, {{kE, {{"a", "1"}}}}));
  EXPECT_FALSE(stream_.nextResponse()) << "no removal is owed for what the client dropped";
}

TEST_F(DeltaStreamTest, ClientThatNeverAcksGetsNoBacklog) {
  stream_.onRequest(subscribe(kC));
  stream_.onRequest(subscribe(kL));
  for (int i = 1; i <= 1000; ++i) {
    stream_.onResourceSet(makeSet(
        i, {{kC, {{"a", std::to_string(i)}, {"b", "b"}}}, {kL, {{"l", std::to_string(i)}}}}));
  }
  // Only the newest set is pending: one clusters response, then listeners wait for the ACK.
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->system_version_info(), "1000");
  EXPECT_EQ(r->resources_size(), 2);
  EXPECT_FALSE(stream_.nextResponse());
  // Without ACKs, each new set yields at most one clusters response computed from the newest.
  for (int i = 1001; i <= 2000; ++i) {
    stream_.onResourceSet(makeSet(i, {{kC, {{"a", std::to_string(i)}, {"b", "b"}}}}));
    if (i % 100 == 0) {
      r = stream_.nextResponse();
      ASSERT_TRUE(r);
      EXPECT_EQ(names(*r), std::vector<std::string>{"a"});
      EXPECT_FALSE(stream_.nextResponse());
    }
  }
  EXPECT_EQ(stream_.clientVersions(kC).size(), 2u);
}

TEST_F(DeltaStreamTest, StaleAckDoesNotReleaseHeldListeners) {
  stream_.onRequest(subscribe(kC));
  stream_.onRequest(subscribe(kL));
  stream_.onResourceSet(makeSet(1, {{kC, {{"c", "1"}}}, {kL, {{"l", "1"}}}}));
  auto first = stream_.nextResponse();
  stream_.onResourceSet(makeSet(2, {{kC, {{"c", "2"}}}, {kL, {{"l", "1"}}}}));
  auto second = stream_.nextResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type_url(), kC);
  stream_.onRequest(ack(*first));
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onRequest(ack(*second));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type_url(), kL);
}

}  // namespace
}  // namespace trellis::xds
