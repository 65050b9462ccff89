/* Fault injection for tests (SQLite's habit): in a build configured with
 * --enable-fault-injection, the N-th allocation or store statement from
 * the moment a test arms a countdown fails. In every other build
 * sd_fault_hit is a constant 0 and costs nothing. */
#ifndef SD_FAULT_H
#define SD_FAULT_H

#include <stdlib.h>

enum sd_fault_kind { SD_FAULT_ALLOC, SD_FAULT_STORE, SD_FAULT__MAX };

#ifdef SD_FAULT_INJECTION
/* 1 when this call is to fail. */
int sd_fault_hit(enum sd_fault_kind k);
/* Fail the n-th call of kind k from now (n >= 1; 0 disarms); with
 * persistent, every call after it fails too. */
void sd_fault_arm(enum sd_fault_kind k, long n, int persistent);
/* How many faults of kind k were injected since it was armed. */
long sd_fault_injected(enum sd_fault_kind k);
#else
static inline int sd_fault_hit(enum sd_fault_kind k)
{
	(void)k;
	return 0;
}
#endif

/* Allocations on request paths go through these, so a test can fail them. */
static inline void *sd_malloc(size_t n)
{
	return sd_fault_hit(SD_FAULT_ALLOC) ? NULL : malloc(n);
}

static inline void *sd_realloc(void *p, size_t n)
{
	return sd_fault_hit(SD_FAULT_ALLOC) ? NULL : realloc(p, n);
}

#endif
