#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "known.h"
#include "policy.h"

static const char *const privileged_interfaces[] = {
	"prism_control_v1",
	"zwlr_screencopy_manager_v1",
	"zwlr_export_dmabuf_manager_v1",
	"ext_image_copy_capture_manager_v1",
	"zwlr_data_control_manager_v1",
	"ext_data_control_manager_v1",
	"zwlr_layer_shell_v1",
	"zwp_virtual_keyboard_manager_v1",
	"zwlr_virtual_pointer_manager_v1",
	"zwlr_output_manager_v1",
	"zwlr_output_power_manager_v1",
	"zwlr_gamma_control_manager_v1",
	"zwlr_input_inhibit_manager_v1",
	"zwlr_foreign_toplevel_manager_v1",
	"ext_foreign_toplevel_list_v1",
	"zwp_input_method_manager_v2",
	"zwp_fullscreen_shell_v1",
	"ext_session_lock_manager_v1",
	"wp_security_context_manager_v1",
	"wp_drm_lease_device_v1",
	"zxdg_exporter_v1",
	"zxdg_exporter_v2",
	"zxdg_importer_v1",
	"zxdg_importer_v2",
};

bool policy_interface_is_privileged(const char *interface) {
	for (size_t i = 0; i < sizeof(privileged_interfaces) /
			sizeof(privileged_interfaces[0]); i++) {
		if (strcmp(interface, privileged_interfaces[i]) == 0) {
			return true;
		}
	}
	return false;
}

bool policy_name_is_valid(const char *name) {
	size_t len = strlen(name);
	if (len == 0 || len > 32) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

/* Wayland interface and message names are C identifiers. */
static bool is_identifier(const char *s) {
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) {
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!(isalnum((unsigned char)*p) || *p == '_')) {
			return false;
		}
	}
	return strlen(s) < POLICY_NAME_MAX;
}

const struct policy_iface *policy_find(const struct policy *policy,
		const char *interface) {
	for (size_t i = 0; i < policy->ifaces_len; i++) {
		if (strcmp(policy->ifaces[i].name, interface) == 0) {
			return &policy->ifaces[i];
		}
	}
	return NULL;
}

uint32_t policy_max_version(const struct policy *policy, const char *interface) {
	const struct policy_iface *iface = policy_find(policy, interface);
	return iface ? iface->version : 0;
}

bool policy_iface_denies(const struct policy_iface *iface, const char *message) {
	for (size_t i = 0; i < iface->denied_len; i++) {
		if (strcmp(iface->denied[i], message) == 0) {
			return true;
		}
	}
	return false;
}

void policy_finish(struct policy *policy) {
	if (policy == NULL) {
		return;
	}
	for (size_t i = 0; i < policy->ifaces_len; i++) {
		free(policy->ifaces[i].denied);
		free(policy->ifaces[i].denied_lines);
	}
	free(policy->ifaces);
	free(policy->path);
	memset(policy, 0, sizeof(*policy));
}

struct parse_state {
	struct policy *policy;
	const char *path;
	int line;
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct parse_state *st, const char *fmt, ...) {
	int n = snprintf(st->err, st->err_size, "%s:%d: ", st->path, st->line);
	if (n >= 0 && (size_t)n < st->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->err + n, st->err_size - n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool parse_version(const char *s, uint32_t *out) {
	if (!isdigit((unsigned char)s[0])) {
		return false;
	}
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 1000) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_allow(struct parse_state *st, const char *name,
		const char *version) {
	struct policy *policy = st->policy;
	if (!is_identifier(name)) {
		return fail(st, "'%s' is not an interface name", name);
	}
	if (policy_interface_is_privileged(name)) {
		return fail(st, "%s is privileged and can never be given to a VM",
			name);
	}
	if (policy_find(policy, name) != NULL) {
		return fail(st, "%s is listed twice", name);
	}
	uint32_t v;
	if (version == NULL || !parse_version(version, &v)) {
		return fail(st, "expected 'INTERFACE VERSION' with a version "
			"from 1 to 1000");
	}
	struct policy_iface *ifaces = realloc(policy->ifaces,
		(policy->ifaces_len + 1) * sizeof(*ifaces));
	if (ifaces == NULL) {
		return fail(st, "out of memory");
	}
	policy->ifaces = ifaces;
	struct policy_iface *iface = &ifaces[policy->ifaces_len++];
	memset(iface, 0, sizeof(*iface));
	snprintf(iface->name, sizeof(iface->name), "%s", name);
	iface->version = v;
	iface->line = st->line;
	return true;
}

static bool parse_deny(struct parse_state *st, const char *what) {
	char buf[2 * POLICY_NAME_MAX];
	if (what == NULL || strlen(what) >= sizeof(buf)) {
		return fail(st, "expected 'deny INTERFACE.MESSAGE'");
	}
	snprintf(buf, sizeof(buf), "%s", what);
	char *dot = strchr(buf, '.');
	if (dot == NULL) {
		return fail(st, "expected 'deny INTERFACE.MESSAGE'");
	}
	*dot = '\0';
	const char *msg = dot + 1;
	if (!is_identifier(buf) || !is_identifier(msg)) {
		return fail(st, "'%s' is not INTERFACE.MESSAGE", what);
	}
	/* A deny rule for an interface that is not allowed at all would be
	 * dead, and usually means the allow line has a typo. */
	struct policy_iface *iface = (struct policy_iface *)policy_find(st->policy, buf);
	if (iface == NULL) {
		return fail(st, "deny rule for %s, which is not allowed above", buf);
	}
	if (policy_iface_denies(iface, msg)) {
		return fail(st, "%s.%s is denied twice", buf, msg);
	}
	char (*denied)[POLICY_NAME_MAX] = realloc(iface->denied,
		(iface->denied_len + 1) * sizeof(*denied));
	if (denied != NULL) {
		iface->denied = denied;
	}
	int *lines = realloc(iface->denied_lines,
		(iface->denied_len + 1) * sizeof(*lines));
	if (lines != NULL) {
		iface->denied_lines = lines;
	}
	if (denied == NULL || lines == NULL) {
		return fail(st, "out of memory");
	}
	lines[iface->denied_len] = st->line;
	snprintf(denied[iface->denied_len++], POLICY_NAME_MAX, "%s", msg);
	return true;
}

static bool parse_line(struct parse_state *st, char *line) {
	char *hash = strchr(line, '#');
	if (hash != NULL) {
		*hash = '\0';
	}
	char *words[4];
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
			tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == sizeof(words) / sizeof(words[0])) {
			return fail(st, "too many words");
		}
		words[n++] = tok;
	}
	if (n == 0) {
		return true;
	}
	if (n != 2) {
		return fail(st, "expected 'INTERFACE VERSION' or "
			"'deny INTERFACE.MESSAGE'");
	}
	if (strcmp(words[0], "deny") == 0) {
		return parse_deny(st, words[1]);
	}
	return parse_allow(st, words[0], words[1]);
}

bool policy_parse(struct policy *policy, const char *path, const char *text,
		size_t len, char *err, size_t err_size) {
	memset(policy, 0, sizeof(*policy));
	struct parse_state st = {
		.policy = policy,
		.path = path,
		.err = err,
		.err_size = err_size,
	};
	bool ok = true;
	char line[512];
	size_t pos = 0;
	while (ok && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		st.line++;
		if (n >= sizeof(line)) {
			ok = fail(&st, "line longer than %zu characters",
				sizeof(line) - 1);
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			ok = fail(&st, "NUL byte in line");
			break;
		}
		ok = parse_line(&st, line);
		pos += n + (nl ? 1 : 0);
	}
	if (ok && policy->ifaces_len == 0) {
		snprintf(err, err_size, "%s: the profile allows no interface", path);
		ok = false;
	}
	if (ok) {
		policy->path = strdup(path);
		ok = policy->path != NULL;
	}
	if (!ok) {
		policy_finish(policy);
	}
	return ok;
}

/* Profiles are small; one that is not is a mistake. */
#define POLICY_MAX_FILE (1 << 20)

bool policy_load(struct policy *policy, const char *path,
		char *err, size_t err_size) {
	memset(policy, 0, sizeof(*policy));
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return false;
	}
	char *text = malloc(POLICY_MAX_FILE);
	size_t len = text ? fread(text, 1, POLICY_MAX_FILE, f) : 0;
	bool ok = text != NULL && !ferror(f) && len < POLICY_MAX_FILE;
	fclose(f);
	if (!ok) {
		snprintf(err, err_size, "%s: cannot read it whole", path);
	} else {
		ok = policy_parse(policy, path, text, len, err, err_size);
	}
	free(text);
	return ok;
}

bool policy_check_known(const struct policy *policy, char *err,
		size_t err_size) {
	for (size_t i = 0; i < policy->ifaces_len; i++) {
		const struct policy_iface *iface = &policy->ifaces[i];
		bool known = false;
		for (size_t k = 0; k < proxy_known_interfaces_len && !known; k++) {
			known = strcmp(proxy_known_interfaces[k], iface->name) == 0;
		}
		if (!known) {
			snprintf(err, err_size, "%s:%d: prism-proxy has no protocol "
				"description of %s", policy->path, iface->line, iface->name);
			return false;
		}
		for (size_t d = 0; d < iface->denied_len; d++) {
			char full[2 * POLICY_NAME_MAX];
			snprintf(full, sizeof(full), "%s.%s", iface->name,
				iface->denied[d]);
			bool found = false;
			for (size_t k = 0; k < proxy_known_requests_len && !found; k++) {
				found = strcmp(proxy_known_requests[k], full) == 0;
			}
			if (!found) {
				snprintf(err, err_size, "%s:%d: %s has no request named %s",
					policy->path, iface->denied_lines[d], iface->name,
					iface->denied[d]);
				return false;
			}
		}
	}
	return true;
}
