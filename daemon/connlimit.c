#include "connlimit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "error.h"
#include "log.h"

/* Descriptors kept out of every listener's reach: at least this many, or an eighth. */
#define RESERVE_MIN 64
#define SWEEP_SECONDS 10
#define LOG_SECONDS 10
/* owner[fd]: NONE, a listener's index (admitted), or REFUSED + index (shut down by us) */
#define NONE (-1)
#define REFUSED 16

struct listener {
	void *monitor; /* our end of the listener's monitor */
	const char *name;
	_Atomic uint64_t *connected;
	struct sockaddr_storage addr; /* where it listens: its connections' local address */
	socklen_t addr_len;
	uint64_t count, refused, refused_logged;
	time_t logged;
};

struct connlimit {
	pthread_t thread;
	int started;
	void *control, *control_peer; /* the stop signal */
	struct listener l[CONNLIMIT_LISTENERS_MAX];
	size_t n;
	int cap;
	signed char *owner;
	size_t n_owner;
};

void connlimit_raise_nofile(void)
{
	struct rlimit l;
	if (getrlimit(RLIMIT_NOFILE, &l) != 0) {
		log_warn("descriptors: cannot read the limit: %s", strerror(errno));
		return;
	}
	rlim_t was = l.rlim_cur, want = l.rlim_max;
	if (want == RLIM_INFINITY) {
		/* the kernel refuses more than fs.nr_open */
		long nr_open = 1 << 20;
		FILE *f = fopen("/proc/sys/fs/nr_open", "r");
		if (f && fscanf(f, "%ld", &nr_open) != 1)
			nr_open = 1 << 20;
		if (f)
			fclose(f);
		want = (rlim_t)nr_open;
	}
	if (was < want) {
		l.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &l) != 0) {
			log_warn("descriptors: cannot raise the limit from %llu to %llu: %s",
				 (unsigned long long)was, (unsigned long long)want,
				 strerror(errno));
			return;
		}
		log_info("descriptors: limit raised from %llu to %llu", (unsigned long long)was,
			 (unsigned long long)want);
	}
}

int connlimit_cap(long nofile, long in_use, int connections_max, size_t n)
{
	long reserve = nofile / 8 > RESERVE_MIN ? nofile / 8 : RESERVE_MIN;
	long cap = n ? (nofile - in_use - reserve) / (long)n : 0;
	if (cap > connections_max)
		cap = connections_max;
	return cap < 1 ? 1 : (int)cap;
}

static long fds_in_use(void)
{
	long n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own */
}

/* Whether fd is (still) a connection of listener l: its local address is where l listens. */
static int belongs(const struct listener *l, int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	int listening = 0;
	socklen_t size = sizeof(listening);
	/* the number may be a listening socket's by now (a live-changes endpoint bound again):
	 * shutting that down would make libzmq's accept fail, which it takes as fatal */
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0 || a.ss_family != l->addr.ss_family)
		return 0;
	if (a.ss_family == AF_INET)
		return ((struct sockaddr_in *)&a)->sin_port ==
		       ((const struct sockaddr_in *)&l->addr)->sin_port;
	if (a.ss_family == AF_INET6)
		return ((struct sockaddr_in6 *)&a)->sin6_port ==
		       ((const struct sockaddr_in6 *)&l->addr)->sin6_port;
	if (a.ss_family == AF_UNIX)
		return len == l->addr_len && memcmp(&a, &l->addr, len) == 0;
	return 0;
}

/* Where the socket listens, from its last endpoint: tcp://HOST:PORT or ipc://PATH. */
static void listening_address(struct listener *l, void *socket)
{
	char ep[512];
	size_t len = sizeof(ep);
	memset(&l->addr, 0, sizeof(l->addr));
	l->addr_len = 0;
	if (zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
		return;
	if (strncmp(ep, "ipc://", 6) == 0) {
		struct sockaddr_un *u = (struct sockaddr_un *)&l->addr;
		u->sun_family = AF_UNIX;
		/* an abstract name (@name) is a NUL followed by the name */
		const char *path = ep + 6;
		size_t plen = strlen(path);
		if (plen >= sizeof(u->sun_path))
			return;
		memcpy(u->sun_path, path, plen);
		if (path[0] == '@')
			u->sun_path[0] = '\0';
		else
			plen++;
		l->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	} else if (strncmp(ep, "tcp://", 6) == 0) {
		const char *colon = strrchr(ep, ':');
		int port = colon ? atoi(colon + 1) : 0;
		if (strchr(ep + 6, '[')) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->addr;
			a->sin6_family = AF_INET6;
			a->sin6_port = htons((uint16_t)port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;
			a->sin_family = AF_INET;
			a->sin_port = htons((uint16_t)port);
		}
	}
}

static void set_count(struct listener *l, uint64_t count)
{
	l->count = count;
	if (l->connected)
		atomic_store(l->connected, count);
}

static void on_event(struct connlimit *c, size_t i, uint16_t event, int fd)
{
	struct listener *l = &c->l[i];
	if (fd < 0 || (size_t)fd >= c->n_owner)
		return;
	signed char *o = &c->owner[fd];
	if (event == ZMQ_EVENT_ACCEPTED) {
		/* a descriptor still marked was closed without an event: its number is free */
		if (*o >= 0 && *o < REFUSED && c->l[*o].count > 0)
			set_count(&c->l[*o], c->l[*o].count - 1);
		if (l->count < (uint64_t)c->cap) {
			*o = (signed char)i;
			set_count(l, l->count + 1);
			log_debug("%s: accepted (%llu connected)", l->name,
				  (unsigned long long)l->count);
			return;
		}
		*o = (signed char)(REFUSED + i);
		l->refused++;
		/* the descriptor is libzmq's: it closes it when it reads the end. If the event
		 * is late and the number already someone else's, leave that one alone. */
		if (belongs(l, fd))
			shutdown(fd, SHUT_RDWR);
	} else if (event == ZMQ_EVENT_DISCONNECTED) {
		/* a message over max_message_size, or a handshake past handshake_timeout,
		 * ends its connection too */
		if (*o == (signed char)i && l->count > 0)
			set_count(l, l->count - 1);
		log_debug("%s: disconnected (%llu connected)", l->name,
			  (unsigned long long)l->count);
		if (*o == (signed char)i || *o == (signed char)(REFUSED + i))
			*o = NONE;
	}
}

/* Forgets the connections that ended without an event, so that no slot is lost for good. */
static void sweep(struct connlimit *c)
{
	for (size_t fd = 0; fd < c->n_owner; fd++) {
		signed char o = c->owner[fd];
		if (o == NONE)
			continue;
		struct listener *l = &c->l[o >= REFUSED ? o - REFUSED : o];
		if (fcntl((int)fd, F_GETFD) != -1 && belongs(l, (int)fd))
			continue;
		c->owner[fd] = NONE;
		if (o < REFUSED && l->count > 0)
			set_count(l, l->count - 1);
	}
}

static void log_refusals(struct connlimit *c, time_t now)
{
	for (size_t i = 0; i < c->n; i++) {
		struct listener *l = &c->l[i];
		if (l->refused == l->refused_logged || now - l->logged < LOG_SECONDS)
			continue;
		log_warn("%s: refused %llu connection(s) beyond the %d a listener may hold "
			 "(connections_max, or what the descriptor limit allows)",
			 l->name, (unsigned long long)(l->refused - l->refused_logged), c->cap);
		l->refused_logged = l->refused;
		l->logged = now;
	}
}

static void drain(struct connlimit *c, size_t i)
{
	for (int k = 0; k < 1024; k++) {
		zmq_msg_t event, address;
		zmq_msg_init(&event);
		zmq_msg_init(&address);
		int ok = zmq_msg_recv(&event, c->l[i].monitor, ZMQ_DONTWAIT) >= 0;
		if (ok && zmq_msg_more(&event) && zmq_msg_recv(&address, c->l[i].monitor, 0) >= 0 &&
		    zmq_msg_size(&event) >= 6) {
			uint16_t code;
			uint32_t value;
			memcpy(&code, zmq_msg_data(&event), sizeof(code));
			memcpy(&value, (const char *)zmq_msg_data(&event) + 2, sizeof(value));
			on_event(c, i, code, (int)value);
		}
		zmq_msg_close(&event);
		zmq_msg_close(&address);
		if (!ok)
			break;
	}
}

static void *run(void *arg)
{
	struct connlimit *c = arg;
	zmq_pollitem_t items[CONNLIMIT_LISTENERS_MAX + 1];
	time_t swept = time(NULL);
	items[0] = (zmq_pollitem_t){c->control_peer, 0, ZMQ_POLLIN, 0};
	for (size_t i = 0; i < c->n; i++)
		items[i + 1] = (zmq_pollitem_t){c->l[i].monitor, 0, ZMQ_POLLIN, 0};
	for (;;) {
		int rc = zmq_poll(items, (int)c->n + 1, SWEEP_SECONDS * 1000);
		if (rc < 0 && zmq_errno() == ETERM)
			break;
		if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
			break;
		for (size_t i = 0; rc > 0 && i < c->n; i++)
			if (items[i + 1].revents & ZMQ_POLLIN)
				drain(c, i);
		time_t now = time(NULL);
		if (now - swept >= SWEEP_SECONDS) {
			sweep(c);
			swept = now;
		}
		log_refusals(c, now);
	}
	return NULL;
}

int connlimit_start(struct connlimit **out, void *zmq, const struct connlimit_listener *l, size_t n,
		    int connections_max)
{
	struct rlimit lim;
	struct connlimit *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (c == NULL || n > CONNLIMIT_LISTENERS_MAX) {
		free(c);
		return c ? XXGK_EINVAL : XXGK_ENOMEM;
	}
	*out = c;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return xxgk_error_from_errno(errno);
	long nofile = lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > (1 << 20)
			  ? 1 << 20
			  : (long)lim.rlim_cur;
	c->n_owner = (size_t)nofile;
	c->owner = malloc(c->n_owner);
	if (c->owner == NULL)
		return XXGK_ENOMEM;
	memset(c->owner, NONE, c->n_owner);
	c->control = zmq_socket(zmq, ZMQ_PAIR);
	c->control_peer = zmq_socket(zmq, ZMQ_PAIR);
	char ep[96];
	snprintf(ep, sizeof(ep), "inproc://connlimit-control-%p", (void *)c);
	if (c->control == NULL || c->control_peer == NULL || zmq_bind(c->control_peer, ep) ||
	    zmq_connect(c->control, ep))
		return XXGK_ENET;
	for (size_t i = 0; i < n; i++) {
		struct listener *m = &c->l[i];
		int unlimited = 0;
		m->name = l[i].name;
		m->connected = l[i].connected;
		listening_address(m, l[i].socket);
		snprintf(ep, sizeof(ep), "inproc://connlimit-%p-%zu", (void *)c, i);
		if (zmq_socket_monitor(l[i].socket, ep,
				       ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0 ||
		    (m->monitor = zmq_socket(zmq, ZMQ_PAIR)) == NULL)
			return XXGK_ENET;
		c->n = i + 1;
		/* a dropped event would miscount: the queue of events is not bounded here */
		zmq_setsockopt(m->monitor, ZMQ_RCVHWM, &unlimited, sizeof(unlimited));
		if (zmq_connect(m->monitor, ep) != 0)
			return XXGK_ENET;
	}
	long in_use = fds_in_use();
	c->cap = connlimit_cap(nofile, in_use, connections_max, n);
	log_info("descriptors: limit %ld, %ld in use: at most %d connections per listener "
		 "(connections_max %d)",
		 nofile, in_use, c->cap, connections_max);
	if (pthread_create(&c->thread, NULL, run, c) != 0)
		return XXGK_ENOMEM;
	c->started = 1;
	return 0;
}

void connlimit_stop(struct connlimit *c)
{
	if (c == NULL)
		return;
	if (c->started) {
		zmq_send(c->control, "", 0, 0);
		pthread_join(c->thread, NULL);
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->l[i].monitor)
			zmq_close(c->l[i].monitor);
	if (c->control)
		zmq_close(c->control);
	if (c->control_peer)
		zmq_close(c->control_peer);
	free(c->owner);
	free(c);
}
