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

static int indicator_height(struct prism_server *server) {
	return server->config.indicator_height > 0 ?
		server->config.indicator_height : server->decor.title_height;
}

void indicator_init(struct prism_indicator *indicator,
		struct prism_server *server) {
	memset(indicator, 0, sizeof(*indicator));
	indicator->server = server;
	indicator->height = indicator_height(server);
	indicator_update(indicator);
}

void indicator_refresh(struct prism_indicator *indicator) {
	if (indicator->texture != NULL) {
		wlr_texture_destroy(indicator->texture);
		indicator->texture = NULL;
	}
	indicator_update(indicator);
}

void indicator_apply_config(struct prism_indicator *indicator) {
	indicator->height = indicator_height(indicator->server);
	indicator_refresh(indicator);
}

void indicator_finish(struct prism_indicator *indicator) {
	if (indicator->notice_timer != NULL) {
		wl_event_source_remove(indicator->notice_timer);
		indicator->notice_timer = NULL;
	}
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
	char text[sizeof(indicator->text) + sizeof(indicator->notice)];
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
	/* A notice never replaces what the indicator is for: it follows. */
	if (indicator->notice[0] != '\0') {
		size_t len = strlen(text);
		snprintf(text + len, sizeof(text) - len, "   |   %s",
			indicator->notice);
	}
	if (indicator->texture != NULL && rgb == indicator->rgb &&
			strncmp(text, indicator->text, sizeof(indicator->text) - 1) == 0) {
		return;
	}
	/* A long label plus a long notice may not fit: cut at a character
	 * boundary so the strip never shows half a UTF-8 sequence. */
	size_t len = strlen(text);
	if (len >= sizeof(indicator->text)) {
		len = sizeof(indicator->text) - 1;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80) {
			len--;
		}
	}
	memcpy(indicator->text, text, len);
	indicator->text[len] = '\0';
	indicator->rgb = rgb;
	if (indicator->texture != NULL) {
		wlr_texture_destroy(indicator->texture);
	}
	indicator->texture = decor_rasterise(&server->decor, indicator->text,
		decor_text_rgb(rgb), &indicator->texture_width,
		&indicator->texture_height);
	damage_strips(indicator);
}

void indicator_render(struct prism_indicator *indicator,
		struct render_target *target, const struct wlr_box *output_box) {
	struct wlr_box strip = indicator_box(indicator, output_box);
	float colour[4];
	decor_colour_to_float(indicator->rgb, 1.0f, colour);
	render_frame_shape(target, &strip, NULL, colour, colour, NULL);
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

static int indicator_notice_expire(void *data) {
	struct prism_indicator *indicator = data;
	indicator->notice[0] = '\0';
	indicator_update(indicator);
	return 0;
}

void indicator_show_notice(struct prism_indicator *indicator, const char *text,
		int ms) {
	if (indicator->notice_timer == NULL) {
		indicator->notice_timer = wl_event_loop_add_timer(
			indicator->server->loop, indicator_notice_expire, indicator);
		if (indicator->notice_timer == NULL) {
			return;
		}
	}
	snprintf(indicator->notice, sizeof(indicator->notice), "%s", text);
	wl_event_source_timer_update(indicator->notice_timer, ms);
	indicator_update(indicator);
}
