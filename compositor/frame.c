#include <math.h>
#include <stdint.h>
#include <wlr/types/wlr_output.h>
#include "frame.h"

/*
 * To 16 bits as pixman wants them, through the same 8-bit value GL writes
 * for a float channel (round(c * 255)): pixman keeps the high byte, so the
 * two renderers agree exactly on opaque colours.
 */
static pixman_color_t to_pixman(const float c[static 4]) {
	uint16_t v[4];
	for (int i = 0; i < 4; i++) {
		float f = c[i] < 0.0f ? 0.0f : c[i] > 1.0f ? 1.0f : c[i];
		v[i] = (uint16_t)(lroundf(f * 255.0f) * 257);
	}
	return (pixman_color_t){ v[0], v[1], v[2], v[3] };
}

static void fill(pixman_image_t *dst, pixman_region32_t *target_region,
		const float colour[static 4], enum wl_output_transform transform,
		int width, int height, const pixman_region32_t *clip) {
	pixman_region32_t buffer_region;
	pixman_region32_init(&buffer_region);
	enum wl_output_transform inv = wlr_output_transform_invert(transform);
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(target_region, &n);
	for (int i = 0; i < n; i++) {
		struct wlr_box box = {
			rects[i].x1, rects[i].y1,
			rects[i].x2 - rects[i].x1, rects[i].y2 - rects[i].y1,
		};
		struct wlr_box out;
		wlr_box_transform(&out, &box, inv, width, height);
		pixman_region32_union_rect(&buffer_region, &buffer_region,
			out.x, out.y, (unsigned)out.width, (unsigned)out.height);
	}
	/* pixman_image_fill_boxes may take a fast path that writes where it
	 * is told: a frame partly off the output must be cut here. */
	pixman_region32_intersect_rect(&buffer_region, &buffer_region, 0, 0,
		(unsigned)pixman_image_get_width(dst),
		(unsigned)pixman_image_get_height(dst));
	if (clip != NULL) {
		pixman_region32_intersect(&buffer_region, &buffer_region,
			(pixman_region32_t *)clip);
	}
	rects = pixman_region32_rectangles(&buffer_region, &n);
	if (n > 0) {
		pixman_color_t c = to_pixman(colour);
		pixman_image_fill_boxes(PIXMAN_OP_OVER, dst, &c, n, rects);
	}
	pixman_region32_fini(&buffer_region);
}

void frame_paint_pixman(pixman_image_t *dst, const struct frame_shape *shape,
		enum wl_output_transform transform, int width, int height,
		const pixman_region32_t *clip) {
	const struct wlr_box *b = &shape->box;
	if (wlr_box_empty(b)) {
		return;
	}
	pixman_region32_t band, hole;
	pixman_region32_init_rect(&band, b->x, b->y, (unsigned)b->width,
		(unsigned)b->height);
	pixman_region32_init(&hole);
	if (!wlr_box_empty(&shape->hole)) {
		const struct wlr_box *h = &shape->hole;
		pixman_region32_init_rect(&hole, h->x, h->y, (unsigned)h->width,
			(unsigned)h->height);
		pixman_region32_intersect(&hole, &hole, &band);
		pixman_region32_subtract(&band, &band, &hole);
	}
	fill(dst, &band, shape->colour, transform, width, height, clip);
	fill(dst, &hole, shape->backdrop, transform, width, height, clip);
	pixman_region32_fini(&band);
	pixman_region32_fini(&hole);
}
