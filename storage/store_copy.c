#define _GNU_SOURCE /* pipe2, sync_file_range */
#include "store_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)
#define FLUSH ((off_t)8 << 20)

struct copier {
	MDB_env *env;
	int fd, rc;
};

static void *copy(void *arg)
{
	struct copier *c = arg;
	c->rc = mdb_env_copyfd2(c->env, c->fd, MDB_CP_COMPACT);
	close(c->fd); /* the end of the copy for the reader */
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_copy_paced(MDB_env *env, int out, uint64_t rate)
{
	int p[2], rc = 0;
	struct copier c = {env, -1, 0};
	pthread_t thread;
	char *buf = malloc(CHUNK);
	sigset_t pipe_signal, old;
	if (buf == NULL)
		return ENOMEM;
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(buf);
		return errno;
	}
	/* a write that fails leaves the copier writing into a closed pipe: EPIPE, not a signal */
	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
	c.fd = p[1];
	if ((rc = pthread_create(&thread, NULL, copy, &c)) != 0) {
		close(p[0]);
		close(p[1]);
		free(buf);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	double started = now_seconds();
	off_t written = 0, flushed = 0;
	for (;;) {
		ssize_t n = read(p[0], buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n && rc == 0;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR)
				rc = errno;
			else if (w > 0)
				done += w;
		}
		if (rc)
			break;
		written += n;
		if (written - flushed >= FLUSH) {
			/* start this part's writeback, and wait for the part before: the dirty
			 * pages of the copy stay within two parts */
			sync_file_range(out, flushed, written - flushed, SYNC_FILE_RANGE_WRITE);
			if (flushed >= FLUSH)
				sync_file_range(out, flushed - FLUSH, FLUSH,
						SYNC_FILE_RANGE_WAIT_BEFORE |
						    SYNC_FILE_RANGE_WRITE |
						    SYNC_FILE_RANGE_WAIT_AFTER);
			flushed = written;
		}
		double ahead =
		    rate ? (double)written / (double)rate - (now_seconds() - started) : 0;
		if (ahead > 0) {
			struct timespec ts = {(time_t)ahead,
					      (long)((ahead - (double)(time_t)ahead) * 1e9)};
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
	}
	close(p[0]); /* a copier still writing gets EPIPE and ends */
	pthread_join(thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(buf);
	return rc ? rc : c.rc;
}
