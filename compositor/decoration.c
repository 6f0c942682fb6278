#include <drm_fourcc.h>
#include <fcft/fcft.h>
#include <math.h>
#include <pixman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_server_decoration.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/util/edges.h>
#include <wlr/util/log.h>
#include "decoration.h"
#include "render.h"
#include "server.h"
#include "title.h"
#include "view.h"
#include "vm.h"
#include "indicator.h"

#define UNFOCUSED_BRIGHTNESS 0.55f
#define TITLE_TEXT_MAX_WIDTH 4096

struct prism_xdg_decoration {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration;
	struct wl_listener request_mode;
	struct wl_listener destroy;
};

static void xdg_decoration_handle_request_mode(struct wl_listener *listener,
		void *data) {
	struct prism_xdg_decoration *deco =
		wl_container_of(listener, deco, request_mode);
	/* Whatever the client asks, the answer is server side: the frame is
	 * drawn anyway, and a client-drawn title bar inside it would only
	 * invite the user to trust guest pixels. */
	wlr_xdg_toplevel_decoration_v1_set_mode(deco->wlr_decoration,
		WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void xdg_decoration_handle_destroy(struct wl_listener *listener,
		void *data) {
	struct prism_xdg_decoration *deco = wl_container_of(listener, deco, destroy);
	wl_list_remove(&deco->request_mode.link);
	wl_list_remove(&deco->destroy.link);
	free(deco);
}

static void decor_new_xdg_decoration(struct wl_listener *listener, void *data) {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_deco = data;
	struct prism_xdg_decoration *deco = calloc(1, sizeof(*deco));
	if (deco == NULL) {
		wl_resource_post_no_memory(wlr_deco->resource);
		return;
	}
	deco->wlr_decoration = wlr_deco;
	deco->request_mode.notify = xdg_decoration_handle_request_mode;
	wl_signal_add(&wlr_deco->events.request_mode, &deco->request_mode);
	deco->destroy.notify = xdg_decoration_handle_destroy;
	wl_signal_add(&wlr_deco->events.destroy, &deco->destroy);
	wlr_xdg_toplevel_decoration_v1_set_mode(wlr_deco,
		WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

/*
 * Pixel rows of a line of text. fcft's height is the font's line spacing,
 * which for some fonts (DejaVu Sans Mono among them) is less than ascent
 * plus descent: text that tall would lose its descenders and underscores,
 * and a title "a_b" must not read "a b".
 */
static int text_rows(const struct fcft_font *font) {
	int rows = font->ascent + font->descent;
	return rows > font->height ? rows : font->height;
}

/*
 * The font is rasterised at the largest output scale, so that text is sharp
 * on HiDPI outputs; sizes in layout coordinates come from that font divided
 * by the scale, so the title bar is as tall on every output.
 */
static void decor_load_font(struct prism_decor *decor) {
	struct prism_server *server = decor->server;
	fcft_destroy(decor->font);
	char attrs[32];
	snprintf(attrs, sizeof(attrs), "dpi=%d", 96 * decor->text_scale);
	const char *names[] = { server->config.font };
	decor->font = fcft_from_name(1, names, attrs);
	int text_height = 14;
	if (decor->font != NULL) {
		text_height = (text_rows(decor->font) + decor->text_scale - 1) /
			decor->text_scale;
	} else {
		wlr_log(WLR_ERROR, "cannot load font '%s': titles will show no "
			"text (frames and colours are still drawn)",
			server->config.font);
	}
	decor->title_height = text_height + 2 * decor->title_padding;
	snprintf(decor->font_name, sizeof(decor->font_name), "%s",
		server->config.font);
}

static void decor_retitle_all(struct prism_decor *decor) {
	struct prism_view *view;
	wl_list_for_each(view, &decor->server->views, link) {
		decor_update_title(decor, view, true);
	}
	indicator_refresh(&decor->server->indicator);
}

void decor_apply_config(struct prism_decor *decor) {
	const struct prism_config *c = &decor->server->config;
	decor->border_width = c->border_width;
	decor->popup_border = decor->border_width > 2 ? decor->border_width / 2 : 1;
	if (strcmp(decor->font_name, c->font) != 0) {
		decor_load_font(decor);
	}
	/* Labels and colours may have changed too. */
	decor_retitle_all(decor);
}

void decor_set_text_scale(struct prism_decor *decor, int scale) {
	scale = scale < 1 ? 1 : scale > 8 ? 8 : scale;
	if (scale == decor->text_scale) {
		return;
	}
	decor->text_scale = scale;
	decor_load_font(decor);
	decor_retitle_all(decor);
}

bool decor_init(struct prism_decor *decor, struct prism_server *server) {
	decor->server = server;
	decor->border_width = server->config.border_width;
	decor->title_padding = 3;
	decor->popup_border = decor->border_width > 2 ? decor->border_width / 2 : 1;
	decor->text_scale = 1;

	fcft_init(FCFT_LOG_COLORIZE_NEVER, false, FCFT_LOG_CLASS_ERROR);
	decor_load_font(decor);

	decor->xdg_manager = wlr_xdg_decoration_manager_v1_create(server->display);
	decor->kde_manager = wlr_server_decoration_manager_create(server->display);
	if (decor->xdg_manager == NULL || decor->kde_manager == NULL) {
		return false;
	}
	wlr_server_decoration_manager_set_default_mode(decor->kde_manager,
		WLR_SERVER_DECORATION_MANAGER_MODE_SERVER);
	decor->new_xdg_decoration.notify = decor_new_xdg_decoration;
	wl_signal_add(&decor->xdg_manager->events.new_toplevel_decoration,
		&decor->new_xdg_decoration);
	return true;
}

void decor_finish(struct prism_decor *decor) {
	if (decor->new_xdg_decoration.link.next != NULL) {
		wl_list_remove(&decor->new_xdg_decoration.link);
		decor->new_xdg_decoration.link.next = NULL;
	}
	fcft_destroy(decor->font);
	decor->font = NULL;
	fcft_fini();
}

struct wlr_box decor_frame_box(const struct prism_decor *decor,
		const struct wlr_box *content) {
	int b = decor->border_width;
	return (struct wlr_box){
		.x = content->x - b,
		.y = content->y - decor->title_height - b,
		.width = content->width + 2 * b,
		.height = content->height + decor->title_height + 2 * b,
	};
}

struct wlr_box decor_content_box(const struct prism_decor *decor,
		const struct wlr_box *area) {
	int b = decor->border_width;
	struct wlr_box box = {
		.x = area->x + b,
		.y = area->y + decor->title_height + b,
		.width = area->width - 2 * b,
		.height = area->height - decor->title_height - 2 * b,
	};
	if (box.width < 1) {
		box.width = 1;
	}
	if (box.height < 1) {
		box.height = 1;
	}
	return box;
}

struct wlr_box decor_title_box(const struct prism_decor *decor,
		const struct wlr_box *content) {
	return (struct wlr_box){
		.x = content->x,
		.y = content->y - decor->title_height,
		.width = content->width,
		.height = decor->title_height,
	};
}

enum prism_view_part decor_part_at(const struct prism_decor *decor,
		const struct wlr_box *content, double lx, double ly,
		uint32_t *edges) {
	struct wlr_box frame = decor_frame_box(decor, content);
	if (!wlr_box_contains_point(&frame, lx, ly)) {
		return PRISM_PART_NONE;
	}
	struct wlr_box title = decor_title_box(decor, content);
	if (wlr_box_contains_point(&title, lx, ly)) {
		return PRISM_PART_TITLE;
	}
	*edges = WLR_EDGE_NONE;
	if (lx < content->x) {
		*edges |= WLR_EDGE_LEFT;
	} else if (lx >= content->x + content->width) {
		*edges |= WLR_EDGE_RIGHT;
	}
	if (ly < title.y) {
		*edges |= WLR_EDGE_TOP;
	} else if (ly >= content->y + content->height) {
		*edges |= WLR_EDGE_BOTTOM;
	}
	return PRISM_PART_BORDER;
}

void decor_colour_to_float(uint32_t rgb, float factor, float out[static 4]) {
	out[0] = (float)((rgb >> 16) & 0xff) / 255.0f * factor;
	out[1] = (float)((rgb >> 8) & 0xff) / 255.0f * factor;
	out[2] = (float)(rgb & 0xff) / 255.0f * factor;
	out[3] = 1.0f;
}

static uint32_t scale_rgb(uint32_t rgb, float factor) {
	uint32_t r = (uint32_t)lroundf((float)((rgb >> 16) & 0xff) * factor);
	uint32_t g = (uint32_t)lroundf((float)((rgb >> 8) & 0xff) * factor);
	uint32_t b = (uint32_t)lroundf((float)(rgb & 0xff) * factor);
	return (r << 16) | (g << 8) | b;
}

uint32_t decor_view_rgb(const struct prism_view *view, bool focused) {
	uint32_t rgb = view->vm ? vm_colour(view->vm) :
		view->server->config.host_colour;
	return focused ? rgb : scale_rgb(rgb, UNFOCUSED_BRIGHTNESS);
}

static float linear(uint32_t c) {
	float v = (float)c / 255.0f;
	return v <= 0.03928f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
}

uint32_t decor_text_rgb(uint32_t rgb) {
	/* WCAG relative luminance; 0.179 is where black and white text have
	 * equal contrast. */
	float l = 0.2126f * linear((rgb >> 16) & 0xff) +
		0.7152f * linear((rgb >> 8) & 0xff) +
		0.0722f * linear(rgb & 0xff);
	return l > 0.179f ? 0x000000 : 0xffffff;
}

/* Draw glyphs, already rasterised, into a texture of the given width. */
static struct wlr_texture *compose(struct prism_decor *decor,
		const struct fcft_glyph **glyphs, size_t n, int width, uint32_t rgb) {
	struct fcft_font *font = decor->font;
	pixman_image_t *image = pixman_image_create_bits(PIXMAN_a8r8g8b8,
		width, text_rows(font), NULL, width * 4);
	if (image == NULL) {
		return NULL;
	}
	pixman_color_t colour = {
		.red = (uint16_t)(((rgb >> 16) & 0xff) * 0x101),
		.green = (uint16_t)(((rgb >> 8) & 0xff) * 0x101),
		.blue = (uint16_t)((rgb & 0xff) * 0x101),
		.alpha = 0xffff,
	};
	pixman_image_t *fill = pixman_image_create_solid_fill(&colour);
	int x = 0;
	for (size_t i = 0; i < n && fill != NULL; i++) {
		const struct fcft_glyph *g = glyphs[i];
		if (g == NULL) {
			continue;
		}
		/* Colour glyphs (emoji) are drawn as they are; others are
		 * masks for the text colour. */
		bool colour_glyph = pixman_image_get_format(g->pix) == PIXMAN_a8r8g8b8;
		pixman_image_composite32(PIXMAN_OP_OVER, colour_glyph ? g->pix : fill,
			colour_glyph ? NULL : g->pix, image, 0, 0, 0, 0, x + g->x,
			font->ascent - g->y, g->width, g->height);
		x += g->advance.x;
	}
	if (fill != NULL) {
		pixman_image_unref(fill);
	}
	struct wlr_texture *texture = wlr_texture_from_pixels(
		decor->server->renderer, DRM_FORMAT_ARGB8888, (uint32_t)(width * 4),
		(uint32_t)width, (uint32_t)text_rows(font),
		pixman_image_get_data(image));
	pixman_image_unref(image);
	return texture;
}

struct wlr_texture *decor_rasterise(struct prism_decor *decor,
		const char *text, uint32_t rgb, int *width_out, int *height_out) {
	if (decor->font == NULL) {
		return NULL;
	}
	size_t len = strlen(text);
	uint32_t *cps = calloc(len + 1, sizeof(*cps));
	const struct fcft_glyph **glyphs = calloc(len + 1, sizeof(*glyphs));
	if (cps == NULL || glyphs == NULL) {
		free(cps);
		free(glyphs);
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		i += utf8_decode((const unsigned char *)text + i, len - i, &cps[n]);
		if (cps[n] == 0xFFFFFFFFu) {
			cps[n] = 0xfffd;
		}
		n++;
	}
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		glyphs[i] = fcft_rasterize_char_utf32(decor->font, cps[i],
			FCFT_SUBPIXEL_NONE);
		if (glyphs[i] == NULL) {
			continue;
		}
		if (width + glyphs[i]->advance.x > TITLE_TEXT_MAX_WIDTH) {
			n = i;
			break;
		}
		width += glyphs[i]->advance.x;
	}
	struct wlr_texture *texture = NULL;
	if (width > 0 && text_rows(decor->font) > 0) {
		texture = compose(decor, glyphs, n, width, rgb);
		/* In layout coordinates: the texture has text_scale pixels for
		 * each of them. */
		int scale = decor->text_scale;
		*width_out = (width + scale - 1) / scale;
		*height_out = (text_rows(decor->font) + scale - 1) / scale;
	}
	free(glyphs);
	free(cps);
	return texture;
}

void decor_update_title(struct prism_decor *decor, struct prism_view *view,
		bool title_changed) {
	if (decor->font == NULL) {
		return;
	}
	uint32_t text_rgb = decor_text_rgb(decor_view_rgb(view, view_is_focused(view)));
	if (!title_changed && view->title_texture != NULL &&
			view->title_texture_rgb == text_rgb) {
		return;
	}

	/* The host's label always comes first; the guest's title can only
	 * follow it, so a title that imitates another VM's label still reads
	 * "[Work] Personal" (I3). */
	char text[PRISM_LABEL_MAX + 4 + TITLE_BUF_SIZE];
	/* A notice is Prism speaking (clipboard, urgency): it replaces the
	 * guest's title for a moment, never the label. */
	const char *body = view->notice[0] ? view->notice : view->title;
	const char *urgent = view->urgent ? "(wants attention) " : "";
	if (view->vm != NULL) {
		snprintf(text, sizeof(text), "[%s] %s%s", vm_label(view->vm), urgent,
			body);
	} else {
		snprintf(text, sizeof(text), "%s%s", urgent, body);
	}

	if (view->title_texture != NULL) {
		wlr_texture_destroy(view->title_texture);
		view->title_texture = NULL;
	}
	view->title_texture = decor_rasterise(decor, text, text_rgb,
		&view->title_texture_width, &view->title_texture_height);
	view->title_texture_rgb = text_rgb;
}

void decor_view_finish(struct prism_view *view) {
	if (view->title_texture != NULL) {
		wlr_texture_destroy(view->title_texture);
		view->title_texture = NULL;
	}
}

void decor_render_view(struct prism_decor *decor, struct render_target *t,
		struct prism_view *view) {
	uint32_t rgb = decor_view_rgb(view, view_is_focused(view));
	struct wlr_box content = view_content_box(view);
	const float black[4] = { 0.0f, 0.0f, 0.0f, 1.0f };
	/* The backdrop is opaque: nothing of what lies below shows through a
	 * translucent VM window, so what is seen inside a frame is only what
	 * that VM drew. */
	if (view->fullscreen) {
		/* No frame: the indicator says which VM this is. */
		render_frame_shape(t, &content, &content, black, black, NULL);
		return;
	}

	struct wlr_box frame = decor_frame_box(decor, &content);
	float colour[4];
	decor_colour_to_float(rgb, 1.0f, colour);
	/* Border and title bar in one shape, the content its hole. */
	render_frame_shape(t, &frame, &content, colour, black, NULL);

	if (view->title_texture != NULL) {
		struct wlr_box title = decor_title_box(decor, &content);
		struct wlr_box text = {
			.x = title.x + decor->title_padding,
			.y = title.y + (title.height - view->title_texture_height) / 2,
			.width = view->title_texture_width,
			.height = view->title_texture_height,
		};
		struct wlr_box clip = {
			.x = title.x + decor->title_padding,
			.y = title.y,
			.width = title.width - 2 * decor->title_padding,
			.height = title.height,
		};
		if (clip.width > 0) {
			render_texture(t, view->title_texture, &text, &clip);
		}
	}
}

void decor_render_popup(struct prism_decor *decor, struct render_target *t,
		struct prism_view *view, const struct wlr_box *box) {
	float colour[4];
	decor_colour_to_float(decor_view_rgb(view, true), 1.0f, colour);
	int b = decor->popup_border;
	struct wlr_box outline = {
		box->x - b, box->y - b, box->width + 2 * b, box->height + 2 * b,
	};
	const float black[4] = { 0.0f, 0.0f, 0.0f, 1.0f };
	render_frame_shape(t, &outline, box, colour, black, NULL);
}
