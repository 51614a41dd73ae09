trellis_fuzz(proxy_admin SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/proxy_admin.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/proxy_admin LIBS trellis_proxy_data)
