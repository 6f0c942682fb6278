#ifndef PRISM_PROXY_PROTOCOLS_H
#define PRISM_PROXY_PROTOCOLS_H

#include <stddef.h>
#include <stdint.h>
#include <wayland-util.h>

/*
 * Every interface prism-proxy can validate: the wl_interface tables that
 * wayland-scanner generates from the protocol XML (message names,
 * signatures, since-versions, argument interfaces), plus which messages are
 * destructors, which gen-tables.py reads from the same XML. An interface
 * missing here cannot pass the proxy at all.
 */
struct wire_protocol_interface {
	const struct wl_interface *wl;
	uint64_t request_destructors; // bit n: request n is a destructor
	uint64_t event_destructors;
};

extern const struct wire_protocol_interface wire_protocol_interfaces[];
extern const size_t wire_protocol_interfaces_len;

const struct wire_protocol_interface *wire_protocol_find(const char *name);

/* The few core interfaces the validator treats specially. */
extern const struct wl_interface wl_display_interface;
extern const struct wl_interface wl_registry_interface;
extern const struct wl_interface wl_shm_interface;

#endif
