#include "consensus/memory_log.h"

namespace trellis::consensus {

void MemoryLog::append(std::string command, AppendDone done) {
  post_([this, command = std::move(command), done = std::move(done)]() {
    if (closed_ || fsm_ == nullptr) {
      done(Status(Code::kUnavailable, "log is closed"));
      return;
    }
    uint64_t index = ++last_;
    std::any result = fsm_->apply(index, command);
    done(Applied{index, std::move(result)});
  });
}

}  // namespace trellis::consensus
