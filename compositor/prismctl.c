#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include "prism-control-v1-client-protocol.h"

static const char usage[] =
	"Usage: prismctl COMMAND [ARGS...]\n"
	"\n"
	"  windows [--json]        list windows, top of the stack first\n"
	"  vms [--json]            list isolation units\n"
	"  screenshot [--output NAME] FILE.png\n"
	"                          capture the output layout (or one output)\n"
	"  reload                  read the configuration file again\n"
	"  vm add NAME --label LABEL --colour #RRGGBB [--allowlist PROFILE]\n"
	"                          add a VM; prints its socket for the VMM\n"
	"  vm remove NAME          close a VM's windows, proxy and socket\n"
	"  key COMBO               press a key combination, e.g. Ctrl+Shift+C\n"
	"  stats [--json]          the compositor's counters\n"
	"  pointer move X Y        move the pointer to a layout point\n"
	"  pointer press|release|click [left|right|middle]\n"
	"                          use a pointer button (default left)\n"
	"\n"
	"prismctl talks to the Prism on $WAYLAND_DISPLAY (a host socket).\n";

struct ctl {
	struct wl_display *display;
	struct prism_control_v1 *control;
	bool json;
	bool done;
	bool failed;
	size_t pending; // requests still to answer, when more than one
	bool pointer_move, press, release;
	int x, y;
	uint32_t button;
	size_t count;
	const char *png_path;
	const char *output;
	const char *vm_name, *vm_label, *vm_colour, *vm_allowlist;
};

static void json_string(const char *s) {
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20) {
				printf("\\u%04x", *p);
			} else {
				putchar(*p);
			}
		}
	}
	putchar('"');
}

static void window_list_window(void *data, struct prism_window_list_v1 *list,
		uint32_t id, const char *vm, const char *title, const char *app_id,
		int32_t x, int32_t y, int32_t width, int32_t height,
		uint32_t focused, uint32_t urgent, uint32_t fullscreen) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s\n  {\"id\": %u, \"vm\": ", ctl->count ? "," : "", id);
		if (vm[0] != '\0') {
			json_string(vm);
		} else {
			fputs("null", stdout);
		}
		fputs(", \"title\": ", stdout);
		json_string(title);
		fputs(", \"app_id\": ", stdout);
		json_string(app_id);
		printf(", \"x\": %d, \"y\": %d, \"width\": %d, \"height\": %d, "
			"\"focused\": %s, \"urgent\": %s, \"fullscreen\": %s}", x, y,
			width, height, focused ? "true" : "false",
			urgent ? "true" : "false", fullscreen ? "true" : "false");
	} else {
		printf("%-4u %-12s %5d,%-5d %5dx%-5d %s%s %s\n", id,
			vm[0] ? vm : "(host)", x, y, width, height,
			focused ? "*" : " ", urgent ? "!" : " ", title);
	}
	ctl->count++;
}

static void window_list_done(void *data, struct prism_window_list_v1 *list) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s]\n", ctl->count ? "\n" : "");
	}
	prism_window_list_v1_destroy(list);
	ctl->done = true;
}

static const struct prism_window_list_v1_listener window_list_listener = {
	.window = window_list_window,
	.done = window_list_done,
};

static void stats_stat(void *data, struct prism_stats_v1 *stats,
		const char *key, const char *value) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s\n  ", ctl->count ? "," : "");
		json_string(key);
		fputs(": ", stdout);
		json_string(value);
	} else {
		printf("%s %s\n", key, value);
	}
	ctl->count++;
}

static void stats_done(void *data, struct prism_stats_v1 *stats) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s}\n", ctl->count ? "\n" : "");
	}
	prism_stats_v1_destroy(stats);
	ctl->done = true;
}

static const struct prism_stats_v1_listener stats_listener = {
	.stat = stats_stat,
	.done = stats_done,
};

static void vm_list_vm(void *data, struct prism_vm_list_v1 *list,
		const char *name, const char *label, uint32_t colour,
		const char *socket, const char *allowlist, uint32_t proxy_pid,
		uint32_t denials, uint32_t runtime, uint32_t clients,
		uint32_t windows) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s\n  {\"name\": ", ctl->count ? "," : "");
		json_string(name);
		fputs(", \"label\": ", stdout);
		json_string(label);
		printf(", \"colour\": \"#%06x\", \"socket\": ", colour & 0xffffff);
		json_string(socket);
		fputs(", \"allowlist\": ", stdout);
		json_string(allowlist);
		printf(", \"proxy_pid\": %u, \"clients\": %u, \"windows\": %u, "
			"\"denials\": %u, \"runtime\": %s}", proxy_pid, clients, windows,
			denials, runtime ? "true" : "false");
	} else {
		printf("%-16s %-16s #%06x %-10s %3u clients %3u windows  %s\n",
			name, label, colour & 0xffffff, allowlist, clients, windows,
			socket);
	}
	ctl->count++;
}

static void vm_list_done(void *data, struct prism_vm_list_v1 *list) {
	struct ctl *ctl = data;
	if (ctl->json) {
		printf("%s]\n", ctl->count ? "\n" : "");
	}
	prism_vm_list_v1_destroy(list);
	ctl->done = true;
}

static const struct prism_vm_list_v1_listener vm_list_listener = {
	.vm = vm_list_vm,
	.done = vm_list_done,
};

static bool write_png(const char *path, const uint8_t *pixels, uint32_t width,
		uint32_t height, uint32_t stride) {
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "prismctl: %s: %s\n", path, strerror(errno));
		return false;
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
		NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *row = malloc((size_t)width * 3);
	bool ok = false;
	if (png == NULL || info == NULL || row == NULL) {
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		goto out;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
		PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		PNG_FILTER_TYPE_DEFAULT);
	/* No row filters: the file is a little larger, and trivial to read back
	 * for tests and scripts. */
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *src = pixels + (size_t)y * stride;
		for (uint32_t x = 0; x < width; x++) {
			/* XRGB8888 little-endian: B, G, R, X in memory. */
			row[x * 3 + 0] = src[x * 4 + 2];
			row[x * 3 + 1] = src[x * 4 + 1];
			row[x * 3 + 2] = src[x * 4 + 0];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ok = true;
out:
	if (png != NULL) {
		png_destroy_write_struct(&png, info ? &info : NULL);
	}
	free(row);
	if (fclose(f) != 0) {
		ok = false;
	}
	if (!ok) {
		fprintf(stderr, "prismctl: cannot write %s\n", path);
	}
	return ok;
}

static void screenshot_ready(void *data, struct prism_screenshot_v1 *shot,
		int32_t fd, uint32_t width, uint32_t height, uint32_t stride) {
	struct ctl *ctl = data;
	ctl->done = true;
	prism_screenshot_v1_destroy(shot);
	size_t size = (size_t)stride * height;
	if (width == 0 || height == 0 || stride < width * 4) {
		fprintf(stderr, "prismctl: bad screenshot geometry\n");
		ctl->failed = true;
		close(fd);
		return;
	}
	void *pixels = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (pixels == MAP_FAILED) {
		fprintf(stderr, "prismctl: cannot map the screenshot: %s\n",
			strerror(errno));
		ctl->failed = true;
		return;
	}
	ctl->failed = !write_png(ctl->png_path, pixels, width, height, stride);
	munmap(pixels, size);
	if (!ctl->failed) {
		printf("%s\n", ctl->png_path);
	}
}

static void screenshot_failed(void *data, struct prism_screenshot_v1 *shot,
		const char *reason) {
	struct ctl *ctl = data;
	fprintf(stderr, "prismctl: screenshot failed: %s\n", reason);
	prism_screenshot_v1_destroy(shot);
	ctl->done = true;
	ctl->failed = true;
}

static const struct prism_screenshot_v1_listener screenshot_listener = {
	.ready = screenshot_ready,
	.failed = screenshot_failed,
};

static void request_result(void *data, struct prism_request_v1 *req,
		const char *text) {
	printf("%s\n", text);
}

static void request_done(void *data, struct prism_request_v1 *req) {
	struct ctl *ctl = data;
	prism_request_v1_destroy(req);
	ctl->done = ctl->pending <= 1;
	if (ctl->pending > 0) {
		ctl->pending--;
	}
}

static void request_failed(void *data, struct prism_request_v1 *req,
		const char *reason) {
	struct ctl *ctl = data;
	fprintf(stderr, "prismctl: %s\n", reason);
	prism_request_v1_destroy(req);
	ctl->done = true;
	ctl->failed = true;
}

static const struct prism_request_v1_listener request_listener = {
	.result = request_result,
	.done = request_done,
	.failed = request_failed,
};

static void registry_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct ctl *ctl = data;
	if (strcmp(interface, prism_control_v1_interface.name) == 0) {
		ctl->control = wl_registry_bind(registry, name,
			&prism_control_v1_interface, 1);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static bool parse_pointer(struct ctl *ctl, int argc, char **argv) {
	if (strcmp(argv[0], "move") == 0) {
		char *end1, *end2;
		if (argc != 3) {
			return false;
		}
		long x = strtol(argv[1], &end1, 10), y = strtol(argv[2], &end2, 10);
		if (*end1 != '\0' || *end2 != '\0' || argv[1][0] == '\0' ||
				argv[2][0] == '\0' || x < INT32_MIN || x > INT32_MAX ||
				y < INT32_MIN || y > INT32_MAX) {
			return false;
		}
		ctl->pointer_move = true;
		ctl->x = (int)x;
		ctl->y = (int)y;
		return true;
	}
	bool click = strcmp(argv[0], "click") == 0;
	ctl->press = click || strcmp(argv[0], "press") == 0;
	ctl->release = click || strcmp(argv[0], "release") == 0;
	if (!ctl->press && !ctl->release) {
		return false;
	}
	const char *name = argc > 1 ? argv[1] : "left";
	if (argc > 2) {
		return false;
	}
	if (strcmp(name, "left") == 0) {
		ctl->button = 0x110; // BTN_LEFT
	} else if (strcmp(name, "right") == 0) {
		ctl->button = 0x111; // BTN_RIGHT
	} else if (strcmp(name, "middle") == 0) {
		ctl->button = 0x112; // BTN_MIDDLE
	} else {
		return false;
	}
	return true;
}

/* vm add NAME --label L --colour C [--allowlist P] | vm remove NAME */
static bool parse_vm(struct ctl *ctl, int argc, char **argv) {
	if (argc == 2 && strcmp(argv[0], "remove") == 0) {
		ctl->vm_name = argv[1];
		return true;
	}
	if (argc < 2 || strcmp(argv[0], "add") != 0) {
		return false;
	}
	ctl->vm_name = argv[1];
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc) {
			return false;
		}
		if (strcmp(argv[i], "--label") == 0) {
			ctl->vm_label = argv[i + 1];
		} else if (strcmp(argv[i], "--colour") == 0 ||
				strcmp(argv[i], "--color") == 0) {
			ctl->vm_colour = argv[i + 1];
		} else if (strcmp(argv[i], "--allowlist") == 0) {
			ctl->vm_allowlist = argv[i + 1];
		} else {
			return false;
		}
	}
	return ctl->vm_label != NULL && ctl->vm_colour != NULL;
}

static int fail_usage(void) {
	fputs(usage, stderr);
	return 2;
}

int main(int argc, char *argv[]) {
	if (argc < 2) {
		return fail_usage();
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	const char *cmd = argv[1];
	struct ctl ctl = {0};
	bool list = strcmp(cmd, "windows") == 0 || strcmp(cmd, "vms") == 0 ||
		strcmp(cmd, "stats") == 0;
	if (list) {
		if (argc == 3 && strcmp(argv[2], "--json") == 0) {
			ctl.json = true;
		} else if (argc != 2) {
			return fail_usage();
		}
	} else if (strcmp(cmd, "screenshot") == 0) {
		if (argc == 5 && strcmp(argv[2], "--output") == 0) {
			ctl.output = argv[3];
			ctl.png_path = argv[4];
		} else if (argc == 3) {
			ctl.output = "";
			ctl.png_path = argv[2];
		} else {
			return fail_usage();
		}
	} else if (strcmp(cmd, "key") == 0) {
		if (argc != 3) {
			return fail_usage();
		}
	} else if (strcmp(cmd, "reload") == 0) {
		if (argc != 2) {
			return fail_usage();
		}
	} else if (strcmp(cmd, "vm") == 0) {
		if (!parse_vm(&ctl, argc - 2, argv + 2)) {
			return fail_usage();
		}
	} else if (strcmp(cmd, "pointer") == 0) {
		if (argc < 3 || !parse_pointer(&ctl, argc - 2, argv + 2)) {
			return fail_usage();
		}
	} else {
		fprintf(stderr, "prismctl: unknown command '%s'\n", cmd);
		return fail_usage();
	}

	ctl.display = wl_display_connect(NULL);
	if (ctl.display == NULL) {
		fprintf(stderr, "prismctl: cannot connect to the Wayland display "
			"'%s'\n", getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") :
			"wayland-0");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(ctl.display);
	wl_registry_add_listener(registry, &registry_listener, &ctl);
	if (wl_display_roundtrip(ctl.display) < 0 || ctl.control == NULL) {
		fprintf(stderr, "prismctl: the compositor offers no "
			"prism_control_v1 (not Prism, or not a host socket)\n");
		wl_display_disconnect(ctl.display);
		return 1;
	}

	if (strcmp(cmd, "windows") == 0) {
		if (ctl.json) {
			fputs("[", stdout);
		}
		struct prism_window_list_v1 *l =
			prism_control_v1_list_windows(ctl.control);
		prism_window_list_v1_add_listener(l, &window_list_listener, &ctl);
	} else if (strcmp(cmd, "vms") == 0) {
		if (ctl.json) {
			fputs("[", stdout);
		}
		struct prism_vm_list_v1 *l = prism_control_v1_list_vms(ctl.control);
		prism_vm_list_v1_add_listener(l, &vm_list_listener, &ctl);
	} else if (strcmp(cmd, "stats") == 0) {
		if (ctl.json) {
			fputs("{", stdout);
		}
		struct prism_stats_v1 *s = prism_control_v1_stats(ctl.control);
		prism_stats_v1_add_listener(s, &stats_listener, &ctl);
	} else if (strcmp(cmd, "screenshot") == 0) {
		struct prism_screenshot_v1 *s =
			prism_control_v1_screenshot(ctl.control, ctl.output);
		prism_screenshot_v1_add_listener(s, &screenshot_listener, &ctl);
	} else if (strcmp(cmd, "key") == 0) {
		struct prism_request_v1 *r = prism_control_v1_key(ctl.control,
			argv[2]);
		prism_request_v1_add_listener(r, &request_listener, &ctl);
	} else if (strcmp(cmd, "reload") == 0) {
		struct prism_request_v1 *r = prism_control_v1_reload(ctl.control);
		prism_request_v1_add_listener(r, &request_listener, &ctl);
	} else if (strcmp(cmd, "vm") == 0 && ctl.vm_label != NULL) {
		struct prism_request_v1 *r = prism_control_v1_vm_add(ctl.control,
			ctl.vm_name, ctl.vm_label, ctl.vm_colour,
			ctl.vm_allowlist ? ctl.vm_allowlist : "");
		prism_request_v1_add_listener(r, &request_listener, &ctl);
	} else if (strcmp(cmd, "vm") == 0) {
		struct prism_request_v1 *r = prism_control_v1_vm_remove(ctl.control,
			ctl.vm_name);
		prism_request_v1_add_listener(r, &request_listener, &ctl);
	} else if (ctl.pointer_move) {
		struct prism_request_v1 *r = prism_control_v1_pointer_motion(
			ctl.control, ctl.x, ctl.y);
		prism_request_v1_add_listener(r, &request_listener, &ctl);
	} else {
		/* A click is a press and a release; the last answer ends it. */
		if (ctl.press) {
			struct prism_request_v1 *r = prism_control_v1_pointer_button(
				ctl.control, ctl.button, 1);
			prism_request_v1_add_listener(r, &request_listener, &ctl);
			ctl.pending++;
		}
		if (ctl.release) {
			struct prism_request_v1 *r = prism_control_v1_pointer_button(
				ctl.control, ctl.button, 0);
			prism_request_v1_add_listener(r, &request_listener, &ctl);
			ctl.pending++;
		}
	}

	while (!ctl.done) {
		if (wl_display_dispatch(ctl.display) < 0) {
			fprintf(stderr, "prismctl: lost the connection to the "
				"compositor: %s\n", strerror(wl_display_get_error(ctl.display)));
			ctl.failed = true;
			break;
		}
	}
	prism_control_v1_destroy(ctl.control);
	wl_registry_destroy(registry);
	wl_display_disconnect(ctl.display);
	return ctl.failed ? 1 : 0;
}
