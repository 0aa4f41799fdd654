#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

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
	    (env->delimiter && send_frame(socket, "", 0, 1)) || send_frame(socket, buf, len, 0))
		log_warn("reply not sent: %s (the peer resends what it has no answer for)",
			 zmq_strerror(zmq_errno()));
	if (buf != stack)
		free(buf);
}

/* An Error reply; batch_records_max is set in it when not 0. */
static void send_error(void *socket, struct envelope *env, uint64_t request_id,
		       uint32_t batch_records_max, const char *fmt, va_list ap)
{
	char message[256];
	vsnprintf(message, sizeof(message), fmt, ap);
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

Xxgk__V1__Request *wire_receive(void *socket, struct arena *arena, struct envelope *env)
{
	zmq_msg_t part;
	int more = 0, frames = 0;
	size_t more_len = sizeof(more);
	Xxgk__V1__Request *req = NULL;
	const char *problem = NULL;

	zmq_msg_init(&env->routing);
	env->delimiter = 0;
	env->principal[0] = '\0';
	if (zmq_msg_recv(&env->routing, socket, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&env->routing);
		return NULL;
	}
	zmq_msg_init(&part);
	zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_len);
	while (more) {
		zmq_msg_close(&part);
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, socket, 0) < 0)
			break;
		frames++;
		more = zmq_msg_more(&part);
		if (frames == 1 && zmq_msg_size(&part) == 0 && more) {
			env->delimiter = 1;
			frames = 0;
			continue;
		}
		if (frames == 1 && !more) {
			const char *user = zmq_msg_gets(&part, "User-Id");
			if (user)
				snprintf(env->principal, sizeof(env->principal), "%s", user);
			req = xxgk__v1__request__unpack(&arena->allocator, zmq_msg_size(&part),
							zmq_msg_data(&part));
			if (req == NULL)
				problem = "malformed request: not a xxgk.v1.Request";
		}
	}
	zmq_msg_close(&part);
	if (frames == 0)
		problem = "empty request: want one frame holding a xxgk.v1.Request";
	else if (frames > 1)
		problem = "unexpected multipart request: want one frame holding a xxgk.v1.Request";
	if (problem) {
		log_info("%s", problem);
		wire_error(socket, env, 0, "%s", problem);
		zmq_msg_close(&env->routing);
		return NULL;
	}
	return req;
}
