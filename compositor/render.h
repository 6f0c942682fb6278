#ifndef PRISM_RENDER_H
#define PRISM_RENDER_H

#include <pixman.h>
#include <stdbool.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_output.h>
#include <wlr/util/box.h>

struct prism_server;

/*
 * Where a render pass draws: an output, or an offscreen buffer for a
 * screenshot. Layout coordinates map to target coordinates by subtracting
 * (ox, oy) and multiplying by scale; transform_matrix then maps target
 * coordinates to the buffer, as wlr_output::transform_matrix does.
 */
struct render_target {
	struct prism_server *server;
	struct wlr_renderer *renderer;
	struct wlr_output *output; // NULL when offscreen
	int ox, oy;
	float scale;
	int width, height; // target size after transform
	int buffer_width, buffer_height; // the buffer drawn into
	enum wl_output_transform transform;
	float transform_matrix[9];
	pixman_region32_t *damage; // target coordinates; only this is drawn
};

/* Draw the desktop: background, windows back to front, clipped. */
void render_scene(struct render_target *target);

/*
 * Primitives used by the frame drawing. Boxes are in layout coordinates;
 * clip (layout coordinates, may be NULL) further limits what is drawn.
 */
void render_rect(struct render_target *target, const struct wlr_box *box,
	const float colour[static 4], const struct wlr_box *clip);
/*
 * A frame shape (frame.h): box filled with colour except hole (may be NULL),
 * which gets backdrop. Drawn by Prism's frame program on GLES2, by
 * frame_paint_pixman on pixman, and by wlroots' rectangles if neither can.
 */
void render_frame_shape(struct render_target *target, const struct wlr_box *box,
	const struct wlr_box *hole, const float colour[static 4],
	const float backdrop[static 4], const struct wlr_box *clip);
/* How frames are drawn now: "gles2 frame program", "pixman", ... */
const char *render_frame_path(struct prism_server *server);
void render_finish(struct prism_server *server);
void render_texture(struct render_target *target, struct wlr_texture *texture,
	const struct wlr_box *box, const struct wlr_box *clip);

/* Convert a layout box into target coordinates, rounding outwards. */
struct wlr_box render_target_box(const struct render_target *target,
	const struct wlr_box *box);

/*
 * Render offscreen into XRGB8888 rows: the whole output layout at scale 1
 * (output_name NULL), or one output at its scale. On success returns a
 * malloc'd buffer of *height rows of *stride bytes.
 */
void *render_screenshot(struct prism_server *server, const char *output_name,
	int *width, int *height, int *stride, const char **reason);

#endif
