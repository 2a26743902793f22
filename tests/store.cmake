ps_test(test_store test_store.c LIBS ps_store PkgConfig::SQLITE PkgConfig::ARCHIVE PkgConfig::ZSTD)
ps_test(test_reader_hostile test_reader_hostile.c LIBS ps_store ps_tutil)
add_dependencies(test_reader_hostile procsnap)
ps_test(test_verify_salvage test_verify_salvage.c LIBS ps_store PkgConfig::CRYPTO)
add_dependencies(test_verify_salvage procsnap)
ps_test(test_store_anytar test_store_anytar.c LIBS ps_store PkgConfig::CRYPTO)
add_dependencies(test_store_anytar procsnap)
# The fuzzers' findings (tests/fuzz/regress/), replayed without libFuzzer.
ps_test(test_fuzz_regress test_fuzz_regress.c LIBS ps_store ps_procfs INSIDE store procfs)
ps_test(test_index_salvage test_index_salvage.c LIBS ps_tutil)
add_dependencies(test_index_salvage procsnap)
# The compact storage of the index (issue 9) gives back what was captured.
ps_test(test_index_compact test_index_compact.c LIBS ps_tutil)
add_dependencies(test_index_compact procsnap)
# Contents made to collide under XXH3-128 (argv rewritten, file names): the
# archive and the index keep each one's own bytes.
ps_test(test_collide test_collide.c LIBS ps_tutil)
add_dependencies(test_collide procsnap victim)
# The pipeline's buffer pool takes back what it hands out.
ps_test(test_store_queue test_store_queue.c LIBS ps_store INSIDE store)
