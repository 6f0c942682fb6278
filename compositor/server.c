#include <drm_fourcc.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/multi.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_drm.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>
#include "control.h"
#include "output.h"
#include "render.h"
#include "server.h"
#include "view.h"
#include "vm.h"

static void server_new_input(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server, new_input);
	seat_add_input(&server->seat, data);
}

static void server_new_xdg_surface(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server,
		new_xdg_surface);
	struct wlr_xdg_surface *xdg_surface = data;
	/* Popups are picked up through their parent's new_popup signal, which
	 * ties each one to the window it belongs to. */
	if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		view_create(server, xdg_surface);
	}
}

/*
 * prism-proxy lives beside prism once installed, and in ../proxy in a build
 * tree; PRISM_PROXY overrides both.
 */
static char *find_proxy(void) {
	const char *env = getenv("PRISM_PROXY");
	if (env != NULL && env[0] != '\0') {
		return strdup(env);
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			const char *candidates[] = { "prism-proxy", "../proxy/prism-proxy" };
			for (size_t i = 0; i < 2; i++) {
				char path[PATH_MAX + 32];
				snprintf(path, sizeof(path), "%s/%s", exe, candidates[i]);
				if (access(path, X_OK) == 0) {
					return strdup(path);
				}
			}
		}
	}
	return strdup(PRISM_BINDIR "/prism-proxy");
}

/*
 * What wlr_renderer_init_wl_display does, but with Prism's own linux-dmabuf:
 * wl_shm with every format the renderer samples, and, on a GPU renderer,
 * wlroots' wl_drm for host clients that still look for it (the global
 * filter keeps it from VMs: it names the host's DRM device).
 */
static bool init_buffers(struct prism_server *server) {
	if (wl_display_init_shm(server->display) != 0) {
		wlr_log(WLR_ERROR, "cannot initialise wl_shm");
		return false;
	}
	size_t n = 0;
	const uint32_t *formats = wlr_renderer_get_shm_texture_formats(
		server->renderer, &n);
	for (size_t i = 0; i < n; i++) {
		/* wl_shm spells the two formats every compositor has as 0 and
		 * 1, which libwayland already advertises; the others are their
		 * DRM codes. */
		if (formats[i] != DRM_FORMAT_ARGB8888 &&
				formats[i] != DRM_FORMAT_XRGB8888) {
			wl_display_add_shm_format(server->display, formats[i]);
		}
	}
	if (wlr_renderer_get_dmabuf_texture_formats(server->renderer) != NULL &&
			wlr_renderer_get_drm_fd(server->renderer) >= 0 &&
			wlr_drm_create(server->display, server->renderer) == NULL) {
		wlr_log(WLR_ERROR, "cannot create wl_drm");
		return false;
	}
	server->dmabuf = dmabuf_create(server);
	return true;
}

bool server_init(struct prism_server *server, struct prism_config *config) {
	server->config = *config;
	memset(config, 0, sizeof(*config));
	server->proxy_path = find_proxy();
	if (server->proxy_path == NULL) {
		return false;
	}
	wl_list_init(&server->views);
	wl_list_init(&server->vms);
	wl_list_init(&server->outputs);

	server->display = wl_display_create();
	if (server->display == NULL) {
		return false;
	}
	server->loop = wl_display_get_event_loop(server->display);

	server->backend = wlr_backend_autocreate(server->display);
	if (server->backend == NULL) {
		wlr_log(WLR_ERROR, "cannot create a backend");
		return false;
	}
	server->renderer = wlr_renderer_autocreate(server->backend);
	if (server->renderer == NULL) {
		wlr_log(WLR_ERROR, "cannot create a renderer");
		return false;
	}
	if (!init_buffers(server)) {
		return false;
	}
	server->allocator = wlr_allocator_autocreate(server->backend,
		server->renderer);
	if (server->allocator == NULL) {
		wlr_log(WLR_ERROR, "cannot create an allocator");
		return false;
	}

	server->virtual_backend = wlr_headless_backend_create(server->display);
	if (server->virtual_backend == NULL ||
			!wlr_multi_backend_add(server->backend, server->virtual_backend)) {
		wlr_log(WLR_ERROR, "cannot create the virtual input backend");
		return false;
	}

	server->compositor = wlr_compositor_create(server->display,
		server->renderer);
	server->output_layout = wlr_output_layout_create();
	server->scene = wlr_scene_create();
	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->presentation = wlr_presentation_create(server->display,
		server->backend);
	if (server->compositor == NULL || server->output_layout == NULL ||
			server->scene == NULL || server->xdg_shell == NULL ||
			server->presentation == NULL ||
			wlr_data_device_manager_create(server->display) == NULL ||
			wlr_primary_selection_v1_device_manager_create(server->display) == NULL ||
			wlr_viewporter_create(server->display) == NULL ||
			/* For host tools only: the global filter hides both from
			 * every VM (I4). */
			wlr_screencopy_manager_v1_create(server->display) == NULL ||
			wlr_data_control_manager_v1_create(server->display) == NULL ||
			wlr_xdg_output_manager_v1_create(server->display,
				server->output_layout) == NULL) {
		wlr_log(WLR_ERROR, "cannot create the Wayland globals");
		return false;
	}
	server->windows = wlr_scene_tree_create(&server->scene->node);
	if (server->windows == NULL) {
		return false;
	}

	if (!decor_init(&server->decor, server) ||
			!seat_init(&server->seat, server) ||
			!control_init(server) ||
			!xdg_activation_init(server) ||
			!constraints_init(&server->constraints, server)) {
		return false;
	}
	indicator_init(&server->indicator, server);
	clipboard_init(&server->clipboard, server);
	output_init(server);
	surface_tracking_init(server);

	server->new_input.notify = server_new_input;
	wl_signal_add(&server->backend->events.new_input, &server->new_input);
	server->new_xdg_surface.notify = server_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface,
		&server->new_xdg_surface);

	return vms_init(server);
}

static struct rlimit original_nofile;
static bool nofile_raised;

void server_raise_fd_limit(void) {
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) {
		return;
	}
	original_nofile = limit;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
		nofile_raised = true;
	}
}

void server_child_restore_limits(void) {
	if (nofile_raised) {
		setrlimit(RLIMIT_NOFILE, &original_nofile);
	}
}

void server_spawn(struct prism_server *server, const char *command) {
	if (command == NULL || command[0] == '\0') {
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		wlr_log_errno(WLR_ERROR, "cannot start '%s'", command);
		return;
	}
	if (pid == 0) {
		/* A session of its own, and none of the signal mask the event
		 * loop set: it is a separate program, reaped on SIGCHLD. */
		setsid();
		server_child_restore_limits();
		sigset_t set;
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	wlr_log(WLR_INFO, "started '%s' (pid %d)", command, (int)pid);
}

bool server_reload(struct prism_server *server, char *err, size_t err_size) {
	char buf[1024];
	if (err == NULL) {
		err = buf;
		err_size = sizeof(buf);
	}
	if (server->config.path == NULL) {
		snprintf(err, err_size, "prism runs on built-in defaults: there is "
			"no configuration file to read again");
		wlr_log(WLR_ERROR, "reload: %s", err);
		return false;
	}
	struct prism_config next;
	if (!config_load(&next, server->config.path, err, err_size)) {
		wlr_log(WLR_ERROR, "reload: %s; the running configuration stays", err);
		indicator_show_notice(&server->indicator,
			"The configuration has an error: nothing changed", 4000);
		return false;
	}
	/* A VM added at run time keeps its name and its label. */
	struct prism_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->owned_config == NULL) {
			continue;
		}
		for (size_t i = 0; i < next.vms_len; i++) {
			if (strcmp(next.vms[i].name, vm_name(vm)) == 0 ||
					strcmp(next.vms[i].label, vm_label(vm)) == 0) {
				snprintf(err, err_size, "%s:%d: VM '%s' clashes with VM '%s', "
					"added at run time; remove that first", next.path,
					next.vms[i].line, next.vms[i].name, vm_name(vm));
				wlr_log(WLR_ERROR, "reload: %s; the running configuration "
					"stays", err);
				config_finish(&next);
				return false;
			}
		}
	}

	struct prism_config old = server->config;
	server->config = next;
	vms_apply_config(server);
	decor_apply_config(&server->decor);
	indicator_apply_config(&server->indicator);
	server->clipboard.max_bytes = (size_t)server->config.clipboard_max;
	seat_apply_config(&server->seat);
	output_apply_config(server);
	config_finish(&old);
	output_damage_all(server);
	wlr_log(WLR_INFO, "configuration reloaded from %s", server->config.path);
	return true;
}

bool server_start(struct prism_server *server) {
	if (!wlr_backend_start(server->backend)) {
		wlr_log(WLR_ERROR, "cannot start the backend");
		return false;
	}
	server->seat.virtual_keyboard = wlr_headless_add_input_device(
		server->virtual_backend, WLR_INPUT_DEVICE_KEYBOARD);
	server->seat.virtual_pointer = wlr_headless_add_input_device(
		server->virtual_backend, WLR_INPUT_DEVICE_POINTER);
	if (server->seat.virtual_keyboard == NULL ||
			server->seat.virtual_pointer == NULL) {
		wlr_log(WLR_ERROR, "cannot create the virtual input devices");
		return false;
	}
	/* The host socket comes last: a client that finds it can rely on
	 * outputs, VM sockets and every global being there. */
	server->socket = wl_display_add_socket_auto(server->display);
	if (server->socket == NULL) {
		wlr_log(WLR_ERROR, "cannot create the host socket");
		return false;
	}
	setenv("WAYLAND_DISPLAY", server->socket, true);
	wlr_log(WLR_INFO, "running on WAYLAND_DISPLAY=%s", server->socket);
	return true;
}

/* Listeners of a half-initialised server may never have been added. */
static void listener_remove(struct wl_listener *listener) {
	if (listener->link.next != NULL) {
		wl_list_remove(&listener->link);
		listener->link.next = NULL;
	}
}

void server_finish(struct prism_server *server) {
	if (server->display == NULL) {
		config_finish(&server->config);
		free(server->proxy_path);
		return;
	}
	clipboard_finish(&server->clipboard);
	constraints_finish(&server->constraints);
	vms_finish(server);
	wl_display_destroy_clients(server->display);
	dmabuf_destroy(server->dmabuf);
	server->dmabuf = NULL;
	listener_remove(&server->new_xdg_surface);
	listener_remove(&server->new_input);
	listener_remove(&server->new_surface);
	listener_remove(&server->request_activate);
	seat_finish(&server->seat);
	if (server->backend != NULL) {
		wlr_backend_destroy(server->backend);
	}
	listener_remove(&server->new_output);
	listener_remove(&server->layout_change);
	indicator_finish(&server->indicator);
	decor_finish(&server->decor);
	if (server->scene != NULL) {
		wlr_scene_node_destroy(&server->scene->node);
	}
	if (server->allocator != NULL) {
		wlr_allocator_destroy(server->allocator);
	}
	if (server->renderer != NULL) {
		render_finish(server);
		wlr_renderer_destroy(server->renderer);
	}
	if (server->output_layout != NULL) {
		wlr_output_layout_destroy(server->output_layout);
	}
	wl_display_destroy(server->display);
	config_finish(&server->config);
	free(server->proxy_path);
}
