/* Small macros shared by every module. */
#ifndef SD_SD_H
#define SD_SD_H

#include <stddef.h>
#include <stdint.h>

#define SD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A result that must be looked at: dropping it is a security bug. */
#define SD_MUST_CHECK   __attribute__((warn_unused_result))

/* Broken invariant: asserts in debug/sanitizer builds, still takes the safe
 * branch in release builds (the SQLite ALWAYS/NEVER idea). */
#ifdef NDEBUG
#define SD_ALWAYS(x) (x)
#else
#include <assert.h>
#define SD_ALWAYS(x) (assert(x), (x))
#endif

#endif
