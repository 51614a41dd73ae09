#pragma once
// Owning handles for the OpenSSL objects the CA touches, so every early return frees what it
// allocated. Internal to trellis_ca and its tests.

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/status.h"

namespace trellis::ca::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

inline void freeGeneralNames(GENERAL_NAMES* g) { GENERAL_NAMES_free(g); }
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, freeGeneralNames>>;
inline void freeExtensions(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using ExtensionsPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<STACK_OF(X509_EXTENSION), freeExtensions>>;
inline void freeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), freeX509Stack>>;

// "<what>: <first OpenSSL error reason>", and clears this thread's error queue either way so a
// stale error never leaks into the next call's message.
std::string errorString(std::string_view what);
inline Status error(Code code, std::string_view what) { return {code, errorString(what)}; }
inline Status invalid(std::string_view what) { return error(Code::kInvalidArgument, what); }
inline Status internal(std::string_view what) { return error(Code::kInternal, what); }

// A read-only memory BIO over `data` (no copy); the caller keeps `data` alive.
BioPtr memReader(std::string_view data);
// Drains a memory BIO into a string.
std::string bioToString(BIO* bio);

}  // namespace trellis::ca::ossl
