#include "metrics_process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

struct proc_stat {
	unsigned long long utime, stime, starttime; /* clock ticks */
	unsigned long long vsize;		    /* bytes */
	long long rss;				    /* pages */
};

/* /proc/self/stat: the command may hold spaces and parentheses, so fields count from its
 * last ")" (field 3 follows it). */
static int read_stat(struct proc_stat *s)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	if (p == NULL)
		return XXGK_EIO;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt (3-13), then
	 * utime stime (14-15), cutime cstime priority nice threads itrealvalue (16-21),
	 * starttime vsize rss (22-24) */
	int got =
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
		   "%*d %llu %llu %lld",
		   &s->utime, &s->stime, &s->starttime, &s->vsize, &s->rss);
	return got == 5 ? 0 : XXGK_EIO;
}

static long long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long long n = 0;
	struct dirent *e;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor, open while it is read */
}

int metrics_process(struct evbuffer *b)
{
	struct proc_stat s;
	struct rlimit lim;
	struct timespec boot, now;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	long long fds = open_fds();
	int rc = 0;
	if (fds >= 0)
		evbuffer_add_printf(b,
				    "# HELP process_open_fds Number of open file descriptors.\n"
				    "# TYPE process_open_fds gauge\nprocess_open_fds %lld\n",
				    fds);
	else
		rc = XXGK_EIO;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
		evbuffer_add_printf(b,
				    "# HELP process_max_fds Maximum number of open file "
				    "descriptors.\n"
				    "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
				    (unsigned long long)lim.rlim_cur);
	if (read_stat(&s) || ticks <= 0 || page <= 0)
		return XXGK_EIO;
	evbuffer_add_printf(b,
			    "# HELP process_cpu_seconds_total Total user and system CPU time "
			    "spent in seconds.\n"
			    "# TYPE process_cpu_seconds_total counter\n"
			    "process_cpu_seconds_total %.2f\n"
			    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			    "# TYPE process_resident_memory_bytes gauge\n"
			    "process_resident_memory_bytes %lld\n"
			    "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			    "# TYPE process_virtual_memory_bytes gauge\n"
			    "process_virtual_memory_bytes %llu\n",
			    (double)(s.utime + s.stime) / (double)ticks, s.rss * page, s.vsize);
	/* the start is in ticks since boot; the unit's ProcSubset=pid hides /proc/stat's boot
	 * time, so the time since boot comes from CLOCK_BOOTTIME instead */
	if (clock_gettime(CLOCK_BOOTTIME, &boot) == 0 && clock_gettime(CLOCK_REALTIME, &now) == 0) {
		double since_boot = (double)boot.tv_sec + (double)boot.tv_nsec / 1e9;
		double started = (double)now.tv_sec + (double)now.tv_nsec / 1e9 -
				 (since_boot - (double)s.starttime / (double)ticks);
		evbuffer_add_printf(b,
				    "# HELP process_start_time_seconds Start time of the process "
				    "since unix epoch in seconds.\n"
				    "# TYPE process_start_time_seconds gauge\n"
				    "process_start_time_seconds %.2f\n",
				    started);
	}
	return rc;
}
