#include "zsock.h"

#include <zmq.h>

#include "log.h"

static void fire(evutil_socket_t fd, short what, void *arg)
{
	struct zsock *z = arg;
	(void)fd, (void)what;
	z->on_readable(z->arg);
}

int zsock_watch(struct zsock *z, struct event_base *base, void *socket, void (*on_readable)(void *),
		void *arg)
{
	int fd;
	size_t len = sizeof(fd);
	if (zmq_getsockopt(socket, ZMQ_FD, &fd, &len) != 0)
		return -1;
	z->socket = socket;
	z->on_readable = on_readable;
	z->arg = arg;
	z->ev = event_new(base, fd, EV_READ | EV_PERSIST, fire, z);
	if (z->ev == NULL || event_add(z->ev, NULL) != 0)
		return -1;
	zsock_rearm(z);
	return 0;
}

int zsock_readable(struct zsock *z)
{
	int events = 0;
	size_t len = sizeof(events);
	if (zmq_getsockopt(z->socket, ZMQ_EVENTS, &events, &len) != 0) {
		log_warn("ZMQ_EVENTS: %s", zmq_strerror(zmq_errno()));
		return 0;
	}
	return (events & ZMQ_POLLIN) != 0;
}

void zsock_rearm(struct zsock *z)
{
	if (z->ev && zsock_readable(z))
		event_active(z->ev, EV_READ, 0);
}

void zsock_unwatch(struct zsock *z)
{
	if (z->ev)
		event_free(z->ev);
	z->ev = NULL;
}
