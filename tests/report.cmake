# `procsnap ps` and `procsnap report` (issue 13), included by tests/CMakeLists.txt.
# test_ps: ps on the fixture tree (exact output: default, --tree, -L, -o,
# --sort, JSON) and on a live victim with a hostile name.
ps_test(test_ps test_ps.c LIBS ps_tutil)
add_dependencies(test_ps victim procsnap)

# test_report: the HTML report of a hostile victim, as a file and rendered
# by headless Chromium (DOM, net log via report_netlog.py, screenshots kept
# in tests/report-artifacts/).
ps_test(test_report test_report.c LIBS ps_tutil)
add_dependencies(test_report victim procsnap)
