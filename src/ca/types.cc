#include "ca/types.h"

#include <string>

namespace trellis::ca {

Result<KeySpec> parseKeySpec(std::string_view type, int bits) {
  if (type == "ec") {
    if (bits == 224 || bits == 256 || bits == 384 || bits == 521)
      return KeySpec{KeyType::kEc, bits};
    return invalidArgument("EC key size must be 224, 256, 384 or 521, not " + std::to_string(bits));
  }
  if (type == "rsa") {
    if (bits == 2048 || bits == 4096) return KeySpec{KeyType::kRsa, bits};
    return invalidArgument("RSA key size must be 2048 or 4096, not " + std::to_string(bits));
  }
  return invalidArgument("PrivateKeyType must be \"ec\" or \"rsa\", not \"" + std::string(type) +
                         "\"");
}

std::string_view keyTypeName(KeyType type) { return type == KeyType::kRsa ? "rsa" : "ec"; }

}  // namespace trellis::ca
