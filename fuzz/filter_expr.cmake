trellis_fuzz(filter_expr SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/filter_expr.cc
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/filter_expr LIBS trellis_filter)
