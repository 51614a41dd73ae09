trellis_fuzz(cli_parsers SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/cli_parsers.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cli_parsers LIBS trellis_cli)
