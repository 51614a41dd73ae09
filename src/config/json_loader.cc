#include "config/json_loader.h"

#include <iterator>
#include <vector>

namespace trellis::config {
namespace {

using nlohmann::json;

// nlohmann's SAX events carry no position, but its lexer reads the input one character at a time
// and never further than one past the current token. This iterator remembers the furthest
// character dereferenced, which at each event is the token's last character (or one past a
// number, which is never a newline that matters: lines are counted strictly before it).
class TrackingIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator() = default;
  TrackingIterator(const char* p, const char** last) : p_(p), last_(last) {}
  reference operator*() const {
    *last_ = p_;
    return *p_;
  }
  TrackingIterator& operator++() {
    ++p_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator old = *this;
    ++p_;
    return old;
  }
  bool operator==(const TrackingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const TrackingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_ = nullptr;
  const char** last_ = nullptr;
};

class LineSax {
 public:
  LineSax(std::string_view text, const char** last, ParsedDocument& doc)
      : text_(text), last_(last), doc_(doc) {}

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return value(json(v)); }
  bool string(json::string_t& v) { return value(json(std::move(v))); }
  bool binary(json::binary_t&) { return false; }

  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    key_ = k;
    doc_.lines[appendPointer(pointers_.back(), k)] = currentLine();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    size_t col = what.find("column ");
    size_t colon = col == std::string::npos ? std::string::npos : what.find(": ", col);
    std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
    // `position` is just past the offending token (nlohmann's token text is not a reliable
    // measure of its length). Point at its last character, or at the opening quote of a string.
    size_t start = position == 0 ? 0 : position - 1;
    if (start < text_.size() && text_[start] == '"' && start > 0) {
      for (size_t i = start; i-- > 0 && text_[i] != '\n';) {
        if (text_[i] != '"') continue;
        size_t slashes = 0;
        while (slashes < i && text_[i - 1 - slashes] == '\\') ++slashes;
        if (slashes % 2 == 0) {
          start = i;
          break;
        }
      }
    }
    error_ = errorAtOffset(start, reason);
    return false;
  }

  const Status& error() const { return error_; }
  json& root() { return root_; }

  Status errorAtOffset(size_t offset, const std::string& reason) const {
    if (offset > text_.size()) offset = text_.size();
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return invalidArgument("line " + std::to_string(line) + ", column " +
                           std::to_string(offset - line_start + 1) + ": " + reason);
  }

 private:
  size_t offset() const {
    return *last_ == nullptr ? 0 : static_cast<size_t>(*last_ - text_.data());
  }

  // Lines are asked for in increasing offset order, so counting resumes where it left off.
  int currentLine() {
    size_t target = offset();
    for (; counted_ < target && counted_ < text_.size(); ++counted_) {
      if (text_[counted_] == '\n') ++line_;
    }
    return line_;
  }

  // Places a value into the current container and returns where it went.
  json* place(json v, std::string& ptr) {
    if (stack_.empty()) {
      root_ = std::move(v);
      ptr = "";
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      ptr = appendPointer(pointers_.back(), top.size());
      doc_.lines[ptr] = currentLine();
      top.push_back(std::move(v));
      return &top.back();
    }
    ptr = appendPointer(pointers_.back(), key_);
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }

  bool value(json v) {
    std::string ptr;
    place(std::move(v), ptr);
    return true;
  }

  bool open(json container) {
    if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      error_ = errorAtOffset(
          offset(), "nesting too deep (more than " + std::to_string(kMaxJsonDepth) + " levels)");
      return false;
    }
    std::string ptr;
    json* slot = place(std::move(container), ptr);
    stack_.push_back(slot);
    pointers_.push_back(ptr);
    return true;
  }

  bool close() {
    stack_.pop_back();
    pointers_.pop_back();
    return true;
  }

  std::string_view text_;
  const char** last_;
  ParsedDocument& doc_;
  json root_;
  std::vector<json*> stack_;
  std::vector<std::string> pointers_;
  std::string key_;
  Status error_;
  size_t counted_ = 0;
  int line_ = 1;
};

}  // namespace

Result<ParsedDocument> parseJsonDocument(std::string_view text) {
  try {
    ParsedDocument doc;
    const char* last = nullptr;
    LineSax sax(text, &last, doc);
    TrackingIterator first(text.data(), &last);
    TrackingIterator end(text.data() + text.size(), &last);
    bool ok = json::sax_parse(first, end, &sax);
    if (!ok) {
      if (!sax.error().isOk()) return sax.error();
      return invalidArgument("line 1, column 1: invalid JSON");
    }
    doc.value = std::move(sax.root());
    return doc;
  } catch (const std::exception& e) {
    return internalError(std::string("json: ") + e.what());
  }
}

}  // namespace trellis::config
