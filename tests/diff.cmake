# diff/ tests: one executable per file (tests/CMakeLists.txt defines ps_test).
# test_diff_fixture captures samples/diff-a and samples/diff-b and compares
# the output with samples/diff-golden/; test_diff_live changes victims
# between two live captures; test_diff_text checks the unified text diff.
ps_test(test_diff_text test_diff_text.c LIBS ps_diff PkgConfig::SQLITE INSIDE diff)
ps_test(test_diff_fixture test_diff_fixture.c LIBS ps_tutil PkgConfig::SQLITE)
add_dependencies(test_diff_fixture procsnap)
ps_test(test_diff_live test_diff_live.c LIBS ps_tutil)
add_dependencies(test_diff_live procsnap victim)
# test_diff_classes: diff/sysclass.conf's rules, and every system file of a
# capture of this machine has a class.
ps_test(test_diff_classes test_diff_classes.c LIBS ps_diff ps_tutil PkgConfig::SQLITE)
add_dependencies(test_diff_classes procsnap)
# test_diff_paths: diff/paths.c's changed paths equal a slow reference over
# the files view, on the fixtures and on a capture against a crafted copy.
ps_test(test_diff_paths test_diff_paths.c LIBS ps_diff ps_tutil PkgConfig::SQLITE INSIDE diff)
add_dependencies(test_diff_paths procsnap)
