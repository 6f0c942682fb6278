/*
 * prism-test-client: a small, predictable Wayland client for Prism's tests.
 *
 * It opens one xdg_toplevel filled with a solid colour, prints "mapped" once
 * the compositor has seen its first buffer, then stays until it is killed or
 * its window is closed. With --globals it only prints the registry. Other
 * options make it report keyboard events, ask for or use xdg-activation
 * tokens, open a popup or ask for fullscreen, or send its pixels as a
 * dmabuf: each line it prints is one thing that happened, for the tests to
 * read.
 */
#define _GNU_SOURCE // memfd_create, F_ADD_SEALS
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wayland-client.h>
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "xdg-activation-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

struct subsurface_spec {
	bool enabled;
	int x, y, width, height;
	uint32_t colour;
};

struct popup_spec {
	bool enabled;
	int x, y, width, height;
};

struct client {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct wl_keyboard *keyboard;
	struct xdg_activation_v1 *activation;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	uint32_t dmabuf_version;
	uint32_t last_serial;

	/* --dmabuf: buffers go through zwp_linux_dmabuf_v1, backed by a
	 * sealed memfd or, with --udmabuf, a real dmabuf made from one. */
	bool use_dmabuf, use_udmabuf, dmabuf_announced;
	bool linear_xrgb; // the compositor advertised XRGB8888 + LINEAR
	struct zwp_linux_dmabuf_feedback_v1 *feedback;
	void *format_table;
	size_t format_table_size;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct wl_surface *sub_surface;
	struct wl_subsurface *subsurface;

	int width, height;
	uint32_t colour;
	struct subsurface_spec sub;
	struct popup_spec popup;
	bool list_globals, print_keys, make_token, fullscreen;
	const char *activate_token;
	bool configured, mapped, closed, token_requested;

	struct wl_surface *popup_surface;
	struct xdg_surface *popup_xdg;
	struct xdg_popup *xdg_popup;

	/* Buffers not yet released and tokens not yet done: destroyed on the
	 * way out, so a run under LeakSanitizer reports only real leaks even
	 * when the compositor goes away first. */
	struct wl_proxy *in_flight[64];
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void track(struct client *c, void *proxy) {
	for (size_t i = 0; i < sizeof(c->in_flight) / sizeof(c->in_flight[0]); i++) {
		if (c->in_flight[i] == NULL) {
			c->in_flight[i] = proxy;
			return;
		}
	}
	fprintf(stderr, "test-client: too many objects in flight\n");
	exit(1);
}

static void untrack(struct client *c, void *proxy) {
	for (size_t i = 0; i < sizeof(c->in_flight) / sizeof(c->in_flight[0]); i++) {
		if (c->in_flight[i] == proxy) {
			c->in_flight[i] = NULL;
		}
	}
}

static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void buffer_release(void *data, struct wl_buffer *buffer) {
	untrack(data, buffer);
	wl_buffer_destroy(buffer);
}

/*
 * A memfd of at least size bytes (a whole number of pages, as udmabuf
 * wants), filled with one opaque colour and sealed against shrinking, so
 * that it can be a shm pool, or a dmabuf plane for Prism and its proxy.
 */
static int filled_memfd(size_t size, uint32_t colour, size_t *alloc_out) {
	long page = sysconf(_SC_PAGESIZE);
	size_t alloc = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	int fd = memfd_create("prism-test-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)alloc) != 0) {
		fprintf(stderr, "test-client: memfd: %s\n", strerror(errno));
		exit(1);
	}
	uint32_t *pixels = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED,
		fd, 0);
	if (pixels == MAP_FAILED) {
		fprintf(stderr, "test-client: mmap: %s\n", strerror(errno));
		exit(1);
	}
	for (size_t i = 0; i < size / 4; i++) {
		pixels[i] = 0xff000000 | colour;
	}
	munmap(pixels, alloc);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
		fprintf(stderr, "test-client: seals: %s\n", strerror(errno));
		exit(1);
	}
	*alloc_out = alloc;
	return fd;
}

static struct wl_buffer *make_buffer(struct client *c, int width, int height,
		uint32_t colour) {
	int stride = width * 4;
	size_t size;
	int fd = filled_memfd((size_t)stride * (size_t)height, colour, &size);
	static const struct wl_buffer_listener buffer_listener = {
		.release = buffer_release,
	};
	struct wl_shm_pool *pool = wl_shm_create_pool(c->shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width,
		height, stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	wl_buffer_add_listener(buffer, &buffer_listener, c);
	track(c, buffer);
	return buffer;
}

/* A real dmabuf over the memfd, where the kernel offers udmabuf. */
static int udmabuf_from_memfd(int memfd, size_t size) {
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "test-client: /dev/udmabuf: %s\n", strerror(errno));
		exit(1);
	}
	struct udmabuf_create create = {
		.memfd = (uint32_t)memfd,
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = 0,
		.size = size,
	};
	int fd = ioctl(dev, UDMABUF_CREATE, &create);
	close(dev);
	if (fd < 0) {
		fprintf(stderr, "test-client: UDMABUF_CREATE: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/*
 * A LINEAR XRGB8888 buffer through zwp_linux_dmabuf_v1. Where no dmabuf
 * exporter exists (CI) a memfd sealed against shrinking stands in for the
 * dmabuf: the compositor and the proxy take both.
 */
static struct wl_buffer *make_dmabuf_buffer(struct client *c, int width,
		int height, uint32_t colour) {
	int stride = width * 4;
	size_t alloc;
	int fd = filled_memfd((size_t)stride * (size_t)height, colour, &alloc);
	int plane = fd;
	if (c->use_udmabuf) {
		plane = udmabuf_from_memfd(fd, alloc);
		close(fd);
	}
	struct stat st;
	if (!c->dmabuf_announced && fstat(plane, &st) == 0) {
		c->dmabuf_announced = true;
		say("dmabuf-file %llu:%llu %s", (unsigned long long)st.st_dev,
			(unsigned long long)st.st_ino,
			c->use_udmabuf ? "udmabuf" : "memfd");
	}
	struct zwp_linux_buffer_params_v1 *params =
		zwp_linux_dmabuf_v1_create_params(c->dmabuf);
	uint64_t modifier = DRM_FORMAT_MOD_LINEAR;
	zwp_linux_buffer_params_v1_add(params, plane, 0, 0, (uint32_t)stride,
		(uint32_t)(modifier >> 32), (uint32_t)modifier);
	struct wl_buffer *buffer = zwp_linux_buffer_params_v1_create_immed(params,
		width, height, DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	close(plane);
	static const struct wl_buffer_listener buffer_listener = {
		.release = buffer_release,
	};
	wl_buffer_add_listener(buffer, &buffer_listener, c);
	track(c, buffer);
	return buffer;
}

static void draw(struct client *c) {
	struct wl_buffer *buffer = c->use_dmabuf ?
		make_dmabuf_buffer(c, c->width, c->height, c->colour) :
		make_buffer(c, c->width, c->height, c->colour);
	wl_surface_attach(c->surface, buffer, 0, 0);
	wl_surface_damage_buffer(c->surface, 0, 0, INT32_MAX, INT32_MAX);
	wl_surface_commit(c->surface);
}

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
		uint32_t serial) {
	struct client *c = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	c->configured = true;
	draw(c);
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel,
		int32_t width, int32_t height, struct wl_array *states) {
	struct client *c = data;
	if (width > 0 && height > 0) {
		c->width = width;
		c->height = height;
	}
	bool fullscreen = false, maximized = false, activated = false;
	uint32_t *state;
	wl_array_for_each(state, states) {
		fullscreen |= *state == XDG_TOPLEVEL_STATE_FULLSCREEN;
		maximized |= *state == XDG_TOPLEVEL_STATE_MAXIMIZED;
		activated |= *state == XDG_TOPLEVEL_STATE_ACTIVATED;
	}
	say("configure %dx%d fullscreen=%d maximized=%d activated=%d", width,
		height, fullscreen, maximized, activated);
}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel) {
	struct client *c = data;
	c->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base,
		uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_ping,
};

static void keyboard_keymap(void *data, struct wl_keyboard *kb,
		uint32_t format, int32_t fd, uint32_t size) {
	close(fd);
}

static void keyboard_enter(void *data, struct wl_keyboard *kb, uint32_t serial,
		struct wl_surface *surface, struct wl_array *keys) {
	struct client *c = data;
	c->last_serial = serial;
	if (c->print_keys) {
		say("keyboard-enter");
	}
}

static void keyboard_leave(void *data, struct wl_keyboard *kb, uint32_t serial,
		struct wl_surface *surface) {
	struct client *c = data;
	if (c->print_keys) {
		say("keyboard-leave");
	}
}

static void keyboard_key(void *data, struct wl_keyboard *kb, uint32_t serial,
		uint32_t time, uint32_t key, uint32_t state) {
	struct client *c = data;
	c->last_serial = serial;
	if (c->print_keys) {
		say("key %u %s", key, state ? "pressed" : "released");
	}
}

static void keyboard_modifiers(void *data, struct wl_keyboard *kb,
		uint32_t serial, uint32_t depressed, uint32_t latched,
		uint32_t locked, uint32_t group) {
}

static void keyboard_repeat_info(void *data, struct wl_keyboard *kb,
		int32_t rate, int32_t delay) {
}

static const struct wl_keyboard_listener keyboard_listener = {
	.keymap = keyboard_keymap,
	.enter = keyboard_enter,
	.leave = keyboard_leave,
	.key = keyboard_key,
	.modifiers = keyboard_modifiers,
	.repeat_info = keyboard_repeat_info,
};

static void token_done(void *data, struct xdg_activation_token_v1 *token,
		const char *name) {
	say("token %s", name);
	untrack(data, token);
	xdg_activation_token_v1_destroy(token);
}

static const struct xdg_activation_token_v1_listener token_listener = {
	.done = token_done,
};

/* A token tied to this window and its last input serial; without_input,
 * tied to the window only. */
static void request_token(struct client *c, bool without_input) {
	struct xdg_activation_token_v1 *token =
		xdg_activation_v1_get_activation_token(c->activation);
	xdg_activation_token_v1_add_listener(token, &token_listener, c);
	track(c, token);
	if (!without_input) {
		xdg_activation_token_v1_set_serial(token, c->last_serial, c->seat);
	}
	xdg_activation_token_v1_set_surface(token, c->surface);
	xdg_activation_token_v1_commit(token);
}

static void popup_configure(void *data, struct xdg_popup *popup, int32_t x,
		int32_t y, int32_t width, int32_t height) {
	say("popup-configure %d,%d %dx%d", x, y, width, height);
}

static void popup_done(void *data, struct xdg_popup *popup) {
	say("popup-done");
}

static const struct xdg_popup_listener popup_listener = {
	.configure = popup_configure,
	.popup_done = popup_done,
};

static void popup_surface_configure(void *data, struct xdg_surface *xs,
		uint32_t serial) {
	struct client *c = data;
	xdg_surface_ack_configure(xs, serial);
	struct wl_buffer *buffer = make_buffer(c, c->popup.width, c->popup.height,
		0xffff00);
	wl_surface_attach(c->popup_surface, buffer, 0, 0);
	wl_surface_damage_buffer(c->popup_surface, 0, 0, INT32_MAX, INT32_MAX);
	wl_surface_commit(c->popup_surface);
}

static const struct xdg_surface_listener popup_surface_listener = {
	.configure = popup_surface_configure,
};

/* A popup placed at (x, y) of the window with no constraint adjustment, as
 * a hostile client would ask: the compositor decides where it may go. */
static void open_popup(struct client *c) {
	struct xdg_positioner *pos = xdg_wm_base_create_positioner(c->wm_base);
	xdg_positioner_set_size(pos, c->popup.width, c->popup.height);
	xdg_positioner_set_anchor_rect(pos, c->popup.x, c->popup.y, 1, 1);
	xdg_positioner_set_anchor(pos, XDG_POSITIONER_ANCHOR_TOP_LEFT);
	xdg_positioner_set_gravity(pos, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	c->popup_surface = wl_compositor_create_surface(c->compositor);
	c->popup_xdg = xdg_wm_base_get_xdg_surface(c->wm_base, c->popup_surface);
	xdg_surface_add_listener(c->popup_xdg, &popup_surface_listener, c);
	c->xdg_popup = xdg_surface_get_popup(c->popup_xdg, c->xdg_surface, pos);
	xdg_popup_add_listener(c->xdg_popup, &popup_listener, c);
	xdg_positioner_destroy(pos);
	wl_surface_commit(c->popup_surface);
}

/*
 * Commands on stdin, one a line: "token" asks for an activation token
 * (printed as "token NAME"), "token-without-input" for one not tied to an
 * input event; "activate NAME" asks for this window to be activated with a
 * token.
 */
static void run_command(struct client *c, const char *line) {
	if (c->activation == NULL) {
		say("error no xdg_activation_v1");
	} else if (strcmp(line, "token") == 0) {
		request_token(c, false);
	} else if (strcmp(line, "token-without-input") == 0) {
		request_token(c, true);
	} else if (strncmp(line, "activate ", 9) == 0) {
		xdg_activation_v1_activate(c->activation, line + 9, c->surface);
		say("activation-requested");
	} else {
		say("error unknown command");
	}
}

static void note_pair(struct client *c, uint32_t format, uint64_t modifier) {
	if (format == DRM_FORMAT_XRGB8888 && modifier == DRM_FORMAT_MOD_LINEAR) {
		c->linear_xrgb = true;
	}
}

static void dmabuf_format(void *data, struct zwp_linux_dmabuf_v1 *dmabuf,
		uint32_t format) {
}

static void dmabuf_modifier(void *data, struct zwp_linux_dmabuf_v1 *dmabuf,
		uint32_t format, uint32_t hi, uint32_t lo) {
	note_pair(data, format, (uint64_t)hi << 32 | lo);
}

static const struct zwp_linux_dmabuf_v1_listener dmabuf_listener = {
	.format = dmabuf_format,
	.modifier = dmabuf_modifier,
};

static void feedback_done(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback) {
	say("dmabuf-feedback-done");
}

static void feedback_format_table(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback, int32_t fd,
		uint32_t size) {
	struct client *c = data;
	if (c->format_table != NULL) {
		munmap(c->format_table, c->format_table_size);
	}
	c->format_table = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	c->format_table_size = size;
	if (c->format_table == MAP_FAILED) {
		c->format_table = NULL;
	}
	close(fd);
}

static void feedback_main_device(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback, struct wl_array *dev) {
}

static void feedback_tranche_done(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback) {
}

static void feedback_tranche_target_device(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback, struct wl_array *dev) {
}

static void feedback_tranche_formats(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback,
		struct wl_array *indices) {
	struct client *c = data;
	struct entry {
		uint32_t format, pad;
		uint64_t modifier;
	};
	size_t entries = c->format_table_size / sizeof(struct entry);
	uint16_t *index;
	wl_array_for_each(index, indices) {
		if (c->format_table != NULL && *index < entries) {
			const struct entry *e =
				(const struct entry *)c->format_table + *index;
			note_pair(c, e->format, e->modifier);
		}
	}
}

static void feedback_tranche_flags(void *data,
		struct zwp_linux_dmabuf_feedback_v1 *feedback, uint32_t flags) {
}

static const struct zwp_linux_dmabuf_feedback_v1_listener feedback_listener = {
	.done = feedback_done,
	.format_table = feedback_format_table,
	.main_device = feedback_main_device,
	.tranche_done = feedback_tranche_done,
	.tranche_target_device = feedback_tranche_target_device,
	.tranche_formats = feedback_tranche_formats,
	.tranche_flags = feedback_tranche_flags,
};

static void registry_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct client *c = data;
	if (c->list_globals) {
		printf("%s %u\n", interface, version);
		return;
	}
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		c->compositor = wl_registry_bind(registry, name,
			&wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_subcompositor_interface.name) == 0) {
		c->subcompositor = wl_registry_bind(registry, name,
			&wl_subcompositor_interface, 1);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		c->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c->wm_base = wl_registry_bind(registry, name,
			&xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(c->wm_base, &wm_base_listener, c);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 &&
			c->seat == NULL) {
		c->seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(interface, xdg_activation_v1_interface.name) == 0) {
		c->activation = wl_registry_bind(registry, name,
			&xdg_activation_v1_interface, 1);
	} else if (strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 &&
			c->use_dmabuf && version >= 3) {
		c->dmabuf_version = version < 4 ? version : 4;
		c->dmabuf = wl_registry_bind(registry, name,
			&zwp_linux_dmabuf_v1_interface, c->dmabuf_version);
		zwp_linux_dmabuf_v1_add_listener(c->dmabuf, &dmabuf_listener, c);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static bool parse_colour(const char *s, uint32_t *out) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s[0] == '#' ? s + 1 : s, &end, 16);
	if (errno != 0 || *end != '\0' || v > 0xffffff) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void usage(void) {
	fprintf(stderr, "usage: prism-test-client [--title T] [--app-id A] "
		"[--size WxH] [--colour RRGGBB]\n"
		"\t[--subsurface X,Y,WxH,RRGGBB] [--popup X,Y,WxH] [--fullscreen]\n"
		"\t[--print-keys] [--make-token] [--activate TOKEN] [--globals]\n"
		"\t[--dmabuf | --udmabuf]\n");
	exit(2);
}

/*
 * Free every proxy and disconnect. The compositor may already be gone, so
 * only the client-side objects are freed: no request is sent.
 */
static int finish(struct client *c, int status) {
	for (size_t i = 0; i < sizeof(c->in_flight) / sizeof(c->in_flight[0]); i++) {
		if (c->in_flight[i] != NULL) {
			wl_proxy_destroy(c->in_flight[i]);
		}
	}
	void *proxies[] = {
		c->xdg_popup, c->popup_xdg, c->popup_surface, c->subsurface,
		c->sub_surface, c->toplevel, c->xdg_surface, c->surface,
		c->keyboard, c->feedback, c->dmabuf, c->activation, c->seat,
		c->wm_base, c->shm,
		c->subcompositor, c->compositor, c->registry,
	};
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++) {
		if (proxies[i] != NULL) {
			wl_proxy_destroy(proxies[i]);
		}
	}
	if (c->format_table != NULL) {
		munmap(c->format_table, c->format_table_size);
	}
	wl_display_disconnect(c->display);
	return status;
}

int main(int argc, char *argv[]) {
	struct client c = { .width = 200, .height = 150, .colour = 0x3366cc };
	const char *title = "prism test client";
	const char *app_id = "prism-test-client";
	static const struct option options[] = {
		{ "title", required_argument, NULL, 't' },
		{ "app-id", required_argument, NULL, 'a' },
		{ "size", required_argument, NULL, 's' },
		{ "colour", required_argument, NULL, 'c' },
		{ "subsurface", required_argument, NULL, 'S' },
		{ "globals", no_argument, NULL, 'g' },
		{ "popup", required_argument, NULL, 'P' },
		{ "fullscreen", no_argument, NULL, 'F' },
		{ "print-keys", no_argument, NULL, 'k' },
		{ "make-token", no_argument, NULL, 'T' },
		{ "activate", required_argument, NULL, 'A' },
		{ "dmabuf", no_argument, NULL, 'D' },
		{ "udmabuf", no_argument, NULL, 'U' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char colour[16];
		switch (opt) {
		case 't':
			title = optarg;
			break;
		case 'a':
			app_id = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &c.width, &c.height) != 2 ||
					c.width < 1 || c.height < 1) {
				usage();
			}
			break;
		case 'c':
			if (!parse_colour(optarg, &c.colour)) {
				usage();
			}
			break;
		case 'S':
			if (sscanf(optarg, "%d,%d,%dx%d,%15s", &c.sub.x, &c.sub.y,
					&c.sub.width, &c.sub.height, colour) != 5 ||
					!parse_colour(colour, &c.sub.colour) ||
					c.sub.width < 1 || c.sub.height < 1) {
				usage();
			}
			c.sub.enabled = true;
			break;
		case 'g':
			c.list_globals = true;
			break;
		case 'P':
			if (sscanf(optarg, "%d,%d,%dx%d", &c.popup.x, &c.popup.y,
					&c.popup.width, &c.popup.height) != 4 ||
					c.popup.width < 1 || c.popup.height < 1) {
				usage();
			}
			c.popup.enabled = true;
			break;
		case 'F':
			c.fullscreen = true;
			break;
		case 'k':
			c.print_keys = true;
			break;
		case 'T':
			c.make_token = true;
			break;
		case 'A':
			c.activate_token = optarg;
			break;
		case 'U':
			c.use_udmabuf = true;
			c.use_dmabuf = true;
			break;
		case 'D':
			c.use_dmabuf = true;
			break;
		default:
			usage();
		}
	}

	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		fprintf(stderr, "test-client: cannot connect\n");
		return 1;
	}
	c.registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(c.registry, &registry_listener, &c);
	if (wl_display_roundtrip(c.display) < 0) {
		return finish(&c, 1);
	}
	if (c.list_globals) {
		fflush(stdout);
		return finish(&c, 0);
	}
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL) {
		fprintf(stderr, "test-client: missing wl_compositor, wl_shm or "
			"xdg_wm_base\n");
		return finish(&c, 1);
	}

	if (c.seat != NULL) {
		c.keyboard = wl_seat_get_keyboard(c.seat);
		wl_keyboard_add_listener(c.keyboard, &keyboard_listener, &c);
	}
	if (c.use_dmabuf) {
		if (c.dmabuf == NULL) {
			fprintf(stderr, "test-client: no zwp_linux_dmabuf_v1 "
				"(version 3 or later)\n");
			return finish(&c, 1);
		}
		if (c.dmabuf_version >= 4) {
			c.feedback = zwp_linux_dmabuf_v1_get_default_feedback(c.dmabuf);
			zwp_linux_dmabuf_feedback_v1_add_listener(c.feedback,
				&feedback_listener, &c);
		}
		if (wl_display_roundtrip(c.display) < 0) {
			return finish(&c, 1);
		}
		if (!c.linear_xrgb) {
			fprintf(stderr, "test-client: XRGB8888 with the LINEAR "
				"modifier is not advertised\n");
			return finish(&c, 1);
		}
	}
	if ((c.make_token || c.activate_token) && c.activation == NULL) {
		fprintf(stderr, "test-client: no xdg_activation_v1\n");
		return finish(&c, 1);
	}

	c.surface = wl_compositor_create_surface(c.compositor);
	if (c.sub.enabled) {
		if (c.subcompositor == NULL) {
			fprintf(stderr, "test-client: no wl_subcompositor\n");
			return finish(&c, 1);
		}
		c.sub_surface = wl_compositor_create_surface(c.compositor);
		c.subsurface = wl_subcompositor_get_subsurface(c.subcompositor,
			c.sub_surface, c.surface);
		wl_subsurface_set_position(c.subsurface, c.sub.x, c.sub.y);
		wl_subsurface_set_desync(c.subsurface);
		struct wl_buffer *buffer = make_buffer(&c, c.sub.width,
			c.sub.height, c.sub.colour);
			wl_surface_attach(c.sub_surface, buffer, 0, 0);
		wl_surface_damage_buffer(c.sub_surface, 0, 0, INT32_MAX, INT32_MAX);
		wl_surface_commit(c.sub_surface);
	}
	c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xdg_surface, &xdg_surface_listener, &c);
	c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
	xdg_toplevel_set_title(c.toplevel, title);
	xdg_toplevel_set_app_id(c.toplevel, app_id);
	if (c.fullscreen) {
		xdg_toplevel_set_fullscreen(c.toplevel, NULL);
	}
	wl_surface_commit(c.surface);

	while (!c.configured) {
		if (wl_display_dispatch(c.display) < 0) {
			return finish(&c, 1);
		}
	}
	/* The buffer went out with the ack; one more round trip and the
	 * compositor has mapped the window. */
	if (wl_display_roundtrip(c.display) < 0) {
		return finish(&c, 1);
	}
	c.mapped = true;
	say("mapped");

	if (c.popup.enabled) {
		open_popup(&c);
		wl_display_roundtrip(c.display);
		wl_display_roundtrip(c.display);
		say("popup-mapped");
	}
	if (c.activate_token != NULL) {
		xdg_activation_v1_activate(c.activation, c.activate_token, c.surface);
		wl_display_roundtrip(c.display);
		say("activation-requested");
	}
	char cmd[1024];
	size_t cmd_len = 0;
	while (!c.closed) {
		if (c.make_token && !c.token_requested && c.last_serial != 0) {
			c.token_requested = true;
			request_token(&c, false);
		}
		while (wl_display_prepare_read(c.display) != 0) {
			wl_display_dispatch_pending(c.display);
		}
		wl_display_flush(c.display);
		struct pollfd fds[2] = {
			{ wl_display_get_fd(c.display), POLLIN, 0 },
			{ STDIN_FILENO, POLLIN, 0 },
		};
		if (poll(fds, 2, -1) < 0) {
			wl_display_cancel_read(c.display);
			continue;
		}
		if (fds[0].revents & POLLIN) {
			if (wl_display_read_events(c.display) < 0) {
				break;
			}
		} else {
			wl_display_cancel_read(c.display);
		}
		if (wl_display_dispatch_pending(c.display) < 0) {
			break;
		}
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, cmd + cmd_len,
				sizeof(cmd) - 1 - cmd_len);
			if (n <= 0) {
				/* stdin closed: keep serving the window. */
				while (!c.closed && wl_display_dispatch(c.display) >= 0) {
				}
				break;
			}
			cmd_len += (size_t)n;
			cmd[cmd_len] = '\0';
			char *nl;
			while ((nl = strchr(cmd, '\n')) != NULL) {
				*nl = '\0';
				run_command(&c, cmd);
				size_t used = (size_t)(nl - cmd) + 1;
				memmove(cmd, nl + 1, cmd_len - used + 1);
				cmd_len -= used;
			}
			if (cmd_len == sizeof(cmd) - 1) {
				cmd_len = 0; // an over-long line: drop it
			}
			wl_display_flush(c.display);
		}
	}
	return finish(&c, c.closed ? 0 : 1);
}
