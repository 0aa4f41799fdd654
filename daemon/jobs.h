/*
 * The long admin jobs, verify and backup, on a thread of their own: each runs in a child
 * process (store_guard.h) that the thread waits for, so that the admin thread answers reports
 * and status meanwhile. One job at a time: a second is refused as busy, naming the first. The
 * admin thread learns that a job ended by a byte on jobs_fd, then takes its reply.
 */
#ifndef XXGK_JOBS_H
#define XXGK_JOBS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum job_kind { JOB_NONE = 0, JOB_VERIFY = 1, JOB_BACKUP = 2 };

/* What is asked: a verify (of a part: unit and/or year) or a backup into dir. */
struct job_request {
	enum job_kind kind;
	char unit[65]; /* "" for every unit */
	int year;      /* 0 for every year */
	char dir[4096];
};

/* The job under way as status and /metrics show it. */
struct job_state {
	enum job_kind kind;   /* JOB_NONE: none runs */
	int64_t started;      /* seconds since the epoch */
	uint64_t done, total; /* verify: records read of total (0: not known); backup: bytes */
	char unit[65];
	int year;
};

struct jobs {
	pthread_t thread;
	int running; /* the thread runs */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;		  /* under lock */
	struct job_request asked; /* under lock; kind JOB_NONE once taken */
	struct job_request doing; /* the thread's; its unit and year shown under lock */
	int busy;		  /* under lock: asked or doing, until its reply is taken */
	/* the result for the admin thread, under lock */
	int has_result, failed;
	char *message;	/* failed: the error's text */
	uint8_t *reply; /* else: a packed Reply */
	size_t reply_len;
	_Atomic int64_t started;
	_Atomic uint64_t done, total;
	atomic_int child; /* the pid of the job's child while it runs; -1 once stopping */
	int notify[2];	  /* a pipe: the thread writes a byte when a result is there */
	char state_dir[4096];
	_Atomic uint64_t verify_rate; /* records a second, 0: no limit (reload may change it) */
	_Atomic uint64_t backup_rate; /* bytes a second, 0: no limit (reload may change it) */
};

/* Starts the thread (signals blocked). 0 or -1. */
int jobs_start(struct jobs *j, const char *state_dir, uint64_t verify_rate, uint64_t backup_rate);

/*
 * Hands a job to the thread. Returns 0, or XXGK_EBUSY with why "busy: a verify started at … is
 * running …" when one runs or its reply has not been taken.
 */
int jobs_submit(struct jobs *j, const struct job_request *req, char *why, size_t len);

/* The pipe's end the admin thread polls: readable once a job's result is there. */
int jobs_fd(const struct jobs *j);

/*
 * Takes the result of the job that ended (and the pipe's byte): 1 and either *message (an
 * error's text) or *reply and *len (a packed Reply), both malloc'd; 0 when there is none.
 */
int jobs_take(struct jobs *j, char **message, uint8_t **reply, size_t *len);

/* The job under way; kind JOB_NONE when none. Any thread. */
void jobs_state(struct jobs *j, struct job_state *out);

/*
 * Kills the child of a job under way and joins the thread: prompt, whatever the store's size.
 * A job asked after this never runs. The admin thread may still submit and ask the state.
 */
void jobs_stop(struct jobs *j);

/* Frees what is left (a result not taken), once no thread uses j any more. */
void jobs_free(struct jobs *j);

#endif
