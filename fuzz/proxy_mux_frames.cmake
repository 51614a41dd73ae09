trellis_fuzz(proxy_mux_frames SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/proxy_mux_frames.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/proxy_mux_frames LIBS trellis_proxy_data)
