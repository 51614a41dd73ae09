trellis_fuzz(proxy_bootstrap SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/proxy_bootstrap.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/proxy_bootstrap LIBS trellis_proxy_xds)
