#pragma once
// The -dev log: nothing is durable; an append is applied on the next turn of the apply executor.

#include <cstdint>

#include "consensus/log.h"

namespace trellis::consensus {

class MemoryLog final : public ReplicatedLog {
 public:
  explicit MemoryLog(Poster post) : post_(std::move(post)) {}

  Status open(StateMachine& fsm) override {
    fsm_ = &fsm;
    return Status::ok();
  }
  void append(std::string command, AppendDone done) override;
  uint64_t lastApplied() const override { return last_; }
  bool knownLeader() const override { return true; }
  void close() override { closed_ = true; }

 private:
  Poster post_;
  StateMachine* fsm_ = nullptr;
  uint64_t last_ = 0;
  bool closed_ = false;
};

}  // namespace trellis::consensus
