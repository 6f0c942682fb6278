#ifndef PRISM_INDICATOR_H
#define PRISM_INDICATOR_H

#include <stdint.h>
#include <wlr/util/box.h>
#include "config.h"

struct prism_server;
struct render_target;
struct wlr_texture;

/*
 * The trusted indicator: a strip along the top of every output, drawn last
 * and so above everything, that says in the focused window's colour which VM
 * has the keyboard ("host" for host windows). No window, popup or fullscreen
 * surface is ever placed over it: it is outside every usable area. Whatever
 * a VM draws, the user can always look there to see whom they are typing to.
 */
struct prism_indicator {
	struct prism_server *server;
	int height;
	uint32_t rgb;
	char text[PRISM_LABEL_MAX + 32 + 136];
	struct wlr_texture *texture;
	int texture_width, texture_height;
	char notice[128]; // Prism speaking, for a moment, instead of the VM
	struct wl_event_source *notice_timer;
};

void indicator_init(struct prism_indicator *indicator,
	struct prism_server *server);
void indicator_finish(struct prism_indicator *indicator);
/* Follow the keyboard focus: redraw the strips when its domain changed. */
void indicator_update(struct prism_indicator *indicator);
/* Draw its text again (font or colours changed). */
void indicator_refresh(struct prism_indicator *indicator);
/* The configuration changed: its height, colours. */
void indicator_apply_config(struct prism_indicator *indicator);
/* Say something in the indicator for a while (exit confirmation, ...). */
void indicator_show_notice(struct prism_indicator *indicator, const char *text,
	int ms);
struct wlr_box indicator_box(const struct prism_indicator *indicator,
	const struct wlr_box *output_box);
void indicator_render(struct prism_indicator *indicator,
	struct render_target *target, const struct wlr_box *output_box);

#endif
