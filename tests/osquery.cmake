# osquery compatibility (issue 12): `query` operands, osquery's table and
# column names and semantics, SQL functions, executable hashes, export for
# engines, and a suite of osquery-style queries.  Included by
# tests/CMakeLists.txt.
ps_test(test_query_cli test_query_cli.c LIBS ps_tutil)
add_dependencies(test_query_cli procsnap)
ps_test(test_osquery_columns test_osquery_columns.c LIBS ps_tutil PkgConfig::SQLITE)
add_dependencies(test_osquery_columns procsnap)
ps_test(test_osquery_tables test_osquery_tables.c LIBS ps_tutil)
add_dependencies(test_osquery_tables procsnap victim)
ps_test(test_procfs_packet_shm test_procfs_packet_shm.c LIBS ps_procfs)
ps_test(test_sqlfuncs test_sqlfuncs.c LIBS ps_tutil ps_store PkgConfig::SQLITE)
add_dependencies(test_sqlfuncs procsnap)
ps_test(test_hash test_hash.c LIBS ps_tutil)
add_dependencies(test_hash procsnap victim)
ps_test(test_export test_export.c LIBS ps_tutil ps_store)
add_dependencies(test_export procsnap)
ps_test(test_osquery_suite test_osquery_suite.c LIBS ps_tutil)
add_dependencies(test_osquery_suite procsnap victim)
