/*
 * libFuzzer target over prism-proxy's wire validator.
 *
 * An input is a recorded conversation: chunks of
 *	u8 direction (0: guest -> compositor, 1: compositor -> guest)
 *	u8 fd count (stood in for by memfds)
 *	u16 length, little-endian
 *	length bytes
 * fed, as the relay would, to one connection under the default profile,
 * until the validator rejects something. The seed corpus in
 * corpus-wire/ was recorded from real clients (tests/fuzz/record.py).
 */
#define _GNU_SOURCE // memfd_create
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "policy.h"
#include "wire.h"

#define BUF_BYTES (4 * WIRE_MAX_MESSAGE)

static struct wire_policy policy;
static int template_fd = -1;
static bool verbose; // PRISM_FUZZ_VERBOSE: say where a seed is rejected

static bool discard(void *data, const uint32_t *msg, uint32_t size) {
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	struct policy profile;
	char err[512];
	if (!policy_load(&profile, PRISM_FUZZ_ALLOWLIST, err, sizeof(err))) {
		abort();
	}
	struct wire_limits limits = {
		.max_objects = 4096,
		.max_shm_pool = INT32_MAX,
	};
	if (!wire_policy_init(&policy, &profile, &limits, err, sizeof(err))) {
		abort();
	}
	policy_finish(&profile);
	/* A stand-in for every fd: a memfd big enough for any pool check. */
	verbose = getenv("PRISM_FUZZ_VERBOSE") != NULL;
	template_fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (template_fd < 0 || ftruncate(template_fd, INT32_MAX) != 0) {
		abort();
	}
	return 0;
}

struct direction {
	uint32_t buf[BUF_BYTES / 4];
	size_t len;
	struct wire_fd_queue in, out;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct wire_conn conn;
	if (!wire_conn_init(&conn, &policy)) {
		return 0;
	}
	static struct direction dirs[2];
	for (int i = 0; i < 2; i++) {
		dirs[i].len = 0;
		wire_fd_queue_init(&dirs[i].in);
		wire_fd_queue_init(&dirs[i].out);
	}

	size_t pos = 0;
	while (pos + 4 <= size) {
		int dir = data[pos] & 1;
		size_t nfds = data[pos + 1] % 8;
		size_t len = (size_t)data[pos + 2] | (size_t)data[pos + 3] << 8;
		pos += 4;
		if (len > size - pos) {
			len = size - pos;
		}
		struct direction *d = &dirs[dir];
		if (len > BUF_BYTES - d->len) {
			break;
		}
		memcpy((uint8_t *)d->buf + d->len, data + pos, len);
		d->len += len;
		pos += len;
		for (size_t i = 0; i < nfds; i++) {
			int fd = dup(template_fd);
			if (fd < 0 || !wire_fd_queue_push(&d->in, fd)) {
				if (fd >= 0) {
					close(fd);
				}
				goto done;
			}
		}
		size_t consumed;
		struct wire_error err;
		bool ok = wire_process_stream(&conn,
			dir == 0 ? WIRE_CLIENT : WIRE_SERVER, (uint8_t *)d->buf, d->len,
			&consumed, &d->in, &d->out, discard, NULL, &err);
		memmove(d->buf, (uint8_t *)d->buf + consumed, d->len - consumed);
		d->len -= consumed;
		wire_fd_queue_clear(&d->out);
		if (!ok) {
			if (verbose) {
				fprintf(stderr, "rejected at byte %zu: %s\n", pos,
					err.message);
			}
			break;
		}
	}
done:
	for (int i = 0; i < 2; i++) {
		wire_fd_queue_clear(&dirs[i].in);
		wire_fd_queue_clear(&dirs[i].out);
	}
	wire_conn_finish(&conn);
	return 0;
}
