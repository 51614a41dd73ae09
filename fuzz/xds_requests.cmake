trellis_fuzz(xds_requests SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/xds_requests.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/xds_requests LIBS trellis_xds_server)
# Writes the seed corpus: ./build/fuzz/xds_requests_seed fuzz/corpus/xds_requests
add_executable(xds_requests_seed EXCLUDE_FROM_ALL ${CMAKE_CURRENT_SOURCE_DIR}/xds_requests_seed.cc)
target_link_libraries(xds_requests_seed PRIVATE trellis_xds_server)
