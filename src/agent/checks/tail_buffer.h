#pragma once
// Keeps the last `capacity` bytes written and counts all of them, like the circular buffer
// Consul captures check output into (the end of a script's output is usually the useful part).

#include <cstddef>
#include <string>
#include <string_view>

namespace trellis::agent::checks {

class TailBuffer {
 public:
  explicit TailBuffer(size_t capacity) : capacity_(capacity) {}

  void append(std::string_view data) {
    total_ += data.size();
    if (data.size() >= capacity_) {
      data_.assign(data.substr(data.size() - capacity_));
      return;
    }
    data_.append(data);
    if (data_.size() > capacity_) data_.erase(0, data_.size() - capacity_);
  }
  const std::string& str() const { return data_; }
  size_t total() const { return total_; }
  size_t capacity() const { return capacity_; }
  bool truncated() const { return total_ > capacity_; }

 private:
  size_t capacity_;
  size_t total_ = 0;
  std::string data_;
};

}  // namespace trellis::agent::checks
