#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "log.h"
#include "record.h"

static int send_frame(void *socket, const void *data, size_t len, int more)
{
	return zmq_send(socket, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1 : 0;
}

void envelope_close(struct envelope *env)
{
	zmq_msg_close(&env->routing);
}

void wire_reply(void *socket, struct envelope *env, uint64_t request_id, Xxgk__V1__Reply *reply)
{
	reply->has_request_id = 1;
	reply->request_id = request_id;
	size_t len = xxgk__v1__reply__get_packed_size(reply);
	uint8_t stack[4096], *buf = len <= sizeof(stack) ? stack : malloc(len);
	if (buf == NULL) {
		log_error("out of memory for a reply of %zu bytes", len);
		return;
	}
	xxgk__v1__reply__pack(reply, buf);
	/* ROUTER_MANDATORY: a peer that is gone, or whose queue is full, fails here */
	if (send_frame(socket, zmq_msg_data(&env->routing), zmq_msg_size(&env->routing), 1) ||
	    (env->delimiter && send_frame(socket, "", 0, 1)) || send_frame(socket, buf, len, 0)) {
		char what[160];
		snprintf(what, sizeof(what),
			 "reply not sent: %s (the peer resends what it has no answer for)",
			 zmq_strerror(zmq_errno()));
		wire_log_peer(env, LOG_WARN, what);
	}
	if (buf != stack)
		free(buf);
}

/* An Error reply; batch_records_max is set in it when not 0. */
static void send_error(void *socket, struct envelope *env, uint64_t request_id,
		       uint32_t batch_records_max, const char *fmt, va_list ap)
{
	/* formatted long, then cut to the reply's size at a character boundary */
	char raw[1024], message[256];
	vsnprintf(raw, sizeof(raw), fmt, ap);
	utf8_sanitize(message, sizeof(message), raw, strlen(raw));
	Xxgk__V1__Error error = XXGK__V1__ERROR__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	error.message = message;
	error.has_batch_records_max = batch_records_max != 0;
	error.batch_records_max = batch_records_max;
	reply.body_case = XXGK__V1__REPLY__BODY_ERROR;
	reply.error = &error;
	wire_reply(socket, env, request_id, &reply);
}

void wire_error(void *socket, struct envelope *env, uint64_t request_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_error(socket, env, request_id, 0, fmt, ap);
	va_end(ap);
}

void wire_error_too_many(void *socket, struct envelope *env, uint64_t request_id,
			 uint32_t batch_records_max, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_error(socket, env, request_id, batch_records_max, fmt, ap);
	va_end(ap);
}

void wire_log_peer(const struct envelope *env, enum log_level level, const char *what)
{
	const struct wire_limits *lim = env->limits;
	struct timespec now;
	unsigned long suppressed = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (lim && lim->log &&
	    !loglimit_allow(lim->log, env->peer, (double)now.tv_sec + (double)now.tv_nsec / 1e9,
			    lim->log_interval, &suppressed))
		return;
	if (suppressed)
		log_msg(level, "%s (from %s; %lu more lines about it not logged in the last %g s)",
			what, env->peer, suppressed, lim->log_interval);
	else
		log_msg(level, "%s (from %s)", what, env->peer);
}

/* Names the peer for the log: its CurveZMQ key, else its address, else "a local peer". */
static void name_peer(struct envelope *env, zmq_msg_t *part)
{
	const char *user = zmq_msg_gets(part, "User-Id");
	const char *address = zmq_msg_gets(part, "Peer-Address");
	if (user)
		snprintf(env->principal, sizeof(env->principal), "%s", user);
	if (env->principal[0])
		snprintf(env->peer, sizeof(env->peer), "key %s", env->principal);
	else if (address && address[0])
		snprintf(env->peer, sizeof(env->peer), "%s", address);
	else
		snprintf(env->peer, sizeof(env->peer), "a local peer");
}

/* The arena, with a note of an allocation it refused: the budget, not the bytes, failed. */
struct budgeted {
	struct arena *arena;
	int refused;
};

static void *budgeted_alloc(void *data, size_t size)
{
	struct budgeted *b = data;
	void *p = arena_alloc(b->arena, size);
	b->refused |= p == NULL;
	return p;
}

static void budgeted_free(void *data, void *p)
{
	(void)data, (void)p; /* freed with the arena */
}

/* Scans, then decodes within the scan's budget. */
static enum wire_result decode(zmq_msg_t *part, struct arena *arena, const struct wire_limits *lim,
			       Xxgk__V1__Request **req, struct prescan *scan, const char **problem)
{
	const uint8_t *data = zmq_msg_data(part);
	size_t len = zmq_msg_size(part);
	int rc = prescan_request(data, len, lim->records_max, arena, scan);
	if (rc == XXGK_E2BIG)
		return WIRE_TOO_MANY;
	if (rc) {
		*problem = rc == XXGK_EINVAL ? "malformed request: not a xxgk.v1.Request"
					     : "out of memory for this request; send it again";
		return WIRE_ANSWERED;
	}
	/* the budget holds for this request alone: the arena's cap is lowered while it decodes */
	size_t cap = arena->cap;
	int budgeted = scan->budget < arena->cap - arena->used;
	if (budgeted)
		arena->cap = arena->used + scan->budget;
	struct budgeted b = {arena, 0};
	ProtobufCAllocator allocator = {budgeted_alloc, budgeted_free, &b};
	*req = xxgk__v1__request__unpack(&allocator, len, data);
	arena->cap = cap;
	if (*req)
		return WIRE_REQUEST;
	/* past its own budget the request is at fault; past the pass's cap, the others are */
	if (!b.refused)
		*problem = "malformed request: not a xxgk.v1.Request";
	else if (budgeted)
		*problem = "request too costly to decode: more fields than its size and records "
			   "allow";
	else
		*problem = "out of memory for this request; send it again";
	return WIRE_ANSWERED;
}

enum wire_result wire_receive(void *socket, struct arena *arena, const struct wire_limits *lim,
			      struct envelope *env, Xxgk__V1__Request **req, struct prescan *scan)
{
	zmq_msg_t part;
	int more = 0, frames = 0;
	size_t more_len = sizeof(more);
	enum wire_result result = WIRE_ANSWERED;
	const char *problem = NULL;

	*req = NULL;
	memset(scan, 0, sizeof(*scan));
	zmq_msg_init(&env->routing);
	env->delimiter = 0;
	env->principal[0] = '\0';
	snprintf(env->peer, sizeof(env->peer), "a local peer");
	env->limits = lim;
	if (zmq_msg_recv(&env->routing, socket, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&env->routing);
		return WIRE_NOTHING;
	}
	env->route = 14695981039346656037ULL; /* FNV-1a */
	for (size_t i = 0; i < zmq_msg_size(&env->routing); i++)
		env->route = (env->route ^ ((const uint8_t *)zmq_msg_data(&env->routing))[i]) *
			     1099511628211ULL;
	zmq_msg_init(&part);
	zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_len);
	while (more) {
		zmq_msg_close(&part);
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, socket, 0) < 0)
			break;
		frames++;
		more = zmq_msg_more(&part);
		if (frames == 1)
			name_peer(env, &part);
		if (frames == 1 && zmq_msg_size(&part) == 0 && more) {
			env->delimiter = 1;
			frames = 0;
			continue;
		}
		if (frames == 1 && !more)
			result = decode(&part, arena, lim, req, scan, &problem);
	}
	zmq_msg_close(&part);
	if (frames == 0)
		problem = "empty request: want one frame holding a xxgk.v1.Request";
	else if (frames > 1)
		problem = "unexpected multipart request: want one frame holding a xxgk.v1.Request";
	if (problem) {
		wire_log_peer(env, LOG_INFO, problem);
		wire_error(socket, env, scan->request_id, "%s", problem);
		zmq_msg_close(&env->routing);
		*req = NULL;
		return WIRE_ANSWERED;
	}
	return result;
}
