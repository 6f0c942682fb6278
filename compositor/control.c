#define _GNU_SOURCE // memfd_create
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include "config.h"
#include "control.h"
#include "prism-control-v1-protocol.h"
#include "render.h"
#include "server.h"
#include "title.h"
#include "view.h"
#include "vm.h"

static struct wl_resource *create_one_shot(struct wl_client *client,
		struct wl_resource *parent, const struct wl_interface *interface,
		uint32_t id) {
	struct wl_resource *resource = wl_resource_create(client, interface,
		wl_resource_get_version(parent), id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return NULL;
	}
	wl_resource_set_implementation(resource, NULL, NULL, NULL);
	return resource;
}

static void control_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void control_handle_list_windows(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct wl_resource *list = create_one_shot(client, resource,
		&prism_window_list_v1_interface, id);
	if (list == NULL) {
		return;
	}
	struct wlr_scene_node *node;
	wl_list_for_each_reverse(node, &server->windows->node.state.children,
			state.link) {
		struct prism_view *view = view_from_node(node);
		if (view == NULL) {
			continue;
		}
		char app_id[TITLE_BUF_SIZE];
		title_sanitise(view->xdg_surface->toplevel->app_id, false, app_id,
			sizeof(app_id));
		prism_window_list_v1_send_window(list, view->id,
			view->vm ? vm_name(view->vm) : "", view->title, app_id,
			view->x, view->y, view->geometry.width,
			view->geometry.height, view_is_focused(view) ? 1 : 0,
			view->urgent ? 1 : 0, view->fullscreen ? 1 : 0);
	}
	prism_window_list_v1_send_done(list);
	wl_resource_destroy(list);
}

static void control_handle_list_vms(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct wl_resource *list = create_one_shot(client, resource,
		&prism_vm_list_v1_interface, id);
	if (list == NULL) {
		return;
	}
	struct prism_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		prism_vm_list_v1_send_vm(list, vm_name(vm), vm_label(vm),
			vm_colour(vm), vm->socket_path, vm->config->allowlist,
			(uint32_t)vm->proxy_pid, vm->denials,
			vm->owned_config != NULL ? 1 : 0,
			(uint32_t)vm_client_count(vm), (uint32_t)vm_window_count(vm));
	}
	prism_vm_list_v1_send_done(list);
	wl_resource_destroy(list);
}

static int memfd_with(const void *data, size_t size) {
	int fd = memfd_create("prism-screenshot", MFD_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	const char *p = data;
	while (size > 0) {
		ssize_t n = write(fd, p, size);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return fd;
}

static void control_handle_screenshot(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, const char *output) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct wl_resource *shot = create_one_shot(client, resource,
		&prism_screenshot_v1_interface, id);
	if (shot == NULL) {
		return;
	}
	int width, height, stride;
	const char *reason = NULL;
	void *pixels = render_screenshot(server, output[0] ? output : NULL, &width,
		&height, &stride, &reason);
	if (pixels == NULL) {
		prism_screenshot_v1_send_failed(shot, reason);
		wl_resource_destroy(shot);
		return;
	}
	int fd = memfd_with(pixels, (size_t)stride * (size_t)height);
	free(pixels);
	if (fd < 0) {
		prism_screenshot_v1_send_failed(shot, "cannot create the memfd");
	} else {
		prism_screenshot_v1_send_ready(shot, fd, (uint32_t)width,
			(uint32_t)height, (uint32_t)stride);
		close(fd);
	}
	wl_resource_destroy(shot);
}

static void reply(struct wl_client *client, struct wl_resource *resource,
		uint32_t id, bool ok, const char *reason) {
	struct wl_resource *req = create_one_shot(client, resource,
		&prism_request_v1_interface, id);
	if (req == NULL) {
		return;
	}
	if (ok) {
		prism_request_v1_send_done(req);
	} else {
		prism_request_v1_send_failed(req, reason);
	}
	wl_resource_destroy(req);
}

static void control_handle_key(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, const char *combo) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	const char *reason = NULL;
	bool ok = seat_inject_combo(&server->seat, combo, &reason);
	reply(client, resource, id, ok, reason);
}

static void control_handle_reload(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	char err[1024];
	bool ok = server_reload(server, err, sizeof(err));
	reply(client, resource, id, ok, err);
}

static void control_handle_vm_add(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, const char *name,
		const char *label, const char *colour, const char *allowlist) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct wl_resource *req = create_one_shot(client, resource,
		&prism_request_v1_interface, id);
	if (req == NULL) {
		return;
	}
	char err[1024];
	const char *reason = err;
	struct prism_vm_config *config = calloc(1, sizeof(*config));
	struct prism_vm *vm = NULL;
	if (config == NULL) {
		reason = "out of memory";
	} else if (!config_vm_init(config, &server->config, name, label, colour,
			allowlist[0] ? allowlist : NULL, err, sizeof(err))) {
		config_vm_finish(config);
		free(config);
	} else {
		vm = vm_add(server, config, &reason);
	}
	if (vm != NULL) {
		prism_request_v1_send_result(req, vm->socket_path);
		prism_request_v1_send_done(req);
	} else {
		prism_request_v1_send_failed(req, reason);
	}
	wl_resource_destroy(req);
}

static void control_handle_vm_remove(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, const char *name) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct prism_vm *vm = vm_find(server, name);
	if (vm != NULL) {
		vm_remove(vm);
	}
	reply(client, resource, id, vm != NULL, "no VM of that name");
}

static void control_handle_pointer_motion(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t x, int32_t y) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	const char *reason = NULL;
	bool ok = seat_inject_motion(&server->seat, x, y, &reason);
	reply(client, resource, id, ok, reason);
}

static void control_handle_pointer_button(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, uint32_t button,
		uint32_t pressed) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	const char *reason = NULL;
	bool ok = seat_inject_button(&server->seat, button, pressed != 0, &reason);
	reply(client, resource, id, ok, reason);
}

static void send_stat(struct wl_resource *stats, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void send_stat(struct wl_resource *stats, const char *key,
		const char *fmt, ...) {
	char value[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	prism_stats_v1_send_stat(stats, key, value);
}

static void control_handle_stats(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_server *server = wl_resource_get_user_data(resource);
	struct wl_resource *stats = create_one_shot(client, resource,
		&prism_stats_v1_interface, id);
	if (stats == NULL) {
		return;
	}
	send_stat(stats, "frame-path", "%s", render_frame_path(server));
	send_stat(stats, "frames", "%" PRIu64, server->render_stats.frames);
	uint64_t frames = server->render_stats.frames;
	send_stat(stats, "render-us-mean", "%.1f", frames == 0 ? 0.0 :
		(double)server->render_stats.render_ns / (double)frames / 1000.0);
	send_stat(stats, "render-us-total", "%.1f",
		(double)server->render_stats.render_ns / 1000.0);
	send_stat(stats, "render-us-max", "%.1f",
		(double)server->render_stats.max_render_ns / 1000.0);
	send_stat(stats, "last-damage-pixels", "%" PRIu64,
		server->render_stats.last_damage_pixels);
	struct prism_dmabuf_stats d;
	dmabuf_get_stats(server->dmabuf, &d);
	send_stat(stats, "dmabuf-version", "%" PRIu32, d.version);
	send_stat(stats, "dmabuf-formats", "%zu", d.pairs);
	send_stat(stats, "dmabuf-import", "%s", d.version == 0 ? "none" :
		d.gpu_import ? "egl" : "mapped");
	send_stat(stats, "dmabuf-buffers", "%" PRIu64, d.buffers_alive);
	send_stat(stats, "dmabuf-buffers-created", "%" PRIu64, d.buffers_created);
	send_stat(stats, "dmabuf-refused", "%" PRIu64, d.refused);
	prism_stats_v1_send_done(stats);
	wl_resource_destroy(stats);
}

static const struct prism_control_v1_interface control_impl = {
	.destroy = control_handle_destroy,
	.list_windows = control_handle_list_windows,
	.list_vms = control_handle_list_vms,
	.screenshot = control_handle_screenshot,
	.key = control_handle_key,
	.reload = control_handle_reload,
	.vm_add = control_handle_vm_add,
	.vm_remove = control_handle_vm_remove,
	.pointer_motion = control_handle_pointer_motion,
	.pointer_button = control_handle_pointer_button,
	.stats = control_handle_stats,
};

static void control_bind(struct wl_client *client, void *data,
		uint32_t version, uint32_t id) {
	/* The global filter already hides this global from VM clients; this
	 * is the belt to those braces. */
	if (vm_from_client(client) != NULL) {
		wl_client_post_implementation_error(client,
			"prism_control_v1 is not for VM clients");
		return;
	}
	struct wl_resource *resource = wl_resource_create(client,
		&prism_control_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &control_impl, data, NULL);
}

bool control_init(struct prism_server *server) {
	server->control_global = wl_global_create(server->display,
		&prism_control_v1_interface, 1, server, control_bind);
	return server->control_global != NULL;
}
