# Parsed index tables, `query` and `merge` (issue 3), included by
# tests/CMakeLists.txt.  End to end through the procsnap binary, plus a
# crafted-archive test that calls the index builder directly.
foreach(t victim fixture query)
  ps_test(test_tables_${t} test_tables_${t}.c LIBS ps_tutil ps_store)
  add_dependencies(test_tables_${t} victim procsnap)
endforeach()
ps_test(test_tables_psutil test_tables_psutil.c LIBS ps_tutil)
add_dependencies(test_tables_psutil procsnap)
ps_test(test_tables_malformed test_tables_malformed.c LIBS ps_tutil ps_store)
