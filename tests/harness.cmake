# The test harness itself (tests/t.h), included by tests/CMakeLists.txt:
# each CTest runs some cases of test_harness and checks its exit status, so
# a harness that passes when it should not is caught.
add_executable(test_harness test_harness.c)
target_compile_definitions(test_harness PRIVATE PS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           PS_BINARY_DIR="${PROJECT_BINARY_DIR}")
target_include_directories(test_harness PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# name | expected exit status | cases
foreach(spec "unknown_case|2|nosuchcase" "unknown_among_known|2|passes nosuchcase"
             "pass|0|passes" "fail|1|fails" "fail_among_pass|1|passes fails"
             "only_skip|77|skips" "skip_among_pass|0|passes skips"
             "failure_beats_skip|1|fails_then_skips" "file_skip|77|skips_file"
             "file_skip_after_failure|1|fails skips_file")
  string(REPLACE "|" ";" f "${spec}")
  list(GET f 0 name)
  list(GET f 1 want)
  list(GET f 2 args)
  add_test(NAME harness_${name}
           COMMAND sh -c "\"$0\" ${args}; rc=$?; echo \"exit $rc, want ${want}\"; test $rc -eq ${want}"
                   $<TARGET_FILE:test_harness>)
endforeach()
