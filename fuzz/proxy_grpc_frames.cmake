trellis_fuzz(proxy_grpc_frames SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/proxy_grpc_frames.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/proxy_grpc_frames LIBS trellis_proxy_xds)
