# Generate a C file holding one text file as a NUL-terminated string:
#   const char NAME[] = {...};  const size_t NAME_len = N;
# Invoked as: cmake -DSRC=<file> -DOUT=<file.c> -DNAME=<symbol> -P embed_text.cmake
file(READ ${SRC} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT}.tmp "/* generated from ${SRC} by cmake/embed_text.cmake */\n#include <stddef.h>\nconst char ${NAME}[] = {${hex}0x00};\nconst size_t ${NAME}_len = ${len};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
