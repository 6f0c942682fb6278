#ifndef PRISM_OUTPUT_H
#define PRISM_OUTPUT_H

#include <pixman.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/util/box.h>

struct prism_server;
struct prism_view;

struct prism_output {
	struct prism_server *server;
	struct wlr_output *wlr_output;
	struct wlr_output_damage *damage;
	struct wl_list link; // prism_server::outputs

	struct wl_listener frame;
	struct wl_listener damage_destroy;
	struct wl_listener destroy;
};

void output_init(struct prism_server *server);
/* The configuration changed: apply every [output:NAME] again. */
void output_apply_config(struct prism_server *server);

/* Repaint a box or a region of the layout on the outputs that show it. */
void output_damage_layout_box(struct prism_server *server,
	const struct wlr_box *box);
void output_damage_layout_region(struct prism_server *server,
	pixman_region32_t *region);
void output_damage_all(struct prism_server *server);

/* Send wl_surface.enter/leave for each surface of the view. */
void output_update_surface_outputs(struct prism_view *view);

#endif
