#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "test.h"

static char allowlist_dir[512];

static char *write_file(const char *text) {
	char *path = strdup("/tmp/prism-config-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
	close(fd);
	return path;
}

/* A config with the test's allowlist directory and the given body. */
static char *config_file(const char *body) {
	char *text = malloc(strlen(body) + 1024);
	sprintf(text, "[general]\nallowlist-dir = %s\n%s", allowlist_dir, body);
	char *path = write_file(text);
	free(text);
	return path;
}

/*
 * Loading must fail with exactly "PATH:LINE: ..." containing reason, and
 * leave the destination untouched.
 */
static void expect_error(const char *body, int line, const char *reason) {
	char *path = config_file(body);
	struct prism_config c;
	memset(&c, 0xab, sizeof(c));
	char err[1024] = "";
	bool ok = config_load(&c, path, err, sizeof(err));
	char prefix[600];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (ok || strncmp(err, prefix, strlen(prefix)) != 0 ||
			strstr(err, reason) == NULL) {
		fprintf(stderr, "for body:\n%s\nexpected \"%s...%s\", got %s\"%s\"\n",
			body, prefix, reason, ok ? "success " : "", err);
		test_failures++;
	}
	unsigned char *bytes = (unsigned char *)&c;
	for (size_t i = 0; i < sizeof(c); i++) {
		if (bytes[i] != 0xab) {
			fprintf(stderr, "a failed load wrote into the config\n");
			test_failures++;
			break;
		}
	}
	if (ok) {
		config_finish(&c);
	}
	unlink(path);
	free(path);
}

static void test_example_config(void) {
	const char *data = getenv("PRISM_DATA_DIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/prism.ini", data);
	struct prism_config c;
	char err[1024];
	if (!config_load(&c, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		test_failures++;
		return;
	}
	CHECK(c.vms_len == 2);
	const struct prism_vm_config *work = config_find_vm(&c, "work");
	CHECK(work != NULL);
	if (work != NULL) {
		CHECK_STR(work->label, "Work");
		CHECK(work->colour == 0xcc3333);
		CHECK_STR(work->allowlist, "default");
		CHECK(policy_max_version(&work->policy, "wl_compositor") == 4);
		CHECK(policy_max_version(&work->policy, "prism_control_v1") == 0);
		CHECK(!work->title_utf8);
		CHECK(work->socket_path == NULL);
	}
	const struct prism_vm_config *personal = config_find_vm(&c, "personal");
	CHECK(personal != NULL && personal->title_utf8);
	CHECK(c.border_width == 4);
	CHECK(c.xkb.layout != NULL && strcmp(c.xkb.layout, "us") == 0);
	config_finish(&c);
}

static void test_good_configs(void) {
	char *path = config_file(
		"border-width = 7\n"
		"# a comment\n"
		"; another\n"
		"font = sans:size=12\n"
		"background = #000000\n"
		"\n"
		"[vm:a-b_c.1]\n"
		"label = Banking (offline)\n"
		"color = #ABCdef\n"
		"socket = /run/vms/bank.sock\n"
		"titles = utf8\n"
		"[vm:empty-ok]\n"
		"label = Other\n"
		"colour = #010203\n");
	struct prism_config c;
	char err[1024];
	if (!config_load(&c, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		test_failures++;
		return;
	}
	CHECK(c.border_width == 7);
	CHECK_STR(c.font, "sans:size=12");
	CHECK(c.vms_len == 2);
	const struct prism_vm_config *vm = config_find_vm(&c, "a-b_c.1");
	CHECK(vm != NULL);
	if (vm != NULL) {
		CHECK(vm->colour == 0xabcdef);
		CHECK_STR(vm->socket_path, "/run/vms/bank.sock");
		CHECK_STR(vm->label, "Banking (offline)");
		CHECK(vm->title_utf8);
		CHECK(vm->line == 9);
	}
	config_finish(&c);
	unlink(path);
	free(path);

	/* No file at all: built-in defaults, no VMs. */
	CHECK(config_init_default(&c));
	CHECK(c.vms_len == 0 && c.border_width > 0);
	config_finish(&c);
}

static void test_bad_configs(void) {
	/* The general section takes two lines before each body. */
	expect_error("frobnicate = 1\n", 3, "unknown key 'frobnicate'");
	expect_error("\n[display]\n", 4, "unknown section [display]");
	expect_error("border-width = 0\n", 3, "border-width");
	expect_error("border-width = 4px\n", 3, "border-width");
	expect_error("border-width = 99999999999999999999\n", 3, "border-width");
	expect_error("[vm:w]\nlabel = W\ncolour = red\n", 5, "colour");
	expect_error("[vm:w]\nlabel = W\ncolour = #12345\n", 5, "colour");
	expect_error("[vm:w]\nlabel = W\ncolour = #1234567\n", 5, "colour");
	expect_error("[vm:w]\nlabel = W\ncolour = #12345g\n", 5, "colour");
	expect_error("[vm:w]\nlabel = W\n", 3, "has no colour");
	expect_error("[vm:w]\ncolour = #ff0000\n", 3, "has no label");
	expect_error("[vm:w]\n", 3, "has no label");
	expect_error("[vm:w]\nlabel = W\ncolour = #ff0000\n[vm:w]\n", 6,
		"defined twice");
	expect_error("[vm:w]\nlabel = W\nlabel = X\n", 5, "duplicate key 'label'");
	expect_error("[vm:../evil]\n", 3, "not valid");
	expect_error("[vm:]\n", 3, "not valid");
	expect_error("[vm:.hidden]\n", 3, "not valid");
	expect_error("[vm:w]\nlabel = \x1b[31mW\ncolour = #ff0000\n", 4, "label");
	expect_error("[vm:w]\nlabel = W\ncolour = #ff0000\nsocket = rel.sock\n",
		6, "absolute");
	expect_error("[vm:w]\nlabel = W\ncolour = #ff0000\nallowlist = ../x\n",
		6, "allowlist");
	expect_error("[vm:w]\nlabel = W\ncolour = #ff0000\nallowlist = nosuch\n",
		6, "allowlist profile 'nosuch'");
	expect_error("[vm:w]\nlabel = W\ncolour = #ff0000\ntitles = ebcdic\n", 6,
		"titles");
	expect_error("[vm:a]\nlabel = Same\ncolour = #ff0000\n"
		"[vm:b]\nlabel = Same\ncolour = #00ff00\n", 6, "already used");
	expect_error("[vm:w]\nlabel = W\n  colour = #ff0000\n", 5, "indented");
	expect_error("this is not ini\n", 3, "expected 'key = value'");
	expect_error("[general\n", 3, "without ']'");
	expect_error("[general]\n", 3, "[general] appears twice");

	char long_line[400];
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "font = ", 7);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';
	expect_error(long_line, 3, "longer than");

	/* A key before any section. */
	char *path = write_file("label = x\n");
	struct prism_config c;
	char err[1024];
	CHECK(!config_load(&c, path, err, sizeof(err)));
	CHECK(strstr(err, ":1: key 'label' outside of any section") != NULL);
	unlink(path);
	free(path);

	CHECK(!config_load(&c, "/nonexistent/prism.ini", err, sizeof(err)));
	CHECK(strstr(err, "/nonexistent/prism.ini: ") == err);
}

static const struct prism_binding *find_binding(const struct prism_config *c,
		const char *combo) {
	uint32_t mods, sym;
	if (!parse_key_combo(combo, &mods, &sym)) {
		return NULL;
	}
	for (size_t i = 0; i < c->bindings_len; i++) {
		if (c->bindings[i].modifiers == mods && c->bindings[i].keysym == sym) {
			return &c->bindings[i];
		}
	}
	return NULL;
}

static void test_bindings_and_outputs(void) {
	char *path = config_file(
		"terminal = foot --server\n"
		"natural-scroll = yes\n"
		"pointer-accel = -0.5\n"
		"[bindings]\n"
		"Super+Return = exec alacritty -e sh\n"
		"Super+q = none\n"
		"Logo+Shift+X = exit\n"
		"[output:DP-1]\n"
		"mode = 2560x1440@143.9\n"
		"position = 1920,-100\n"
		"scale = 1.5\n"
		"transform = flipped-90\n"
		"[output:HDMI-A-1]\n"
		"enabled = no\n");
	struct prism_config c;
	char err[1024];
	if (!config_load(&c, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		test_failures++;
		return;
	}
	CHECK_STR(c.terminal, "foot --server");
	CHECK(c.natural_scroll && c.pointer_accel == -0.5);
	const struct prism_binding *b = find_binding(&c, "Super+Return");
	CHECK(b != NULL && b->action == PRISM_ACTION_EXEC &&
		strcmp(b->command, "alacritty -e sh") == 0);
	b = find_binding(&c, "Super+q");
	CHECK(b != NULL && b->action == PRISM_ACTION_NONE);
	b = find_binding(&c, "Super+Shift+x");
	CHECK(b != NULL && b->action == PRISM_ACTION_EXIT && b->line == 9);
	/* Defaults not overridden stay. */
	b = find_binding(&c, "Ctrl+Shift+c");
	CHECK(b != NULL && b->action == PRISM_ACTION_COPY && b->line == 0);
	const struct prism_output_config *o = config_find_output(&c, "DP-1");
	CHECK(o != NULL && o->enabled && o->width == 2560 && o->height == 1440 &&
		o->refresh_mhz == 143900 && o->has_position && o->x == 1920 &&
		o->y == -100 && o->scale == 1.5 && o->transform == 5);
	o = config_find_output(&c, "HDMI-A-1");
	CHECK(o != NULL && !o->enabled);
	CHECK(config_find_output(&c, "eDP-1") == NULL);
	config_finish(&c);
	unlink(path);
	free(path);

	expect_error("[bindings]\nSuper+q = close\nLogo+Q = maximize\n", 5,
		"bound twice");
	expect_error("[bindings]\nHyper+q = close\n", 4, "not a key combination");
	expect_error("[bindings]\nSuper+q = explode\n", 4, "unknown action");
	expect_error("[bindings]\nSuper+q = exec\n", 4, "exec needs a command");
	expect_error("[bindings]\nSuper+q = close now\n", 4, "takes no argument");
	expect_error("[output:X]\nmode = big\n", 4, "mode");
	expect_error("[output:X]\nscale = 0\n", 4, "scale");
	expect_error("[output:X]\ntransform = 45\n", 4, "transform");
	expect_error("[output:X]\nposition = 1\n", 4, "position");
	expect_error("[output:X]\n[output:X]\n", 4, "appears twice");
	expect_error("pointer-accel = 2\n", 3, "pointer-accel");
	expect_error("[vm:w]\nlabel = W\ncolour = #102030\n"
		"max-dmabuf-buffers = 0\n", 6, "max-dmabuf-buffers");
}

static void test_runtime_vm(void) {
	struct prism_config c;
	CHECK(config_init_default(&c));
	free(c.allowlist_dir);
	c.allowlist_dir = strdup(allowlist_dir);
	struct prism_vm_config vm;
	char err[512];
	CHECK(config_vm_init(&vm, &c, "extra", "Extra", "#123456", NULL, err,
		sizeof(err)));
	CHECK(vm.colour == 0x123456 && strcmp(vm.allowlist, "default") == 0);
	CHECK(policy_max_version(&vm.policy, "wl_compositor") == 4);
	CHECK(vm.max_windows == 500 && vm.max_connections == 64);
	CHECK(vm.max_dmabuf_buffers == 512);
	config_vm_finish(&vm);
	CHECK(!config_vm_init(&vm, &c, "../x", "X", "#123456", NULL, err,
		sizeof(err)));
	CHECK(!config_vm_init(&vm, &c, "x", "", "#123456", NULL, err, sizeof(err)));
	CHECK(!config_vm_init(&vm, &c, "x", "X", "blue", NULL, err, sizeof(err)));
	CHECK(!config_vm_init(&vm, &c, "x", "X", "#123456", "nosuch", err,
		sizeof(err)));
	CHECK(strstr(err, "allowlist profile 'nosuch'") != NULL);
	config_vm_finish(&vm);
	config_finish(&c);
}

static void test_colour_parsing(void) {
	uint32_t v = 0;
	CHECK(parse_colour("#000000", &v) && v == 0);
	CHECK(parse_colour("#ffffff", &v) && v == 0xffffff);
	CHECK(parse_colour("#A0b1C2", &v) && v == 0xa0b1c2);
	CHECK(!parse_colour("ffffff", &v));
	CHECK(!parse_colour("#fff", &v));
	CHECK(!parse_colour("#fffffff", &v));
	CHECK(!parse_colour("#-12345", &v));
	CHECK(!parse_colour("#12 456", &v));
	CHECK(!parse_colour("", &v));
	CHECK(!parse_colour("#", &v));
}

static void test_vm_names(void) {
	CHECK(vm_name_is_valid("work"));
	CHECK(vm_name_is_valid("vm-1.test_2"));
	CHECK(!vm_name_is_valid(""));
	CHECK(!vm_name_is_valid("a/b"));
	CHECK(!vm_name_is_valid(".."));
	CHECK(!vm_name_is_valid("a b"));
	CHECK(!vm_name_is_valid("0123456789012345678901234567890123"));
}

int main(void) {
	const char *data = getenv("PRISM_DATA_DIR");
	if (data == NULL) {
		fprintf(stderr, "PRISM_DATA_DIR is not set\n");
		return 1;
	}
	snprintf(allowlist_dir, sizeof(allowlist_dir), "%s/allowlist", data);
	test_example_config();
	test_good_configs();
	test_bad_configs();
	test_colour_parsing();
	test_vm_names();
	test_bindings_and_outputs();
	test_runtime_vm();
	return TEST_RESULT();
}
