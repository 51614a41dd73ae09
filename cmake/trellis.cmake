# Helpers shared by every module's CMakeLists.txt.

# trellis_test(<name> SOURCES a_test.cc ... LIBS lib ...): a GoogleTest binary registered with ctest.
function(trellis_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()

# trellis_fuzz(<name> SOURCE f.cc CORPUS dir LIBS lib ...): a fuzz target defining
# LLVMFuzzerTestOneInput. With TRELLIS_LIBFUZZER it links libFuzzer; otherwise it links a replay
# main, and ctest replays every file of the seed corpus through it.
function(trellis_fuzz name)
  cmake_parse_arguments(F "" "SOURCE;CORPUS" "LIBS" ${ARGN})
  if(TRELLIS_LIBFUZZER)
    add_executable(${name} ${F_SOURCE})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address)
  else()
    add_executable(${name} ${F_SOURCE} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  endif()
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  add_test(NAME ${name}_corpus COMMAND ${name} ${F_CORPUS})
  set_tests_properties(${name}_corpus PROPERTIES LABELS fuzz)
  if(TARGET fuzz_all)
    add_dependencies(fuzz_all ${name})
  endif()
endfunction()
