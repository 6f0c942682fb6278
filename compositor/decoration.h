#ifndef PRISM_DECORATION_H
#define PRISM_DECORATION_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct prism_server;
struct prism_view;
struct render_target;
enum prism_view_part;

/*
 * Prism's frames: a border and a title bar in the VM's colour around every
 * toplevel, the host's label first in the title. Clients are told to leave
 * decorations to the server (xdg-decoration, KDE server-decoration), but the
 * frame is drawn whatever a client says: it is not a courtesy, it is the only
 * trustworthy statement of which VM a window belongs to.
 */
struct prism_decor {
	struct prism_server *server;
	struct fcft_font *font; // NULL when no font could be loaded
	char font_name[256]; // the pattern it was loaded from
	int text_scale; // text is rasterised for outputs of this scale
	int border_width;
	int title_height;
	int title_padding;
	int popup_border;

	struct wlr_xdg_decoration_manager_v1 *xdg_manager;
	struct wlr_server_decoration_manager *kde_manager;
	struct wl_listener new_xdg_decoration;
};

bool decor_init(struct prism_decor *decor, struct prism_server *server);
void decor_finish(struct prism_decor *decor);
/* The configuration changed: border, font, labels and colours. */
void decor_apply_config(struct prism_decor *decor);
/* Outputs changed: rasterise text for this (integer) scale. */
void decor_set_text_scale(struct prism_decor *decor, int scale);

/* The frame around a content box, and the content box inside an area. */
struct wlr_box decor_frame_box(const struct prism_decor *decor,
	const struct wlr_box *content);
struct wlr_box decor_content_box(const struct prism_decor *decor,
	const struct wlr_box *area);
struct wlr_box decor_title_box(const struct prism_decor *decor,
	const struct wlr_box *content);
enum prism_view_part decor_part_at(const struct prism_decor *decor,
	const struct wlr_box *content, double lx, double ly, uint32_t *edges);

/* 0xRRGGBB to premultiplied RGBA, brightness scaled by factor (hue kept). */
void decor_colour_to_float(uint32_t rgb, float factor, float out[static 4]);
/* The frame colour of a view: its VM's colour (host: neutral), dimmed when
 * unfocused. Focus changes brightness only, never hue. */
uint32_t decor_view_rgb(const struct prism_view *view, bool focused);
/* Black or white, whichever contrasts more with rgb. */
uint32_t decor_text_rgb(uint32_t rgb);

/* Text in the title font and colour rgb, for the frame and the indicator.
 * NULL when there is no font or nothing to draw. */
struct wlr_texture *decor_rasterise(struct prism_decor *decor, const char *text,
	uint32_t rgb, int *width, int *height);

/* Re-rasterise the title when its text or its colour (focus) changed. Never
 * called during a render pass: texture uploads do not belong there. */
void decor_update_title(struct prism_decor *decor, struct prism_view *view,
	bool title_changed);
void decor_view_finish(struct prism_view *view);

void decor_render_view(struct prism_decor *decor, struct render_target *target,
	struct prism_view *view);
void decor_render_popup(struct prism_decor *decor, struct render_target *target,
	struct prism_view *view, const struct wlr_box *popup_box);

#endif
