# Blocking HTTP/1.1 client (Beast), used by the CLI and by tests. Included from
# src/http/CMakeLists.txt; paths are relative to this file so it can be included from anywhere.
if(NOT TARGET trellis_http_client)
  add_library(trellis_http_client ${CMAKE_CURRENT_LIST_DIR}/blocking_client.cc)
  target_include_directories(trellis_http_client PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(trellis_http_client PUBLIC Boost::headers Threads::Threads)
endif()

if(NOT TARGET http_client_test)
  trellis_test(http_client_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/blocking_client_test.cc
    LIBS trellis_http_client)
endif()
