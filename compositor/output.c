#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/util/log.h>
#include <wlr/util/region.h>
#include "output.h"
#include "render.h"
#include "server.h"
#include "view.h"
#include "decoration.h"

static struct wlr_box output_layout_box(struct prism_output *output) {
	struct wlr_box *box = wlr_output_layout_get_box(
		output->server->output_layout, output->wlr_output);
	return box ? *box : (struct wlr_box){0};
}

void output_damage_layout_box(struct prism_server *server,
		const struct wlr_box *box) {
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		struct wlr_box ob = output_layout_box(output);
		struct wlr_box inter;
		if (output->damage == NULL ||
				!wlr_box_intersection(&inter, &ob, box)) {
			continue;
		}
		/* Round outwards: damage that falls short leaves stale pixels
		 * on fractionally scaled outputs. */
		double scale = output->wlr_output->scale;
		int x1 = (int)floor((inter.x - ob.x) * scale);
		int y1 = (int)floor((inter.y - ob.y) * scale);
		int x2 = (int)ceil((inter.x + inter.width - ob.x) * scale);
		int y2 = (int)ceil((inter.y + inter.height - ob.y) * scale);
		struct wlr_box damage = { x1, y1, x2 - x1, y2 - y1 };
		wlr_output_damage_add_box(output->damage, &damage);
	}
}

void output_damage_layout_region(struct prism_server *server,
		pixman_region32_t *region) {
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		if (output->damage == NULL) {
			continue;
		}
		struct wlr_box ob = output_layout_box(output);
		pixman_region32_t local;
		pixman_region32_init(&local);
		pixman_region32_intersect_rect(&local, region, ob.x, ob.y,
			(unsigned)ob.width, (unsigned)ob.height);
		if (pixman_region32_not_empty(&local)) {
			pixman_region32_translate(&local, -ob.x, -ob.y);
			wlr_region_scale(&local, &local, output->wlr_output->scale);
			if (ceilf(output->wlr_output->scale) !=
					output->wlr_output->scale) {
				wlr_region_expand(&local, &local, 1);
			}
			wlr_output_damage_add(output->damage, &local);
		}
		pixman_region32_fini(&local);
	}
}

void output_damage_all(struct prism_server *server) {
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		if (output->damage != NULL) {
			wlr_output_damage_add_whole(output->damage);
		}
	}
}

static void update_surface_outputs(struct wlr_surface *surface, int lx, int ly,
		void *data) {
	struct prism_server *server = data;
	struct wlr_box box = {
		lx, ly, surface->current.width, surface->current.height
	};
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		struct wlr_box ob = output_layout_box(output);
		struct wlr_box inter;
		if (wlr_box_intersection(&inter, &ob, &box)) {
			wlr_surface_send_enter(surface, output->wlr_output);
		} else {
			wlr_surface_send_leave(surface, output->wlr_output);
		}
	}
}

void output_update_surface_outputs(struct prism_view *view) {
	view_for_each_surface(view, update_surface_outputs, view->server);
}

struct frame_done {
	struct prism_output *output;
	struct timespec now;
};

static void send_frame_done(struct wlr_surface *surface, int lx, int ly,
		void *data) {
	struct frame_done *fd = data;
	struct prism_server *server = fd->output->server;
	wlr_surface_send_frame_done(surface, &fd->now);
	wlr_presentation_surface_sampled_on_output(server->presentation, surface,
		fd->output->wlr_output);
}

static void output_send_frame_done(struct prism_output *output) {
	struct frame_done fd = { .output = output };
	clock_gettime(CLOCK_MONOTONIC, &fd.now);
	struct wlr_box ob = output_layout_box(output);
	struct prism_view *view;
	wl_list_for_each(view, &output->server->views, link) {
		struct wlr_box frame = view_frame_box(view);
		struct wlr_box inter;
		if (wlr_box_intersection(&inter, &frame, &ob)) {
			view_for_each_surface(view, send_frame_done, &fd);
		}
	}
}

static void output_render(struct prism_output *output, pixman_region32_t *damage) {
	struct wlr_output *wo = output->wlr_output;
	struct prism_server *server = output->server;
	struct wlr_box ob = output_layout_box(output);

	struct render_target target = {
		.server = server,
		.renderer = server->renderer,
		.output = wo,
		.ox = ob.x,
		.oy = ob.y,
		.scale = wo->scale,
		.transform = wo->transform,
		.damage = damage,
	};
	wlr_output_transformed_resolution(wo, &target.width, &target.height);
	target.buffer_width = wo->width;
	target.buffer_height = wo->height;
	memcpy(target.transform_matrix, wo->transform_matrix,
		sizeof(target.transform_matrix));

	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	wlr_renderer_begin(server->renderer, (uint32_t)wo->width,
		(uint32_t)wo->height);
	if (pixman_region32_not_empty(damage)) {
		render_scene(&target);
	}
	wlr_output_render_software_cursors(wo, damage);
	wlr_renderer_end(server->renderer);
	clock_gettime(CLOCK_MONOTONIC, &end);
	uint64_t ns = (uint64_t)(end.tv_sec - start.tv_sec) * 1000000000u +
		(uint64_t)(end.tv_nsec - start.tv_nsec);
	server->render_stats.frames++;
	server->render_stats.render_ns += ns;
	if (ns > server->render_stats.max_render_ns) {
		server->render_stats.max_render_ns = ns;
	}
	uint64_t pixels = 0;
	int nrects;
	pixman_box32_t *rects = pixman_region32_rectangles(damage, &nrects);
	for (int i = 0; i < nrects; i++) {
		pixels += (uint64_t)(rects[i].x2 - rects[i].x1) *
			(uint64_t)(rects[i].y2 - rects[i].y1);
	}
	server->render_stats.last_damage_pixels = pixels;

	pixman_region32_t frame_damage;
	pixman_region32_init(&frame_damage);
	wlr_region_transform(&frame_damage, &output->damage->current,
		wlr_output_transform_invert(wo->transform), target.width,
		target.height);
	wlr_output_set_damage(wo, &frame_damage);
	pixman_region32_fini(&frame_damage);

	if (!wlr_output_commit(wo)) {
		wlr_log(WLR_ERROR, "output %s: commit failed", wo->name);
	}
}

static void output_handle_frame(struct wl_listener *listener, void *data) {
	struct prism_output *output = wl_container_of(listener, output, frame);
	if (!output->wlr_output->enabled || output->damage == NULL) {
		return;
	}
	bool needs_frame;
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (!wlr_output_damage_attach_render(output->damage, &needs_frame,
			&damage)) {
		pixman_region32_fini(&damage);
		return;
	}
	if (needs_frame) {
		output_render(output, &damage);
	} else {
		wlr_output_rollback(output->wlr_output);
	}
	pixman_region32_fini(&damage);
	output_send_frame_done(output);
}

/* wlr_output_damage goes away with its output, possibly before our own
 * destroy handler runs: drop the frame listener while its signal is alive. */
static void output_handle_damage_destroy(struct wl_listener *listener,
		void *data) {
	struct prism_output *output = wl_container_of(listener, output,
		damage_destroy);
	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->damage_destroy.link);
	output->damage = NULL;
}

static void output_update_text_scale(struct prism_server *server);

static void output_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_output *output = wl_container_of(listener, output, destroy);
	struct prism_server *server = output->server;
	if (output->damage != NULL) {
		output_handle_damage_destroy(&output->damage_destroy, NULL);
	}
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->link);
	free(output);
	output_update_text_scale(server);
}

/* Without a configured scale: 2 where the output is dense enough to need it. */
static float auto_scale(struct wlr_output *wo) {
	if (wo->phys_width <= 0 || wo->width <= 0) {
		return 1.0f;
	}
	double dpi = wo->width / (wo->phys_width / 25.4);
	return dpi >= 180.0 ? 2.0f : 1.0f;
}

static struct wlr_output_mode *find_mode(struct wlr_output *wo,
		const struct prism_output_config *oc) {
	struct wlr_output_mode *mode, *best = NULL;
	wl_list_for_each(mode, &wo->modes, link) {
		if (mode->width != oc->width || mode->height != oc->height) {
			continue;
		}
		if (oc->refresh_mhz == 0) {
			if (best == NULL || mode->refresh > best->refresh) {
				best = mode;
			}
		} else if (abs(mode->refresh - oc->refresh_mhz) < 500) {
			return mode;
		}
	}
	return best;
}

/* Apply [output:NAME] (or the defaults) to an output; also on reload. */
static void output_configure(struct prism_output *output) {
	struct prism_server *server = output->server;
	struct wlr_output *wo = output->wlr_output;
	const struct prism_output_config *oc =
		config_find_output(&server->config, wo->name);

	if (oc != NULL && !oc->enabled) {
		wlr_output_layout_remove(server->output_layout, wo);
		wlr_output_enable(wo, false);
		wlr_output_commit(wo);
		wlr_log(WLR_INFO, "output %s: disabled by the configuration",
			wo->name);
		return;
	}
	struct wlr_output_mode *mode = NULL;
	if (oc != NULL && oc->width > 0) {
		mode = find_mode(wo, oc);
		if (mode == NULL && wl_list_empty(&wo->modes)) {
			wlr_output_set_custom_mode(wo, oc->width, oc->height,
				oc->refresh_mhz);
		} else if (mode == NULL) {
			wlr_log(WLR_ERROR, "output %s: no mode %dx%d; using the "
				"preferred one", wo->name, oc->width, oc->height);
		}
	}
	if (mode == NULL && (oc == NULL || oc->width == 0 ||
			!wl_list_empty(&wo->modes))) {
		mode = wlr_output_preferred_mode(wo);
	}
	if (mode != NULL) {
		wlr_output_set_mode(wo, mode);
	}
	wlr_output_set_scale(wo, oc != NULL && oc->scale > 0 ?
		(float)oc->scale : auto_scale(wo));
	wlr_output_set_transform(wo, oc != NULL && oc->transform >= 0 ?
		(enum wl_output_transform)oc->transform : WL_OUTPUT_TRANSFORM_NORMAL);
	wlr_output_enable(wo, true);
	if (!wlr_output_commit(wo)) {
		wlr_log(WLR_ERROR, "output %s: the configuration cannot be applied",
			wo->name);
		return;
	}
	bool placed = wlr_output_layout_get(server->output_layout, wo) != NULL;
	if (oc != NULL && oc->has_position) {
		if (placed) {
			wlr_output_layout_move(server->output_layout, wo, oc->x, oc->y);
		} else {
			wlr_output_layout_add(server->output_layout, wo, oc->x, oc->y);
		}
	} else if (!placed) {
		wlr_output_layout_add_auto(server->output_layout, wo);
	}
	if (output->damage != NULL) {
		wlr_output_damage_add_whole(output->damage);
	}
	wlr_log(WLR_INFO, "output %s: %dx%d, scale %.2f", wo->name, wo->width,
		wo->height, wo->scale);
}

/* Text is rasterised for the largest scale among the enabled outputs. */
static void output_update_text_scale(struct prism_server *server) {
	float max = 1.0f;
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		if (output->wlr_output->enabled && output->wlr_output->scale > max) {
			max = output->wlr_output->scale;
		}
	}
	decor_set_text_scale(&server->decor, (int)ceilf(max));
}

void output_apply_config(struct prism_server *server) {
	struct prism_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		output_configure(output);
	}
	output_update_text_scale(server);
}

static void server_new_output(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server, new_output);
	struct wlr_output *wlr_output = data;

	if (!wlr_output_init_render(wlr_output, server->allocator,
			server->renderer)) {
		wlr_log(WLR_ERROR, "output %s: cannot initialise rendering",
			wlr_output->name);
		return;
	}
	struct prism_output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		wlr_log(WLR_ERROR, "output %s: out of memory", wlr_output->name);
		return;
	}
	output->server = server;
	output->wlr_output = wlr_output;
	output->damage = wlr_output_damage_create(wlr_output);
	if (output->damage == NULL) {
		free(output);
		return;
	}
	wlr_output->data = output;
	output->frame.notify = output_handle_frame;
	wl_signal_add(&output->damage->events.frame, &output->frame);
	output->damage_destroy.notify = output_handle_damage_destroy;
	wl_signal_add(&output->damage->events.destroy, &output->damage_destroy);
	output->destroy.notify = output_handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	wl_list_insert(&server->outputs, &output->link);

	output_configure(output);
	output_update_text_scale(server);
}

static void server_layout_change(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server,
		layout_change);
	output_damage_all(server);
	struct prism_view *view;
	wl_list_for_each(view, &server->views, link) {
		output_update_surface_outputs(view);
	}
}

void output_init(struct prism_server *server) {
	wl_list_init(&server->outputs);
	server->new_output.notify = server_new_output;
	wl_signal_add(&server->backend->events.new_output, &server->new_output);
	server->layout_change.notify = server_layout_change;
	wl_signal_add(&server->output_layout->events.change,
		&server->layout_change);
}
