/*
 * prism-bench: the measuring client behind tests/bench/run-bench.py.
 *
 *   prism-bench latency N    N wl_display.sync round trips: median, p99 (us)
 *   prism-bench flood N      N small requests as fast as the pipe takes them
 *   prism-bench shm N        N attach+damage+commit+round trip of a 1920x1080
 *                            shm buffer on a toplevel
 *   prism-bench dmabuf N     the same with a zwp_linux_dmabuf_v1 buffer (a
 *                            sealed memfd, LINEAR XRGB8888)
 *   prism-bench animate N    a 320x240 window redrawn whole on each of N
 *                            frame callbacks, as a video or a game would
 *   prism-bench pingpong N   N 4-byte round trips over a bare socketpair
 *                            between two processes: the floor
 *   prism-bench soak N       N times: connect, map a window, disconnect
 *
 * Each prints one line of "key=value" pairs. It measures; it asserts
 * nothing, and is run on demand, never as a timed test.
 */
#define _GNU_SOURCE // memfd_create, F_ADD_SEALS
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

struct bench {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	bool configured;
	bool frame_done;
};

static double now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print_percentiles(const char *what, double *samples, size_t n) {
	qsort(samples, n, sizeof(*samples), cmp_double);
	printf("%s median_us=%.1f p99_us=%.1f n=%zu\n", what, samples[n / 2],
		samples[(n * 99) / 100], n);
}

static void wm_base_ping(void *data, struct xdg_wm_base *wm, uint32_t serial) {
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_ping,
};

static void registry_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct bench *b = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		b->compositor = wl_registry_bind(registry, name,
			&wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		b->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		b->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(b->wm_base, &wm_base_listener, b);
	} else if (strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 &&
			version >= 3) {
		b->dmabuf = wl_registry_bind(registry, name,
			&zwp_linux_dmabuf_v1_interface, 3);
	}
}

static void registry_global_remove(void *data, struct wl_registry *r,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void connect_display(struct bench *b) {
	b->display = wl_display_connect(NULL);
	if (b->display == NULL) {
		fprintf(stderr, "prism-bench: cannot connect\n");
		exit(1);
	}
	b->registry = wl_display_get_registry(b->display);
	wl_registry_add_listener(b->registry, &registry_listener, b);
	wl_display_roundtrip(b->display);
	if (b->compositor == NULL || b->shm == NULL || b->wm_base == NULL) {
		fprintf(stderr, "prism-bench: missing globals\n");
		exit(1);
	}
}

static void bench_latency(struct bench *b, size_t n) {
	double *samples = calloc(n, sizeof(*samples));
	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();
		if (wl_display_roundtrip(b->display) < 0) {
			fprintf(stderr, "prism-bench: connection lost\n");
			exit(1);
		}
		samples[i] = now_us() - t0;
	}
	print_percentiles("latency", samples, n);
	free(samples);
}

/* Flush without ever letting libwayland give up on a full socket. */
static void flush_all(struct wl_display *display) {
	while (wl_display_flush(display) < 0) {
		if (errno != EAGAIN) {
			fprintf(stderr, "prism-bench: flush: %s\n", strerror(errno));
			exit(1);
		}
		struct pollfd pfd = { wl_display_get_fd(display), POLLOUT, 0 };
		poll(&pfd, 1, -1);
	}
}

static void bench_flood(struct bench *b, size_t n) {
	struct wl_region *region = wl_compositor_create_region(b->compositor);
	wl_display_roundtrip(b->display);
	const size_t batch = 100;
	double t0 = now_us();
	for (size_t sent = 0; sent < n; sent += batch) {
		for (size_t i = 0; i < batch; i++) {
			wl_region_add(region, (int32_t)i, 0, 1, 1);
		}
		flush_all(b->display);
		/* Read what comes back so neither side's buffer fills up. */
		if (wl_display_dispatch_pending(b->display) < 0) {
			exit(1);
		}
	}
	wl_display_roundtrip(b->display);
	double elapsed = now_us() - t0;
	printf("flood requests_per_s=%.0f n=%zu\n", (double)n / (elapsed / 1e6), n);
	wl_region_destroy(region);
}

static void xdg_surface_configure(void *data, struct xdg_surface *s,
		uint32_t serial) {
	struct bench *b = data;
	xdg_surface_ack_configure(s, serial);
	b->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

struct pixels {
	int fd;
	uint32_t *data;
	size_t size;
	struct wl_buffer *buffer;
};

/*
 * An XRGB8888 buffer filled with one colour: wl_shm, or zwp_linux_dmabuf_v1
 * over a memfd sealed against shrinking (what a VM without a GPU sends).
 */
static void make_pixels(struct bench *b, bool dmabuf, int width, int height,
		struct pixels *px) {
	int stride = width * 4;
	px->size = (size_t)stride * (size_t)height;
	px->fd = memfd_create("prism-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (px->fd < 0 || ftruncate(px->fd, (off_t)px->size) != 0) {
		perror("prism-bench: memfd");
		exit(1);
	}
	px->data = mmap(NULL, px->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		px->fd, 0);
	if (px->data == MAP_FAILED) {
		perror("prism-bench: mmap");
		exit(1);
	}
	for (size_t i = 0; i < px->size / 4; i++) {
		px->data[i] = 0xff204060;
	}
	if (!dmabuf) {
		struct wl_shm_pool *pool = wl_shm_create_pool(b->shm, px->fd,
			(int32_t)px->size);
		px->buffer = wl_shm_pool_create_buffer(pool, 0, width, height,
			stride, WL_SHM_FORMAT_XRGB8888);
		wl_shm_pool_destroy(pool);
		return;
	}
	if (b->dmabuf == NULL) {
		fprintf(stderr, "prism-bench: no zwp_linux_dmabuf_v1\n");
		exit(1);
	}
	if (fcntl(px->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
		perror("prism-bench: seals");
		exit(1);
	}
	struct zwp_linux_buffer_params_v1 *params =
		zwp_linux_dmabuf_v1_create_params(b->dmabuf);
	uint64_t modifier = DRM_FORMAT_MOD_LINEAR;
	zwp_linux_buffer_params_v1_add(params, px->fd, 0, 0, (uint32_t)stride,
		(uint32_t)(modifier >> 32), (uint32_t)modifier);
	px->buffer = zwp_linux_buffer_params_v1_create_immed(params, width,
		height, DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
}

static void free_pixels(struct pixels *px) {
	wl_buffer_destroy(px->buffer);
	munmap(px->data, px->size);
	close(px->fd);
}

struct window {
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
};

static void map_window(struct bench *b, struct window *w) {
	b->configured = false;
	w->surface = wl_compositor_create_surface(b->compositor);
	w->xdg_surface = xdg_wm_base_get_xdg_surface(b->wm_base, w->surface);
	xdg_surface_add_listener(w->xdg_surface, &xdg_surface_listener, b);
	w->toplevel = xdg_surface_get_toplevel(w->xdg_surface);
	xdg_toplevel_set_title(w->toplevel, "prism-bench");
	wl_surface_commit(w->surface);
	while (!b->configured && wl_display_dispatch(b->display) >= 0) {
	}
}

static void unmap_window(struct window *w) {
	xdg_toplevel_destroy(w->toplevel);
	xdg_surface_destroy(w->xdg_surface);
	wl_surface_destroy(w->surface);
}

/* N full 1080p commits, each waited for: what a VM's video costs. */
static void bench_commits(struct bench *b, size_t n, bool dmabuf) {
	const int width = 1920, height = 1080;
	struct pixels px;
	make_pixels(b, dmabuf, width, height, &px);
	struct window w;
	map_window(b, &w);

	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		/* Touch the buffer as a real client would between frames. */
		px.data[(i * 4099) % (px.size / 4)] ^= 0x00ffffff;
		wl_surface_attach(w.surface, px.buffer, 0, 0);
		wl_surface_damage_buffer(w.surface, 0, 0, width, height);
		wl_surface_commit(w.surface);
		if (wl_display_roundtrip(b->display) < 0) {
			fprintf(stderr, "prism-bench: connection lost\n");
			exit(1);
		}
	}
	double elapsed = now_us() - t0;
	printf("%s commits_per_s=%.1f n=%zu\n", dmabuf ? "dmabuf" : "shm",
		(double)n / (elapsed / 1e6), n);
	unmap_window(&w);
	free_pixels(&px);
}

static void frame_done(void *data, struct wl_callback *cb, uint32_t time) {
	struct bench *b = data;
	b->frame_done = true;
	wl_callback_destroy(cb);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_done,
};

/* A window redrawn whole on every frame callback, N times. */
static void bench_animate(struct bench *b, size_t n) {
	const int width = 320, height = 240;
	struct pixels px[2];
	make_pixels(b, false, width, height, &px[0]);
	make_pixels(b, false, width, height, &px[1]);
	struct window w;
	map_window(b, &w);
	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		b->frame_done = false;
		struct wl_callback *cb = wl_surface_frame(w.surface);
		wl_callback_add_listener(cb, &frame_listener, b);
		wl_surface_attach(w.surface, px[i % 2].buffer, 0, 0);
		wl_surface_damage_buffer(w.surface, 0, 0, width, height);
		wl_surface_commit(w.surface);
		while (!b->frame_done) {
			if (wl_display_dispatch(b->display) < 0) {
				fprintf(stderr, "prism-bench: connection lost\n");
				exit(1);
			}
		}
	}
	double elapsed = now_us() - t0;
	printf("animate frames_per_s=%.1f n=%zu\n", (double)n / (elapsed / 1e6),
		n);
	unmap_window(&w);
	free_pixels(&px[0]);
	free_pixels(&px[1]);
}

/* One full client life: connect, map a 64x64 window, hang up. */
static bool soak_cycle(void) {
	struct bench b = {0};
	b.display = wl_display_connect(NULL);
	if (b.display == NULL) {
		return false;
	}
	struct wl_registry *registry = wl_display_get_registry(b.display);
	wl_registry_add_listener(registry, &registry_listener, &b);
	bool ok = wl_display_roundtrip(b.display) >= 0 && b.compositor && b.shm &&
		b.wm_base;
	if (ok) {
		int fd = memfd_create("prism-soak", MFD_CLOEXEC);
		ok = fd >= 0 && ftruncate(fd, 64 * 64 * 4) == 0;
		struct wl_shm_pool *pool = ok ?
			wl_shm_create_pool(b.shm, fd, 64 * 64 * 4) : NULL;
		if (fd >= 0) {
			close(fd);
		}
		if (pool != NULL) {
			struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, 64,
				64, 256, WL_SHM_FORMAT_XRGB8888);
			struct wl_surface *surface =
				wl_compositor_create_surface(b.compositor);
			struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(b.wm_base,
				surface);
			xdg_surface_add_listener(xs, &xdg_surface_listener, &b);
			struct xdg_toplevel *top = xdg_surface_get_toplevel(xs);
			wl_surface_commit(surface);
			while (!b.configured && wl_display_dispatch(b.display) >= 0) {
			}
			wl_surface_attach(surface, buffer, 0, 0);
			wl_surface_commit(surface);
			ok = wl_display_roundtrip(b.display) >= 0;
			xdg_toplevel_destroy(top);
			xdg_surface_destroy(xs);
			wl_surface_destroy(surface);
			wl_buffer_destroy(buffer);
			wl_shm_pool_destroy(pool);
		}
	}
	if (b.wm_base) {
		xdg_wm_base_destroy(b.wm_base);
	}
	if (b.shm) {
		wl_shm_destroy(b.shm);
	}
	if (b.compositor) {
		wl_compositor_destroy(b.compositor);
	}
	if (b.dmabuf) {
		zwp_linux_dmabuf_v1_destroy(b.dmabuf);
	}
	wl_registry_destroy(registry);
	wl_display_disconnect(b.display);
	return ok;
}

static void bench_soak(size_t n) {
	size_t failed = 0;
	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		failed += !soak_cycle();
	}
	printf("soak cycles=%zu failed=%zu seconds=%.1f\n", n, failed,
		(now_us() - t0) / 1e6);
}

static void bench_pingpong(size_t n) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		uint32_t v;
		while (read(sv[1], &v, sizeof(v)) == sizeof(v)) {
			if (write(sv[1], &v, sizeof(v)) != sizeof(v)) {
				break;
			}
		}
		_exit(0);
	}
	close(sv[1]);
	double *samples = calloc(n, sizeof(*samples));
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i;
		double t0 = now_us();
		if (write(sv[0], &v, sizeof(v)) != sizeof(v) ||
				read(sv[0], &v, sizeof(v)) != sizeof(v)) {
			exit(1);
		}
		samples[i] = now_us() - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	print_percentiles("pingpong", samples, n);
	free(samples);
}

int main(int argc, char *argv[]) {
	if (argc != 3) {
		fprintf(stderr, "usage: prism-bench latency|flood|shm|dmabuf|animate|"
			"pingpong|soak N\n");
		return 2;
	}
	size_t n = strtoul(argv[2], NULL, 10);
	if (n == 0) {
		return 2;
	}
	if (strcmp(argv[1], "pingpong") == 0) {
		bench_pingpong(n);
		return 0;
	}
	if (strcmp(argv[1], "soak") == 0) {
		bench_soak(n);
		return 0;
	}
	struct bench b = {0};
	connect_display(&b);
	if (strcmp(argv[1], "latency") == 0) {
		bench_latency(&b, n);
	} else if (strcmp(argv[1], "flood") == 0) {
		bench_flood(&b, n);
	} else if (strcmp(argv[1], "shm") == 0) {
		bench_commits(&b, n, false);
	} else if (strcmp(argv[1], "dmabuf") == 0) {
		bench_commits(&b, n, true);
	} else if (strcmp(argv[1], "animate") == 0) {
		bench_animate(&b, n);
	} else {
		return 2;
	}
	if (b.dmabuf != NULL) {
		zwp_linux_dmabuf_v1_destroy(b.dmabuf);
	}
	xdg_wm_base_destroy(b.wm_base);
	wl_shm_destroy(b.shm);
	wl_compositor_destroy(b.compositor);
	wl_registry_destroy(b.registry);
	wl_display_disconnect(b.display);
	return 0;
}
