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

#endif
