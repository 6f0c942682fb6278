#ifndef PRISM_FRAME_H
#define PRISM_FRAME_H

#include <pixman.h>
#include <stdbool.h>
#include <stddef.h>
#include <wayland-server-protocol.h>
#include <wlr/util/box.h>

/*
 * The solid parts of what Prism draws itself: a window's frame with its
 * title bar, a popup's outline, the backdrop behind a fullscreen window, the
 * indicator strip. The box is filled with colour except the hole (a
 * window's content box), which gets the backdrop. Coordinates are target
 * pixels: the output's pixels before its transform.
 *
 * Both renderers draw the same shape with Prism's own code: pixman with
 * frame_paint_pixman, GLES2 with the frame program from shaders/. The two
 * give the same pixels, to within one step of rounding per channel
 * (tests/unit/test-frame-gl.c compares them).
 */
struct frame_shape {
	struct wlr_box box;
	struct wlr_box hole; // empty for none; must lie inside box
	float colour[4]; // premultiplied RGBA
	float backdrop[4]; // premultiplied RGBA
};

/*
 * Paint shape into dst, a buffer of the target after transform (the target
 * is width x height before it). Only pixels inside clip (buffer pixels)
 * change; clip NULL means the whole buffer.
 */
void frame_paint_pixman(pixman_image_t *dst, const struct frame_shape *shape,
	enum wl_output_transform transform, int width, int height,
	const pixman_region32_t *clip);

struct frame_gl {
	unsigned int program;
	int u_matrix, u_size, u_colour, u_backdrop, u_hole;
	int a_pos;
};

/*
 * Build the frame program in the current GLES2 context from GLSL sources
 * (the embedded prism_shader_frame_vert and _frag; tests pass others). On
 * failure the compiler's or linker's log is written to err and false is
 * returned: the caller draws on the CPU path instead.
 */
bool frame_gl_init(struct frame_gl *gl, const char *vert, const char *frag,
	char *err, size_t err_size);
void frame_gl_finish(struct frame_gl *gl);

/*
 * Draw shape with the frame program into the bound framebuffer, whose
 * viewport is buffer_width x buffer_height. target_matrix maps target
 * pixels to buffer pixels (wlr_output::transform_matrix). The caller sets
 * the scissor; blending follows the colours' alpha.
 */
void frame_gl_draw(const struct frame_gl *gl, const struct frame_shape *shape,
	const float target_matrix[static 9], int buffer_width, int buffer_height);

#endif
