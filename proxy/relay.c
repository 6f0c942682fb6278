#define _GNU_SOURCE // accept4, MSG_CMSG_CLOEXEC
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "connector.h"
#include "relay.h"
#include "sandbox.h"

/* Room for a few messages; a partial message is always under 4096 bytes. */
#define IN_BUF_BYTES (4 * WIRE_MAX_MESSAGE)
#define MAX_EVENTS 64

enum endpoint_kind {
	ENDPOINT_LISTEN,
	ENDPOINT_CONNECTOR,
	ENDPOINT_SIGNAL,
	ENDPOINT_GUEST,
	ENDPOINT_UPSTREAM,
};

struct endpoint {
	enum endpoint_kind kind;
	struct relay_conn *conn;
};

/* One direction: bytes read from its source, validated bytes for its sink. */
struct relay_dir {
	uint32_t in[IN_BUF_BYTES / 4];
	size_t in_len; // bytes
	struct wire_fd_queue in_fds;
	uint8_t *out;
	size_t out_len, out_cap;
	struct wire_fd_queue out_fds;
};

struct relay_conn {
	struct relay *relay;
	struct relay_conn *prev, *next;
	uint32_t serial; // for the connector
	uint32_t client_id; // for log lines; prism's number in prism mode
	bool running; // has its upstream
	bool dead; // closed; freed at the end of the event batch
	int guest_fd, upstream_fd;
	struct endpoint guest_ep, upstream_ep;
	uint32_t guest_mask, upstream_mask; // epoll interest now
	struct relay_dir requests; // guest -> compositor
	struct relay_dir events; // compositor -> guest
	struct wire_conn wire;
};

struct relay {
	struct relay_options opts;
	const struct wire_policy *policy;
	int epoll_fd;
	int signal_fd;
	struct endpoint listen_ep, connector_ep, signal_ep;
	struct relay_conn *conns;
	size_t conns_len;
	struct relay_conn *dead; // closed connections, linked through next
	uint32_t next_serial, next_client_id;
	bool running;
	int status;
};

__attribute__((format(printf, 2, 3)))
static void conn_log(struct relay_conn *conn, const char *fmt, ...) {
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "prism-proxy: vm=%s client=%u: %s\n",
		conn->relay->opts.vm_name, conn->client_id, buf);
}

static bool epoll_add(struct relay *relay, int fd, uint32_t mask,
		struct endpoint *ep) {
	struct epoll_event ev = { .events = mask, .data.ptr = ep };
	return epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

static void dir_init(struct relay_dir *d) {
	d->in_len = 0;
	wire_fd_queue_init(&d->in_fds);
	d->out = NULL;
	d->out_len = d->out_cap = 0;
	wire_fd_queue_init(&d->out_fds);
}

static void dir_finish(struct relay_dir *d) {
	wire_fd_queue_clear(&d->in_fds);
	wire_fd_queue_clear(&d->out_fds);
	free(d->out);
	d->out = NULL;
}

static bool dir_queue(struct relay_dir *d, const void *bytes, size_t len) {
	if (d->out_len + len > d->out_cap) {
		size_t cap = d->out_cap ? d->out_cap : 4096;
		while (cap < d->out_len + len) {
			cap *= 2;
		}
		uint8_t *grown = realloc(d->out, cap);
		if (grown == NULL) {
			return false;
		}
		d->out = grown;
		d->out_cap = cap;
	}
	memcpy(d->out + d->out_len, bytes, len);
	d->out_len += len;
	return true;
}

/*
 * Close a connection. Its memory lives until the end of the current event
 * batch, which may still hold events for it.
 */
static void conn_destroy(struct relay_conn *conn) {
	struct relay *relay = conn->relay;
	if (conn->dead) {
		return;
	}
	conn->dead = true;
	if (conn->guest_fd >= 0) {
		epoll_ctl(relay->epoll_fd, EPOLL_CTL_DEL, conn->guest_fd, NULL);
		close(conn->guest_fd);
	}
	if (conn->upstream_fd >= 0) {
		epoll_ctl(relay->epoll_fd, EPOLL_CTL_DEL, conn->upstream_fd, NULL);
		close(conn->upstream_fd);
	}
	dir_finish(&conn->requests);
	dir_finish(&conn->events);
	wire_conn_finish(&conn->wire);
	if (conn->prev != NULL) {
		conn->prev->next = conn->next;
	} else {
		relay->conns = conn->next;
	}
	if (conn->next != NULL) {
		conn->next->prev = conn->prev;
	}
	relay->conns_len--;
	conn->next = relay->dead;
	relay->dead = conn;
}

static void relay_bury(struct relay *relay) {
	while (relay->dead != NULL) {
		struct relay_conn *conn = relay->dead;
		relay->dead = conn->next;
		free(conn);
	}
}

/*
 * Send what is queued, at most WIRE_MAX_FDS_OUT fds with each sendmsg as
 * libwayland expects. Returns false when the socket failed.
 */
static bool dir_flush(int fd, struct relay_dir *d) {
	while (d->out_len > 0) {
		size_t nfds = d->out_fds.len < WIRE_MAX_FDS_OUT ?
			d->out_fds.len : WIRE_MAX_FDS_OUT;
		union {
			char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS_OUT)];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = d->out, .iov_len = d->out_len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (nfds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			int *fds = (int *)CMSG_DATA(cmsg);
			for (size_t i = 0; i < nfds; i++) {
				fds[i] = d->out_fds.fds[(d->out_fds.head + i) %
					WIRE_FD_QUEUE_MAX];
			}
		}
		ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		/* The fds went with the first byte: the receiver has them. */
		for (size_t i = 0; i < nfds; i++) {
			close(wire_fd_queue_pop(&d->out_fds));
		}
		memmove(d->out, d->out + n, d->out_len - (size_t)n);
		d->out_len -= (size_t)n;
	}
	return true;
}

static void conn_update_mask(struct relay_conn *conn) {
	struct relay *relay = conn->relay;
	size_t limit = relay->opts.max_buffer;
	uint32_t guest = 0, upstream = 0;
	if (conn->running) {
		/* Backpressure: stop reading a side while its peer lags. */
		if (conn->requests.out_len < limit) {
			guest |= EPOLLIN;
		}
		upstream |= EPOLLIN; // a guest that lags is cut off, not waited for
		if (conn->events.out_len > 0) {
			guest |= EPOLLOUT;
		}
		if (conn->requests.out_len > 0) {
			upstream |= EPOLLOUT;
		}
	}
	if (guest != conn->guest_mask) {
		struct epoll_event ev = { .events = guest, .data.ptr = &conn->guest_ep };
		epoll_ctl(relay->epoll_fd, EPOLL_CTL_MOD, conn->guest_fd, &ev);
		conn->guest_mask = guest;
	}
	if (conn->upstream_fd >= 0 && upstream != conn->upstream_mask) {
		struct epoll_event ev = {
			.events = upstream,
			.data.ptr = &conn->upstream_ep,
		};
		epoll_ctl(relay->epoll_fd, EPOLL_CTL_MOD, conn->upstream_fd, &ev);
		conn->upstream_mask = upstream;
	}
}

/* Send the guest wl_display.error, close its upstream at once, hang up. */
static void conn_cut(struct relay_conn *conn, const struct wire_error *err) {
	if (conn->upstream_fd >= 0) {
		epoll_ctl(conn->relay->epoll_fd, EPOLL_CTL_DEL, conn->upstream_fd,
			NULL);
		close(conn->upstream_fd);
		conn->upstream_fd = -1;
	}
	uint32_t buf[(sizeof(err->message) + 32) / 4];
	size_t len = wire_build_display_error(err, buf, sizeof(buf) / 4);
	/* Whatever events were already queued stay in front, so the stream
	 * stays well-formed up to the error; then the guest is cut off. */
	if (len > 0 && dir_queue(&conn->events, buf, len)) {
		dir_flush(conn->guest_fd, &conn->events);
	}
	conn_destroy(conn);
}

/*
 * The guest broke the rules: it gets wl_display.error naming the object and
 * the reason, its upstream is closed at once, and it is disconnected.
 */
static void conn_fail_guest(struct relay_conn *conn,
		const struct wire_error *err) {
	conn_log(conn, "%s", err->message);
	if (conn->relay->opts.connector_fd >= 0) {
		/* prism counts denials per VM, for prismctl vms. */
		struct connector_msg msg = {
			.type = CONNECTOR_DENIAL,
			.serial = conn->serial,
			.client_id = conn->client_id,
		};
		send(conn->relay->opts.connector_fd, &msg, sizeof(msg),
			MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	conn_cut(conn, err);
}

/* The compositor sent something invalid: a compositor bug, or worse. */
static void conn_fail_upstream(struct relay_conn *conn,
		const struct wire_error *err) {
	conn_log(conn, "the compositor sent an invalid event: %s", err->message);
	struct wire_error guest_err = *err;
	guest_err.object = 1;
	guest_err.code = WIRE_ERROR_IMPLEMENTATION;
	snprintf(guest_err.message, sizeof(guest_err.message),
		"prism-proxy: the compositor sent an invalid event");
	conn_cut(conn, &guest_err);
}

enum recv_result {
	RECV_OK,
	RECV_AGAIN,
	RECV_EOF,
	RECV_ERROR,
};

static enum recv_result dir_recv(int fd, struct relay_dir *d,
		size_t max_fds, struct wire_error *err) {
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS_OUT)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {
		.iov_base = (uint8_t *)d->in + d->in_len,
		.iov_len = sizeof(d->in) - d->in_len,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return RECV_AGAIN;
		}
		snprintf(err->message, sizeof(err->message), "recvmsg: %s",
			strerror(errno));
		return RECV_ERROR;
	}
	bool overflow = false, strange = false;
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
			cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
			strange = true;
			continue;
		}
		size_t nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cmsg);
		for (size_t i = 0; i < nfds; i++) {
			if (!wire_fd_queue_push(&d->in_fds, fds[i])) {
				close(fds[i]);
				overflow = true;
			}
		}
	}
	/* A truncated control message means fds were lost on the way in:
	 * nothing after this point could be trusted to pair up. */
	if (msg.msg_flags & MSG_CTRUNC) {
		snprintf(err->message, sizeof(err->message),
			"control data truncated (more than %d fds at once)",
			WIRE_MAX_FDS_OUT);
		return RECV_ERROR;
	}
	if (overflow || d->in_fds.len > max_fds) {
		snprintf(err->message, sizeof(err->message),
			"more than %zu fds in flight (limit)", max_fds);
		return RECV_ERROR;
	}
	if (strange) {
		snprintf(err->message, sizeof(err->message), "unexpected control data");
		return RECV_ERROR;
	}
	if (n == 0) {
		return RECV_EOF;
	}
	d->in_len += (size_t)n;
	return RECV_OK;
}

static bool emit_to_dir(void *data, const uint32_t *msg, uint32_t size) {
	return dir_queue(data, msg, size);
}

/* Validate every complete message received in d; queue the good ones. */
static bool dir_process(struct relay_conn *conn, enum wire_side side,
		struct relay_dir *d, struct wire_error *err) {
	size_t consumed;
	uint8_t *bytes = (uint8_t *)d->in;
	bool ok = wire_process_stream(&conn->wire, side, bytes, d->in_len,
		&consumed, &d->in_fds, &d->out_fds, emit_to_dir, d, err);
	memmove(bytes, bytes + consumed, d->in_len - consumed);
	d->in_len -= consumed;
	return ok;
}

static void conn_handle_guest(struct relay_conn *conn, uint32_t events) {
	struct wire_error err = { .object = 1, .code = WIRE_ERROR_INVALID_METHOD };
	if (events & EPOLLIN) {
		switch (dir_recv(conn->guest_fd, &conn->requests,
				conn->relay->opts.max_fds_in_flight, &err)) {
		case RECV_AGAIN:
			break;
		case RECV_EOF:
			conn_destroy(conn);
			return;
		case RECV_ERROR:
			conn_fail_guest(conn, &err);
			return;
		case RECV_OK:
			if (!dir_process(conn, WIRE_CLIENT, &conn->requests, &err)) {
				conn_fail_guest(conn, &err);
				return;
			}
			if (!dir_flush(conn->upstream_fd, &conn->requests)) {
				conn_log(conn, "the compositor went away");
				conn_destroy(conn);
				return;
			}
			break;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		conn_destroy(conn);
		return;
	}
	if ((events & EPOLLOUT) && !dir_flush(conn->guest_fd, &conn->events)) {
		conn_destroy(conn);
		return;
	}
	conn_update_mask(conn);
}

static void conn_handle_upstream(struct relay_conn *conn, uint32_t events) {
	struct wire_error err = { .object = 1, .code = WIRE_ERROR_IMPLEMENTATION };
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		enum recv_result r = dir_recv(conn->upstream_fd, &conn->events,
			WIRE_FD_QUEUE_MAX, &err);
		if (r == RECV_ERROR) {
			conn_fail_upstream(conn, &err);
			return;
		}
		if (r == RECV_OK && !dir_process(conn, WIRE_SERVER, &conn->events,
				&err)) {
			conn_fail_upstream(conn, &err);
			return;
		}
		if (r == RECV_EOF || (r == RECV_AGAIN && !(events & EPOLLIN))) {
			/* The compositor closed the client, usually after a
			 * wl_display.error: deliver what it said, then hang up. */
			dir_flush(conn->guest_fd, &conn->events);
			conn_destroy(conn);
			return;
		}
		if (!dir_flush(conn->guest_fd, &conn->events)) {
			conn_destroy(conn);
			return;
		}
		/* A guest that does not read its events would make the
		 * compositor's queue grow without end: past the limit it is cut
		 * off, and nobody else waits for it. */
		if (conn->events.out_len > conn->relay->opts.max_buffer) {
			conn_log(conn, "stopped reading its events (%zu bytes queued, "
				"limit %zu); disconnecting", conn->events.out_len,
				conn->relay->opts.max_buffer);
			conn_destroy(conn);
			return;
		}
	}
	if ((events & EPOLLOUT) && !dir_flush(conn->upstream_fd, &conn->requests)) {
		conn_destroy(conn);
		return;
	}
	conn_update_mask(conn);
}

static bool set_nonblock(int fd) {
	int flags = fcntl(fd, F_GETFL);
	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

static bool conn_start(struct relay_conn *conn, int upstream_fd,
		uint32_t client_id) {
	struct relay *relay = conn->relay;
	if (!set_nonblock(upstream_fd)) {
		close(upstream_fd);
		return false;
	}
	conn->upstream_fd = upstream_fd;
	conn->client_id = client_id;
	conn->upstream_mask = 0;
	if (!epoll_add(relay, upstream_fd, 0, &conn->upstream_ep)) {
		return false;
	}
	conn->running = true;
	conn_update_mask(conn);
	return true;
}

static int connect_upstream(const char *path) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void relay_accept(struct relay *relay) {
	int fd = accept4(relay->opts.listen_fd, NULL, NULL,
		SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		return;
	}
	if (relay->conns_len >= relay->opts.max_connections) {
		fprintf(stderr, "prism-proxy: vm=%s: refusing a connection: "
			"%zu connections is the limit\n", relay->opts.vm_name,
			relay->opts.max_connections);
		close(fd);
		return;
	}
	struct relay_conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL || !wire_conn_init(&conn->wire, relay->policy)) {
		free(conn);
		close(fd);
		return;
	}
	conn->relay = relay;
	conn->guest_fd = fd;
	conn->upstream_fd = -1;
	conn->serial = ++relay->next_serial;
	conn->guest_ep = (struct endpoint){ ENDPOINT_GUEST, conn };
	conn->upstream_ep = (struct endpoint){ ENDPOINT_UPSTREAM, conn };
	dir_init(&conn->requests);
	dir_init(&conn->events);
	conn->next = relay->conns;
	if (relay->conns != NULL) {
		relay->conns->prev = conn;
	}
	relay->conns = conn;
	relay->conns_len++;

	/* Not read from until it has an upstream: nothing is buffered for a
	 * guest the compositor does not know about yet. */
	if (!epoll_add(relay, fd, 0, &conn->guest_ep)) {
		conn_destroy(conn);
		return;
	}
	if (relay->opts.connector_fd >= 0) {
		struct connector_msg msg = {
			.type = CONNECTOR_CONNECT,
			.serial = conn->serial,
		};
		if (send(relay->opts.connector_fd, &msg, sizeof(msg),
				MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(msg)) {
			conn_destroy(conn);
		}
		return;
	}
	int upstream = connect_upstream(relay->opts.upstream_path);
	if (upstream < 0) {
		fprintf(stderr, "prism-proxy: cannot connect to %s: %s\n",
			relay->opts.upstream_path, strerror(errno));
		conn_destroy(conn);
		return;
	}
	if (!conn_start(conn, upstream, ++relay->next_client_id)) {
		conn_destroy(conn);
	}
}

static struct relay_conn *conn_by_serial(struct relay *relay, uint32_t serial) {
	for (struct relay_conn *c = relay->conns; c != NULL; c = c->next) {
		if (c->serial == serial) {
			return c;
		}
	}
	return NULL;
}

/* prism's answer: the upstream end of a client it has just tagged. */
static bool relay_handle_connector(struct relay *relay) {
	struct connector_msg msg;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(relay->opts.connector_fd, &mh,
		MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		return errno == EAGAIN || errno == EINTR;
	}
	int fd = -1;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
			cmsg->cmsg_type == SCM_RIGHTS &&
			cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	}
	if (n == 0) {
		fprintf(stderr, "prism-proxy: vm=%s: prism closed the connector\n",
			relay->opts.vm_name);
		return false;
	}
	struct relay_conn *conn = n == sizeof(msg) ?
		conn_by_serial(relay, msg.serial) : NULL;
	if (conn == NULL || conn->running) {
		if (fd >= 0) {
			close(fd);
		}
		return true;
	}
	if (msg.type != CONNECTOR_UPSTREAM || fd < 0) {
		conn->client_id = msg.client_id;
		conn_log(conn, "prism refused the connection");
		conn_destroy(conn);
		if (fd >= 0) {
			close(fd);
		}
		return true;
	}
	if (!conn_start(conn, fd, msg.client_id)) {
		conn_destroy(conn);
	}
	return true;
}

struct relay *relay_create(const struct relay_options *options,
		const struct wire_policy *policy) {
	struct relay *relay = calloc(1, sizeof(*relay));
	if (relay == NULL) {
		return NULL;
	}
	relay->opts = *options;
	relay->policy = policy;
	relay->signal_fd = -1;
	relay->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (relay->epoll_fd < 0) {
		free(relay);
		return NULL;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (options->selftest_forbidden != NULL) {
		sigaddset(&mask, SIGUSR1);
	}
	sigprocmask(SIG_BLOCK, &mask, NULL);
	relay->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);

	relay->listen_ep = (struct endpoint){ ENDPOINT_LISTEN, NULL };
	relay->connector_ep = (struct endpoint){ ENDPOINT_CONNECTOR, NULL };
	relay->signal_ep = (struct endpoint){ ENDPOINT_SIGNAL, NULL };
	if (relay->signal_fd < 0 ||
			!set_nonblock(options->listen_fd) ||
			!epoll_add(relay, options->listen_fd, EPOLLIN, &relay->listen_ep) ||
			!epoll_add(relay, relay->signal_fd, EPOLLIN, &relay->signal_ep) ||
			(options->connector_fd >= 0 &&
			!epoll_add(relay, options->connector_fd, EPOLLIN,
				&relay->connector_ep))) {
		relay_destroy(relay);
		return NULL;
	}
	return relay;
}

size_t relay_fds(const struct relay *relay, int *fds, size_t max) {
	int all[] = {
		relay->epoll_fd, relay->signal_fd, relay->opts.listen_fd,
		relay->opts.connector_fd,
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++) {
		if (all[i] >= 0) {
			fds[n++] = all[i];
		}
	}
	return n;
}

int relay_run(struct relay *relay) {
	relay->running = true;
	struct epoll_event events[MAX_EVENTS];
	while (relay->running) {
		int n = epoll_wait(relay->epoll_fd, events, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("prism-proxy: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n && relay->running; i++) {
			struct endpoint *ep = events[i].data.ptr;
			uint32_t ev = events[i].events;
			switch (ep->kind) {
			case ENDPOINT_LISTEN:
				if (ev & (EPOLLHUP | EPOLLERR)) {
					relay->running = false;
					relay->status = 1;
				} else {
					relay_accept(relay);
				}
				break;
			case ENDPOINT_CONNECTOR:
				if (!relay_handle_connector(relay)) {
					relay->running = false;
				}
				break;
			case ENDPOINT_SIGNAL: {
				struct signalfd_siginfo info;
				if (read(relay->signal_fd, &info, sizeof(info)) ==
						sizeof(info) && info.ssi_signo == SIGUSR1 &&
						relay->opts.selftest_forbidden != NULL) {
					sandbox_try_forbidden(relay->opts.selftest_forbidden);
					break;
				}
				relay->running = false;
				break;
			}
			case ENDPOINT_GUEST:
				if (!ep->conn->dead) {
					conn_handle_guest(ep->conn, ev);
				}
				break;
			case ENDPOINT_UPSTREAM:
				if (!ep->conn->dead) {
					conn_handle_upstream(ep->conn, ev);
				}
				break;
			}
		}
		relay_bury(relay);
	}
	return relay->status;
}

void relay_destroy(struct relay *relay) {
	if (relay == NULL) {
		return;
	}
	while (relay->conns != NULL) {
		conn_destroy(relay->conns);
	}
	relay_bury(relay);
	if (relay->signal_fd >= 0) {
		close(relay->signal_fd);
	}
	close(relay->epoll_fd);
	free(relay);
}
