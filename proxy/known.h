#ifndef PRISM_PROXY_KNOWN_H
#define PRISM_PROXY_KNOWN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The interfaces and requests prism-proxy has protocol descriptions for,
 * generated from the same XML as its tables. prism checks allowlist profiles
 * against them when it loads its configuration, so a profile naming an
 * interface the proxy cannot validate is a configuration error, not a proxy
 * that dies at run time.
 */
extern const char *const proxy_known_interfaces[];
extern const uint32_t proxy_known_versions[];
extern const size_t proxy_known_interfaces_len;
extern const char *const proxy_known_requests[]; // "interface.request"
extern const size_t proxy_known_requests_len;

#endif
