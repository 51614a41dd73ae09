#pragma once
// The one place that starts OS threads (house rule: only src/event creates threads). A thread gets
// a name so that `top -H`, gdb and perf show who is busy. Header-only until src/event grows a
// library target of its own.

#include <pthread.h>

#include <functional>
#include <string>
#include <thread>
#include <utility>

namespace trellis::event {

// Starts `body` on a new thread named `name` (Linux keeps the first 15 characters). The caller
// owns the returned thread and must join it before the objects that `body` uses go away.
inline std::thread startThread(std::string name, std::function<void()> body) {
  return std::thread([name = std::move(name), body = std::move(body)]() {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    body();
  });
}

}  // namespace trellis::event
