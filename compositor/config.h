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
	int max_dmabuf_buffers; // dmabuf wl_buffers of all its clients together
	/* Enforced by the VM's prism-proxy. */
	int max_connections; // clients at once
	int max_objects; // per client
	int max_buffer_bytes; // queued per direction per client
	int max_fds_in_flight; // received and not yet forwarded, per client
	int max_shm_pool_bytes;
	int max_window_width, max_window_height; // content larger is clipped
	int line; // line of the [vm:NAME] header
};

/* What a key binding does. */
enum prism_action {
	PRISM_ACTION_NONE, // unbound: the key goes to the focused window
	PRISM_ACTION_CLOSE,
	PRISM_ACTION_MAXIMIZE,
	PRISM_ACTION_FULLSCREEN,
	PRISM_ACTION_FOCUS_NEXT,
	PRISM_ACTION_FOCUS_PREV,
	PRISM_ACTION_COPY, // VM selection -> global clipboard
	PRISM_ACTION_PASTE, // global clipboard -> VM, once
	PRISM_ACTION_TERMINAL, // run [general] terminal
	PRISM_ACTION_LAUNCHER, // run [general] launcher
	PRISM_ACTION_EXEC, // run the binding's own command
	PRISM_ACTION_RELOAD,
	PRISM_ACTION_EXIT, // asks to be pressed again first
};

/* Modifier bits, the same values as wlroots' enum wlr_keyboard_modifier. */
enum prism_modifier {
	PRISM_MOD_SHIFT = 1 << 0,
	PRISM_MOD_CTRL = 1 << 2,
	PRISM_MOD_ALT = 1 << 3,
	PRISM_MOD_LOGO = 1 << 6,
};

struct prism_binding {
	uint32_t modifiers; // enum prism_modifier
	uint32_t keysym; // lower case
	enum prism_action action;
	char *command; // PRISM_ACTION_EXEC
	int line; // 0 for a built-in default
};

struct prism_output_config {
	char name[64];
	bool enabled;
	int width, height, refresh_mhz; // 0: the output's preferred mode
	bool has_position;
	int x, y;
	double scale; // 0: automatic
	int transform; // enum wl_output_transform, or -1: normal
	int line;
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

	char *terminal; // host terminal, for the terminal binding
	char *launcher; // host launcher, for the launcher binding; may be NULL
	double pointer_accel; // -1..1, for libinput pointers
	bool natural_scroll;
	bool tap_to_click;

	struct prism_binding *bindings;
	size_t bindings_len;
	struct prism_output_config *outputs;
	size_t outputs_len;

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
const struct prism_output_config *config_find_output(
	const struct prism_config *config, const char *name);

/*
 * A VM defined at run time (prismctl vm add): the same checks as a
 * [vm:NAME] section of the file, allowlist profile included. On failure
 * writes the reason to err. config supplies the allowlist directory and the
 * labels already in use (others, too, may be given).
 */
bool config_vm_init(struct prism_vm_config *vm, const struct prism_config *config,
	const char *name, const char *label, const char *colour,
	const char *allowlist, char *err, size_t err_size);
void config_vm_finish(struct prism_vm_config *vm);

/* "Super+Shift+e" into modifiers and a lower-case keysym. */
bool parse_key_combo(const char *s, uint32_t *modifiers, uint32_t *keysym);
const char *action_name(enum prism_action action);

/* "#rrggbb" only: an ambiguous colour would weaken the frame's meaning. */
bool parse_colour(const char *s, uint32_t *out);
bool vm_name_is_valid(const char *name);

#endif
