#pragma once
// Internal to the answer builder: resolves one question inside our domain (service, connect,
// node, addr) or a reverse (PTR) name against the store, writing records, rcode and SOA into the
// response.

#include <string>
#include <vector>

#include "dns/answer.h"

namespace trellis::dns::internal {

class Lookup {
 public:
  Lookup(const state::Store& store, const DnsConfig& cfg, const AnswerContext& ctx,
         const Question& q, Name domain, Message& resp)
      : store_(store), cfg_(cfg), ctx_(ctx), q_(q), domain_(std::move(domain)), resp_(resp) {}

  // `labels`: the query name without the domain, lower-cased.
  void inDomain(Name labels);
  // False when no node or service has the address (the caller decides: forward or NXDOMAIN).
  bool reverse(const std::string& ip);
  void nxdomain();
  void addSoa(std::vector<Record>& section);
  // Set when the answer holds one record per service instance, so it may be reordered.
  bool per_instance = false;

 private:
  struct Endpoint {
    const pb::Node* node;
    const pb::Service* svc;
    bool warning;
  };
  void service(const std::string& name, const std::string& tag, uint32_t ttl);
  void connect(const std::string& name);
  void node(const std::string& name);
  void addr(const std::string& hex);
  std::vector<Endpoint> healthy(std::vector<const pb::Service*> services) const;
  void answerEndpoints(std::vector<Endpoint> eps, uint32_t ttl);
  void addressRecords(const Name& owner, const std::string& address, uint32_t ttl,
                      std::vector<Record>& out, bool for_extra);
  void nodeMetaTxt(const Name& owner, const pb::Node& node, uint32_t ttl, std::vector<Record>& out);
  Name nodeName(const std::string& node) const;
  Name addrName(const std::string& hex) const;

  const state::Store& store_;
  const DnsConfig& cfg_;
  const AnswerContext& ctx_;
  const Question& q_;
  Name domain_;
  Message& resp_;
};

}  // namespace trellis::dns::internal
