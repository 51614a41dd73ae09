#include "server/fsm.h"

#include "common/log.h"

namespace trellis::server {

std::any Fsm::apply(uint64_t index, std::string_view command) {
  pb::Command cmd;
  if (!cmd.ParseFromArray(command.data(), static_cast<int>(command.size()))) {
    TLOG_ERROR("fsm: undecodable log entry at index {}", index);
    return Status(Code::kInternal, "undecodable log entry");
  }
  switch (cmd.cmd_case()) {
    case pb::Command::kRegister:
      return applyRegister(index, cmd.register_());
    case pb::Command::kDeregister:
      return applyDeregister(index, cmd.deregister());
    case pb::Command::kKv:
      return applyKv(index, cmd.kv());
    case pb::Command::kSession:
      if (cmd.session().op() == "create") return store_.sessionCreate(index, cmd.session().session());
      return store_.sessionDestroy(index, cmd.session().session().id());
    case pb::Command::kTxn:
      return applyTxn(index, cmd.txn());
    case pb::Command::kConfigEntry: {
      const auto& op = cmd.config_entry();
      uint64_t cas = op.cas_index();
      bool with_cas = op.op() == "upsert-cas" || op.op() == "delete-cas";
      if (op.op() == "upsert" || op.op() == "upsert-cas") {
        return store_.configEntrySet(index, op.entry(), with_cas ? &cas : nullptr);
      }
      return store_.configEntryDelete(index, op.entry().kind(), op.entry().name(),
                                      with_cas ? &cas : nullptr);
    }
    case pb::Command::kCa:
      if (cmd.ca().op() == "serial") return Status::ok();
      store_.caSet(index, cmd.ca().state());
      return Status::ok();
    case pb::Command::kBarrier:
      return Status::ok();
    case pb::Command::CMD_NOT_SET:
      break;
  }
  TLOG_ERROR("fsm: unknown command at index {}", index);
  return Status(Code::kInternal, "unknown command");
}

Status Fsm::applyRegister(uint64_t idx, const pb::RegisterRequest& req) {
  if (!req.skip_node_update() || store_.node(req.node().node()) == nullptr) {
    if (Status s = store_.ensureNode(idx, req.node()); !s) return s;
  }
  if (req.has_service()) {
    if (Status s = store_.ensureService(idx, req.service()); !s) return s;
  }
  for (const auto& c : req.checks()) {
    if (Status s = store_.ensureCheck(idx, c); !s) return s;
  }
  return Status::ok();
}

Status Fsm::applyDeregister(uint64_t idx, const pb::DeregisterRequest& req) {
  if (!req.service_id().empty()) {
    store_.deleteService(idx, req.node(), req.service_id());
  } else if (!req.check_id().empty()) {
    store_.deleteCheck(idx, req.node(), req.check_id());
  } else {
    store_.deleteNode(idx, req.node());
  }
  return Status::ok();
}

bool Fsm::applyKv(uint64_t idx, const pb::KVOp& op) {
  const std::string& verb = op.verb();
  const pb::KVEntry& e = op.entry();
  if (verb == "set") {
    store_.kvSet(idx, e);
    return true;
  }
  if (verb == "cas") return store_.kvCas(idx, e);
  if (verb == "lock") return store_.kvLock(idx, e);
  if (verb == "unlock") return store_.kvUnlock(idx, e);
  if (verb == "delete") {
    store_.kvDelete(idx, e.key());
    return true;
  }
  if (verb == "delete-cas") return store_.kvDeleteCas(idx, e.key(), e.modify_index());
  if (verb == "delete-tree") {
    store_.kvDeleteTree(idx, e.key());
    return true;
  }
  TLOG_ERROR("fsm: unknown KV verb {:?} at index {}", verb, idx);
  return false;
}

std::string Fsm::snapshot() const { return store_.snapshot().SerializeAsString(); }

Status Fsm::restore(uint64_t index, std::string_view data) {
  pb::Snapshot snap;
  if (!snap.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Status(Code::kInternal, "corrupt snapshot");
  }
  store_.restore(snap);
  return Status::ok();
}

}  // namespace trellis::server
