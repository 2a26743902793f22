# osquery compatibility (issue 12): `query` operands, osquery's table and
# column names and semantics, SQL functions, executable hashes, export for
# engines, and a suite of osquery-style queries.  Included by
# tests/CMakeLists.txt.
ps_test(test_query_cli test_query_cli.c LIBS ps_tutil)
add_dependencies(test_query_cli procsnap)
