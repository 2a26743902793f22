# Generate a C file holding every schema/*.sql as a NUL-terminated string,
# in file-name order: const struct ps_sql_file ps_schema_files[] = {...}.
# Invoked as: cmake -DSRC=<schema dir> -DOUT=<file.c> -P embed.cmake
file(GLOB files RELATIVE ${SRC} ${SRC}/*.sql ${SRC}/rules/*.sql)
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${SRC}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char f${i}[] = {${hex}0x00};\n")
  string(APPEND table "    {\"${f}\", f${i}},\n")
  math(EXPR i "${i}+1")
endforeach()
file(WRITE ${OUT}.tmp "/* generated from schema/ by cmake/embed.cmake */\n#include <stddef.h>\nstruct ps_sql_file { const char *name; const char *sql; };\n${body}const struct ps_sql_file ps_schema_files[] = {\n${table}    {NULL, NULL}};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
