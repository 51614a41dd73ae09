trellis_fuzz(config_entry SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/config_entry.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/config_entry LIBS trellis_intentions)
