#include "scheduling.h"

#include <dirent.h>
#include <sched.h>
#include <stdint.h>
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

static int set_attr(pid_t tid, struct attr a)
{
	a.size = sizeof(a);
	return (int)syscall(SYS_sched_setattr, tid, &a, 0);
}

/* SCHED_OTHER with a nice value and a time slice (EEVDF's runtime; 0 is the default) */
static int normal(pid_t tid, int nice, uint64_t slice_ns)
{
	if (set_attr(tid,
		     (struct attr){.policy = SCHED_OTHER, .nice = nice, .runtime = slice_ns}) == 0)
		return 0;
	/* kernels before sched_setattr: at least the nice value */
	return setpriority(PRIO_PROCESS, (id_t)(tid ? tid : syscall(SYS_gettid)), nice) ? -1 : 0;
}

int sched_set_role(pid_t tid, enum sched_role role)
{
	switch (role) {
	case SCHED_ROLE_QUERY:
		/* priority 1, the lowest real-time one: above every normal thread, below the
		 * kernel's own; threads it starts (a client's ZeroMQ I/O thread) inherit it */
		if (set_attr(tid, (struct attr){.policy = SCHED_FIFO, .priority = 1}) == 0)
			return 1;
		return normal(tid, 0, 100000);
	case SCHED_ROLE_BULK:
		return normal(tid, 5, 20000000);
	case SCHED_ROLE_LONG:
		return normal(tid, 0, 0);
	}
	return -1;
}

/* One pass over this process's threads; counts those named prefix... and the real-time ones. */
static int set_role_named(const char *prefix, enum sched_role role, int *realtime)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int named = 0;
	while (d && (e = readdir(d)) != NULL) {
		char path[300], name[64] = "";
		if (strspn(e->d_name, "0123456789") != strlen(e->d_name))
			continue; /* ".", "..": not threads */
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(name, sizeof(name), f) && strncmp(name, prefix, strlen(prefix)) == 0) {
			named++;
			*realtime += sched_set_role((pid_t)atoi(e->d_name), role) == 1;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return named;
}

int sched_set_role_threads(const char *prefix, enum sched_role role, int wait_ms)
{
	int realtime = 0;
	for (int waited = 0;; waited++) {
		if (set_role_named(prefix, role, &realtime) > 0)
			return realtime;
		if (waited >= wait_ms)
			return -1;
		usleep(1000);
	}
}
