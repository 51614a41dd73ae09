# Envoy's v3 xDS API protos, fetched at configure time from the pinned npm package
# @grpc/grpc-js-xds (its tarball carries envoy-api, xds, googleapis and protoc-gen-validate).
# Nothing generated here is committed. Only the import closure of the roots below is compiled.
#
# Outputs: ENVOY_PROTO_ROOT (patched copy of the closure) and ENVOY_PROTO_FILES (relative paths).

set(TRELLIS_XDS_NPM_VERSION 1.14.1)
set(TRELLIS_XDS_NPM_SHA512
    1769955f011e316c35ce73d4ae9fbcca48ec20e5677fb46ff84c88bd739fcfbdf0e6d3689429f3a24a4b904fddd84871df43c99995ea09074ca71f0370126884)
set(TRELLIS_DOWNLOAD_DIR "${CMAKE_BINARY_DIR}/_downloads" CACHE PATH "Where fetched archives are kept")

set(_tarball "${TRELLIS_DOWNLOAD_DIR}/grpc-js-xds-${TRELLIS_XDS_NPM_VERSION}.tgz")
if(NOT EXISTS "${_tarball}")
  message(STATUS "Fetching @grpc/grpc-js-xds@${TRELLIS_XDS_NPM_VERSION} (Envoy API protos)")
  file(DOWNLOAD
       "https://registry.npmjs.org/@grpc/grpc-js-xds/-/grpc-js-xds-${TRELLIS_XDS_NPM_VERSION}.tgz"
       "${_tarball}.part"
       EXPECTED_HASH SHA512=${TRELLIS_XDS_NPM_SHA512}
       STATUS _dl_status TLS_VERIFY ON)
  list(GET _dl_status 0 _dl_code)
  if(NOT _dl_code EQUAL 0)
    file(REMOVE "${_tarball}.part")
    message(FATAL_ERROR "Could not fetch the Envoy API protos from the npm registry: ${_dl_status}")
  endif()
  file(RENAME "${_tarball}.part" "${_tarball}")
endif()
# The hash is checked again so a tampered cached tarball is refused too.
file(SHA512 "${_tarball}" _have_sha)
if(NOT _have_sha STREQUAL TRELLIS_XDS_NPM_SHA512)
  message(FATAL_ERROR "${_tarball}: integrity check failed (delete it to fetch again)")
endif()

set(_unpacked "${CMAKE_BINARY_DIR}/_deps/grpc-js-xds-${TRELLIS_XDS_NPM_VERSION}")
if(NOT EXISTS "${_unpacked}/package/deps")
  file(ARCHIVE_EXTRACT INPUT "${_tarball}" DESTINATION "${_unpacked}")
endif()
set(_search_dirs
    "${_unpacked}/package/deps/envoy-api"
    "${_unpacked}/package/deps/xds"
    "${_unpacked}/package/deps/googleapis"
    "${_unpacked}/package/deps/protoc-gen-validate")

# What the ADS server, the generators and trellis-proxy use.
set(_roots
    envoy/service/discovery/v3/ads.proto
    envoy/service/discovery/v3/discovery.proto
    envoy/config/listener/v3/listener.proto
    envoy/config/cluster/v3/cluster.proto
    envoy/config/route/v3/route.proto
    envoy/config/endpoint/v3/endpoint.proto
    envoy/extensions/transport_sockets/tls/v3/tls.proto
    envoy/extensions/transport_sockets/tls/v3/secret.proto
    envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
    envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
    envoy/extensions/filters/network/rbac/v3/rbac.proto
    envoy/extensions/filters/http/router/v3/router.proto
    envoy/extensions/filters/http/rbac/v3/rbac.proto)

# Walk imports breadth-first; google/protobuf/* come from the system's protobuf.
set(ENVOY_PROTO_ROOT "${CMAKE_BINARY_DIR}/envoy-proto")
set(ENVOY_PROTO_FILES "")
set(_queue ${_roots})
while(_queue)
  list(POP_FRONT _queue _file)
  if(_file IN_LIST ENVOY_PROTO_FILES OR _file MATCHES "^google/protobuf/")
    continue()
  endif()
  set(_found "")
  foreach(_dir IN LISTS _search_dirs)
    if(EXISTS "${_dir}/${_file}")
      set(_found "${_dir}/${_file}")
      break()
    endif()
  endforeach()
  if(NOT _found)
    message(FATAL_ERROR "Envoy protos: cannot find import ${_file}")
  endif()
  list(APPEND ENVOY_PROTO_FILES "${_file}")
  file(READ "${_found}" _text)
  # The package's validate.proto predates its envoy-api, which uses StringRules.ignore_empty.
  if(_file STREQUAL "validate/validate.proto" AND NOT _text MATCHES "ignore_empty")
    string(REPLACE "message StringRules {" "message StringRules {\n  optional bool ignore_empty = 26;"
           _text "${_text}")
  endif()
  set(_dest "${ENVOY_PROTO_ROOT}/${_file}")
  if(EXISTS "${_dest}")
    file(READ "${_dest}" _old)
  else()
    set(_old "")
  endif()
  if(NOT _old STREQUAL _text)
    file(WRITE "${_dest}" "${_text}")
  endif()
  string(REGEX MATCHALL "\nimport (public |weak )?\"[^\"]+\"" _imports "${_text}")
  foreach(_imp IN LISTS _imports)
    string(REGEX REPLACE ".*\"([^\"]+)\"" "\\1" _imp "${_imp}")
    list(APPEND _queue "${_imp}")
  endforeach()
endwhile()
list(LENGTH ENVOY_PROTO_FILES _count)
message(STATUS "Envoy protos: ${_count} files in the import closure")
