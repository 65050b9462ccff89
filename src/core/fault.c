/* The countdowns of fault.h. Atomic, because a store call may run on the
 * SQLite writer thread while the test thread armed it. */
#include "core/fault.h"

#ifdef SD_FAULT_INJECTION
#include <stdatomic.h>
#include <stdlib.h>

static atomic_long countdown[SD_FAULT__MAX];
static atomic_int sticky[SD_FAULT__MAX];
static atomic_long injected[SD_FAULT__MAX];

int sd_fault_hit(enum sd_fault_kind k)
{
	long left = atomic_load(&countdown[k]);

	if (left <= 0)
		return 0;
	if (atomic_fetch_sub(&countdown[k], 1) == 1) {
		atomic_fetch_add(&injected[k], 1);
		if (atomic_load(&sticky[k]))
			atomic_store(&countdown[k], 1);
		return 1;
	}
	return 0;
}

void sd_fault_arm(enum sd_fault_kind k, long n, int persistent)
{
	atomic_store(&injected[k], 0);
	atomic_store(&sticky[k], persistent);
	atomic_store(&countdown[k], n);
}

long sd_fault_injected(enum sd_fault_kind k)
{
	return atomic_load(&injected[k]);
}

/* Whole-process tests (a migration cut short, a server that cannot store)
 * arm a countdown from the environment: SEALDROP_FAULT_STORE=N fails the
 * N-th store statement, N+ that one and every later one. */
static void arm_from_env(enum sd_fault_kind k, const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return;
	n = strtol(v, &end, 10);
	if (n > 0 && (*end == '\0' || (end[0] == '+' && end[1] == '\0')))
		sd_fault_arm(k, n, *end == '+');
}

__attribute__((constructor)) static void fault_env_init(void)
{
	arm_from_env(SD_FAULT_STORE, "SEALDROP_FAULT_STORE");
	arm_from_env(SD_FAULT_ALLOC, "SEALDROP_FAULT_ALLOC");
}
#else
typedef int sd_fault_unused; /* ISO C wants something in a file */
#endif
