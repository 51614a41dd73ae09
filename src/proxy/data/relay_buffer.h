#pragma once
// One direction of a relayed connection: a fixed-capacity byte buffer. It never grows: when it is
// full the relay stops reading from the source until the destination drains it, which is what
// keeps a slow reader from making the proxy's memory grow (backpressure reaches the writer through
// TCP flow control).

#include <cstddef>
#include <cstring>
#include <memory>

namespace trellis::proxy::data {

class RelayBuffer {
 public:
  explicit RelayBuffer(size_t capacity)
      : data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

  size_t capacity() const { return capacity_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  bool full() const { return size() == capacity_; }

  // Readable bytes.
  const char* data() const { return data_.get() + begin_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Writable tail. Compacts first when the tail is exhausted but the head has room, so a reader
  // always gets the whole free space in one call.
  char* space() {
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return data_.get() + end_;
  }
  size_t spaceSize() const { return end_ == capacity_ ? capacity_ - size() : capacity_ - end_; }
  void commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace trellis::proxy::data
