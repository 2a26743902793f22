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
