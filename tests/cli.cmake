add_executable(victim victim.c)
target_link_libraries(victim PRIVATE Threads::Threads)
add_library(ps_tutil STATIC tutil.c)
target_compile_definitions(ps_tutil PUBLIC PS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           PS_BINARY_DIR="${PROJECT_BINARY_DIR}")
target_link_libraries(ps_tutil PUBLIC ps_common PkgConfig::SQLITE)

ps_test(test_cli_capture test_cli_capture.c LIBS ps_tutil ps_store)
add_dependencies(test_cli_capture victim procsnap)
# `ls SNAP GLOB` through name_stats, each pid looked up where a name
# usually is (issue 9, the path-glob shape).
ps_test(test_ls_probe test_ls_probe.c LIBS ps_tutil ps_store PkgConfig::SQLITE)
add_dependencies(test_ls_probe procsnap)
# SIGTERM/SIGINT/SIGHUP end index, export, diff, merge and report with
# status 2 and no temporary file left (cli/supervise.c).
ps_test(test_cli_signals test_cli_signals.c LIBS ps_tutil)
add_dependencies(test_cli_signals procsnap)
