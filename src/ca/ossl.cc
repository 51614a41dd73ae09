#include "ca/ossl.h"

#include <climits>

#include <openssl/err.h>

namespace trellis::ca::ossl {

std::string errorString(std::string_view what) {
  std::string out(what);
  unsigned long first = ERR_get_error();
  if (first != 0) {
    const char* reason = ERR_reason_error_string(first);
    out += ": ";
    out += reason != nullptr ? reason : "unknown OpenSSL error";
  }
  ERR_clear_error();
  return out;
}

BioPtr memReader(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace trellis::ca::ossl
