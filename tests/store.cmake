ps_test(test_store test_store.c LIBS ps_store PkgConfig::SQLITE)
