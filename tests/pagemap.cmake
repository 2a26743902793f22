# pagemap sections (issue 4), included by tests/CMakeLists.txt (which
# defines ps_test).  test_pagemap_format: the member reader on built and
# crafted members; test_pagemap_live: capture of known processes end to end
# (present pages, run lists, PFNs as root, --no-pagemap, --pagemap-max,
# PAGEMAP_SCAN vs plain reads byte for byte, non-root capture, --root trees);
# test_pagemap_softdirty: clear_refs + J writes, skipped (77) on kernels
# without CONFIG_MEM_SOFT_DIRTY.
ps_test(test_pagemap_format test_pagemap_format.c LIBS ps_procfs)
ps_test(test_pagemap_live test_pagemap_live.c LIBS ps_tutil ps_store ps_capture)
add_dependencies(test_pagemap_live victim procsnap)
ps_test(test_pagemap_softdirty test_pagemap_softdirty.c LIBS ps_tutil ps_store)
add_dependencies(test_pagemap_softdirty victim procsnap)
# pm_child: static (no shared file pages), never sanitized (ASan cannot link
# statically); the live test runs it as its isolated process.
add_executable(pm_child pm_child.c)
target_compile_options(pm_child PRIVATE -fno-sanitize=all)
target_link_options(pm_child PRIVATE -fno-sanitize=all -static)
add_dependencies(test_pagemap_live pm_child)
