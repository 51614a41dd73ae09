// PUT /v1/txn: atomic KV transactions with Consul's request and response shapes. Read-only
// transactions are answered from the store without a log entry.
#include "api/endpoints.h"
#include "api/respond.h"
#include "common/base64.h"
#include "model/decode.h"
#include "server/fsm.h"

namespace trellis::api {

namespace asio = boost::asio;
using model::Fields;
using model::InJson;

namespace {

constexpr int kMaxOps = 128;

bool isRead(const std::string& verb) {
  return verb == "get" || verb == "get-tree" || verb == "get-or-empty" || verb == "check-index" ||
         verb == "check-session" || verb == "check-not-exists";
}

Status decodeKvOp(const InJson& v, pb::KVOp* op) {
  auto f = Fields::of(v, "KVTxnOp");
  if (!f) return f.status();
  std::string verb, key, value, session;
  uint64_t flags = 0, index = 0;
  Status s;
  if (!(s = f->str("Verb", &verb)) || !(s = f->str("Key", &key)) || !(s = f->str("Value", &value)) ||
      !(s = f->u64("Flags", &flags)) || !(s = f->u64("Index", &index)) ||
      !(s = f->str("Session", &session))) {
    return s;
  }
  f->take("Namespace");
  f->take("Partition");
  if (Status fin = f->finish(); !fin) return fin;
  auto raw = base64Decode(value);
  if (!raw) return model::decodeError("illegal base64 data in Value of key \"" + key + "\"");
  op->set_verb(verb);
  auto* e = op->mutable_entry();
  e->set_key(key);
  e->set_value(*raw);
  e->set_has_value(!raw->empty());
  e->set_flags(flags);
  e->set_modify_index(index);
  e->set_session(session);
  return Status::ok();
}

Json renderOutcome(const server::TxnOutcome& out) {
  Json j;
  if (!out.errors.empty()) {
    j["Results"] = nullptr;
    Json errs = Json::array();
    for (const auto& e : out.errors) errs.push_back({{"OpIndex", e.op_index}, {"What", e.what}});
    j["Errors"] = errs;
    return j;
  }
  Json results = Json::array();
  for (size_t i = 0; i < out.results.size(); ++i) {
    results.push_back({{"KV", model::renderKv(out.results[i], out.with_value[i])}});
  }
  j["Results"] = results;
  j["Errors"] = nullptr;
  return j;
}

}  // namespace

asio::awaitable<Response> txnEndpoint(Context& ctx, Exchange& ex, std::string) {
  if (auto tl = checkBodySize(ex, ctx.config.txn_max_req_len)) co_return *tl;
  auto body = model::parseBody(ex.request.body);
  if (!body) co_return errorResponse(body.status());
  if (!body->is_array()) {
    co_return Response::text(400, "Failed to parse body: json: cannot unmarshal " +
                                      model::jsonTypeName(*body) + " into Go value of type api.TxnOps");
  }
  if (body->size() > kMaxOps) {
    co_return Response::text(413, "Transaction contains too many operations (" +
                                      std::to_string(body->size()) + " > " +
                                      std::to_string(kMaxOps) + ")");
  }
  pb::Command cmd;
  pb::TxnRequest* txn = cmd.mutable_txn();
  bool read_only = true;
  for (const auto& item : *body) {
    auto f = Fields::of(item, "TxnOp");
    if (!f) co_return errorResponse(f.status());
    const InJson* kv = f->take("KV");
    bool node = f->take("Node") != nullptr;
    bool service = f->take("Service") != nullptr;
    bool check = f->take("Check") != nullptr;
    bool other = node || service || check;
    if (Status fin = f->finish(); !fin) co_return errorResponse(fin);
    if (other) {
      co_return Response::text(400, "Node, Service and Check operations in transactions are not "
                                    "supported yet; only KV operations are");
    }
    if (kv == nullptr) co_return Response::text(400, "Transaction operation has no KV field");
    pb::KVOp* op = txn->add_ops()->mutable_kv();
    if (Status s = decodeKvOp(*kv, op); !s) co_return errorResponse(s);
    read_only = read_only && isRead(op->verb());
  }
  server::TxnOutcome outcome;
  uint64_t index = ctx.store.lastIndex();
  if (read_only) {
    state::Store& store = ctx.store;
    server::Fsm reader(store);
    outcome = reader.applyTxn(index, *txn);
  } else {
    auto r = co_await ctx.writer.submit(cmd);
    if (!r) co_return errorResponse(r.status());
    outcome = std::any_cast<server::TxnOutcome>(std::move(r->result));
    index = r->index;
  }
  Response resp = jsonResponse(ctx, ex, renderOutcome(outcome), outcome.errors.empty() ? 200 : 409);
  if (read_only) {
    resp.set("X-Consul-Index", std::to_string(index == 0 ? 1 : index));
    resp.set("X-Consul-KnownLeader", "true");
    resp.set("X-Consul-LastContact", "0");
  }
  co_return resp;
}

}  // namespace trellis::api
