/*
 * The admin channel: report, status, units and verify, answered on a thread of its own from
 * LMDB read transactions, so that queries neither wait for nor slow the ingest's commits.
 */
#ifndef XXGK_ADMIN_H
#define XXGK_ADMIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "config.h"
#include "deadlines.h"
#include "jobs.h"
#include "store.h"
#include "wire.h"

struct admin {
	pthread_t thread;
	int ready;     /* admin_start got far enough for admin_stop to clean up */
	int running;   /* the thread runs */
	void *socket;  /* the bound admin ROUTER, used only by the thread once it runs */
	void *control; /* PAIR: the main thread's end sends "stop" */
	void *control_peer;
	/* PAIR: writes go to the main loop (admin_write.h); writes is the thread's end, whose
	 * peer writes_loop the main loop watches */
	void *writes, *writes_loop;
	int stop; /* "stop" came while a write was waited for */
	struct store *st;
	char state_dir[sizeof(((struct config *)0)->state_dir)]; /* verify's child reads it */
	struct arena arena;
	struct loglimit log; /* of the admin thread's bad input */
	struct wire_limits limits;
	int batch_max;
	time_t started;
	atomic_uint_fast64_t *commits;
	struct jobs jobs; /* verify and backup (jobs.h) */
	/* the envelope of whoever asked for the job under way, until its reply */
	int job_waiting;
	struct envelope job_env;
	struct wire_limits job_limits;
	uint64_t job_request_id;
	/* the units as configured (names for the units query), replaced on reload */
	pthread_mutex_t units_lock;
	struct unit_config *units;
	size_t n_units;
	/* with keys on a network endpoint, only admin keys may ask */
	int secure;
	enum { IO_NOT_SET, IO_REALTIME, IO_NORMAL_TCP } io_priority; /* its I/O thread's priority */
	struct client_config *clients;
	size_t n_clients;
	/* the reporting government, sent with every report; under units_lock, set on reload */
	char government_name[CONFIG_GOVERNMENT_NAME_MAX];
	char government_region[CONFIG_GOVERNMENT_NAME_MAX];
	int government_level;
	struct deadlines *deadlines; /* answer periods: the query and status's counts */
	int deadlines_max;	     /* applications in one deadlines answer; under units_lock */
};

/*
 * Starts the thread on a bound admin socket. zmq is the daemon's context. Returns 0 or -1.
 */
int admin_start(struct admin *a, void *zmq, void *socket, struct store *st,
		const struct config *cfg, atomic_uint_fast64_t *commits, int secure,
		struct deadlines *deadlines);

/* A copy of the configuration's units (for the units query) and government (for reports). */
int admin_set_units(struct admin *a, const struct config *cfg);

/* Stops the thread (it finishes the request in hand) and closes its sockets. */
void admin_stop(struct admin *a);

#endif
