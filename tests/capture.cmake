# capture/ tests: one executable per file (tests/CMakeLists.txt defines ps_test).
# The fixture tests walk samples/proc-fixture through --root; the live tests
# fork processes with known argv/env/fds/threads and capture them from /proc.
ps_test(test_capture_fixture test_capture_fixture.c LIBS ps_capture)
ps_test(test_capture_live test_capture_live.c LIBS ps_capture Threads::Threads)
add_executable(bigproc bigproc.c)
ps_test(test_capture_big test_capture_big.c LIBS ps_tutil)
add_dependencies(test_capture_big bigproc procsnap)
