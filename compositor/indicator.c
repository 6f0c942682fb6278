#include <stdio.h>
#include <string.h>
#include <wlr/render/wlr_texture.h>
#include "decoration.h"
#include "indicator.h"
#include "output.h"
#include "render.h"
#include "server.h"
#include "view.h"
#include "vm.h"

#define INDICATOR_PADDING 6

void indicator_init(struct prism_indicator *indicator,
		struct prism_server *server) {
	memset(indicator, 0, sizeof(*indicator));
	indicator->server = server;
	indicator->height = server->config.indicator_height > 0 ?
		server->config.indicator_height : server->decor.title_height;
	indicator_update(indicator);
}

void indicator_finish(struct prism_indicator *indicator) {
	if (indicator->texture != NULL) {
		wlr_texture_destroy(indicator->texture);
		indicator->texture = NULL;
	}
}

struct wlr_box indicator_box(const struct prism_indicator *indicator,
		const struct wlr_box *output_box) {
	return (struct wlr_box){
		.x = output_box->x,
		.y = output_box->y,
		.width = output_box->width,
		.height = indicator->height,
	};
}

static void damage_strips(struct prism_indicator *indicator) {
	struct prism_output *output;
	wl_list_for_each(output, &indicator->server->outputs, link) {
		struct wlr_box *ob = wlr_output_layout_get_box(
			indicator->server->output_layout, output->wlr_output);
		if (ob != NULL) {
			struct wlr_box box = indicator_box(indicator, ob);
			output_damage_layout_box(indicator->server, &box);
		}
	}
}

void indicator_update(struct prism_indicator *indicator) {
	struct prism_server *server = indicator->server;
	struct prism_view *focused = server->focused_view;
	char text[sizeof(indicator->text)];
	uint32_t rgb;
	if (focused == NULL) {
		snprintf(text, sizeof(text), "no window has the keyboard");
		rgb = server->config.background;
	} else if (focused->vm != NULL) {
		/* The label and colour come from the host's config; the VM's
		 * name is added so two similar labels still differ here. */
		snprintf(text, sizeof(text), "%s  (vm %s)", vm_label(focused->vm),
			vm_name(focused->vm));
		rgb = vm_colour(focused->vm);
	} else {
		snprintf(text, sizeof(text), "host");
		rgb = server->config.host_colour;
	}
	if (indicator->texture != NULL && rgb == indicator->rgb &&
			strcmp(text, indicator->text) == 0) {
		return;
	}
	memcpy(indicator->text, text, sizeof(text));
	indicator->rgb = rgb;
	if (indicator->texture != NULL) {
		wlr_texture_destroy(indicator->texture);
	}
	indicator->texture = decor_rasterise(&server->decor, text,
		decor_text_rgb(rgb), &indicator->texture_width,
		&indicator->texture_height);
	damage_strips(indicator);
}

void indicator_render(struct prism_indicator *indicator,
		struct render_target *target, const struct wlr_box *output_box) {
	struct wlr_box strip = indicator_box(indicator, output_box);
	float colour[4];
	decor_colour_to_float(indicator->rgb, 1.0f, colour);
	render_rect(target, &strip, colour, NULL);
	if (indicator->texture != NULL) {
		struct wlr_box text = {
			.x = strip.x + INDICATOR_PADDING,
			.y = strip.y + (strip.height - indicator->texture_height) / 2,
			.width = indicator->texture_width,
			.height = indicator->texture_height,
		};
		render_texture(target, indicator->texture, &text, &strip);
	}
}
