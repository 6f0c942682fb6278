#define _GNU_SOURCE // F_GET_SEALS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fdcheck.h"
#include "wire.h"

/* Some wire messages whose arguments the proxy checks beyond their types. */
enum {
	DISPLAY_SYNC = 0,
	DISPLAY_GET_REGISTRY = 1,
	DISPLAY_EVENT_ERROR = 0,
	DISPLAY_EVENT_DELETE_ID = 1,
	REGISTRY_BIND = 0,
	REGISTRY_EVENT_GLOBAL = 0,
	REGISTRY_EVENT_GLOBAL_REMOVE = 1,
	SHM_CREATE_POOL = 0,
	SHM_POOL_CREATE_BUFFER = 0,
	SHM_POOL_RESIZE = 2,
	BUFFER_PARAMS_ADD = 1,
};

#define WL_DISPLAY_ID 1u

const struct wire_protocol_interface *wire_protocol_find(const char *name) {
	for (size_t i = 0; i < wire_protocol_interfaces_len; i++) {
		if (strcmp(wire_protocol_interfaces[i].wl->name, name) == 0) {
			return &wire_protocol_interfaces[i];
		}
	}
	return NULL;
}

__attribute__((format(printf, 4, 5)))
static enum wire_verdict reject(struct wire_error *err, uint32_t object,
		uint32_t code, const char *fmt, ...) {
	err->object = object;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return WIRE_REJECT;
}

/* The since-version prefix of a signature ("2uo" -> 2). */
static uint32_t message_since(const char *signature, const char **rest) {
	uint32_t since = 0;
	while (*signature >= '0' && *signature <= '9') {
		since = since * 10 + (uint32_t)(*signature - '0');
		signature++;
	}
	*rest = signature;
	return since ? since : 1;
}

static size_t policy_index(const struct wire_protocol_interface *proto) {
	return (size_t)(proto - wire_protocol_interfaces);
}

static struct wire_iface_policy *policy_for(const struct wire_policy *wp,
		const struct wl_interface *wl) {
	if (wl == NULL) {
		return NULL;
	}
	const struct wire_protocol_interface *proto = wire_protocol_find(wl->name);
	return proto ? &wp->ifaces[policy_index(proto)] : NULL;
}

static bool apply_profile(struct wire_policy *wp, const struct policy *profile,
		char *err, size_t err_size) {
	for (size_t i = 0; i < profile->ifaces_len; i++) {
		const struct policy_iface *pi = &profile->ifaces[i];
		const struct wire_protocol_interface *proto =
			wire_protocol_find(pi->name);
		if (proto == NULL) {
			snprintf(err, err_size, "%s:%d: prism-proxy has no protocol "
				"description of %s", profile->path, pi->line, pi->name);
			return false;
		}
		struct wire_iface_policy *ip = &wp->ifaces[policy_index(proto)];
		ip->global_version = pi->version < (uint32_t)proto->wl->version ?
			pi->version : (uint32_t)proto->wl->version;
		for (size_t d = 0; d < pi->denied_len; d++) {
			int opcode = -1;
			for (int m = 0; m < proto->wl->method_count; m++) {
				if (strcmp(proto->wl->methods[m].name, pi->denied[d]) == 0) {
					opcode = m;
				}
			}
			if (opcode < 0) {
				snprintf(err, err_size, "%s:%d: %s has no request named %s",
					profile->path, pi->denied_lines[d], pi->name,
					pi->denied[d]);
				return false;
			}
			ip->denied_requests |= 1ull << opcode;
		}
	}
	return true;
}

/*
 * What may exist: wl_display, the allowed globals, and every interface
 * their (non-denied) messages can create, transitively. Anything else
 * cannot come to exist on a connection under this policy.
 */
static void compute_reachable(struct wire_policy *wp) {
	for (size_t i = 0; i < wire_protocol_interfaces_len; i++) {
		if (wp->ifaces[i].global_version > 0) {
			wp->ifaces[i].reachable = true;
		}
	}
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < wire_protocol_interfaces_len; i++) {
			struct wire_iface_policy *ip = &wp->ifaces[i];
			if (!ip->reachable) {
				continue;
			}
			const struct wl_interface *wl = ip->proto->wl;
			for (int dir = 0; dir < 2; dir++) {
				int n = dir == 0 ? wl->method_count : wl->event_count;
				const struct wl_message *msgs = dir == 0 ? wl->methods :
					wl->events;
				for (int m = 0; m < n; m++) {
					if (dir == 0 && (ip->denied_requests & (1ull << m))) {
						continue;
					}
					const char *sig;
					message_since(msgs[m].signature, &sig);
					int arg = 0;
					for (; *sig; sig++) {
						if (*sig == '?') {
							continue;
						}
						if (*sig == 'n' && msgs[m].types[arg] != NULL) {
							struct wire_iface_policy *child = policy_for(wp,
								msgs[m].types[arg]);
							if (child != NULL && !child->reachable) {
								child->reachable = true;
								changed = true;
							}
						}
						arg++;
					}
				}
			}
		}
	}
}

bool wire_policy_init(struct wire_policy *wp, const struct policy *profile,
		const struct wire_limits *limits, char *err, size_t err_size) {
	wp->limits = *limits;
	wp->ifaces = calloc(wire_protocol_interfaces_len, sizeof(*wp->ifaces));
	if (wp->ifaces == NULL) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	for (size_t i = 0; i < wire_protocol_interfaces_len; i++) {
		wp->ifaces[i].proto = &wire_protocol_interfaces[i];
	}
	struct wire_iface_policy *display = policy_for(wp, &wl_display_interface);
	if (display == NULL || !apply_profile(wp, profile, err, err_size)) {
		if (display == NULL) {
			snprintf(err, err_size, "the protocol tables lack wl_display");
		}
		free(wp->ifaces);
		wp->ifaces = NULL;
		return false;
	}
	display->reachable = true;
	compute_reachable(wp);
	return true;
}

void wire_policy_finish(struct wire_policy *wp) {
	free(wp->ifaces);
	wp->ifaces = NULL;
}

void wire_fd_queue_init(struct wire_fd_queue *q) {
	q->head = 0;
	q->len = 0;
}

bool wire_fd_queue_push(struct wire_fd_queue *q, int fd) {
	if (q->len == WIRE_FD_QUEUE_MAX) {
		return false;
	}
	q->fds[(q->head + q->len) % WIRE_FD_QUEUE_MAX] = fd;
	q->len++;
	return true;
}

int wire_fd_queue_pop(struct wire_fd_queue *q) {
	if (q->len == 0) {
		return -1;
	}
	int fd = q->fds[q->head];
	q->head = (q->head + 1) % WIRE_FD_QUEUE_MAX;
	q->len--;
	return fd;
}

void wire_fd_queue_clear(struct wire_fd_queue *q) {
	int fd;
	while ((fd = wire_fd_queue_pop(q)) >= 0) {
		close(fd);
	}
}

static void object_release(struct wire_conn *conn, struct wire_object *obj) {
	if (obj->pool_fd >= 0) {
		close(obj->pool_fd);
	}
	if (obj->iface != NULL && !obj->zombie) {
		conn->live_objects--;
	}
	memset(obj, 0, sizeof(*obj));
	obj->pool_fd = -1;
}

/* Make a live object a zombie: its id stays taken until delete_id. */
static void object_kill(struct wire_conn *conn, struct wire_object *obj) {
	if (obj->pool_fd >= 0) {
		close(obj->pool_fd);
		obj->pool_fd = -1;
	}
	if (!obj->zombie) {
		obj->zombie = true;
		conn->live_objects--;
	}
}

static struct wire_object *object_slot(struct wire_conn *conn, uint32_t id) {
	if (id >= WIRE_SERVER_ID_START) {
		size_t i = id - WIRE_SERVER_ID_START;
		return i < conn->server_len ? &conn->server_objects[i] : NULL;
	}
	return id < conn->client_len ? &conn->client_objects[id] : NULL;
}

static struct wire_object *object_lookup(struct wire_conn *conn, uint32_t id) {
	struct wire_object *obj = object_slot(conn, id);
	return obj != NULL && obj->iface != NULL ? obj : NULL;
}

static struct wire_object *object_create(struct wire_conn *conn, uint32_t id,
		const struct wire_iface_policy *iface, uint32_t version) {
	bool server = id >= WIRE_SERVER_ID_START;
	struct wire_object **objects = server ? &conn->server_objects :
		&conn->client_objects;
	size_t *len = server ? &conn->server_len : &conn->client_len;
	size_t *cap = server ? &conn->server_cap : &conn->client_cap;
	size_t index = server ? id - WIRE_SERVER_ID_START : id;

	if (index == *len) {
		if (*len == *cap) {
			size_t new_cap = *cap ? *cap * 2 : 16;
			struct wire_object *grown = realloc(*objects,
				new_cap * sizeof(*grown));
			if (grown == NULL) {
				return NULL;
			}
			*objects = grown;
			*cap = new_cap;
		}
		(*len)++;
	}
	struct wire_object *obj = &(*objects)[index];
	memset(obj, 0, sizeof(*obj));
	obj->iface = iface;
	obj->version = version;
	obj->pool_fd = -1;
	conn->live_objects++;
	return obj;
}

bool wire_conn_init(struct wire_conn *conn, const struct wire_policy *policy) {
	memset(conn, 0, sizeof(*conn));
	conn->policy = policy;
	/* Id 0 is never an object; id 1 is wl_display, there from the start. */
	const struct wire_iface_policy *display = policy_for(policy,
		&wl_display_interface);
	if (display == NULL || object_create(conn, 0, display, 1) == NULL) {
		return false;
	}
	conn->client_objects[0].iface = NULL;
	conn->live_objects = 0;
	return object_create(conn, WL_DISPLAY_ID, display, 1) != NULL;
}

void wire_conn_finish(struct wire_conn *conn) {
	for (size_t i = 0; i < conn->client_len; i++) {
		if (conn->client_objects[i].pool_fd >= 0) {
			close(conn->client_objects[i].pool_fd);
		}
	}
	for (size_t i = 0; i < conn->server_len; i++) {
		if (conn->server_objects[i].pool_fd >= 0) {
			close(conn->server_objects[i].pool_fd);
		}
	}
	free(conn->client_objects);
	free(conn->server_objects);
	free(conn->globals);
	memset(conn, 0, sizeof(*conn));
}

/*
 * A new id must be fresh and the next one in its side's range, as
 * libwayland allocates them: either a free slot or exactly one past the end.
 * This also bounds the map by the number of objects actually created.
 */
static enum wire_verdict check_new_id(struct wire_conn *conn,
		enum wire_side side, uint32_t id, uint32_t object,
		struct wire_error *err) {
	if (side == WIRE_CLIENT &&
			(id == 0 || id == WL_DISPLAY_ID || id >= WIRE_SERVER_ID_START)) {
		return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
			"new id %u is not in the client's range", id);
	}
	if (side == WIRE_SERVER && id < WIRE_SERVER_ID_START) {
		return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
			"new id %u from the compositor is not in the server's range", id);
	}
	size_t index = side == WIRE_CLIENT ? id : id - WIRE_SERVER_ID_START;
	size_t len = side == WIRE_CLIENT ? conn->client_len : conn->server_len;
	if (index > len) {
		return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
			"new id %u skips ahead of the next free id", id);
	}
	if (index < len && object_slot(conn, id)->iface != NULL) {
		return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
			"new id %u is already in use", id);
	}
	if (conn->live_objects >= conn->policy->limits.max_objects) {
		return reject(err, object, WIRE_ERROR_NO_MEMORY,
			"too many objects (limit %zu)", conn->policy->limits.max_objects);
	}
	return WIRE_FORWARD;
}

static const struct wire_global *global_find(const struct wire_conn *conn,
		uint32_t name) {
	for (size_t i = 0; i < conn->globals_len; i++) {
		if (conn->globals[i].name == name) {
			return &conn->globals[i];
		}
	}
	return NULL;
}

static bool global_add(struct wire_conn *conn, uint32_t name,
		const struct wire_iface_policy *iface, uint32_t version) {
	struct wire_global *g = (struct wire_global *)global_find(conn, name);
	if (g == NULL) {
		if (conn->globals_len == conn->globals_cap) {
			size_t cap = conn->globals_cap ? conn->globals_cap * 2 : 32;
			struct wire_global *grown = realloc(conn->globals,
				cap * sizeof(*grown));
			if (grown == NULL) {
				return false;
			}
			conn->globals = grown;
			conn->globals_cap = cap;
		}
		g = &conn->globals[conn->globals_len++];
	}
	g->name = name;
	g->iface = iface;
	g->version = version;
	return true;
}

struct parsed_args {
	size_t count;
	char type[WIRE_MAX_ARGS];
	uint32_t value[WIRE_MAX_ARGS]; // ints, ids, lengths
	const char *string[WIRE_MAX_ARGS];
	size_t word[WIRE_MAX_ARGS]; // word offset of the argument in the message
	const struct wl_interface *interface[WIRE_MAX_ARGS];
	int fd[WIRE_MAX_ARGS];
};

static uint32_t min_u32(uint32_t a, uint32_t b) {
	return a < b ? a : b;
}

/* Registry traffic: hide what the policy hides, cap versions, check binds. */
static enum wire_verdict process_registry(struct wire_conn *conn,
		enum wire_side side, uint32_t object, uint32_t opcode, uint32_t *msg,
		struct parsed_args *args, struct wire_error *err) {
	if (side == WIRE_SERVER && opcode == REGISTRY_EVENT_GLOBAL) {
		const struct wire_protocol_interface *proto =
			wire_protocol_find(args->string[1]);
		const struct wire_iface_policy *ip = proto ?
			&conn->policy->ifaces[policy_index(proto)] : NULL;
		if (ip == NULL || ip->global_version == 0) {
			return WIRE_DROP;
		}
		uint32_t version = min_u32(args->value[2], ip->global_version);
		if (version == 0) {
			return WIRE_DROP;
		}
		msg[args->word[2]] = version;
		if (!global_add(conn, args->value[0], ip, version)) {
			return reject(err, object, WIRE_ERROR_NO_MEMORY, "out of memory");
		}
		return WIRE_FORWARD;
	}
	if (side == WIRE_SERVER && opcode == REGISTRY_EVENT_GLOBAL_REMOVE) {
		/* Never say anything about a global the client was not told of. */
		return global_find(conn, args->value[0]) ? WIRE_FORWARD : WIRE_DROP;
	}
	if (side == WIRE_CLIENT && opcode == REGISTRY_BIND) {
		uint32_t name = args->value[0], version = args->value[2];
		const struct wire_global *g = global_find(conn, name);
		if (g == NULL) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"bind to global %u, which was never advertised", name);
		}
		if (strcmp(args->string[1], g->iface->proto->wl->name) != 0) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"bind to global %u as %s, but it is %s", name,
				args->string[1], g->iface->proto->wl->name);
		}
		if (version == 0 || version > g->version) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"bind to %s version %u, above the allowed %u",
				g->iface->proto->wl->name, version, g->version);
		}
	}
	return WIRE_FORWARD;
}

/* Checks of particular messages that carry fds or sizes. */
static enum wire_verdict process_special(struct wire_conn *conn,
		enum wire_side side, struct wire_object *obj, uint32_t object,
		uint32_t opcode, struct parsed_args *args, struct wire_error *err) {
	const char *name = obj->iface->proto->wl->name;
	const struct wire_limits *limits = &conn->policy->limits;
	char reason[160];

	if (side != WIRE_CLIENT) {
		return WIRE_FORWARD;
	}
	if (strcmp(name, "wl_shm") == 0 && opcode == SHM_CREATE_POOL) {
		int32_t size = (int32_t)args->value[2];
		if (size <= 0 || size > limits->max_shm_pool) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"shm pool size %d is not in 1..%lld", size,
				(long long)limits->max_shm_pool);
		}
		if (!fdcheck_shm_pool(args->fd[1], size, limits->require_shm_seal,
				reason, sizeof(reason))) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"shm pool fd: %s", reason);
		}
		return WIRE_FORWARD;
	}
	if (strcmp(name, "wl_shm_pool") == 0 && opcode == SHM_POOL_RESIZE) {
		int32_t size = (int32_t)args->value[0];
		if (size < obj->pool_size || size > limits->max_shm_pool) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"shm pool resize to %d (from %lld) is not allowed", size,
				(long long)obj->pool_size);
		}
		if (obj->pool_fd >= 0 && !fdcheck_shm_pool(obj->pool_fd, size,
				limits->require_shm_seal, reason, sizeof(reason))) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"shm pool resize: %s", reason);
		}
		obj->pool_size = size;
		return WIRE_FORWARD;
	}
	if (strcmp(name, "wl_shm_pool") == 0 && opcode == SHM_POOL_CREATE_BUFFER) {
		int64_t offset = (int32_t)args->value[1];
		int64_t width = (int32_t)args->value[2];
		int64_t height = (int32_t)args->value[3];
		int64_t stride = (int32_t)args->value[4];
		if (offset < 0 || width <= 0 || height <= 0 || stride < width ||
				offset + stride * height > obj->pool_size) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"buffer %lldx%lld (stride %lld, offset %lld) lies outside "
				"its pool of %lld bytes", (long long)width,
				(long long)height, (long long)stride, (long long)offset,
				(long long)obj->pool_size);
		}
		return WIRE_FORWARD;
	}
	if (strcmp(name, "zwp_linux_buffer_params_v1") == 0 &&
			opcode == BUFFER_PARAMS_ADD) {
		uint32_t plane = args->value[1];
		if (plane >= 4) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"dmabuf plane index %u is not below 4", plane);
		}
		if (obj->planes_set & (1u << plane)) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"dmabuf plane %u is set twice", plane);
		}
		uint64_t size;
		bool is_dmabuf;
		if (!fdcheck_dmabuf_plane(args->fd[0], &size, &is_dmabuf, reason,
				sizeof(reason))) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"dmabuf plane %u fd: %s", plane, reason);
		}
		obj->planes_set |= 1u << plane;
	}
	return WIRE_FORWARD;
}

bool wire_read_header(const void *buf, size_t len, uint32_t *object,
		uint32_t *opcode, uint32_t *size) {
	if (len < WIRE_HEADER_SIZE) {
		return false;
	}
	uint32_t words[2];
	memcpy(words, buf, sizeof(words));
	*object = words[0];
	*opcode = words[1] & 0xffff;
	*size = words[1] >> 16;
	return true;
}

bool wire_check_size(uint32_t size, struct wire_error *err) {
	if (size < WIRE_HEADER_SIZE) {
		reject(err, WL_DISPLAY_ID, WIRE_ERROR_INVALID_METHOD,
			"message size %u is smaller than its header", size);
		return false;
	}
	if (size % 4 != 0) {
		reject(err, WL_DISPLAY_ID, WIRE_ERROR_INVALID_METHOD,
			"message size %u is not a multiple of 4", size);
		return false;
	}
	if (size > WIRE_MAX_MESSAGE) {
		reject(err, WL_DISPLAY_ID, WIRE_ERROR_INVALID_METHOD,
			"message size %u is above %d", size, WIRE_MAX_MESSAGE);
		return false;
	}
	return true;
}

static void close_taken(struct parsed_args *args) {
	for (size_t i = 0; i < args->count; i++) {
		if (args->type[i] == 'h' && args->fd[i] >= 0) {
			close(args->fd[i]);
			args->fd[i] = -1;
		}
	}
}

static enum wire_verdict parse_args(struct wire_conn *conn, enum wire_side side,
		uint32_t object, const struct wl_message *m, const char *sig,
		const uint32_t *msg, uint32_t size, struct wire_fd_queue *in,
		struct parsed_args *args, struct wire_error *err) {
	const char *what = m->name;
	size_t words = size / 4;
	size_t w = 2;
	bool nullable = false;
	args->count = 0;
	for (; *sig; sig++) {
		if (*sig == '?') {
			nullable = true;
			continue;
		}
		size_t i = args->count;
		if (i == WIRE_MAX_ARGS) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"%s has too many arguments", what);
		}
		args->type[i] = *sig;
		args->interface[i] = m->types[i];
		args->fd[i] = -1;
		args->string[i] = NULL;
		args->word[i] = w;
		args->count++;

		if (*sig == 'h') {
			int fd = wire_fd_queue_pop(in);
			if (fd < 0) {
				return reject(err, object, WIRE_ERROR_INVALID_METHOD,
					"%s: argument %zu is an fd, but none was sent", what, i);
			}
			args->fd[i] = fd;
			nullable = false;
			continue;
		}
		if (w >= words) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"%s: message ends before argument %zu", what, i);
		}
		uint32_t v = msg[w++];
		args->value[i] = v;
		switch (*sig) {
		case 'i':
		case 'u':
		case 'f':
			break;
		case 's':
		case 'a': {
			if (v == 0) {
				if (*sig == 's' && !nullable) {
					return reject(err, object, WIRE_ERROR_INVALID_METHOD,
						"%s: argument %zu is a null string", what, i);
				}
				break;
			}
			size_t remaining = (words - w) * 4;
			if (v > remaining) {
				return reject(err, object, WIRE_ERROR_INVALID_METHOD,
					"%s: argument %zu (%u bytes) runs past the message",
					what, i, v);
			}
			const char *bytes = (const char *)(msg + w);
			if (*sig == 's') {
				if (bytes[v - 1] != '\0') {
					return reject(err, object, WIRE_ERROR_INVALID_METHOD,
						"%s: string argument %zu is not NUL-terminated",
						what, i);
				}
				if (memchr(bytes, '\0', v - 1) != NULL) {
					return reject(err, object, WIRE_ERROR_INVALID_METHOD,
						"%s: string argument %zu has a NUL inside", what, i);
				}
				args->string[i] = bytes;
			}
			w += (v + 3) / 4;
			break;
		}
		case 'o': {
			if (v == 0) {
				if (!nullable) {
					return reject(err, object, WIRE_ERROR_INVALID_METHOD,
						"%s: argument %zu is a null object", what, i);
				}
				break;
			}
			struct wire_object *ref = object_lookup(conn, v);
			if (ref == NULL || (ref->zombie && side == WIRE_CLIENT)) {
				return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
					"%s: argument %zu names unknown object %u", what, i, v);
			}
			const struct wl_interface *want = m->types[i];
			if (want != NULL &&
					strcmp(ref->iface->proto->wl->name, want->name) != 0) {
				return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
					"%s: argument %zu is a %s, not a %s", what, i,
					ref->iface->proto->wl->name, want->name);
			}
			break;
		}
		case 'n':
			if (check_new_id(conn, side, v, object, err) != WIRE_FORWARD) {
				return WIRE_REJECT;
			}
			for (size_t j = 0; j < i; j++) {
				if (args->type[j] == 'n' && args->value[j] == v) {
					return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
						"%s: new id %u given twice", what, v);
				}
			}
			break;
		default:
			return reject(err, object, WIRE_ERROR_IMPLEMENTATION,
				"%s: unknown signature type '%c'", what, *sig);
		}
		nullable = false;
	}
	if (w != words) {
		return reject(err, object, WIRE_ERROR_INVALID_METHOD,
			"%s: %zu bytes after the last argument", what, (words - w) * 4);
	}
	return WIRE_FORWARD;
}

/* Create the objects that the message's new_id arguments bring to life. */
static enum wire_verdict create_objects(struct wire_conn *conn,
		struct wire_object *parent, uint32_t object, const char *what,
		struct parsed_args *args, struct wire_error *err) {
	for (size_t i = 0; i < args->count; i++) {
		if (args->type[i] != 'n') {
			continue;
		}
		const struct wire_iface_policy *iface;
		uint32_t version;
		if (args->interface[i] != NULL) {
			iface = policy_for(conn->policy, args->interface[i]);
			version = parent->version;
		} else {
			/* An untyped new_id (wl_registry.bind) follows its
			 * interface name and version. */
			if (i < 2 || args->type[i - 2] != 's' ||
					args->type[i - 1] != 'u') {
				return reject(err, object, WIRE_ERROR_IMPLEMENTATION,
					"%s: untyped new id without interface", what);
			}
			const struct wire_protocol_interface *proto =
				wire_protocol_find(args->string[i - 2]);
			iface = proto ? &conn->policy->ifaces[policy_index(proto)] :
				NULL;
			version = args->value[i - 1];
		}
		if (iface == NULL || !iface->reachable) {
			return reject(err, object, WIRE_ERROR_INVALID_METHOD,
				"%s would create a %s, which this VM may not use", what,
				args->interface[i] ? args->interface[i]->name :
				args->string[i - 2]);
		}
		struct wire_object *child = object_create(conn, args->value[i],
			iface, version);
		if (child == NULL) {
			return reject(err, object, WIRE_ERROR_NO_MEMORY,
				"out of memory");
		}
	}
	return WIRE_FORWARD;
}

enum wire_verdict wire_process(struct wire_conn *conn, enum wire_side side,
		uint32_t *msg, uint32_t size, struct wire_fd_queue *in,
		struct wire_fd_queue *out, struct wire_error *err) {
	uint32_t object = msg[0];
	uint32_t opcode = msg[1] & 0xffff;

	struct wire_object *obj = object_lookup(conn, object);
	if (obj == NULL || (obj->zombie && side == WIRE_CLIENT)) {
		return reject(err, object, WIRE_ERROR_INVALID_OBJECT,
			"%s to unknown object %u",
			side == WIRE_CLIENT ? "request" : "event", object);
	}
	const struct wire_iface_policy *iface = obj->iface;
	const struct wl_interface *wl = iface->proto->wl;
	int count = side == WIRE_CLIENT ? wl->method_count : wl->event_count;
	if ((int64_t)opcode >= count) {
		return reject(err, object, WIRE_ERROR_INVALID_METHOD,
			"%s@%u has no %s %u", wl->name, object,
			side == WIRE_CLIENT ? "request" : "event", opcode);
	}
	const struct wl_message *m = side == WIRE_CLIENT ?
		&wl->methods[opcode] : &wl->events[opcode];
	const char *sig;
	uint32_t since = message_since(m->signature, &sig);
	if (obj->version < since) {
		return reject(err, object, WIRE_ERROR_INVALID_METHOD,
			"%s.%s needs version %u; %s@%u has version %u", wl->name,
			m->name, since, wl->name, object, obj->version);
	}
	if (side == WIRE_CLIENT && (obj->iface->denied_requests & (1ull << opcode))) {
		return reject(err, object, WIRE_ERROR_INVALID_METHOD,
			"%s.%s is denied by this VM's policy", wl->name, m->name);
	}

	struct parsed_args args;
	enum wire_verdict verdict = parse_args(conn, side, object, m, sig, msg,
		size, in, &args, err);
	if (verdict == WIRE_FORWARD && wl == &wl_registry_interface) {
		verdict = process_registry(conn, side, object, opcode, msg, &args,
			err);
	} else if (verdict == WIRE_FORWARD) {
		verdict = process_special(conn, side, obj, object, opcode, &args,
			err);
	}
	if (verdict == WIRE_FORWARD) {
		verdict = create_objects(conn, obj, object, m->name, &args, err);
	}
	if (verdict != WIRE_FORWARD) {
		close_taken(&args);
		return verdict;
	}

	/* Effects that need the objects to exist. */
	if (wl == &wl_shm_interface && opcode == SHM_CREATE_POOL &&
			side == WIRE_CLIENT) {
		struct wire_object *pool = object_lookup(conn, args.value[0]);
		pool->pool_size = (int32_t)args.value[2];
		pool->pool_fd = fcntl(args.fd[1], F_DUPFD_CLOEXEC, 0);
		if (pool->pool_fd < 0) {
			close_taken(&args);
			return reject(err, object, WIRE_ERROR_NO_MEMORY,
				"cannot keep the pool fd: %s", strerror(errno));
		}
	}
	if (wl == &wl_display_interface && side == WIRE_SERVER &&
			opcode == DISPLAY_EVENT_DELETE_ID) {
		uint32_t id = args.value[0];
		struct wire_object *gone = object_lookup(conn, id);
		if (gone == NULL || id >= WIRE_SERVER_ID_START || id == WL_DISPLAY_ID) {
			return reject(err, object, WIRE_ERROR_IMPLEMENTATION,
				"compositor deleted id %u, which is not a client object", id);
		}
		object_release(conn, gone);
	}
	uint64_t destructors = side == WIRE_CLIENT ?
		iface->proto->request_destructors : iface->proto->event_destructors;
	/* obj may already be gone (delete_id of itself, from a buggy or
	 * hostile compositor); only a live slot is destroyed. */
	if ((destructors & (1ull << opcode)) && obj->iface != NULL) {
		/* Server-allocated ids are free at once; client ids wait for the
		 * compositor's delete_id before they may be reused. */
		if (object >= WIRE_SERVER_ID_START) {
			object_release(conn, obj);
		} else {
			object_kill(conn, obj);
		}
	}

	for (size_t i = 0; i < args.count; i++) {
		if (args.type[i] == 'h') {
			if (!wire_fd_queue_push(out, args.fd[i])) {
				close_taken(&args);
				return reject(err, object, WIRE_ERROR_NO_MEMORY,
					"too many fds in flight");
			}
			args.fd[i] = -1;
		}
	}
	return WIRE_FORWARD;
}

bool wire_process_stream(struct wire_conn *conn, enum wire_side side,
		uint8_t *buf, size_t len, size_t *consumed, struct wire_fd_queue *in,
		struct wire_fd_queue *out, wire_emit_fn emit, void *data,
		struct wire_error *err) {
	size_t off = 0;
	uint32_t object, opcode, size;
	*consumed = 0;
	while (wire_read_header(buf + off, len - off, &object, &opcode, &size)) {
		if (!wire_check_size(size, err)) {
			return false;
		}
		if (len - off < size) {
			break;
		}
		/* Messages are multiples of 4 bytes, so each one starts aligned
		 * in a buffer that does. */
		uint32_t *msg = (uint32_t *)(void *)(buf + off);
		enum wire_verdict verdict = wire_process(conn, side, msg, size, in,
			out, err);
		if (verdict == WIRE_REJECT) {
			return false;
		}
		if (verdict == WIRE_FORWARD && !emit(data, msg, size)) {
			reject(err, 1, WIRE_ERROR_NO_MEMORY, "out of memory");
			return false;
		}
		off += size;
		*consumed = off;
	}
	if (off == len && in->len > 0) {
		reject(err, 1, WIRE_ERROR_INVALID_METHOD,
			"%zu fd(s) sent with messages that take none", in->len);
		return false;
	}
	return true;
}

struct wire_object *wire_conn_add_object(struct wire_conn *conn, uint32_t id,
		const char *interface, uint32_t version) {
	const struct wire_protocol_interface *proto = wire_protocol_find(interface);
	if (proto == NULL) {
		return NULL;
	}
	struct wire_error err;
	bool server = id >= WIRE_SERVER_ID_START;
	if (check_new_id(conn, server ? WIRE_SERVER : WIRE_CLIENT, id, 0,
			&err) != WIRE_FORWARD) {
		return NULL;
	}
	return object_create(conn, id, &conn->policy->ifaces[policy_index(proto)],
		version);
}

size_t wire_build_display_error(const struct wire_error *err, uint32_t *buf,
		size_t buf_words) {
	size_t len = strlen(err->message) + 1;
	size_t words = 2 + 3 + (len + 3) / 4;
	if (words > buf_words) {
		return 0;
	}
	memset(buf, 0, words * 4);
	buf[0] = WL_DISPLAY_ID;
	buf[1] = (uint32_t)(words * 4) << 16 | DISPLAY_EVENT_ERROR;
	buf[2] = err->object;
	buf[3] = err->code;
	buf[4] = (uint32_t)len;
	memcpy(&buf[5], err->message, len);
	return words * 4;
}
