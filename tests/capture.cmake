# capture/ tests: one executable per file (tests/CMakeLists.txt defines ps_test).
# The fixture tests walk samples/proc-fixture through --root; the live tests
# fork processes with known argv/env/fds/threads and capture them from /proc.
ps_test(test_capture_fixture test_capture_fixture.c LIBS ps_capture)
ps_test(test_capture_live test_capture_live.c LIBS ps_capture Threads::Threads INSIDE capture)
# Capture never hangs (issue 8.1): a FUSE file system that blocks on command
# (tests/hangfs.c, libfuse3-dev) under a victim's executable or open file.
pkg_check_modules(FUSE3 REQUIRED IMPORTED_TARGET fuse3)
add_executable(hangfs hangfs.c)
target_link_libraries(hangfs PRIVATE PkgConfig::FUSE3)
ps_test(test_capture_hang test_capture_hang.c LIBS ps_capture ps_tutil INSIDE capture)
add_dependencies(test_capture_hang hangfs procsnap)
add_executable(bigproc bigproc.c)
ps_test(test_capture_big test_capture_big.c LIBS ps_tutil)
add_dependencies(test_capture_big bigproc procsnap)
# procsnap's own files hashed ahead on a thread of their own (capture/ahead.c).
ps_test(test_capture_ahead test_capture_ahead.c LIBS ps_capture INSIDE capture)
