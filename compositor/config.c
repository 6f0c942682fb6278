#include <errno.h>
#include <ini.h>
#include <strings.h>
#include <xkbcommon/xkbcommon.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

#define DEFAULT_ALLOWLIST "default"

enum section_kind {
	SECTION_NONE,
	SECTION_GENERAL,
	SECTION_VM,
	SECTION_BINDINGS,
	SECTION_OUTPUT,
};

struct parse_state {
	struct prism_config *config;
	const char *path;
	FILE *file;
	int line;

	enum section_kind section;
	struct prism_vm_config *vm; // current [vm:NAME], when section == SECTION_VM
	size_t output; // index of the current [output:NAME]
	bool seen_general, seen_bindings;
	size_t default_bindings; // the first ones, not from the file

	/* Keys seen in the current section, to reject duplicates: a repeated key
	 * is usually an edit gone wrong, and "last one wins" would hide it. */
	char (*keys)[64];
	size_t keys_len;
	int allowlist_line;
	int *allowlist_lines; // per VM, parallel to config->vms
	bool *has_label, *has_colour;

	bool failed;
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parse_state *st, const char *fmt, ...) {
	if (st->failed) {
		return; // the first error is the one worth reading
	}
	st->failed = true;
	int n = snprintf(st->err, st->err_size, "%s:%d: ", st->path, st->line);
	if (n >= 0 && (size_t)n < st->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->err + n, st->err_size - n, fmt, ap);
		va_end(ap);
	}
}

bool parse_colour(const char *s, uint32_t *out) {
	if (s[0] != '#' || strlen(s) != 7) {
		return false;
	}
	uint32_t v = 0;
	for (int i = 1; i < 7; i++) {
		char c = s[i];
		uint32_t d;
		if (c >= '0' && c <= '9') {
			d = (uint32_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (uint32_t)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (uint32_t)(c - 'A' + 10);
		} else {
			return false;
		}
		v = (v << 4) | d;
	}
	*out = v;
	return true;
}

/* VM names end up in socket paths and log lines: keep them boring. */
bool vm_name_is_valid(const char *name) {
	size_t len = strlen(name);
	if (len == 0 || len > PRISM_VM_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-' ||
			(c == '.' && i > 0);
		if (!ok) {
			return false;
		}
	}
	return true;
}

static bool parse_int(const char *s, int min, int max, int *out) {
	if (s[0] == '\0') {
		return false;
	}
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return false;
	}
	*out = (int)v;
	return true;
}

static void int_key(struct parse_state *st, const char *value, int min,
		int max, int *out, const char *key) {
	if (!parse_int(value, min, max, out)) {
		fail(st, "%s must be an integer from %d to %d", key, min, max);
	}
}

static bool parse_size(const char *s, int *width, int *height) {
	char buf[32];
	const char *x = strchr(s, 'x');
	if (x == NULL || (size_t)(x - s) >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, (size_t)(x - s));
	buf[x - s] = '\0';
	return parse_int(buf, 1, 65535, width) && parse_int(x + 1, 1, 65535, height);
}

static bool parse_bool(const char *s, bool *out) {
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0) {
		*out = false;
		return true;
	}
	return false;
}

/* Labels are drawn in every frame of the VM: printable ASCII, so that two
 * labels can never look alike through homoglyphs or invisible characters. */
static bool label_is_valid(const char *s) {
	size_t len = strlen(s);
	if (len == 0 || len > PRISM_LABEL_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

static bool set_string(char **dst, const char *value) {
	char *copy = strdup(value);
	if (copy == NULL) {
		return false;
	}
	free(*dst);
	*dst = copy;
	return true;
}

/* Relative paths in the file are relative to the file, not to wherever prism
 * happened to be started from. */
static char *resolve_path(const char *config_path, const char *value) {
	if (value[0] == '/') {
		return strdup(value);
	}
	const char *slash = strrchr(config_path, '/');
	if (slash == NULL) {
		return strdup(value);
	}
	size_t dir_len = (size_t)(slash - config_path);
	size_t len = dir_len + 1 + strlen(value) + 1;
	char *out = malloc(len);
	if (out != NULL) {
		snprintf(out, len, "%.*s/%s", (int)dir_len, config_path, value);
	}
	return out;
}

static void string_key(struct parse_state *st, char **dst, const char *value) {
	if (!set_string(dst, value)) {
		fail(st, "out of memory");
	}
}

static bool general_key(struct parse_state *st, const char *key,
		const char *value) {
	struct prism_config *c = st->config;
	if (strcmp(key, "border-width") == 0) {
		if (!parse_int(value, 1, 32, &c->border_width)) {
			fail(st, "border-width must be an integer from 1 to 32");
		}
	} else if (strcmp(key, "indicator-height") == 0) {
		if (!parse_int(value, 8, 128, &c->indicator_height)) {
			fail(st, "indicator-height must be an integer from 8 to 128");
		}
	} else if (strcmp(key, "clipboard-max-bytes") == 0) {
		if (!parse_int(value, 1, 64 << 20, &c->clipboard_max)) {
			fail(st, "clipboard-max-bytes must be an integer from 1 to %d",
				64 << 20);
		}
	} else if (strcmp(key, "font") == 0) {
		if (value[0] == '\0') {
			fail(st, "font must not be empty");
		} else {
			string_key(st, &c->font, value);
		}
	} else if (strcmp(key, "background") == 0) {
		if (!parse_colour(value, &c->background)) {
			fail(st, "background must be a colour like #rrggbb");
		}
	} else if (strcmp(key, "host-colour") == 0 || strcmp(key, "host-color") == 0) {
		if (!parse_colour(value, &c->host_colour)) {
			fail(st, "host-colour must be a colour like #rrggbb");
		}
	} else if (strcmp(key, "allowlist-dir") == 0) {
		char *dir = value[0] ? resolve_path(st->path, value) : NULL;
		if (dir == NULL) {
			fail(st, "allowlist-dir must be a directory");
			return false;
		}
		free(c->allowlist_dir);
		c->allowlist_dir = dir;
	} else if (strcmp(key, "xkb-rules") == 0) {
		string_key(st, &c->xkb.rules, value);
	} else if (strcmp(key, "xkb-model") == 0) {
		string_key(st, &c->xkb.model, value);
	} else if (strcmp(key, "xkb-layout") == 0) {
		string_key(st, &c->xkb.layout, value);
	} else if (strcmp(key, "xkb-variant") == 0) {
		string_key(st, &c->xkb.variant, value);
	} else if (strcmp(key, "xkb-options") == 0) {
		string_key(st, &c->xkb.options, value);
	} else if (strcmp(key, "repeat-rate") == 0) {
		if (!parse_int(value, 0, 1000, &c->xkb.repeat_rate)) {
			fail(st, "repeat-rate must be an integer from 0 to 1000");
		}
	} else if (strcmp(key, "repeat-delay") == 0) {
		if (!parse_int(value, 0, 10000, &c->xkb.repeat_delay)) {
			fail(st, "repeat-delay must be an integer from 0 to 10000");
		}
	} else if (strcmp(key, "terminal") == 0) {
		string_key(st, &c->terminal, value);
	} else if (strcmp(key, "launcher") == 0) {
		string_key(st, &c->launcher, value);
	} else if (strcmp(key, "pointer-accel") == 0) {
		char *end;
		errno = 0;
		double v = strtod(value, &end);
		if (errno != 0 || *end != '\0' || value[0] == '\0' || v < -1.0 ||
				v > 1.0) {
			fail(st, "pointer-accel must be a number from -1 to 1");
		} else {
			c->pointer_accel = v;
		}
	} else if (strcmp(key, "natural-scroll") == 0) {
		if (!parse_bool(value, &c->natural_scroll)) {
			fail(st, "natural-scroll must be 'yes' or 'no'");
		}
	} else if (strcmp(key, "tap-to-click") == 0) {
		if (!parse_bool(value, &c->tap_to_click)) {
			fail(st, "tap-to-click must be 'yes' or 'no'");
		}
	} else if (strcmp(key, "cursor-theme") == 0) {
		string_key(st, &c->cursor_theme, value);
	} else if (strcmp(key, "cursor-size") == 0) {
		if (!parse_int(value, 8, 256, &c->cursor_size)) {
			fail(st, "cursor-size must be an integer from 8 to 256");
		}
	} else {
		fail(st, "unknown key '%s' in [general]", key);
	}
	return !st->failed;
}

static bool vm_key(struct parse_state *st, const char *key, const char *value) {
	struct prism_vm_config *vm = st->vm;
	size_t idx = (size_t)(vm - st->config->vms);
	if (strcmp(key, "label") == 0) {
		if (!label_is_valid(value)) {
			fail(st, "label must be 1 to %d printable ASCII characters",
				PRISM_LABEL_MAX);
			return false;
		}
		snprintf(vm->label, sizeof(vm->label), "%s", value);
		st->has_label[idx] = true;
	} else if (strcmp(key, "colour") == 0 || strcmp(key, "color") == 0) {
		if (!parse_colour(value, &vm->colour)) {
			fail(st, "colour must be a colour like #rrggbb");
			return false;
		}
		st->has_colour[idx] = true;
	} else if (strcmp(key, "socket") == 0) {
		if (value[0] != '/') {
			fail(st, "socket must be an absolute path");
			return false;
		}
		if (strlen(value) >= 108) { // sizeof(sockaddr_un.sun_path)
			fail(st, "socket path is longer than a Unix socket allows");
			return false;
		}
		string_key(st, &vm->socket_path, value);
	} else if (strcmp(key, "allowlist") == 0) {
		if (!policy_name_is_valid(value)) {
			fail(st, "allowlist must be a profile name ([a-z0-9_-], "
				"at most 32 characters)");
			return false;
		}
		snprintf(vm->allowlist, sizeof(vm->allowlist), "%s", value);
		st->allowlist_lines[idx] = st->line;
	} else if (strcmp(key, "require-shm-seal") == 0) {
		if (!parse_bool(value, &vm->require_shm_seal)) {
			fail(st, "require-shm-seal must be 'yes' or 'no'");
		}
	} else if (strcmp(key, "max-windows") == 0) {
		if (!parse_int(value, 1, 100000, &vm->max_windows)) {
			fail(st, "max-windows must be an integer from 1 to 100000");
		}
	} else if (strcmp(key, "max-surfaces") == 0) {
		int_key(st, value, 1, 1000000, &vm->max_surfaces, key);
	} else if (strcmp(key, "max-dmabuf-buffers") == 0) {
		int_key(st, value, 1, 65536, &vm->max_dmabuf_buffers, key);
	} else if (strcmp(key, "max-connections") == 0) {
		int_key(st, value, 1, 65536, &vm->max_connections, key);
	} else if (strcmp(key, "max-objects") == 0) {
		int_key(st, value, 16, 1 << 24, &vm->max_objects, key);
	} else if (strcmp(key, "max-buffer-bytes") == 0) {
		int_key(st, value, 65536, 1 << 30, &vm->max_buffer_bytes, key);
	} else if (strcmp(key, "max-fds-in-flight") == 0) {
		int_key(st, value, 1, 64, &vm->max_fds_in_flight, key);
	} else if (strcmp(key, "max-shm-pool-bytes") == 0) {
		int_key(st, value, 4096, INT32_MAX, &vm->max_shm_pool_bytes, key);
	} else if (strcmp(key, "max-window-size") == 0) {
		if (!parse_size(value, &vm->max_window_width,
				&vm->max_window_height)) {
			fail(st, "max-window-size must be WIDTHxHEIGHT, each from 1 "
				"to 65535");
		}
	} else if (strcmp(key, "fullscreen") == 0) {
		if (!parse_bool(value, &vm->allow_fullscreen)) {
			fail(st, "fullscreen must be 'yes' or 'no'");
		}
	} else if (strcmp(key, "titles") == 0) {
		if (strcmp(value, "ascii") == 0) {
			vm->title_utf8 = false;
		} else if (strcmp(value, "utf8") == 0) {
			vm->title_utf8 = true;
		} else {
			fail(st, "titles must be 'ascii' or 'utf8'");
		}
	} else {
		fail(st, "unknown key '%s' in [vm:%s]", key, vm->name);
	}
	return !st->failed;
}

static const struct {
	const char *name;
	enum prism_action action;
} actions[] = {
	{ "none", PRISM_ACTION_NONE },
	{ "close", PRISM_ACTION_CLOSE },
	{ "maximize", PRISM_ACTION_MAXIMIZE },
	{ "fullscreen", PRISM_ACTION_FULLSCREEN },
	{ "focus-next", PRISM_ACTION_FOCUS_NEXT },
	{ "focus-prev", PRISM_ACTION_FOCUS_PREV },
	{ "copy", PRISM_ACTION_COPY },
	{ "paste", PRISM_ACTION_PASTE },
	{ "terminal", PRISM_ACTION_TERMINAL },
	{ "launcher", PRISM_ACTION_LAUNCHER },
	{ "exec", PRISM_ACTION_EXEC },
	{ "reload", PRISM_ACTION_RELOAD },
	{ "exit", PRISM_ACTION_EXIT },
};

const char *action_name(enum prism_action action) {
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (actions[i].action == action) {
			return actions[i].name;
		}
	}
	return "?";
}

bool parse_key_combo(const char *s, uint32_t *modifiers, uint32_t *keysym) {
	char buf[128];
	if (strlen(s) == 0 || strlen(s) >= sizeof(buf)) {
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	uint32_t mods = 0;
	char *save = NULL;
	char *tok = strtok_r(buf, "+", &save);
	while (tok != NULL) {
		char *next = strtok_r(NULL, "+", &save);
		if (next == NULL) {
			xkb_keysym_t sym = xkb_keysym_from_name(tok,
				XKB_KEYSYM_CASE_INSENSITIVE);
			if (sym == XKB_KEY_NoSymbol) {
				return false;
			}
			*modifiers = mods;
			*keysym = xkb_keysym_to_lower(sym);
			return true;
		}
		if (strcasecmp(tok, "super") == 0 || strcasecmp(tok, "logo") == 0 ||
				strcasecmp(tok, "mod4") == 0) {
			mods |= PRISM_MOD_LOGO;
		} else if (strcasecmp(tok, "ctrl") == 0 ||
				strcasecmp(tok, "control") == 0) {
			mods |= PRISM_MOD_CTRL;
		} else if (strcasecmp(tok, "alt") == 0 ||
				strcasecmp(tok, "mod1") == 0) {
			mods |= PRISM_MOD_ALT;
		} else if (strcasecmp(tok, "shift") == 0) {
			mods |= PRISM_MOD_SHIFT;
		} else {
			return false;
		}
		tok = next;
	}
	return false;
}

static struct prism_binding *binding_find(struct prism_config *c,
		uint32_t mods, uint32_t sym) {
	for (size_t i = 0; i < c->bindings_len; i++) {
		if (c->bindings[i].modifiers == mods && c->bindings[i].keysym == sym) {
			return &c->bindings[i];
		}
	}
	return NULL;
}

static bool binding_set(struct prism_config *c, uint32_t mods, uint32_t sym,
		enum prism_action action, const char *command, int line) {
	struct prism_binding *b = binding_find(c, mods, sym);
	if (b == NULL) {
		struct prism_binding *grown = realloc(c->bindings,
			(c->bindings_len + 1) * sizeof(*grown));
		if (grown == NULL) {
			return false;
		}
		c->bindings = grown;
		b = &grown[c->bindings_len++];
		memset(b, 0, sizeof(*b));
	}
	char *copy = command ? strdup(command) : NULL;
	if (command != NULL && copy == NULL) {
		return false;
	}
	free(b->command);
	b->modifiers = mods;
	b->keysym = sym;
	b->action = action;
	b->command = copy;
	b->line = line;
	return true;
}

static bool binding_key(struct parse_state *st, const char *key,
		const char *value) {
	struct prism_config *c = st->config;
	uint32_t mods, sym;
	if (!parse_key_combo(key, &mods, &sym)) {
		fail(st, "'%s' is not a key combination like Super+Shift+e", key);
		return false;
	}
	struct prism_binding *old = binding_find(c, mods, sym);
	if (old != NULL && old->line != 0) {
		fail(st, "%s is bound twice (first on line %d)", key, old->line);
		return false;
	}
	char word[32];
	size_t n = strcspn(value, " \t");
	const char *rest = value + n + strspn(value + n, " \t");
	if (n == 0 || n >= sizeof(word)) {
		fail(st, "expected an action for %s", key);
		return false;
	}
	memcpy(word, value, n);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(word, actions[i].name) != 0) {
			continue;
		}
		bool exec = actions[i].action == PRISM_ACTION_EXEC;
		if (exec && rest[0] == '\0') {
			fail(st, "exec needs a command");
			return false;
		}
		if (!exec && rest[0] != '\0') {
			fail(st, "%s takes no argument", word);
			return false;
		}
		if (!binding_set(c, mods, sym, actions[i].action,
				exec ? rest : NULL, st->line)) {
			fail(st, "out of memory");
			return false;
		}
		return true;
	}
	fail(st, "unknown action '%s'", word);
	return false;
}

static bool parse_transform(const char *s, int *out) {
	static const char *const names[] = {
		"normal", "90", "180", "270",
		"flipped", "flipped-90", "flipped-180", "flipped-270",
	};
	for (int i = 0; i < 8; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i; // enum wl_output_transform's order
			return true;
		}
	}
	return false;
}

static bool output_key(struct parse_state *st, const char *key,
		const char *value) {
	struct prism_output_config *o = &st->config->outputs[st->output];
	if (strcmp(key, "enabled") == 0) {
		if (!parse_bool(value, &o->enabled)) {
			fail(st, "enabled must be 'yes' or 'no'");
		}
	} else if (strcmp(key, "mode") == 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", value);
		char *at = strchr(buf, '@');
		double hz = 0;
		if (at != NULL) {
			*at = '\0';
			char *end;
			hz = strtod(at + 1, &end);
			if (*end != '\0' || hz <= 0 || hz > 1000) {
				fail(st, "mode must be WIDTHxHEIGHT or WIDTHxHEIGHT@HZ");
				return false;
			}
		}
		if (!parse_size(buf, &o->width, &o->height)) {
			fail(st, "mode must be WIDTHxHEIGHT or WIDTHxHEIGHT@HZ");
			return false;
		}
		o->refresh_mhz = (int)(hz * 1000 + 0.5);
	} else if (strcmp(key, "position") == 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", value);
		char *comma = strchr(buf, ',');
		if (comma == NULL) {
			fail(st, "position must be X,Y");
			return false;
		}
		*comma = '\0';
		if (!parse_int(buf, -65536, 65536, &o->x) ||
				!parse_int(comma + 1, -65536, 65536, &o->y)) {
			fail(st, "position must be X,Y");
			return false;
		}
		o->has_position = true;
	} else if (strcmp(key, "scale") == 0) {
		char *end;
		errno = 0;
		double v = strtod(value, &end);
		if (errno != 0 || *end != '\0' || value[0] == '\0' || v < 0.5 ||
				v > 8.0) {
			fail(st, "scale must be a number from 0.5 to 8");
			return false;
		}
		o->scale = v;
	} else if (strcmp(key, "transform") == 0) {
		if (!parse_transform(value, &o->transform)) {
			fail(st, "transform must be normal, 90, 180, 270, flipped, "
				"flipped-90, flipped-180 or flipped-270");
		}
	} else {
		fail(st, "unknown key '%s' in [output:%s]", key, o->name);
	}
	return !st->failed;
}

static int handle_key(void *user, const char *section, const char *key,
		const char *value) {
	struct parse_state *st = user;
	if (st->failed) {
		return 0;
	}
	for (size_t i = 0; i < st->keys_len; i++) {
		if (strcmp(st->keys[i], key) == 0) {
			fail(st, "duplicate key '%s'", key);
			return 0;
		}
	}
	if (strlen(key) < sizeof(st->keys[0])) {
		char (*keys)[64] = realloc(st->keys, (st->keys_len + 1) * sizeof(*keys));
		if (keys == NULL) {
			fail(st, "out of memory");
			return 0;
		}
		st->keys = keys;
		snprintf(keys[st->keys_len++], sizeof(keys[0]), "%s", key);
	}

	switch (st->section) {
	case SECTION_NONE:
		fail(st, "key '%s' outside of any section", key);
		return 0;
	case SECTION_GENERAL:
		return general_key(st, key, value);
	case SECTION_VM:
		return vm_key(st, key, value);
	case SECTION_BINDINGS:
		return binding_key(st, key, value);
	case SECTION_OUTPUT:
		return output_key(st, key, value);
	}
	return 0;
}

/* Everything but label and colour, which every VM must be given. */
static void vm_defaults(struct prism_vm_config *vm, const char *name) {
	memset(vm, 0, sizeof(*vm));
	/* vm_name_is_valid() bounded it to PRISM_VM_NAME_MAX. */
	memcpy(vm->name, name, strlen(name) + 1);
	snprintf(vm->allowlist, sizeof(vm->allowlist), "%s", DEFAULT_ALLOWLIST);
	/* Qubes' defaults: large enough for any real window. */
	vm->max_windows = 500;
	vm->max_window_width = 16384;
	vm->max_window_height = 6144;
	/* Generous for real applications (foot maps 512 MiB pools; GTK makes
	 * thousands of objects), small enough that no VM can exhaust the
	 * host's memory or fds through one client. */
	vm->max_surfaces = 10000;
	/* Each holds up to four fds for as long as it lives. */
	vm->max_dmabuf_buffers = 512;
	vm->max_connections = 64;
	vm->max_objects = 65536;
	vm->max_buffer_bytes = 4 << 20;
	vm->max_fds_in_flight = 32;
	vm->max_shm_pool_bytes = 1 << 30;
}

static bool vm_load_profile(struct prism_vm_config *vm, const char *dir,
		char *err, size_t err_size) {
	size_t len = strlen(dir) + strlen(vm->allowlist) + 7;
	char *path = malloc(len);
	if (path == NULL) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	snprintf(path, len, "%s/%s.conf", dir, vm->allowlist);
	bool ok = policy_load(&vm->policy, path, err, err_size) &&
		policy_check_known(&vm->policy, err, err_size);
	free(path);
	return ok;
}

static bool begin_vm(struct parse_state *st, const char *name) {
	struct prism_config *c = st->config;
	if (!vm_name_is_valid(name)) {
		fail(st, "VM name '%s' is not valid: 1 to %d of [A-Za-z0-9_.-], "
			"not starting with '.'", name, PRISM_VM_NAME_MAX);
		return false;
	}
	if (config_find_vm(c, name) != NULL) {
		fail(st, "VM '%s' is defined twice", name);
		return false;
	}
	size_t n = c->vms_len + 1;
	struct prism_vm_config *vms = realloc(c->vms, n * sizeof(*vms));
	int *lines = realloc(st->allowlist_lines, n * sizeof(*lines));
	bool *labels = realloc(st->has_label, n * sizeof(*labels));
	bool *colours = realloc(st->has_colour, n * sizeof(*colours));
	if (vms) {
		c->vms = vms;
	}
	if (lines) {
		st->allowlist_lines = lines;
	}
	if (labels) {
		st->has_label = labels;
	}
	if (colours) {
		st->has_colour = colours;
	}
	if (!vms || !lines || !labels || !colours) {
		fail(st, "out of memory");
		return false;
	}
	struct prism_vm_config *vm = &c->vms[c->vms_len];
	vm_defaults(vm, name);
	vm->line = st->line;
	lines[c->vms_len] = 0;
	labels[c->vms_len] = false;
	colours[c->vms_len] = false;
	c->vms_len++;
	st->vm = vm;
	st->section = SECTION_VM;
	return true;
}

static void begin_output(struct parse_state *st, const char *name) {
	struct prism_config *c = st->config;
	if (name[0] == '\0' || strlen(name) >= sizeof(c->outputs[0].name)) {
		fail(st, "output name '%s' is empty or too long", name);
		return;
	}
	if (config_find_output(c, name) != NULL) {
		fail(st, "[output:%s] appears twice", name);
		return;
	}
	struct prism_output_config *grown = realloc(c->outputs,
		(c->outputs_len + 1) * sizeof(*grown));
	if (grown == NULL) {
		fail(st, "out of memory");
		return;
	}
	c->outputs = grown;
	struct prism_output_config *o = &grown[c->outputs_len];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->enabled = true;
	o->transform = -1;
	o->line = st->line;
	st->output = c->outputs_len++;
	st->section = SECTION_OUTPUT;
}

/* Section headers are handled here rather than in the key handler so that an
 * empty [vm:NAME] section is still seen (and rejected for lacking a label). */
static void begin_section(struct parse_state *st, char *line) {
	char *end = strchr(line, ']');
	if (end == NULL) {
		fail(st, "section header without ']'");
		return;
	}
	*end = '\0';
	const char *name = line + 1;
	st->keys_len = 0;
	if (strcmp(name, "general") == 0) {
		if (st->seen_general) {
			fail(st, "[general] appears twice");
			return;
		}
		st->seen_general = true;
		st->section = SECTION_GENERAL;
		st->vm = NULL;
	} else if (strncmp(name, "vm:", 3) == 0) {
		begin_vm(st, name + 3);
	} else if (strcmp(name, "bindings") == 0) {
		if (st->seen_bindings) {
			fail(st, "[bindings] appears twice");
			return;
		}
		st->seen_bindings = true;
		st->section = SECTION_BINDINGS;
	} else if (strncmp(name, "output:", 7) == 0) {
		begin_output(st, name + 7);
	} else {
		fail(st, "unknown section [%s]", name);
	}
}

static char *read_line(char *str, int num, void *stream) {
	struct parse_state *st = stream;
	if (st->failed || fgets(str, num, st->file) == NULL) {
		return NULL;
	}
	st->line++;
	size_t len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(st->file)) {
		fail(st, "line longer than %d characters", num - 2);
		return NULL;
	}

	char *p = str;
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	bool blank = *p == '\0' || *p == '\n' || *p == '\r' || *p == '#' ||
		*p == ';';
	/* inih would treat an indented line as the continuation of the previous
	 * value, silently changing its meaning. */
	if (p != str && !blank) {
		fail(st, "indented line (continuation lines are not supported)");
		return NULL;
	}
	if (*p == '[') {
		char copy[256];
		snprintf(copy, sizeof(copy), "%s", p);
		begin_section(st, copy);
		if (st->failed) {
			return NULL;
		}
	}
	return str;
}

static bool load_profiles(struct parse_state *st) {
	struct prism_config *c = st->config;
	for (size_t i = 0; i < c->vms_len; i++) {
		struct prism_vm_config *vm = &c->vms[i];
		st->line = vm->line;
		if (!st->has_label[i]) {
			fail(st, "[vm:%s] has no label", vm->name);
			return false;
		}
		if (!st->has_colour[i]) {
			fail(st, "[vm:%s] has no colour", vm->name);
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->vms[j].label, vm->label) == 0) {
				fail(st, "label '%s' is already used by VM '%s'; "
					"labels must tell VMs apart", vm->label,
					c->vms[j].name);
				return false;
			}
			if (vm->socket_path && c->vms[j].socket_path &&
					strcmp(vm->socket_path, c->vms[j].socket_path) == 0) {
				fail(st, "socket %s is already used by VM '%s'",
					vm->socket_path, c->vms[j].name);
				return false;
			}
		}

		if (st->allowlist_lines[i] != 0) {
			st->line = st->allowlist_lines[i];
		}
		char perr[512];
		if (!vm_load_profile(vm, c->allowlist_dir, perr, sizeof(perr))) {
			fail(st, "allowlist profile '%s': %s", vm->allowlist, perr);
			return false;
		}
	}
	return true;
}

bool config_init_default(struct prism_config *c) {
	memset(c, 0, sizeof(*c));
	c->border_width = 4;
	c->font = strdup("monospace:size=10");
	c->background = 0x1d1f21;
	c->host_colour = 0x8a8a8a;
	c->allowlist_dir = strdup(PRISM_DATADIR "/allowlist");
	c->xkb.repeat_rate = 25;
	c->xkb.repeat_delay = 600;
	c->cursor_size = 24;
	c->clipboard_max = 64 * 1024;
	c->terminal = strdup("foot");
	c->tap_to_click = true;
	static const struct {
		const char *combo;
		enum prism_action action;
	} defaults[] = {
		{ "Super+Return", PRISM_ACTION_TERMINAL },
		{ "Super+d", PRISM_ACTION_LAUNCHER },
		{ "Super+q", PRISM_ACTION_CLOSE },
		{ "Super+m", PRISM_ACTION_MAXIMIZE },
		{ "Super+f", PRISM_ACTION_FULLSCREEN },
		{ "Alt+Tab", PRISM_ACTION_FOCUS_NEXT },
		{ "Alt+Shift+Tab", PRISM_ACTION_FOCUS_PREV },
		{ "Ctrl+Shift+c", PRISM_ACTION_COPY },
		{ "Ctrl+Shift+v", PRISM_ACTION_PASTE },
		{ "Super+Shift+r", PRISM_ACTION_RELOAD },
		{ "Super+Shift+e", PRISM_ACTION_EXIT },
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		uint32_t mods, sym;
		if (!parse_key_combo(defaults[i].combo, &mods, &sym) ||
				!binding_set(c, mods, sym, defaults[i].action, NULL, 0)) {
			config_finish(c);
			return false;
		}
	}
	if (c->font == NULL || c->allowlist_dir == NULL || c->terminal == NULL) {
		config_finish(c);
		return false;
	}
	return true;
}

bool config_load(struct prism_config *out, const char *path,
		char *err, size_t err_size) {
	struct prism_config c;
	if (!config_init_default(&c)) {
		snprintf(err, err_size, "%s: out of memory", path);
		return false;
	}
	struct parse_state st = {
		.config = &c,
		.path = path,
		.err = err,
		.err_size = err_size,
	};

	st.file = fopen(path, "re");
	if (st.file == NULL) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		config_finish(&c);
		return false;
	}
	int ret = ini_parse_stream(read_line, &st, handle_key, &st);
	if (ferror(st.file)) {
		snprintf(err, err_size, "%s: read error", path);
		st.failed = true;
	}
	fclose(st.file);
	if (ret != 0 && !st.failed) {
		/* inih found a line that is neither a section, a key=value nor
		 * a comment. */
		st.line = ret > 0 ? ret : st.line;
		fail(&st, ret > 0 ? "expected 'key = value' or '[section]'" :
			"out of memory");
	}
	if (!st.failed) {
		load_profiles(&st);
	}
	if (!st.failed) {
		c.path = strdup(path);
		if (c.path == NULL) {
			fail(&st, "out of memory");
		}
	}

	free(st.keys);
	free(st.allowlist_lines);
	free(st.has_label);
	free(st.has_colour);
	if (st.failed) {
		config_finish(&c);
		return false;
	}
	*out = c;
	return true;
}

void config_finish(struct prism_config *c) {
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->vms_len; i++) {
		config_vm_finish(&c->vms[i]);
	}
	free(c->vms);
	free(c->path);
	free(c->font);
	free(c->allowlist_dir);
	free(c->xkb.rules);
	free(c->xkb.model);
	free(c->xkb.layout);
	free(c->xkb.variant);
	free(c->xkb.options);
	free(c->cursor_theme);
	free(c->terminal);
	free(c->launcher);
	for (size_t i = 0; i < c->bindings_len; i++) {
		free(c->bindings[i].command);
	}
	free(c->bindings);
	free(c->outputs);
	memset(c, 0, sizeof(*c));
}

const struct prism_vm_config *config_find_vm(const struct prism_config *c,
		const char *name) {
	for (size_t i = 0; i < c->vms_len; i++) {
		if (strcmp(c->vms[i].name, name) == 0) {
			return &c->vms[i];
		}
	}
	return NULL;
}

bool config_vm_init(struct prism_vm_config *vm, const struct prism_config *c,
		const char *name, const char *label, const char *colour,
		const char *allowlist, char *err, size_t err_size) {
	memset(vm, 0, sizeof(*vm));
	if (!vm_name_is_valid(name)) {
		snprintf(err, err_size, "VM name '%s' is not valid: 1 to %d of "
			"[A-Za-z0-9_.-], not starting with '.'", name, PRISM_VM_NAME_MAX);
		return false;
	}
	vm_defaults(vm, name);
	if (!label_is_valid(label)) {
		snprintf(err, err_size, "label must be 1 to %d printable ASCII "
			"characters", PRISM_LABEL_MAX);
		return false;
	}
	snprintf(vm->label, sizeof(vm->label), "%s", label);
	if (!parse_colour(colour, &vm->colour)) {
		snprintf(err, err_size, "colour must be a colour like #rrggbb");
		return false;
	}
	if (allowlist != NULL) {
		if (!policy_name_is_valid(allowlist)) {
			snprintf(err, err_size, "allowlist must be a profile name "
				"([a-z0-9_-], at most 32 characters)");
			return false;
		}
		snprintf(vm->allowlist, sizeof(vm->allowlist), "%s", allowlist);
	}
	char perr[512];
	if (!vm_load_profile(vm, c->allowlist_dir, perr, sizeof(perr))) {
		snprintf(err, err_size, "allowlist profile '%s': %s", vm->allowlist,
			perr);
		return false;
	}
	return true;
}

void config_vm_finish(struct prism_vm_config *vm) {
	if (vm == NULL) {
		return;
	}
	free(vm->socket_path);
	policy_finish(&vm->policy);
	memset(vm, 0, sizeof(*vm));
}

const struct prism_output_config *config_find_output(
		const struct prism_config *c, const char *name) {
	for (size_t i = 0; i < c->outputs_len; i++) {
		if (strcmp(c->outputs[i].name, name) == 0) {
			return &c->outputs[i];
		}
	}
	return NULL;
}

char *config_default_path(void) {
	char buf[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/prism/prism.ini", xdg);
	} else if (home != NULL && home[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/.config/prism/prism.ini", home);
	} else {
		buf[0] = '\0';
	}
	if (buf[0] != '\0' && access(buf, R_OK) == 0) {
		return strdup(buf);
	}
	if (access(PRISM_SYSCONFDIR "/prism.ini", R_OK) == 0) {
		return strdup(PRISM_SYSCONFDIR "/prism.ini");
	}
	return NULL;
}
