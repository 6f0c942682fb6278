#ifndef PRISM_VIEW_H
#define PRISM_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/box.h>
#include "title.h"

struct prism_server;
struct prism_vm;

/*
 * What a scene node stands for, in node->data. Prism's renderer and hit-tests
 * walk the scene graph and use these tags to know which rectangle a surface
 * tree is clipped to: the content of a toplevel or the box of a popup.
 */
enum prism_node_kind {
	PRISM_NODE_VIEW,
	PRISM_NODE_CONTENT,
	PRISM_NODE_POPUP,
};

struct prism_node {
	enum prism_node_kind kind;
};

/* A toplevel window: an xdg_toplevel with Prism's frame around it. */
struct prism_view {
	struct prism_server *server;
	struct wl_list link; // prism_server::views
	uint32_t id;
	struct prism_vm *vm; // NULL for host clients

	struct wlr_xdg_surface *xdg_surface;
	bool mapped;

	/* Layout position of the content (window geometry) origin; the frame
	 * lies around it. */
	int x, y;
	struct wlr_box geometry; // xdg window geometry, surface-local
	struct wlr_box saved; // content box before maximising
	bool maximized;
	struct wlr_box saved_fullscreen; // content box before fullscreen
	bool fullscreen; // covers its output below the indicator, no frame
	bool urgent; // asked for focus and was refused; cleared by focus
	bool refused; // over its VM's window limit: never shown
	bool oversize_logged;

	struct prism_node view_tag, content_tag;
	struct wlr_scene_tree *tree; // at (x, y); frame drawn around it
	struct wlr_scene_tree *content; // clipped to the content box
	struct wlr_scene_node *surface_tree; // in content, at -geometry
	struct wlr_scene_tree *popups; // prism_popup::tree, content-relative
	struct wl_list popup_list; // prism_popup::link

	char title[TITLE_BUF_SIZE]; // sanitised
	char notice[160]; // shown instead of the title for a moment
	struct wl_event_source *notice_timer;
	struct wlr_texture *title_texture;
	uint32_t title_texture_rgb; // text colour it was rendered with
	int title_texture_width, title_texture_height;

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener new_popup;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener request_minimize;
	struct wl_listener set_title;
};

struct prism_popup {
	struct prism_view *view;
	struct wlr_xdg_popup *xdg_popup;
	struct wl_list link; // prism_view::popup_list
	struct prism_node tag;
	struct wlr_scene_tree *tree; // at the popup's geometry origin
	struct wlr_scene_node *surface_tree;
	struct wlr_box box; // popup geometry relative to the view content origin

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener new_popup;
};

enum prism_view_part {
	PRISM_PART_NONE,
	PRISM_PART_CONTENT,
	PRISM_PART_TITLE,
	PRISM_PART_BORDER,
	PRISM_PART_POPUP,
};

struct prism_hit {
	struct prism_view *view;
	enum prism_view_part part;
	uint32_t edges; // enum wlr_edges, for PRISM_PART_BORDER
	struct wlr_surface *surface; // under the point, if any
	double sx, sy; // surface-local
};

void view_create(struct prism_server *server, struct wlr_xdg_surface *xdg_surface);
/* xdg-activation, under Prism's focus rules. */
bool xdg_activation_init(struct prism_server *server);

/* The view a child of server->windows stands for; NULL when hidden. */
struct prism_view *view_from_node(struct wlr_scene_node *node);
/* A popup's box and its border, in layout coordinates. */
struct wlr_box popup_frame_box(const struct prism_popup *popup);

struct wlr_box view_content_box(const struct prism_view *view);
/* Content plus frame, in layout coordinates. */
struct wlr_box view_frame_box(const struct prism_view *view);

void view_move(struct prism_view *view, int x, int y);
/* Ask the client for a new content size; the frame follows on commit. */
void view_request_size(struct prism_view *view, int width, int height);
void view_set_maximized(struct prism_view *view, bool maximized);
/* Whether the view's VM policy lets it go fullscreen (host: always). */
bool view_may_fullscreen(const struct prism_view *view);
void view_set_fullscreen(struct prism_view *view, bool fullscreen);
void view_close(struct prism_view *view);
/* Say something in the title bar, after the label, for a few seconds. */
void view_show_notice(struct prism_view *view, const char *text);
/* Give the view keyboard focus and put it on top; the user's doing only. */
void view_focus(struct prism_view *view);
bool view_is_focused(const struct prism_view *view);

/* The mapped view a surface (of it, its subsurfaces or popups) belongs to. */
struct prism_view *view_from_surface(struct wlr_surface *surface);
void view_set_urgent(struct prism_view *view, bool urgent);

/* Topmost view, frame or popup at a layout point. */
bool view_at(struct prism_server *server, double lx, double ly,
	struct prism_hit *hit);

/* Damage everything the view covers (frame, content, popups) on all outputs. */
void view_damage_whole(struct prism_view *view);

/* Track every wl_surface's commits, so that damage is exact and clipped. */
void surface_tracking_init(struct prism_server *server);

/*
 * Call fn for each surface in a subtree with its layout position; lx, ly are
 * the layout position of node's parent.
 */
typedef void (*prism_surface_fn)(struct wlr_surface *surface, int lx, int ly,
	void *data);
void scene_node_for_each_surface(struct wlr_scene_node *node, int lx, int ly,
	prism_surface_fn fn, void *data);

/* Each surface of a mapped view: content and popups, with layout positions. */
void view_for_each_surface(struct prism_view *view, prism_surface_fn fn,
	void *data);

/* New windows are placed fully inside this area of an output: the output
 * minus the trusted indicator. */
struct wlr_box server_usable_area(struct prism_server *server, double lx,
	double ly);

#endif
