#include <drm_fourcc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/render/allocator.h>
#include <wlr/render/drm_format_set.h>
#include <wlr/render/egl.h>
#include <wlr/render/gles2.h>
#include <wlr/render/pixman.h>
#include <wlr/types/wlr_matrix.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/util/log.h>
#include "decoration.h"
#include "indicator.h"
#include "output.h"
#include "render.h"
#include "server.h"
#include "shaders.h"
#include "view.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

struct wlr_box render_target_box(const struct render_target *t,
		const struct wlr_box *box) {
	double x1 = (box->x - t->ox) * t->scale;
	double y1 = (box->y - t->oy) * t->scale;
	double x2 = (box->x + box->width - t->ox) * t->scale;
	double y2 = (box->y + box->height - t->oy) * t->scale;
	return (struct wlr_box){
		.x = (int)round(x1),
		.y = (int)round(y1),
		.width = (int)round(x2) - (int)round(x1),
		.height = (int)round(y2) - (int)round(y1),
	};
}

static void scissor(struct render_target *t, const pixman_box32_t *rect) {
	struct wlr_box box = {
		.x = rect->x1,
		.y = rect->y1,
		.width = rect->x2 - rect->x1,
		.height = rect->y2 - rect->y1,
	};
	struct wlr_box buffer_box;
	wlr_box_transform(&buffer_box, &box,
		wlr_output_transform_invert(t->transform), t->width, t->height);
	wlr_renderer_scissor(t->renderer, &buffer_box);
}

/*
 * The region of the target to draw for a box: its intersection with the
 * damage and with the clip. Every draw call goes through here, which is what
 * keeps a VM's pixels inside its frame (I1).
 */
static bool draw_region(struct render_target *t, const struct wlr_box *tbox,
		const struct wlr_box *clip, pixman_region32_t *region) {
	pixman_region32_init_rect(region, tbox->x, tbox->y,
		(unsigned)MAX(tbox->width, 0), (unsigned)MAX(tbox->height, 0));
	pixman_region32_intersect(region, region, t->damage);
	if (clip != NULL) {
		struct wlr_box tclip = render_target_box(t, clip);
		pixman_region32_intersect_rect(region, region, tclip.x, tclip.y,
			(unsigned)MAX(tclip.width, 0), (unsigned)MAX(tclip.height, 0));
	}
	if (!pixman_region32_not_empty(region)) {
		pixman_region32_fini(region);
		return false;
	}
	return true;
}

void render_rect(struct render_target *t, const struct wlr_box *box,
		const float colour[static 4], const struct wlr_box *clip) {
	struct wlr_box tbox = render_target_box(t, box);
	pixman_region32_t region;
	if (!draw_region(t, &tbox, clip, &region)) {
		return;
	}
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	for (int i = 0; i < n; i++) {
		scissor(t, &rects[i]);
		wlr_render_rect(t->renderer, &tbox, colour, t->transform_matrix);
	}
	pixman_region32_fini(&region);
}

/* Called inside a render pass, where the GLES2 context is current. */
static bool frame_gl_ready(struct prism_server *server) {
	if (server->frame_gl_state == FRAME_GL_UNTRIED) {
		char err[1024];
		if (frame_gl_init(&server->frame_gl, prism_shader_frame_vert,
				prism_shader_frame_frag, err, sizeof(err))) {
			server->frame_gl_state = FRAME_GL_READY;
			wlr_log(WLR_INFO, "frames: drawn by Prism's GLES2 frame program");
		} else {
			server->frame_gl_state = FRAME_GL_FAILED;
			wlr_log(WLR_ERROR, "frames: the frame program does not build, "
				"drawing frames with wlroots' rectangles instead: %s", err);
		}
	}
	return server->frame_gl_state == FRAME_GL_READY;
}

const char *render_frame_path(struct prism_server *server) {
	if (wlr_renderer_is_pixman(server->renderer)) {
		return "pixman";
	}
	if (wlr_renderer_is_gles2(server->renderer)) {
		switch (server->frame_gl_state) {
		case FRAME_GL_READY:
			return "gles2 frame program";
		case FRAME_GL_FAILED:
			return "gles2, wlroots rectangles (the frame program failed)";
		default:
			return "gles2 (no frame drawn yet)";
		}
	}
	return "wlroots rectangles";
}

void render_finish(struct prism_server *server) {
	if (server->frame_gl_state != FRAME_GL_READY) {
		return;
	}
	struct wlr_egl *egl = wlr_gles2_renderer_get_egl(server->renderer);
	if (wlr_egl_make_current(egl)) {
		frame_gl_finish(&server->frame_gl);
		wlr_egl_unset_current(egl);
	}
	server->frame_gl_state = FRAME_GL_UNTRIED;
}

void render_frame_shape(struct render_target *t, const struct wlr_box *box,
		const struct wlr_box *hole, const float colour[static 4],
		const float backdrop[static 4], const struct wlr_box *clip) {
	struct frame_shape shape = { .box = render_target_box(t, box) };
	if (hole != NULL) {
		shape.hole = render_target_box(t, hole);
	}
	memcpy(shape.colour, colour, sizeof(shape.colour));
	memcpy(shape.backdrop, backdrop, sizeof(shape.backdrop));
	pixman_region32_t region;
	if (!draw_region(t, &shape.box, clip, &region)) {
		return;
	}
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	if (wlr_renderer_is_pixman(t->renderer)) {
		/* pixman honours the clip the last scissor left on the image:
		 * lift it, the region below is the whole of the clip. */
		wlr_renderer_scissor(t->renderer, NULL);
		pixman_image_t *image =
			wlr_pixman_renderer_get_current_image(t->renderer);
		pixman_region32_t buffer_clip;
		pixman_region32_init(&buffer_clip);
		for (int i = 0; i < n; i++) {
			struct wlr_box b = {
				rects[i].x1, rects[i].y1,
				rects[i].x2 - rects[i].x1, rects[i].y2 - rects[i].y1,
			};
			wlr_box_transform(&b, &b,
				wlr_output_transform_invert(t->transform),
				t->width, t->height);
			pixman_region32_union_rect(&buffer_clip, &buffer_clip, b.x, b.y,
				(unsigned)b.width, (unsigned)b.height);
		}
		frame_paint_pixman(image, &shape, t->transform, t->width, t->height,
			&buffer_clip);
		pixman_region32_fini(&buffer_clip);
	} else if (wlr_renderer_is_gles2(t->renderer) &&
			frame_gl_ready(t->server)) {
		for (int i = 0; i < n; i++) {
			scissor(t, &rects[i]);
			frame_gl_draw(&t->server->frame_gl, &shape, t->transform_matrix,
				t->buffer_width, t->buffer_height);
		}
	} else {
		/* The same pixels, as long as the colours are opaque, which
		 * Prism's are. */
		pixman_region32_fini(&region);
		render_rect(t, box, colour, clip);
		struct wlr_box inner;
		if (hole != NULL && wlr_box_intersection(&inner, hole, box)) {
			render_rect(t, &inner, backdrop, clip);
		}
		return;
	}
	pixman_region32_fini(&region);
}

void render_texture(struct render_target *t, struct wlr_texture *texture,
		const struct wlr_box *box, const struct wlr_box *clip) {
	struct wlr_box tbox = render_target_box(t, box);
	pixman_region32_t region;
	if (!draw_region(t, &tbox, clip, &region)) {
		return;
	}
	float matrix[9];
	wlr_matrix_project_box(matrix, &tbox, WL_OUTPUT_TRANSFORM_NORMAL, 0,
		t->transform_matrix);
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	for (int i = 0; i < n; i++) {
		scissor(t, &rects[i]);
		wlr_render_texture_with_matrix(t->renderer, texture, matrix, 1.0f);
	}
	pixman_region32_fini(&region);
}

struct surface_pass {
	struct render_target *target;
	const struct wlr_box *clip;
};

static void render_surface(struct wlr_surface *surface, int lx, int ly,
		void *data) {
	struct surface_pass *pass = data;
	struct render_target *t = pass->target;
	struct wlr_texture *texture = wlr_surface_get_texture(surface);
	if (texture == NULL) {
		return;
	}
	struct wlr_box box = {
		.x = lx,
		.y = ly,
		.width = surface->current.width,
		.height = surface->current.height,
	};
	struct wlr_box tbox = render_target_box(t, &box);
	pixman_region32_t region;
	if (!draw_region(t, &tbox, pass->clip, &region)) {
		return;
	}
	struct wlr_fbox src;
	wlr_surface_get_buffer_source_box(surface, &src);
	float matrix[9];
	wlr_matrix_project_box(matrix, &tbox,
		wlr_output_transform_invert(surface->current.transform), 0,
		t->transform_matrix);
	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(&region, &n);
	for (int i = 0; i < n; i++) {
		scissor(t, &rects[i]);
		wlr_render_subtexture_with_matrix(t->renderer, texture, &src,
			matrix, 1.0f);
	}
	pixman_region32_fini(&region);
}

static void render_view(struct render_target *t, struct prism_view *view) {
	struct prism_decor *decor = &t->server->decor;
	decor_render_view(decor, t, view);

	/* The content tree is clipped to the window geometry: a subsurface
	 * placed or sized outside it is cut at the frame (I1, I2). */
	struct wlr_box content = view_content_box(view);
	struct surface_pass pass = { .target = t, .clip = &content };
	scene_node_for_each_surface(&view->content->node, view->x, view->y,
		render_surface, &pass);

	struct wlr_scene_node *node;
	wl_list_for_each(node, &view->popups->node.state.children, state.link) {
		if (!node->state.enabled || node->data == NULL) {
			continue;
		}
		struct prism_popup *popup = wl_container_of(
			(struct prism_node *)node->data, popup, tag);
		struct wlr_box box = popup->box;
		box.x += view->x;
		box.y += view->y;
		decor_render_popup(decor, t, view, &box);
		pass.clip = &box;
		scene_node_for_each_surface(node, view->x, view->y,
			render_surface, &pass);
	}
}

void render_scene(struct render_target *t) {
	struct prism_server *server = t->server;
	float bg[4];
	decor_colour_to_float(server->config.background, 1.0f, bg);

	int n;
	pixman_box32_t *rects = pixman_region32_rectangles(t->damage, &n);
	for (int i = 0; i < n; i++) {
		scissor(t, &rects[i]);
		wlr_renderer_clear(t->renderer, bg);
	}

	struct wlr_scene_node *node;
	wl_list_for_each(node, &server->windows->node.state.children, state.link) {
		struct prism_view *view = view_from_node(node);
		if (view != NULL) {
			render_view(t, view);
		}
	}

	/* Last, so that nothing any client draws can cover it (I2). */
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		struct wlr_box *box = wlr_output_layout_get_box(server->output_layout,
			output->wlr_output);
		if (box != NULL) {
			indicator_render(&server->indicator, t, box);
		}
	}
	wlr_renderer_scissor(t->renderer, NULL);
}

#define SCREENSHOT_MAX 16384

void *render_screenshot(struct prism_server *server, const char *output_name,
		int *width, int *height, int *stride, const char **reason) {
	struct wlr_box layout;
	float scale = 1.0f;
	if (output_name == NULL) {
		struct wlr_box *whole = wlr_output_layout_get_box(
			server->output_layout, NULL);
		if (whole == NULL || wlr_box_empty(whole)) {
			*reason = "there is no output";
			return NULL;
		}
		layout = *whole;
	} else {
		struct prism_output *output, *found = NULL;
		wl_list_for_each(output, &server->outputs, link) {
			if (strcmp(output->wlr_output->name, output_name) == 0) {
				found = output;
			}
		}
		struct wlr_box *box = found ? wlr_output_layout_get_box(
			server->output_layout, found->wlr_output) : NULL;
		if (box == NULL) {
			*reason = "no enabled output of that name";
			return NULL;
		}
		layout = *box;
		scale = found->wlr_output->scale;
	}
	int w = (int)ceilf(layout.width * scale);
	int h = (int)ceilf(layout.height * scale);
	if (w <= 0 || h <= 0 || w > SCREENSHOT_MAX || h > SCREENSHOT_MAX) {
		*reason = "the capture would be empty or too large";
		return NULL;
	}

	struct wlr_drm_format *format = calloc(1,
		sizeof(*format) + sizeof(format->modifiers[0]));
	if (format == NULL) {
		*reason = "out of memory";
		return NULL;
	}
	format->format = DRM_FORMAT_XRGB8888;
	format->len = 1;
	format->capacity = 1;
	format->modifiers[0] = DRM_FORMAT_MOD_INVALID;
	struct wlr_buffer *buffer = wlr_allocator_create_buffer(server->allocator,
		w, h, format);
	free(format);
	if (buffer == NULL) {
		*reason = "cannot allocate the capture buffer";
		return NULL;
	}

	int row = w * 4;
	void *data = malloc((size_t)row * (size_t)h);
	if (data == NULL) {
		wlr_buffer_drop(buffer);
		*reason = "out of memory";
		return NULL;
	}
	if (!wlr_renderer_begin_with_buffer(server->renderer, buffer)) {
		free(data);
		wlr_buffer_drop(buffer);
		*reason = "the renderer cannot draw into the capture buffer";
		return NULL;
	}
	pixman_region32_t damage;
	pixman_region32_init_rect(&damage, 0, 0, (unsigned)w, (unsigned)h);
	struct render_target t = {
		.server = server,
		.renderer = server->renderer,
		.ox = layout.x,
		.oy = layout.y,
		.scale = scale,
		.width = w,
		.height = h,
		.buffer_width = w,
		.buffer_height = h,
		.transform = WL_OUTPUT_TRANSFORM_NORMAL,
		.damage = &damage,
	};
	wlr_matrix_identity(t.transform_matrix);
	render_scene(&t);
	bool ok = wlr_renderer_read_pixels(server->renderer, DRM_FORMAT_XRGB8888,
		NULL, (uint32_t)row, (uint32_t)w, (uint32_t)h, 0, 0, 0, 0, data);
	wlr_renderer_end(server->renderer);
	pixman_region32_fini(&damage);
	wlr_buffer_drop(buffer);
	if (!ok) {
		free(data);
		*reason = "the renderer cannot read the capture back";
		return NULL;
	}
	*width = w;
	*height = h;
	*stride = row;
	return data;
}
