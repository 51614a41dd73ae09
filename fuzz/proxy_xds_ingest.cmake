trellis_fuzz(proxy_xds_ingest SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/proxy_xds_ingest.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/proxy_xds_ingest LIBS trellis_proxy_xds)
# Writes the seed corpus: ./build/fuzz/proxy_xds_ingest_seed fuzz/corpus/proxy_xds_ingest
add_executable(proxy_xds_ingest_seed EXCLUDE_FROM_ALL
  ${CMAKE_CURRENT_SOURCE_DIR}/proxy_xds_ingest_seed.cc)
target_link_libraries(proxy_xds_ingest_seed PRIVATE trellis_proxy_xds trellis_proxy_xds_testing)
