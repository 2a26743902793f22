# `procsnap triage` (DESIGN 7), included by tests/CMakeLists.txt.
# test_triage: the rule pack on the fixture tree, on crafted copies of its
# index, and on live victims made to trip each rule (a deleted copy in /tmp
# listening on 0.0.0.0 in its own network namespace, LD_PRELOAD of a library
# in /tmp, an rwx anonymous mapping, a ptrace'd one, one disguised as a
# kernel thread) against a clean victim; single, multi-snapshot and merged.
add_library(triage_preload SHARED triage_preload.c)
ps_test(test_triage test_triage.c LIBS ps_tutil)
target_compile_definitions(test_triage PRIVATE
                           TRIAGE_PRELOAD="$<TARGET_FILE:triage_preload>")
add_dependencies(test_triage victim procsnap triage_preload)

# test_ir (issue 11): cross-views and in-memory tampering.  ir_victim makes
# itself look compromised on command (code patched in place, executable
# anonymous/memfd/deleted mappings, a kprobe eBPF program, a socket in an
# orphaned network namespace, a masquerading argv[0]); ir_readdir_hide is a
# readdir()/readdir64() filter preloaded into procsnap itself.  Built without
# sanitizers: it is also preloaded into ls(1).
add_executable(ir_victim ir_victim.c)
target_link_libraries(ir_victim PRIVATE Threads::Threads)
add_library(ir_readdir_hide SHARED ir_readdir_hide.c)
target_compile_options(ir_readdir_hide PRIVATE -fno-sanitize=all)
target_link_options(ir_readdir_hide PRIVATE -fno-sanitize=all)
ps_test(test_ir test_ir.c LIBS ps_tutil)
target_compile_definitions(test_ir PRIVATE IR_HIDE_LIB="$<TARGET_FILE:ir_readdir_hide>"
                           IR_VICTIM="$<TARGET_FILE:ir_victim>")
add_dependencies(test_ir ir_victim ir_readdir_hide procsnap)
