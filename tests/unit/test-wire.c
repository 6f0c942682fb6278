/*
 * The parser sweep: every message of every interface the default profile
 * lets a VM reach, in both directions. For each one a well-formed instance
 * is built from its signature and must pass; then every truncated prefix,
 * every wrong fd count, every string stripped of its NUL and every array
 * running past the end must be rejected, with the expected reason, without
 * a crash and without leaking an fd.
 */
#define _GNU_SOURCE // memfd_create
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "policy.h"
#include "test.h"
#include "wire.h"

#define TARGET_ID 2

static struct wire_policy wp;
static size_t swept_messages, mutations;

static int open_fds(void) {
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d != NULL && readdir(d) != NULL) {
		n++;
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

/* A memfd sealed against shrinking: what both a shm pool and a dmabuf
 * plane may be. */
static int make_fd(void) {
	int fd = memfd_create("sweep", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 4096) != 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
		perror("memfd");
		exit(1);
	}
	return fd;
}

struct built {
	uint32_t words[WIRE_MAX_MESSAGE / 4];
	uint32_t size;
	size_t nfds;
	size_t string_words[WIRE_MAX_ARGS]; // word index of each string's length
	size_t nstrings;
	size_t array_words[WIRE_MAX_ARGS];
	size_t narrays;
};

/*
 * A connection holding the object the message is sent to, plus one object
 * of each interface its arguments refer to; id 3 onwards are arguments.
 */
static bool setup(struct wire_conn *conn, const struct wire_iface_policy *ip,
		const struct wl_message *m, uint32_t *arg_ids) {
	if (!wire_conn_init(conn, &wp)) {
		return false;
	}
	uint32_t version = (uint32_t)ip->proto->wl->version;
	struct wire_object *target = wire_conn_add_object(conn, TARGET_ID,
		ip->proto->wl->name, version);
	if (target == NULL) {
		return false;
	}
	target->pool_size = 4096;
	uint32_t next = TARGET_ID + 1;
	const char *sig = m->signature;
	while (*sig >= '0' && *sig <= '9') {
		sig++;
	}
	size_t arg = 0;
	for (; *sig; sig++) {
		if (*sig == '?') {
			continue;
		}
		arg_ids[arg] = 0;
		if (*sig == 'o') {
			const char *iface = m->types[arg] ? m->types[arg]->name :
				"wl_surface";
			if (wire_conn_add_object(conn, next, iface, 1) == NULL) {
				return false;
			}
			arg_ids[arg] = next++;
		}
		arg++;
	}
	return true;
}

static void put_string(struct built *b, size_t *w, const char *s) {
	size_t len = strlen(s) + 1;
	b->string_words[b->nstrings++] = *w;
	b->words[(*w)++] = (uint32_t)len;
	memset(&b->words[*w], 0, (len + 3) / 4 * 4);
	memcpy(&b->words[*w], s, len);
	*w += (len + 3) / 4;
}

static void build(struct wire_conn *conn, enum wire_side side,
		const struct wire_iface_policy *ip, uint32_t opcode,
		const struct wl_message *m, const uint32_t *arg_ids,
		struct built *b) {
	memset(b, 0, sizeof(*b));
	const char *name = ip->proto->wl->name;
	bool bind = strcmp(name, "wl_registry") == 0 && side == WIRE_CLIENT &&
		opcode == 0;
	bool delete_id = strcmp(name, "wl_display") == 0 &&
		side == WIRE_SERVER && opcode == 1;
	bool resize = strcmp(name, "wl_shm_pool") == 0 && side == WIRE_CLIENT &&
		opcode == 2;
	uint32_t next_new = side == WIRE_CLIENT ? (uint32_t)conn->client_len :
		WIRE_SERVER_ID_START + (uint32_t)conn->server_len;
	size_t w = 2;
	const char *sig = m->signature;
	while (*sig >= '0' && *sig <= '9') {
		sig++;
	}
	size_t arg = 0;
	for (; *sig; sig++) {
		if (*sig == '?') {
			continue;
		}
		switch (*sig) {
		case 'i':
		case 'u':
		case 'f':
			/* 1 is a valid size, offset, width, stride, plane index
			 * and version; bind's name and version, and delete_id's
			 * id, are chosen to exist. */
			b->words[w++] = delete_id ? TARGET_ID : resize ? 4096 : 1;
			break;
		case 's':
			put_string(b, &w, bind ? "wl_compositor" : "a");
			break;
		case 'a':
			b->array_words[b->narrays++] = w;
			b->words[w++] = 4;
			b->words[w++] = 0;
			break;
		case 'o':
			b->words[w++] = arg_ids[arg];
			break;
		case 'n':
			b->words[w++] = next_new++;
			break;
		case 'h':
			b->nfds++;
			break;
		}
		arg++;
	}
	b->size = (uint32_t)w * 4;
	b->words[0] = TARGET_ID;
	b->words[1] = b->size << 16 | opcode;
}

static bool count_emit(void *data, const uint32_t *msg, uint32_t size) {
	(*(size_t *)data)++;
	return true;
}

/* Run one message; returns the verdict and checks the fd queue is empty. */
static enum wire_verdict run(const struct wire_iface_policy *ip,
		enum wire_side side, uint32_t opcode, const struct wl_message *m,
		const struct built *b, uint32_t size, size_t nfds, bool nul_strip,
		struct wire_error *err) {
	struct wire_conn conn;
	uint32_t arg_ids[WIRE_MAX_ARGS];
	if (!setup(&conn, ip, m, arg_ids)) {
		fprintf(stderr, "cannot set up %s.%s\n", ip->proto->wl->name, m->name);
		test_failures++;
		return WIRE_REJECT;
	}
	if (strcmp(ip->proto->wl->name, "wl_registry") == 0 &&
			side == WIRE_CLIENT) {
		/* Advertise global 1 as wl_compositor, so bind(1, ...) is valid. */
		uint32_t global[16];
		struct built g = {0};
		size_t w = 2;
		g.words[w++] = 1;
		put_string(&g, &w, "wl_compositor");
		g.words[w++] = 4;
		memcpy(global, g.words, w * 4);
		global[0] = TARGET_ID;
		global[1] = (uint32_t)(w * 4) << 16 | 0;
		struct wire_fd_queue none, out;
		wire_fd_queue_init(&none);
		wire_fd_queue_init(&out);
		wire_process(&conn, WIRE_SERVER, global, (uint32_t)(w * 4), &none,
			&out, err);
	}
	uint32_t msg[WIRE_MAX_MESSAGE / 4];
	memcpy(msg, b->words, b->size);
	msg[1] = size << 16 | (msg[1] & 0xffff);
	if (nul_strip) {
		/* Replace the NUL of the first string by a printable byte. */
		uint32_t len = msg[b->string_words[0]];
		((char *)&msg[b->string_words[0] + 1])[len - 1] = 'x';
	}
	struct wire_fd_queue in, out;
	wire_fd_queue_init(&in);
	wire_fd_queue_init(&out);
	for (size_t i = 0; i < nfds; i++) {
		wire_fd_queue_push(&in, make_fd());
	}
	size_t consumed, emitted = 0;
	bool ok = wire_process_stream(&conn, side, (uint8_t *)msg, size,
		&consumed, &in, &out, count_emit, &emitted, err);
	wire_fd_queue_clear(&in);
	wire_fd_queue_clear(&out);
	wire_conn_finish(&conn);
	return ok ? WIRE_FORWARD : WIRE_REJECT;
}

static void expect_reject(const char *what, const struct wire_iface_policy *ip,
		const struct wl_message *m, enum wire_verdict v,
		const struct wire_error *err, const char *reason) {
	mutations++;
	if (v != WIRE_REJECT || (reason && strstr(err->message, reason) == NULL)) {
		fprintf(stderr, "%s.%s, %s: expected rejection \"%s\", got %s \"%s\"\n",
			ip->proto->wl->name, m->name, what, reason ? reason : "",
			v == WIRE_REJECT ? "rejection" : "acceptance",
			v == WIRE_REJECT ? err->message : "");
		test_failures++;
	}
}

static void sweep_message(const struct wire_iface_policy *ip,
		enum wire_side side, uint32_t opcode) {
	const struct wl_interface *wl = ip->proto->wl;
	const struct wl_message *m = side == WIRE_CLIENT ? &wl->methods[opcode] :
		&wl->events[opcode];
	struct wire_conn conn;
	uint32_t arg_ids[WIRE_MAX_ARGS];
	if (!setup(&conn, ip, m, arg_ids)) {
		fprintf(stderr, "cannot set up %s.%s\n", wl->name, m->name);
		test_failures++;
		return;
	}
	struct built b;
	build(&conn, side, ip, opcode, m, arg_ids, &b);
	wire_conn_finish(&conn);
	struct wire_error err;
	swept_messages++;

	enum wire_verdict v = run(ip, side, opcode, m, &b, b.size, b.nfds, false,
		&err);
	if (v == WIRE_REJECT && !(ip->denied_requests & (1ull << opcode))) {
		fprintf(stderr, "%s.%s (%s): a well-formed message was rejected: %s\n",
			wl->name, m->name, side == WIRE_CLIENT ? "request" : "event",
			err.message);
		test_failures++;
		return;
	}

	for (uint32_t cut = WIRE_HEADER_SIZE; cut < b.size; cut += 4) {
		v = run(ip, side, opcode, m, &b, cut, b.nfds, false, &err);
		expect_reject("truncated", ip, m, v, &err, NULL);
	}
	for (size_t nfds = 0; nfds <= b.nfds + 1; nfds++) {
		if (nfds == b.nfds) {
			continue;
		}
		v = run(ip, side, opcode, m, &b, b.size, nfds, false, &err);
		expect_reject("wrong fd count", ip, m, v, &err,
			nfds < b.nfds ? "none was sent" : "take none");
	}
	if (b.nstrings > 0) {
		v = run(ip, side, opcode, m, &b, b.size, b.nfds, true, &err);
		expect_reject("string without NUL", ip, m, v, &err,
			"not NUL-terminated");
	}
	for (size_t i = 0; i < b.narrays; i++) {
		struct built over = b;
		over.words[b.array_words[i]] = 0xfffffff0u;
		v = run(ip, side, opcode, m, &over, b.size, b.nfds, false, &err);
		expect_reject("array overrun", ip, m, v, &err, "runs past the message");
	}
}

/* Sizes at and around the limits, and ids near UINT32_MAX. */
static void test_boundaries(void) {
	struct wire_conn conn;
	CHECK(wire_conn_init(&conn, &wp));
	struct wire_error err;
	CHECK(!wire_check_size(0, &err));
	CHECK(!wire_check_size(7, &err));
	CHECK(!wire_check_size(9, &err));
	CHECK(wire_check_size(8, &err));
	CHECK(wire_check_size(4096, &err));
	CHECK(!wire_check_size(4100, &err));
	CHECK(!wire_check_size(0xffff, &err));

	struct wire_fd_queue in, out;
	wire_fd_queue_init(&in);
	wire_fd_queue_init(&out);
	uint32_t msg[3] = { 0xffffffffu, 12u << 16, 2 };
	CHECK(wire_process(&conn, WIRE_CLIENT, msg, 12, &in, &out, &err) ==
		WIRE_REJECT);
	uint32_t sync[3] = { 1, 12u << 16, 0xfeffffffu };
	CHECK(wire_process(&conn, WIRE_CLIENT, sync, 12, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "skips ahead") != NULL);
	sync[2] = 2;
	CHECK(wire_process(&conn, WIRE_CLIENT, sync, 12, &in, &out, &err) ==
		WIRE_FORWARD);

	/* A stream of two messages and half of a third. */
	uint32_t stream[8] = {
		1, 12u << 16, 3,
		1, 12u << 16, 4,
		1, 12u << 16,
	};
	size_t consumed, emitted = 0;
	CHECK(wire_process_stream(&conn, WIRE_CLIENT, (uint8_t *)stream,
		sizeof(stream), &consumed, &in, &out, count_emit, &emitted, &err));
	CHECK(consumed == 24 && emitted == 2);
	wire_conn_finish(&conn);
}

/* Object bookkeeping: zombies, delete_id, reuse, server ids. */
static void test_lifetimes(void) {
	struct wire_conn conn;
	CHECK(wire_conn_init(&conn, &wp));
	struct wire_fd_queue in, out;
	wire_fd_queue_init(&in);
	wire_fd_queue_init(&out);
	struct wire_error err;

	uint32_t sync[3] = { 1, 12u << 16, 2 };
	CHECK(wire_process(&conn, WIRE_CLIENT, sync, 12, &in, &out, &err) ==
		WIRE_FORWARD);
	/* wl_callback.done is a destructor event: the id stays taken... */
	uint32_t done[3] = { 2, 12u << 16 | 0, 0 };
	CHECK(wire_process(&conn, WIRE_SERVER, done, 12, &in, &out, &err) ==
		WIRE_FORWARD);
	CHECK(wire_process(&conn, WIRE_CLIENT, sync, 12, &in, &out, &err) ==
		WIRE_REJECT);
	/* ...until the compositor's delete_id frees it. */
	uint32_t delete_id[3] = { 1, 12u << 16 | 1, 2 };
	CHECK(wire_process(&conn, WIRE_SERVER, delete_id, 12, &in, &out, &err) ==
		WIRE_FORWARD);
	CHECK(wire_process(&conn, WIRE_CLIENT, sync, 12, &in, &out, &err) ==
		WIRE_FORWARD);
	/* delete_id of something that is not a client object is a lie. */
	delete_id[2] = 77;
	CHECK(wire_process(&conn, WIRE_SERVER, delete_id, 12, &in, &out, &err) ==
		WIRE_REJECT);
	delete_id[2] = 1;
	CHECK(wire_process(&conn, WIRE_SERVER, delete_id, 12, &in, &out, &err) ==
		WIRE_REJECT);
	wire_conn_finish(&conn);
}

/* Policy resolution: reachability and deny rules. */
static void test_policy(void) {
	const struct wire_protocol_interface *touch = wire_protocol_find("wl_touch");
	const struct wire_protocol_interface *screencopy =
		wire_protocol_find("zwlr_screencopy_manager_v1");
	CHECK(touch != NULL);
	CHECK(screencopy == NULL); // not even known to the proxy
	size_t i = (size_t)(touch - wire_protocol_interfaces);
	CHECK(wp.ifaces[i].reachable);

	/* Denying wl_seat.get_touch makes wl_touch unreachable. */
	char path[] = "/tmp/prism-wire-test-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "wl_seat 7\ndeny wl_seat.get_touch\n";
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct policy profile;
	char err[256];
	CHECK(policy_load(&profile, path, err, sizeof(err)));
	struct wire_policy strict;
	struct wire_limits limits = { .max_objects = 100, .max_shm_pool = 1 << 20 };
	CHECK(wire_policy_init(&strict, &profile, &limits, err, sizeof(err)));
	CHECK(!strict.ifaces[i].reachable);
	const struct wire_protocol_interface *kb = wire_protocol_find("wl_keyboard");
	CHECK(strict.ifaces[kb - wire_protocol_interfaces].reachable);
	const struct wire_protocol_interface *surface =
		wire_protocol_find("wl_surface");
	CHECK(!strict.ifaces[surface - wire_protocol_interfaces].reachable);

	/* An object of an unreachable interface cannot be made to exist. */
	struct wire_conn conn;
	CHECK(wire_conn_init(&conn, &strict));
	struct wire_object *seat = wire_conn_add_object(&conn, 2, "wl_seat", 7);
	CHECK(seat != NULL);
	struct wire_fd_queue in, out;
	wire_fd_queue_init(&in);
	wire_fd_queue_init(&out);
	struct wire_error werr;
	uint32_t get_touch[3] = { 2, 12u << 16 | 2, 3 };
	CHECK(wire_process(&conn, WIRE_CLIENT, get_touch, 12, &in, &out, &werr) ==
		WIRE_REJECT);
	/* Nor sneak in as an event. */
	wire_conn_finish(&conn);
	wire_policy_finish(&strict);
	policy_finish(&profile);
	unlink(path);
}

/* linux-dmabuf params: plane index below 4, each plane once, fd present. */
static void test_dmabuf_params(void) {
	struct wire_conn conn;
	CHECK(wire_conn_init(&conn, &wp));
	CHECK(wire_conn_add_object(&conn, 2, "zwp_linux_buffer_params_v1", 3));
	struct wire_fd_queue in, out;
	wire_fd_queue_init(&in);
	wire_fd_queue_init(&out);
	struct wire_error err;
	/* add(fd, plane_idx, offset, stride, modifier_hi, modifier_lo) */
	uint32_t add[7] = { 2, 28u << 16 | 1, 0, 0, 256, 0, 0 };
	wire_fd_queue_push(&in, make_fd());
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_FORWARD);
	wire_fd_queue_push(&in, make_fd());
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "set twice") != NULL);
	add[2] = 4;
	wire_fd_queue_push(&in, make_fd());
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "not below 4") != NULL);
	/* A plane that could shrink under the compositor's mapping, or that
	 * is no memory at all. */
	add[2] = 1;
	int unsealed = memfd_create("unsealed", MFD_CLOEXEC);
	CHECK(unsealed >= 0 && ftruncate(unsealed, 4096) == 0);
	wire_fd_queue_push(&in, unsealed);
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "sealed against shrinking") != NULL);
	int pipefd[2];
	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	close(pipefd[1]);
	wire_fd_queue_push(&in, pipefd[0]);
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "neither a dmabuf nor a memfd") != NULL);
	CHECK(wire_process(&conn, WIRE_CLIENT, add, 28, &in, &out, &err) ==
		WIRE_REJECT);
	CHECK(strstr(err.message, "none was sent") != NULL);
	CHECK(in.len == 0);
	wire_fd_queue_clear(&out);
	wire_conn_finish(&conn);
}

int main(void) {
	char path[512];
	snprintf(path, sizeof(path), "%s/allowlist/default.conf",
		getenv("PRISM_DATA_DIR"));
	struct policy profile;
	char err[512];
	if (!policy_load(&profile, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct wire_limits limits = {
		.max_objects = 1000,
		.max_shm_pool = 1 << 20,
	};
	if (!wire_policy_init(&wp, &profile, &limits, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	policy_finish(&profile);

	int fds_before = open_fds();
	size_t interfaces = 0;
	for (size_t i = 0; i < wire_protocol_interfaces_len; i++) {
		const struct wire_iface_policy *ip = &wp.ifaces[i];
		if (!ip->reachable) {
			continue;
		}
		interfaces++;
		for (int op = 0; op < ip->proto->wl->method_count; op++) {
			sweep_message(ip, WIRE_CLIENT, (uint32_t)op);
		}
		for (int op = 0; op < ip->proto->wl->event_count; op++) {
			sweep_message(ip, WIRE_SERVER, (uint32_t)op);
		}
	}
	int fds_after = open_fds();
	CHECK(fds_before == fds_after);
	CHECK(interfaces >= 20);
	printf("swept %zu messages of %zu interfaces, %zu malformed variants "
		"rejected; fds %d before, %d after\n", swept_messages, interfaces,
		mutations, fds_before, fds_after);

	test_boundaries();
	test_lifetimes();
	test_policy();
	test_dmabuf_params();
	CHECK(open_fds() == fds_before);
	wire_policy_finish(&wp);
	return TEST_RESULT();
}
