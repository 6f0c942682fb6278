#ifndef PRISM_POLICY_H
#define PRISM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An allowlist profile: the Wayland interfaces a VM may use, the highest
 * version of each, and messages denied outright. It is the single source of
 * truth for what a VM can reach: prism-proxy enforces it on the wire and prism
 * enforces it again with its global filter.
 *
 * File format, one rule per line, '#' starts a comment:
 *	wl_compositor 4
 *	deny wl_shm.create_pool
 */

#define POLICY_NAME_MAX 64

struct policy_iface {
	char name[POLICY_NAME_MAX];
	uint32_t version;
	char (*denied)[POLICY_NAME_MAX]; // message names
	int *denied_lines;
	size_t denied_len;
	int line; // where it was declared, for later diagnostics
};

struct policy {
	char *path;
	struct policy_iface *ifaces;
	size_t ifaces_len;
};

/*
 * Load a profile. On failure returns false and writes "FILE:LINE: reason" into
 * err; *policy is then left empty (safe to finish).
 */
bool policy_load(struct policy *policy, const char *path,
	char *err, size_t err_size);
/* The same from text in memory; path is only for the messages. */
bool policy_parse(struct policy *policy, const char *path, const char *text,
	size_t len, char *err, size_t err_size);
void policy_finish(struct policy *policy);

const struct policy_iface *policy_find(const struct policy *policy,
	const char *interface);
/* The highest version a VM may bind, or 0 when the interface is not allowed. */
uint32_t policy_max_version(const struct policy *policy, const char *interface);
bool policy_iface_denies(const struct policy_iface *iface, const char *message);

/*
 * Check that prism-proxy can validate everything the profile names: each
 * interface and each denied request. Errors are "FILE:LINE: reason".
 */
bool policy_check_known(const struct policy *policy, char *err,
	size_t err_size);

/*
 * Interfaces that give power over other clients or the whole session. No
 * profile may list them: a typo or a careless profile must not be able to
 * hand a VM screen capture or input injection.
 */
bool policy_interface_is_privileged(const char *interface);

/* Profile names are used in paths: [a-z0-9_-], 1 to 32 characters. */
bool policy_name_is_valid(const char *name);

#endif
