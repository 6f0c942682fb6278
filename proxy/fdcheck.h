#ifndef PRISM_PROXY_FDCHECK_H
#define PRISM_PROXY_FDCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A wl_shm pool fd must be memory the compositor can map without surprises:
 * a regular file or memfd (not a socket, pipe or device) at least as large
 * as the pool. With require_seal it must also be sealed against shrinking,
 * so that no later ftruncate can make the compositor fault on it.
 */
bool fdcheck_shm_pool(int fd, int64_t size, bool require_seal, char *reason,
	size_t reason_size);

/*
 * A linux-dmabuf plane fd must be a real dmabuf (which cannot change size)
 * or a memfd sealed against shrinking (which stands in for one where no
 * dmabuf exporter exists). Anything else, a plain file that can be truncated
 * under the compositor's mapping, a socket, a pipe, a device, is refused.
 * On success *size is the fd's size in bytes and *is_dmabuf says which kind
 * it is.
 */
bool fdcheck_dmabuf_plane(int fd, uint64_t *size, bool *is_dmabuf,
	char *reason, size_t reason_size);

#endif
