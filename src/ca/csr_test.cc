#include "ca/csr.h"

#include <gtest/gtest.h>

#include "ca/test_util.h"

namespace trellis::ca {
namespace {

using namespace testing;  // NOLINT

std::string checkMessage(const std::string& pem, const SpiffeId& expected = webId()) {
  auto csr = parseCsr(pem);
  if (!csr) return csr.status().message();
  auto id = checkCsrIdentity(*csr, expected);
  return id.isOk() ? "" : id.status().message();
}

TEST(CsrTest, AcceptsTheAgentsCsr) {
  auto made = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(made.isOk());
  EXPECT_EQ(checkMessage(made->csr_pem), "");
  // Equality is on the parsed identity: case of the trust domain and escapes do not matter.
  auto key = ecKey();
  std::string odd =
      "spiffe://11111111-2222-3333-4444-555555555555.CONSUL/ns/default/dc/dc1/svc/w%65b";
  EXPECT_EQ(checkMessage(makeCsr(key.get(), {{odd}, {}})), "");
}

TEST(CsrTest, AcceptsRsa2048) {
  auto key = rsaKey(2048);
  EXPECT_EQ(checkMessage(makeCsr(key.get(), {{webUri()}, {}})), "");
}

struct Refusal {
  const char* name;
  std::string pem;
  const char* reason;  // substring of the one-line reason
};

TEST(CsrTest, Refusals) {
  auto key = ecKey();
  auto weak = rsaKey(1024);
  auto p384 = ecKey("P-384");
  auto k1 = ecKey("secp256k1");
  auto good = generateLeafKeyAndCsr(webUri());
  ASSERT_TRUE(good.isOk());
  std::string body = good->csr_pem.substr(good->csr_pem.find('\n') + 1);
  const Refusal cases[] = {
      {"two URI SANs", makeCsr(key.get(), {{webUri(), webUri("db")}, {}}), "exactly one URI SAN"},
      {"same URI twice", makeCsr(key.get(), {{webUri(), webUri()}, {}}), "exactly one URI SAN"},
      {"URI plus DNS", makeCsr(key.get(), {{webUri()}, {"web.example"}}), "only a URI SAN"},
      {"DNS only", makeCsr(key.get(), {{}, {"web.example"}}), "only a URI SAN"},
      {"no SAN", makeCsr(key.get(), {}), "no URI SAN"},
      {"foreign trust domain",
       makeCsr(key.get(), {{webUri("web", "99999999-2222-3333-4444-555555555555.consul")}, {}}),
       "trust domain"},
      {"wrong service", makeCsr(key.get(), {{webUri("db")}, {}}), "does not match"},
      {"wrong datacenter",
       makeCsr(key.get(),
               {{std::string("spiffe://") + kTrustDomain + "/ns/default/dc/dc2/svc/web"}, {}}),
       "does not match"},
      {"agent ID for a service",
       makeCsr(key.get(),
               {{std::string("spiffe://") + kTrustDomain + "/agent/client/dc/dc1/id/web"}, {}}),
       "does not match"},
      {"not SPIFFE", makeCsr(key.get(), {{"https://web.example/"}, {}}), "CSR URI SAN"},
      {"bad signature", makeCsr(key.get(), {{webUri()}, {}, true}), "signature"},
      {"weak RSA", makeCsr(weak.get(), {{webUri()}, {}}), "2048"},
      {"P-384", makeCsr(p384.get(), {{webUri()}, {}}), "EC P-256"},
      {"secp256k1", makeCsr(k1.get(), {{webUri()}, {}}), "unsupported EC curve"},
      {"empty", "", "no PEM"},
      {"garbage", "this is not a CSR", "no PEM"},
      {"truncated", good->csr_pem.substr(0, good->csr_pem.size() / 2), "invalid CSR"},
      {"certificate label", "-----BEGIN CERTIFICATE-----\n" + body, "CERTIFICATE REQUEST"},
      {"bad base64",
       "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n",
       "invalid CSR"},
      {"huge", std::string(kMaxPemBytes + 1, 'A'), "too large"},
  };
  for (const Refusal& c : cases) {
    std::string message = checkMessage(c.pem);
    EXPECT_NE(message, "") << c.name;
    EXPECT_NE(message.find(c.reason), std::string::npos) << c.name << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.name << ": " << message;
  }
}

}  // namespace
}  // namespace trellis::ca
