# Hostile indexes and hostile snapshot strings (issue 8, items 5 and 6),
# included by tests/CMakeLists.txt.  test_index_trust: crafted indexes are
# refused by every reader and never run; merge copies every row into
# procsnap's own schema; outputs never replace a file.  test_term_safety:
# escape sequences, C1 and bidi controls and invalid UTF-8 in a snapshot
# never reach the terminal raw through info, ls, query, triage, diff,
# pagemap or an error message.
ps_test(test_index_trust test_index_trust.c LIBS ps_tutil ps_store PkgConfig::SQLITE INSIDE store)
add_dependencies(test_index_trust procsnap)
ps_test(test_term_safety test_term_safety.c LIBS ps_tutil PkgConfig::SQLITE)
add_dependencies(test_term_safety procsnap)
# The index-opening fuzz driver (tests/fuzz/fuzz_index.c) over truncated and
# mutated copies of a real index, without libFuzzer (ASan build: no crash).
ps_test(test_index_malformed test_index_malformed.c LIBS ps_tutil ps_store PkgConfig::SQLITE)
add_dependencies(test_index_malformed procsnap)
