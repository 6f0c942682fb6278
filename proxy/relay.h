#ifndef PRISM_RELAY_H
#define PRISM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wire.h"

/*
 * The relay: one thread, one epoll set, non-blocking sockets. Each guest
 * connection is paired with one upstream connection to the compositor; every
 * message in either direction passes the wire validator before it is queued
 * for the other side. Output is bounded per direction: a side whose peer is
 * behind is not read from until the peer catches up, so nothing is dropped or
 * reordered and no guest can make the proxy buffer without limit.
 */

struct relay_options {
	const char *vm_name;
	int listen_fd; // guests connect here
	int connector_fd; // prism mode: ask prism for upstreams; else -1
	const char *upstream_path; // standalone mode: connect() here
	size_t max_buffer; // bytes queued per direction before backpressure
	size_t max_connections;
	size_t max_fds_in_flight; // per client and direction
	/* Test suite only: on SIGUSR1, try this forbidden system call. */
	const char *selftest_forbidden;
};

struct relay;

struct relay *relay_create(const struct relay_options *options,
	const struct wire_policy *policy);
/* The fds the relay runs on, for the sandbox to keep; returns how many. */
size_t relay_fds(const struct relay *relay, int *fds, size_t max);
/* Runs until the listening socket or the connector goes away, or a signal. */
int relay_run(struct relay *relay);
void relay_destroy(struct relay *relay);

#endif
