#pragma once
// The FSM: applies committed log commands (pb::Command) to the state store, one entry at a time,
// in log order, on the core loop. It is the only writer of the state store. Dev mode, one durable
// server and several etcd-backed servers all run this same code.

#include <any>
#include <string_view>
#include <vector>

#include "consensus/log.h"
#include "state/store.h"

namespace trellis::server {

// What a KV transaction returns to its caller (Consul's TxnResponse).
struct TxnOutcome {
  struct Error {
    int op_index;
    std::string what;
  };
  std::vector<pb::KVEntry> results;  // one per op that yields a result
  std::vector<bool> with_value;      // whether results[i] carries its value (get verbs)
  std::vector<Error> errors;
};

class Fsm final : public consensus::StateMachine {
 public:
  explicit Fsm(state::Store& store) : store_(store) {}

  // Results by command: register/deregister/session create -> Status; kv -> bool;
  // session destroy -> bool; txn -> TxnOutcome. An undecodable entry -> Status (kInternal).
  std::any apply(uint64_t index, std::string_view command) override;
  std::string snapshot() const override;
  Status restore(uint64_t index, std::string_view data) override;

  // Runs a KV transaction at index `idx`. Read-only transactions may be run directly (outside the
  // log) since they change nothing.
  TxnOutcome applyTxn(uint64_t idx, const pb::TxnRequest& req);

 private:
  Status applyRegister(uint64_t idx, const pb::RegisterRequest& req);
  Status applyDeregister(uint64_t idx, const pb::DeregisterRequest& req);
  bool applyKv(uint64_t idx, const pb::KVOp& op);

  state::Store& store_;
};

}  // namespace trellis::server
