# procfs/ tests, included by tests/CMakeLists.txt (which defines ps_test).
# One executable per file; fixtures are read from samples/procfs/.
foreach(t stat maps kv misc net)
  ps_test(test_procfs_${t} test_procfs_${t}.c LIBS ps_procfs m)
endforeach()

# Every parser over every sample, each prefix of it, and mutated variants:
# proves robustness in the ASan/UBSan build (-DPROCSNAP_SANITIZE=ON) without
# libFuzzer.  It reuses the fuzz driver (tests/fuzz/fuzz_procfs.c).
ps_test(procfs_malformed test_procfs_malformed.c LIBS ps_procfs)
