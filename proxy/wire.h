#ifndef PRISM_PROXY_WIRE_H
#define PRISM_PROXY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"
#include "protocols.h"

/*
 * The wire validator: every message in both directions is checked here
 * against the generated interface tables, in libwayland's order (header,
 * object, opcode, since-version, each argument, object types), and its
 * effects on the object map are applied. It is deny by default: an object of
 * an interface the VM's policy does not reach can never come to exist.
 *
 * This file has no I/O: the relay feeds it complete messages and fds, and
 * tests and the fuzzer drive it directly.
 */

#define WIRE_HEADER_SIZE 8
#define WIRE_MAX_MESSAGE 4096
#define WIRE_SERVER_ID_START 0xff000000u
/* libwayland sends at most this many fds with one sendmsg. */
#define WIRE_MAX_FDS_OUT 28
/* No protocol message carries more arguments than this. */
#define WIRE_MAX_ARGS 20

/* wl_display error codes, as sent in wl_display.error. */
enum wire_display_error {
	WIRE_ERROR_INVALID_OBJECT = 0,
	WIRE_ERROR_INVALID_METHOD = 1,
	WIRE_ERROR_NO_MEMORY = 2,
	WIRE_ERROR_IMPLEMENTATION = 3,
};

enum wire_side {
	WIRE_CLIENT, // requests, from the guest
	WIRE_SERVER, // events, from the compositor
};

enum wire_verdict {
	WIRE_FORWARD,
	WIRE_DROP, // valid, but not for this client's eyes (hidden global)
	WIRE_REJECT,
};

struct wire_limits {
	size_t max_objects; // live objects per connection
	int64_t max_shm_pool; // bytes
	bool require_shm_seal; // pool fds must carry F_SEAL_SHRINK
};

/* A profile resolved against the protocol tables. */
struct wire_iface_policy {
	const struct wire_protocol_interface *proto;
	bool reachable; // objects of this interface may exist
	uint32_t global_version; // highest version bindable as a global; 0: none
	uint64_t denied_requests;
};

struct wire_policy {
	struct wire_iface_policy *ifaces; // parallel to wire_protocol_interfaces
	struct wire_limits limits;
};

bool wire_policy_init(struct wire_policy *wp, const struct policy *profile,
	const struct wire_limits *limits, char *err, size_t err_size);
void wire_policy_finish(struct wire_policy *wp);

/* fds received and not yet consumed by a message, oldest first. */
#define WIRE_FD_QUEUE_MAX 64
struct wire_fd_queue {
	int fds[WIRE_FD_QUEUE_MAX];
	size_t head, len;
};

void wire_fd_queue_init(struct wire_fd_queue *q);
bool wire_fd_queue_push(struct wire_fd_queue *q, int fd);
int wire_fd_queue_pop(struct wire_fd_queue *q);
void wire_fd_queue_clear(struct wire_fd_queue *q); // closes them

struct wire_object {
	const struct wire_iface_policy *iface; // NULL: free slot
	uint32_t version;
	bool zombie; // destroyed, its id not yet released by delete_id
	int pool_fd; // wl_shm_pool: a dup of its fd, to check resizes; else -1
	int64_t pool_size;
	uint32_t planes_set; // zwp_linux_buffer_params_v1: planes added
};

struct wire_global {
	uint32_t name;
	const struct wire_iface_policy *iface;
	uint32_t version; // as advertised to the client, after capping
};

struct wire_conn {
	const struct wire_policy *policy;
	struct wire_object *client_objects; // index: id
	size_t client_len, client_cap;
	struct wire_object *server_objects; // index: id - WIRE_SERVER_ID_START
	size_t server_len, server_cap;
	size_t live_objects;
	struct wire_global *globals;
	size_t globals_len, globals_cap;
};

struct wire_error {
	uint32_t object; // the object the error is about, for wl_display.error
	uint32_t code; // enum wire_display_error
	char message[256];
};

bool wire_conn_init(struct wire_conn *conn, const struct wire_policy *policy);
void wire_conn_finish(struct wire_conn *conn);

/*
 * Read a header. Returns false when fewer than WIRE_HEADER_SIZE bytes are
 * there; *size may then be anything and must be checked with wire_check_size.
 */
bool wire_read_header(const void *buf, size_t len, uint32_t *object,
	uint32_t *opcode, uint32_t *size);
bool wire_check_size(uint32_t size, struct wire_error *err);

/*
 * Validate one complete message of size bytes (its header already passed
 * wire_check_size) sent by side, and apply its effects. The fds it carries are
 * taken from in and, when the verdict is WIRE_FORWARD, appended to out; on
 * WIRE_DROP or WIRE_REJECT they are closed. The message may be rewritten in
 * place (a global's version capped). On WIRE_REJECT, err says why.
 */
enum wire_verdict wire_process(struct wire_conn *conn, enum wire_side side,
	uint32_t *msg, uint32_t size, struct wire_fd_queue *in,
	struct wire_fd_queue *out, struct wire_error *err);

/*
 * Validate the complete messages at the start of buf (len bytes) in order,
 * passing each one to forward to emit, and report how many bytes they took;
 * an incomplete message at the end is left for later. Returns false on a
 * violation, which includes fds left over once every byte is consumed: fds
 * travel with the bytes of their message, so a leftover one came with a
 * message that takes none.
 */
typedef bool (*wire_emit_fn)(void *data, const uint32_t *msg, uint32_t size);
bool wire_process_stream(struct wire_conn *conn, enum wire_side side,
	uint8_t *buf, size_t len, size_t *consumed, struct wire_fd_queue *in,
	struct wire_fd_queue *out, wire_emit_fn emit, void *data,
	struct wire_error *err);

/*
 * Put an object into the map directly, for tests and the fuzzer, which need
 * a connection in a given state without replaying its history.
 */
struct wire_object *wire_conn_add_object(struct wire_conn *conn, uint32_t id,
	const char *interface, uint32_t version);

/* Build a wl_display.error event into buf; returns its size in bytes. */
size_t wire_build_display_error(const struct wire_error *err, uint32_t *buf,
	size_t buf_words);

#endif
