#ifndef PRISM_CONNECTOR_H
#define PRISM_CONNECTOR_H

#include <stdint.h>

/*
 * The connector: a SOCK_SEQPACKET socketpair between prism and one VM's
 * prism-proxy. The proxy has no way to reach the compositor by itself: for
 * each guest connection it asks, and prism answers with the client end of a
 * fresh socketpair whose other end it has already made a wl_client of,
 * tagged with the VM. Identity is decided by prism alone.
 */

enum connector_type {
	CONNECTOR_CONNECT = 1, // proxy -> prism: a guest connected
	CONNECTOR_UPSTREAM = 2, // prism -> proxy: here is its upstream (fd)
	CONNECTOR_REFUSED = 3, // prism -> proxy: no upstream for it
	CONNECTOR_DENIAL = 4, // proxy -> prism: a client was cut off (a count)
};

struct connector_msg {
	uint32_t type;
	uint32_t serial; // chosen by the proxy, echoed by prism
	uint32_t client_id; // prism's number for the client, for log lines
};

#endif
