// Fuzz target for the DNS message parser and the answer path behind it: any bytes go through
// parse(); whatever parses must re-encode into something that parses again; and the same bytes
// are answered over both transports from a small catalog, as the server would.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string_view>

#include "dns/answer.h"
#include "dns/message.h"

namespace {

const trellis::state::Store& catalog() {
  static trellis::state::Store* store = [] {
    auto* s = new trellis::state::Store();
    trellis::pb::Node n;
    n.set_node("n1");
    n.set_address("10.0.0.1");
    (*n.mutable_meta())["env"] = "prod";
    (void)s->ensureNode(1, n);
    trellis::pb::Service svc;
    svc.set_node("n1");
    svc.set_id("web");
    svc.set_service("web");
    svc.set_port(80);
    svc.add_tags("v1");
    (void)s->ensureService(2, svc);
    svc.set_id("web-proxy");
    svc.set_service("web-sidecar-proxy");
    svc.set_kind("connect-proxy");
    svc.mutable_proxy()->set_destination_service_name("web");
    svc.set_address("192.168.0.9");
    (void)s->ensureService(3, svc);
    return s;
  }();
  return *store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto msg = trellis::dns::parse(in);
  if (msg.isOk()) {
    std::string again = trellis::dns::encode(msg.value());
    if (!trellis::dns::parse(again).isOk()) std::abort();
  }
  trellis::dns::DnsConfig cfg;
  cfg.alt_domain = {"alt"};
  cfg.enable_truncate = size % 2 == 0;
  cfg.a_record_limit = size % 3;
  trellis::dns::AnswerContext ctx;
  std::mt19937 rng(static_cast<uint32_t>(size));
  ctx.rng = &rng;
  trellis::dns::AnswerCache cache;
  for (auto t : {trellis::dns::Transport::kUdp, trellis::dns::Transport::kTcp,
                 trellis::dns::Transport::kUdp}) {
    ctx.transport = t;
    // Uncached, then through the cache (a miss that fills it, then hits).
    auto plain = trellis::dns::answerPacket(in, catalog(), cfg, ctx);
    auto out = trellis::dns::answerPacket(in, catalog(), cfg, ctx, &cache);
    if (plain.action != out.action || plain.bytes.size() != out.bytes.size()) std::abort();
    if (out.action == trellis::dns::Answer::Action::kReply) {
      if (!trellis::dns::parse(out.bytes).isOk()) std::abort();
      if (t == trellis::dns::Transport::kUdp && out.bytes.size() > 65535) std::abort();
    }
  }
  return 0;
}
