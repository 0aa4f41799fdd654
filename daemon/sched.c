#include "sched.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr of sched_setattr(2); glibc 2.36 has no wrapper */
struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

static int hint(pid_t tid, int nice, uint64_t slice_ns)
{
	struct attr a = {.size = sizeof(a), .policy = 0 /* SCHED_OTHER */, .nice = nice};
	a.runtime = slice_ns;
	if (syscall(SYS_sched_setattr, tid, &a, 0) == 0)
		return 0;
	/* older kernels: at least the nice value */
	return setpriority(PRIO_PROCESS, (id_t)(tid ? tid : syscall(SYS_gettid)), nice);
}

int sched_hint(int nice, uint64_t slice_ns)
{
	return hint(0, nice, slice_ns);
}

void sched_hint_threads(const char *prefix, int nice, uint64_t slice_ns)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char path[300], name[64] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(name, sizeof(name), f) && strncmp(name, prefix, strlen(prefix)) == 0)
			hint((pid_t)atoi(e->d_name), nice, slice_ns);
		fclose(f);
	}
	if (d)
		closedir(d);
}
