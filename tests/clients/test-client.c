/*
 * prism-test-client: a small, predictable Wayland client for Prism's tests.
 *
 * It opens one xdg_toplevel filled with a solid colour, prints "mapped" once
 * the compositor has seen its first buffer, then stays until it is killed or
 * its window is closed. With --globals it only prints the registry.
 */
#define _GNU_SOURCE // memfd_create
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include "xdg-shell-client-protocol.h"

struct subsurface_spec {
	bool enabled;
	int x, y, width, height;
	uint32_t colour;
};

struct client {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct wl_surface *sub_surface;
	struct wl_subsurface *subsurface;

	int width, height;
	uint32_t colour;
	struct subsurface_spec sub;
	bool list_globals;
	bool configured, mapped, closed;
};

static struct wl_buffer *make_buffer(struct client *c, int width, int height,
		uint32_t colour) {
	int stride = width * 4;
	size_t size = (size_t)stride * (size_t)height;
	int fd = memfd_create("prism-test-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		fprintf(stderr, "test-client: memfd: %s\n", strerror(errno));
		exit(1);
	}
	uint32_t *pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		fd, 0);
	if (pixels == MAP_FAILED) {
		fprintf(stderr, "test-client: mmap: %s\n", strerror(errno));
		exit(1);
	}
	for (size_t i = 0; i < size / 4; i++) {
		pixels[i] = 0xff000000 | colour;
	}
	munmap(pixels, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(c->shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width,
		height, stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

static void buffer_release(void *data, struct wl_buffer *buffer) {
	wl_buffer_destroy(buffer);
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_release,
};

static void draw(struct client *c) {
	struct wl_buffer *buffer = make_buffer(c, c->width, c->height, c->colour);
	wl_buffer_add_listener(buffer, &buffer_listener, NULL);
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
		"\t[--subsurface X,Y,WxH,RRGGBB] [--globals]\n");
	exit(2);
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
		return 1;
	}
	if (c.list_globals) {
		fflush(stdout);
		wl_registry_destroy(c.registry);
		wl_display_disconnect(c.display);
		return 0;
	}
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL) {
		fprintf(stderr, "test-client: missing wl_compositor, wl_shm or "
			"xdg_wm_base\n");
		return 1;
	}

	c.surface = wl_compositor_create_surface(c.compositor);
	if (c.sub.enabled) {
		if (c.subcompositor == NULL) {
			fprintf(stderr, "test-client: no wl_subcompositor\n");
			return 1;
		}
		c.sub_surface = wl_compositor_create_surface(c.compositor);
		c.subsurface = wl_subcompositor_get_subsurface(c.subcompositor,
			c.sub_surface, c.surface);
		wl_subsurface_set_position(c.subsurface, c.sub.x, c.sub.y);
		wl_subsurface_set_desync(c.subsurface);
		struct wl_buffer *buffer = make_buffer(&c, c.sub.width,
			c.sub.height, c.sub.colour);
		wl_buffer_add_listener(buffer, &buffer_listener, NULL);
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
	wl_surface_commit(c.surface);

	while (!c.configured) {
		if (wl_display_dispatch(c.display) < 0) {
			return 1;
		}
	}
	/* The buffer went out with the ack; one more round trip and the
	 * compositor has mapped the window. */
	if (wl_display_roundtrip(c.display) < 0) {
		return 1;
	}
	printf("mapped\n");
	fflush(stdout);

	while (!c.closed && wl_display_dispatch(c.display) >= 0) {
	}
	wl_display_disconnect(c.display);
	return c.closed ? 0 : 1;
}
