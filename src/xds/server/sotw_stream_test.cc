#include "xds/server/sotw_stream.h"

#include <gtest/gtest.h>

#include "xds/server/testing/sets.h"

namespace trellis::xds {
namespace {

using testing::makeSet;
using Request = SotwStream::Request;
using Response = SotwStream::Response;

const std::string kC(kClusterType);
const std::string kE(kEndpointType);
const std::string kL(kListenerType);

Request request(const std::string& type, std::vector<std::string> names = {},
                const Response* answering = nullptr, std::string version = "") {
  Request r;
  r.set_type_url(type);
  for (auto& n : names) r.add_resource_names(n);
  if (answering != nullptr) r.set_response_nonce(answering->nonce());
  r.set_version_info(std::move(version));
  return r;
}

Request ack(const Response& response, std::vector<std::string> names = {}) {
  return request(response.type_url(), std::move(names), &response, response.version_info());
}

Request nack(const Response& response, std::string kept, std::vector<std::string> names = {}) {
  Request r = request(response.type_url(), std::move(names), &response, std::move(kept));
  r.mutable_error_detail()->set_code(3);
  r.mutable_error_detail()->set_message("rejected");
  return r;
}

std::vector<std::string> bodies(const Response& r) {
  std::vector<std::string> out;
  for (const auto& any : r.resources()) out.push_back(any.value());
  return out;
}

class SotwStreamTest : public ::testing::Test {
 protected:
  XdsMetrics metrics_;
  SotwStream stream_{metrics_, "test"};
};

TEST_F(SotwStreamTest, WildcardClustersCarryEverythingWithIndexAndHashVersion) {
  auto interest = stream_.onRequest(request(kC));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_TRUE(interest[0].wildcard);
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "A"}}}}, false));
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onResourceSet(makeSet(7, {{kC, {{"a", "A"}, {"b", "B"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type_url(), kC);
  EXPECT_EQ(bodies(*r), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(r->resources(0).type_url(), kC);
  EXPECT_EQ(r->version_info().substr(0, 2), "7-");
  EXPECT_EQ(r->version_info().size(), 2u + 16u);
  stream_.onRequest(ack(*r));
  EXPECT_EQ(metrics_.acks.load(), 1u);
  EXPECT_FALSE(stream_.awaitingAck(kC));
  // A new index with the same content is not pushed.
  stream_.onResourceSet(makeSet(8, {{kC, {{"a", "A"}, {"b", "B"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
  // A change resends the whole type.
  stream_.onResourceSet(makeSet(9, {{kC, {{"a", "A2"}, {"b", "B"}}}}));
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), (std::vector<std::string>{"A2", "B"}));
  EXPECT_EQ(r->version_info().substr(0, 2), "9-");
}

TEST_F(SotwStreamTest, EndpointsAreFilteredByNameAndNameChangesAnswer) {
  auto interest = stream_.onRequest(request(kE, {"b", "a"}));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_EQ(interest[0].names, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(interest[0].wildcard);
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "A"}, {"b", "B"}, {"c", "C"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), (std::vector<std::string>{"A", "B"}));
  // The ACK repeats the names: no interest change, nothing new.
  EXPECT_TRUE(stream_.onRequest(ack(*r, {"a", "b"})).empty());
  EXPECT_FALSE(stream_.nextResponse());
  interest = stream_.onRequest(request(kE, {"c"}, &*r, r->version_info()));
  ASSERT_EQ(interest.size(), 1u);
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), std::vector<std::string>{"C"});
  // Asking for a name that does not exist is answered (without it).
  stream_.onRequest(request(kE, {"c", "zz"}, &*r, r->version_info()));
  r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), std::vector<std::string>{"C"});
}

TEST_F(SotwStreamTest, EmptyEndpointRequestMeansNone) {
  stream_.onRequest(request(kE));
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "A"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resources_size(), 0);
}

TEST_F(SotwStreamTest, NackKeepsLastGoodAndIsNotResent) {
  stream_.onRequest(request(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"a", "good"}}}}));
  auto good = stream_.nextResponse();
  stream_.onRequest(ack(*good));
  stream_.onResourceSet(makeSet(2, {{kC, {{"a", "bad"}}}}));
  auto bad = stream_.nextResponse();
  ASSERT_TRUE(bad);
  stream_.onRequest(nack(*bad, good->version_info()));
  EXPECT_EQ(metrics_.nacks.load(), 1u);
  EXPECT_EQ(stream_.sentVersion(kC), bad->version_info());
  stream_.onResourceSet(makeSet(3, {{kC, {{"a", "bad"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onResourceSet(makeSet(4, {{kC, {{"a", "fixed"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), std::vector<std::string>{"fixed"});
}

TEST_F(SotwStreamTest, StaleNonceIsIgnored) {
  stream_.onRequest(request(kE, {"a"}));
  stream_.onResourceSet(makeSet(1, {{kE, {{"a", "A"}, {"b", "B"}}}}));
  auto first = stream_.nextResponse();
  stream_.onResourceSet(makeSet(2, {{kE, {{"a", "A2"}, {"b", "B"}}}}));
  auto second = stream_.nextResponse();
  ASSERT_TRUE(second);
  // An ACK of the first response asking for other names is stale: neither counted nor applied.
  EXPECT_TRUE(stream_.onRequest(ack(*first, {"b"})).empty());
  EXPECT_EQ(metrics_.acks.load(), 0u);
  EXPECT_TRUE(stream_.awaitingAck(kE));
  EXPECT_FALSE(stream_.nextResponse());
  EXPECT_EQ(stream_.onRequest(ack(*second, {"b"})).size(), 1u);
  EXPECT_EQ(metrics_.acks.load(), 1u);
}

TEST_F(SotwStreamTest, ListenersWaitForTheClustersAck) {
  stream_.onRequest(request(kL));
  stream_.onRequest(request(kC));
  stream_.onResourceSet(makeSet(1, {{kC, {{"c", "1"}}}, {kL, {{"l", "1"}}}}));
  auto clusters = stream_.nextResponse();
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->type_url(), kC);
  EXPECT_FALSE(stream_.nextResponse());
  stream_.onRequest(ack(*clusters));
  auto listeners = stream_.nextResponse();
  ASSERT_TRUE(listeners);
  EXPECT_EQ(listeners->type_url(), kL);
}

TEST_F(SotwStreamTest, ListenersByNameForProxylessClients) {
  auto interest = stream_.onRequest(request(kL, {"web"}));
  ASSERT_EQ(interest.size(), 1u);
  EXPECT_FALSE(interest[0].wildcard);
  EXPECT_EQ(interest[0].names, std::vector<std::string>{"web"});
  stream_.onResourceSet(makeSet(1, {{kL, {{"web", "W"}, {"db", "D"}}}}));
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), std::vector<std::string>{"W"});
}

TEST_F(SotwStreamTest, UnknownTypeIsCounted) {
  EXPECT_TRUE(stream_.onRequest(request("type.googleapis.com/foo")).empty());
  EXPECT_EQ(metrics_.unknown_types.load(), 1u);
  stream_.onResourceSet(makeSet(1, {{kC, {{"c", "1"}}}}));
  EXPECT_FALSE(stream_.nextResponse());
}

TEST_F(SotwStreamTest, ClientThatNeverAcksGetsOneResponsePerChange) {
  stream_.onRequest(request(kC));
  for (int i = 1; i <= 500; ++i) {
    stream_.onResourceSet(makeSet(i, {{kC, {{"a", std::to_string(i)}}}}));
  }
  auto r = stream_.nextResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(bodies(*r), std::vector<std::string>{"500"});
  EXPECT_FALSE(stream_.nextResponse());
}

}  // namespace
}  // namespace trellis::xds
