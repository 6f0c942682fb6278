#ifndef PRISM_DMABUF_H
#define PRISM_DMABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prism_server;

/*
 * zwp_linux_dmabuf_v1, Prism's own implementation, for every client on every
 * renderer (see dmabuf.c for why it is not wlroots').
 */
struct prism_dmabuf;

struct prism_dmabuf_stats {
	uint32_t version; // of the global: 4 with feedback, 3 without
	size_t pairs; // format and modifier pairs advertised
	bool gpu_import; // buffers are imported by EGL, not mapped
	uint64_t buffers_alive;
	uint64_t buffers_created;
	uint64_t refused; // parameter sets refused with a protocol error
};

/* NULL (and a log line) when the renderer can take no dmabuf at all. */
struct prism_dmabuf *dmabuf_create(struct prism_server *server);
/* Only once every client is gone: their objects point into it. */
void dmabuf_destroy(struct prism_dmabuf *dmabuf);
void dmabuf_get_stats(const struct prism_dmabuf *dmabuf,
	struct prism_dmabuf_stats *stats);

#endif
