# common/ tests, included by tests/CMakeLists.txt (which defines ps_test):
# the UTF-8 validator, terminal escaper, JSON writer and errno names.
ps_test(test_common_text test_common_text.c LIBS ps_common)
