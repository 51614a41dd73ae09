trellis_fuzz(ca_parsers SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ca_parsers.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/ca_parsers LIBS trellis_ca)
