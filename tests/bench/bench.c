/*
 * prism-bench: the measuring client behind tests/bench/run-bench.py.
 *
 *   prism-bench latency N    N wl_display.sync round trips: median, p99 (us)
 *   prism-bench flood N      N small requests as fast as the pipe takes them
 *   prism-bench shm N        N attach+damage+commit+round trip of a 1920x1080
 *                            shm buffer on a toplevel
 *   prism-bench pingpong N   N 4-byte round trips over a bare socketpair
 *                            between two processes: the floor
 *   prism-bench soak N       N times: connect, map a window, disconnect
 *
 * Each prints one line of "key=value" pairs. It measures; it asserts
 * nothing, and is run on demand, never as a timed test.
 */
#define _GNU_SOURCE // memfd_create
#include <errno.h>
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
#include "xdg-shell-client-protocol.h"

struct bench {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	bool configured;
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

static void bench_shm(struct bench *b, size_t n) {
	const int width = 1920, height = 1080, stride = width * 4;
	size_t size = (size_t)stride * height;
	int fd = memfd_create("prism-bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror("prism-bench: memfd");
		exit(1);
	}
	uint32_t *pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		fd, 0);
	for (size_t i = 0; i < size / 4; i++) {
		pixels[i] = 0xff204060;
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(b->shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width,
		height, stride, WL_SHM_FORMAT_XRGB8888);
	struct wl_surface *surface = wl_compositor_create_surface(b->compositor);
	struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(b->wm_base, surface);
	xdg_surface_add_listener(xs, &xdg_surface_listener, b);
	struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xs);
	xdg_toplevel_set_title(toplevel, "prism-bench");
	wl_surface_commit(surface);
	while (!b->configured && wl_display_dispatch(b->display) >= 0) {
	}

	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		/* Touch the buffer as a real client would between frames. */
		pixels[(i * 4099) % (size / 4)] ^= 0x00ffffff;
		wl_surface_attach(surface, buffer, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, width, height);
		wl_surface_commit(surface);
		if (wl_display_roundtrip(b->display) < 0) {
			fprintf(stderr, "prism-bench: connection lost\n");
			exit(1);
		}
	}
	double elapsed = now_us() - t0;
	printf("shm commits_per_s=%.1f n=%zu\n", (double)n / (elapsed / 1e6), n);
	xdg_toplevel_destroy(toplevel);
	xdg_surface_destroy(xs);
	wl_surface_destroy(surface);
	wl_buffer_destroy(buffer);
	wl_shm_pool_destroy(pool);
	munmap(pixels, size);
	close(fd);
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
		fprintf(stderr, "usage: prism-bench latency|flood|shm|pingpong|soak "
			"N\n");
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
		bench_shm(&b, n);
	} else {
		return 2;
	}
	xdg_wm_base_destroy(b.wm_base);
	wl_shm_destroy(b.shm);
	wl_compositor_destroy(b.compositor);
	wl_registry_destroy(b.registry);
	wl_display_disconnect(b.display);
	return 0;
}
