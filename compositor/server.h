#ifndef PRISM_SERVER_H
#define PRISM_SERVER_H

#include <stdbool.h>
#include <sys/types.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/render/allocator.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include "clipboard.h"
#include "config.h"
#include "constraints.h"
#include "decoration.h"
#include "dmabuf.h"
#include "frame.h"
#include "indicator.h"
#include "seat.h"

struct prism_server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct wlr_backend *backend;
	/* A headless backend of our own that carries Prism's virtual keyboard,
	 * so `prismctl key` works on every backend, DRM and nested included. */
	struct wlr_backend *virtual_backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct prism_dmabuf *dmabuf; // NULL where the renderer takes none
	struct wlr_compositor *compositor;
	struct wlr_presentation *presentation;
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_xdg_activation_v1 *xdg_activation;

	/*
	 * The scene graph is the window tree: stacking, surface trees and
	 * hit-testing. Prism renders it itself (render.c) because wlroots 0.15's
	 * scene renderer can neither clip a surface tree to its frame (I1) nor
	 * draw frames with our own shaders.
	 */
	struct wlr_scene *scene;
	/*
	 * Prism's frame program on the GLES2 renderer. It is built at the first
	 * frame drawn, the only time the renderer's context is sure to be
	 * current; if it cannot be built, frames are drawn the CPU way.
	 */
	enum { FRAME_GL_UNTRIED, FRAME_GL_READY, FRAME_GL_FAILED } frame_gl_state;
	struct frame_gl frame_gl;
	/* Output frames composed, and the time spent composing them. */
	struct {
		uint64_t frames;
		uint64_t render_ns;
		uint64_t max_render_ns;
		uint64_t last_damage_pixels; // of the last frame composed
	} render_stats;
	struct wlr_scene_tree *windows; // children: view::tree, bottom first

	struct wlr_output_layout *output_layout;
	struct wl_list outputs; // prism_output::link

	struct wl_list views; // prism_view::link, most recently focused first
	struct prism_view *focused_view;
	uint32_t next_view_id;

	struct prism_seat seat;
	struct prism_decor decor;
	struct prism_indicator indicator;
	struct prism_clipboard clipboard;
	struct prism_constraints constraints;

	struct prism_config config;
	struct wl_list vms; // prism_vm::link
	char socket_dir[108]; // $XDG_RUNTIME_DIR/prism, once made

	const char *socket; // WAYLAND_DISPLAY of the host socket
	char *proxy_path; // the prism-proxy executable
	struct wl_global *control_global;

	pid_t child_pid; // the command given after "--", or 0
	int exit_status;
	int64_t exit_armed_ms; // when the exit binding was first pressed

	struct wl_listener new_output;
	struct wl_listener new_input;
	struct wl_listener new_virtual_input;
	struct wl_listener new_xdg_surface;
	struct wl_listener new_surface;
	struct wl_listener layout_change;
	struct wl_listener request_activate;
};

bool server_init(struct prism_server *server, struct prism_config *config);
/* Run a host command (a terminal, a launcher) on the host socket. */
void server_spawn(struct prism_server *server, const char *command);
/*
 * Read the configuration file again and apply it whole, or not at all: a
 * bad file leaves everything as it was and its error in err (and the log).
 */
bool server_reload(struct prism_server *server, char *err, size_t err_size);
bool server_start(struct prism_server *server);
/*
 * Every dmabuf a client holds keeps up to four fds open in prism: take the
 * hard limit on open files, and give children the limit they would have
 * had (select()-based programs break above 1024).
 */
void server_raise_fd_limit(void);
void server_child_restore_limits(void);
void server_finish(struct prism_server *server);

#endif
