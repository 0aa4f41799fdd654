#include "memory.h"

#include <malloc.h>

#include "log.h"

/* Above the arena's 256 KiB chunks, which a pass reuses; below a large push or its reply. */
#define MEMORY_MMAP_THRESHOLD (512 * 1024)
/* Free memory at the top of a heap that free() gives back by itself: the churn of an
 * ordinary pass stays, so that passes do not shrink and regrow the heap each time; the
 * timer's malloc_trim gives back the main heap's rest */
#define MEMORY_TRIM_THRESHOLD (8 << 20)

void memory_setup(void)
{
	/* setting it also stops glibc from raising it (and the trim threshold) by itself */
	if (mallopt(M_MMAP_THRESHOLD, MEMORY_MMAP_THRESHOLD) != 1)
		log_warn("memory: cannot set the mmap threshold; freed memory may stay resident");
	mallopt(M_TRIM_THRESHOLD, MEMORY_TRIM_THRESHOLD);
}

void memory_trim(void)
{
	malloc_trim(0);
}
