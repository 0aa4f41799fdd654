#include "xxgk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "error.h"
#include "keyfile.h"

struct xxgk_client {
	void *zmq;
	void *socket;
	uint64_t next_id;
	Xxgk__V1__Reply *last; /* the last push reply, which holds the messages handed out */
	char error[256];
	size_t batch_records_max; /* from the daemon's last XXGK_E2BIG refusal */
};

int xxgk_keys_from_files(struct xxgk_keys *keys, char storage[3][41], const char *server_key_file,
			 const char *secret_key_file, char *err, size_t err_size)
{
	struct keypair server, client;
	if (keyfile_read(server_key_file, 0, &server, err, err_size) ||
	    keyfile_read(secret_key_file, 1, &client, err, err_size))
		return -1;
	/* the library's caller has no other way to learn it: a line on stderr, once per file */
	if (server.legacy)
		fprintf(stderr, "libxxgk: warning: %s: %s\n", server_key_file, KEYFILE_LEGACY_NOTE);
	if (client.legacy)
		fprintf(stderr, "libxxgk: warning: %s: %s\n", secret_key_file, KEYFILE_LEGACY_NOTE);
	memcpy(storage[0], server.public_key, sizeof(storage[0]));
	memcpy(storage[1], client.public_key, sizeof(storage[1]));
	memcpy(storage[2], client.secret_key, sizeof(storage[2]));
	*keys = (struct xxgk_keys){storage[0], storage[1], storage[2]};
	return 0;
}

int xxgk_connect(struct xxgk_client **out, const char *endpoint)
{
	return xxgk_connect_keys(out, endpoint, NULL);
}

int xxgk_connect_keys(struct xxgk_client **out, const char *endpoint, const struct xxgk_keys *keys)
{
	struct xxgk_client *c = calloc(1, sizeof(*c));
	int linger = 0, hwm = 1000;
	if (c == NULL)
		return XXGK_ENOMEM;
	c->next_id = (uint64_t)time(NULL) << 20; /* distinct from a previous run's ids */
	c->zmq = zmq_ctx_new();
	c->socket = c->zmq ? zmq_socket(c->zmq, ZMQ_DEALER) : NULL;
	if (c->socket == NULL) {
		xxgk_close(c);
		return XXGK_ENET;
	}
	zmq_setsockopt(c->socket, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(c->socket, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (keys && (zmq_setsockopt(c->socket, ZMQ_CURVE_SERVERKEY, keys->server_public, 40) ||
		     zmq_setsockopt(c->socket, ZMQ_CURVE_PUBLICKEY, keys->public_key, 40) ||
		     zmq_setsockopt(c->socket, ZMQ_CURVE_SECRETKEY, keys->secret_key, 40))) {
		xxgk_close(c);
		return XXGK_EINVAL;
	}
	if (zmq_connect(c->socket, endpoint) != 0) {
		xxgk_close(c);
		return XXGK_EINVAL;
	}
	*out = c;
	return 0;
}

void xxgk_close(struct xxgk_client *c)
{
	if (c == NULL)
		return;
	if (c->last)
		xxgk__v1__reply__free_unpacked(c->last, NULL);
	if (c->socket)
		zmq_close(c->socket);
	if (c->zmq)
		zmq_ctx_term(c->zmq);
	free(c);
}

const char *xxgk_last_error(const struct xxgk_client *c)
{
	return c->error;
}

size_t xxgk_batch_records_max(const struct xxgk_client *c)
{
	return c->batch_records_max;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int xxgk_call(struct xxgk_client *c, Xxgk__V1__Request *req, int timeout_ms,
	      Xxgk__V1__Reply **reply)
{
	req->has_request_id = 1;
	req->request_id = ++c->next_id;
	size_t len = xxgk__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return XXGK_ENOMEM;
	xxgk__v1__request__pack(req, buf);
	/* a full queue (no daemon for a while) counts against the timeout too */
	int64_t deadline = now_ms() + timeout_ms;
	int sent = -1;
	while ((sent = zmq_send(c->socket, buf, len, ZMQ_DONTWAIT)) < 0 && zmq_errno() == EAGAIN) {
		zmq_pollitem_t item = {c->socket, 0, ZMQ_POLLOUT, 0};
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		zmq_poll(&item, 1, (long)left);
	}
	free(buf);
	if (sent < 0)
		return zmq_errno() == EAGAIN ? XXGK_ETIMEDOUT : XXGK_ENET;
	for (;;) {
		zmq_pollitem_t item = {c->socket, 0, ZMQ_POLLIN, 0};
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return XXGK_ETIMEDOUT;
		int n = zmq_poll(&item, 1, (long)left);
		if (n < 0)
			return XXGK_ENET;
		if (n == 0)
			continue;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, c->socket, 0) < 0) {
			zmq_msg_close(&msg);
			return XXGK_ENET;
		}
		/* skip an empty delimiter frame, should a daemon send one */
		if (zmq_msg_size(&msg) == 0 && zmq_msg_more(&msg)) {
			zmq_msg_close(&msg);
			continue;
		}
		Xxgk__V1__Reply *r =
		    xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
		zmq_msg_close(&msg);
		if (r == NULL)
			return XXGK_EPROTO;
		if (r->request_id != req->request_id && r->request_id != 0) {
			xxgk__v1__reply__free_unpacked(r,
						       NULL); /* the answer to a timed-out call */
			continue;
		}
		*reply = r;
		return 0;
	}
}

int xxgk_push(struct xxgk_client *c, Xxgk__V1__Record *const *records, size_t n, int *statuses,
	      int *reasons, const char **messages, int timeout_ms)
{
	Xxgk__V1__PushBatch batch = XXGK__V1__PUSH_BATCH__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	batch.n_records = n;
	batch.records = (Xxgk__V1__Record **)records;
	req.body_case = XXGK__V1__REQUEST__BODY_PUSH;
	req.push = &batch;
	c->error[0] = '\0';
	int rc = xxgk_call(c, &req, timeout_ms, &reply);
	if (rc)
		return rc;
	if (reply->body_case == XXGK__V1__REPLY__BODY_ERROR) {
		const Xxgk__V1__Error *e = reply->error;
		snprintf(c->error, sizeof(c->error), "%s", e && e->message ? e->message : "");
		rc = XXGK_EINVAL;
		if (e && e->has_batch_records_max && e->batch_records_max > 0) {
			c->batch_records_max = e->batch_records_max;
			rc = XXGK_E2BIG;
		}
		xxgk__v1__reply__free_unpacked(reply, NULL);
		return rc;
	}
	if (reply->body_case != XXGK__V1__REPLY__BODY_PUSH || reply->push->n_statuses != n) {
		xxgk__v1__reply__free_unpacked(reply, NULL);
		return XXGK_EPROTO;
	}
	for (size_t i = 0; i < n; i++) {
		const Xxgk__V1__RecordStatus *s = reply->push->statuses[i];
		statuses[i] = s->code;
		if (reasons)
			reasons[i] = s->reason;
		if (messages)
			messages[i] = s->message ? s->message : "";
	}
	if (c->last)
		xxgk__v1__reply__free_unpacked(c->last, NULL);
	c->last = reply;
	return 0;
}
