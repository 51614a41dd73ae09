trellis_fuzz(hcl_parser SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/hcl_parser.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/hcl_parser LIBS trellis_config)
