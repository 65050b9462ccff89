# SD_CHECK_CFLAG(FLAG, VARIABLE)
# Append FLAG to VARIABLE when the C compiler accepts it (with -Werror, so a
# flag the compiler only warns about is not taken).
AC_DEFUN([SD_CHECK_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  sd_saved_cflags="$CFLAGS"
  CFLAGS="$CFLAGS -Werror $1"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
    [AC_MSG_RESULT([yes]); $2="$$2 $1"],
    [AC_MSG_RESULT([no])])
  CFLAGS="$sd_saved_cflags"
])
