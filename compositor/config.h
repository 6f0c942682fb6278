#ifndef PRISM_CONFIG_H
#define PRISM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"

#define PRISM_VM_NAME_MAX 32
#define PRISM_LABEL_MAX 48

struct prism_vm_config {
	char name[PRISM_VM_NAME_MAX + 1];
	char label[PRISM_LABEL_MAX + 1];
	uint32_t colour; // 0xRRGGBB
	char *socket_path; // absolute; NULL means $XDG_RUNTIME_DIR/prism/vm-NAME.sock
	char allowlist[POLICY_NAME_MAX];
	struct policy policy;
	bool title_utf8; // show UTF-8 titles; printable ASCII only otherwise
	bool require_shm_seal; // shm pool fds must carry F_SEAL_SHRINK
	bool allow_fullscreen; // else fullscreen requests become maximise
	int max_windows; // mapped toplevels at once
	int max_surfaces; // wl_surfaces of all its clients together
	/* Enforced by the VM's prism-proxy. */
	int max_connections; // clients at once
	int max_objects; // per client
	int max_buffer_bytes; // queued per direction per client
	int max_fds_in_flight; // received and not yet forwarded, per client
	int max_shm_pool_bytes;
	int max_window_width, max_window_height; // content larger is clipped
	int line; // line of the [vm:NAME] header
};

struct prism_config {
	char *path; // NULL when running on built-in defaults

	int border_width;
	int indicator_height; // 0: as tall as a title bar
	int clipboard_max; // bytes that Ctrl+Shift+C may copy
	char *font; // fontconfig pattern for the title bar
	uint32_t background;
	uint32_t host_colour; // neutral frame of host windows
	char *allowlist_dir;

	struct {
		char *rules, *model, *layout, *variant, *options;
		int repeat_rate, repeat_delay;
	} xkb;

	char *cursor_theme;
	int cursor_size;

	struct prism_vm_config *vms;
	size_t vms_len;
};

/*
 * Parse and fully validate FILE (including every allowlist profile it names)
 * into *config. On failure returns false, writes "FILE:LINE: reason" to err and
 * leaves *config untouched, so a running configuration is never half-replaced.
 */
bool config_load(struct prism_config *config, const char *path,
	char *err, size_t err_size);
/* Built-in defaults: no VMs. */
bool config_init_default(struct prism_config *config);
void config_finish(struct prism_config *config);

/* Where to look when --config is not given; NULL when no file exists. */
char *config_default_path(void);

const struct prism_vm_config *config_find_vm(const struct prism_config *config,
	const char *name);

/* "#rrggbb" only: an ambiguous colour would weaken the frame's meaning. */
bool parse_colour(const char *s, uint32_t *out);
bool vm_name_is_valid(const char *name);

#endif
