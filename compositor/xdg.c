#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_activation_v1.h>
#include <wlr/util/edges.h>
#include <wlr/util/log.h>
#include "config.h"
#include "decoration.h"
#include "output.h"
#include "server.h"
#include "title.h"
#include "view.h"
#include "vm.h"

/* Offset between successive new windows, so they do not hide each other. */
#define CASCADE_STEP 32
#define CASCADE_STEPS 8
/* Granularity of the search for free space for a new window. */
#define PLACEMENT_STEP 16
/* Space kept between placed windows and around the screen's edge. */
#define PLACEMENT_GAP 8

static void popup_damage(struct prism_popup *popup) {
	struct wlr_box box = popup_frame_box(popup);
	output_damage_layout_box(popup->view->server, &box);
}

/* The popup's surface origin relative to its toplevel's surface origin. */
static void popup_surface_origin(struct wlr_xdg_popup *popup, int *x, int *y) {
	double sx = 0, sy = 0;
	while (popup != NULL && popup->parent != NULL) {
		double px, py;
		wlr_xdg_popup_get_position(popup, &px, &py);
		sx += px;
		sy += py;
		struct wlr_xdg_surface *parent =
			wlr_xdg_surface_from_wlr_surface(popup->parent);
		popup = parent != NULL && parent->role == WLR_XDG_SURFACE_ROLE_POPUP ?
			parent->popup : NULL;
	}
	*x = (int)sx;
	*y = (int)sy;
}

/* No output is larger; popup geometry beyond it is the client's fancy. */
#define POPUP_MAX_SIZE 16384
#define COORD_LIMIT (1 << 24)

static int clamp_coord(int64_t v) {
	return (int)(v < -COORD_LIMIT ? -COORD_LIMIT : v > COORD_LIMIT ?
		COORD_LIMIT : v);
}

static void popup_update_position(struct prism_popup *popup) {
	struct prism_view *view = popup->view;
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(popup->xdg_popup->base, &geo);
	int sx, sy;
	popup_surface_origin(popup->xdg_popup, &sx, &sy);
	/* Content-origin coordinates: the toplevel's surface origin is at
	 * minus its window geometry offset. */
	/* The client chooses the geometry, up to INT32_MAX: work in 64 bits
	 * and clamp, so that no sum below or in the frame drawing overflows.
	 * Content beyond the clamped box is clipped away, as it is for any
	 * popup. */
	struct wlr_box box = {
		.x = clamp_coord((int64_t)sx - view->geometry.x + geo.x),
		.y = clamp_coord((int64_t)sy - view->geometry.y + geo.y),
		.width = geo.width < POPUP_MAX_SIZE ? geo.width : POPUP_MAX_SIZE,
		.height = geo.height < POPUP_MAX_SIZE ? geo.height : POPUP_MAX_SIZE,
	};
	if (memcmp(&box, &popup->box, sizeof(box)) == 0) {
		return;
	}
	bool visible = popup->tree->node.state.enabled;
	if (visible) {
		popup_damage(popup);
	}
	popup->box = box;
	wlr_scene_node_set_position(&popup->tree->node, box.x, box.y);
	wlr_scene_node_set_position(popup->surface_tree, -geo.x, -geo.y);
	if (visible) {
		popup_damage(popup);
	}
}

static void popup_unconstrain(struct prism_popup *popup) {
	struct prism_view *view = popup->view;
	struct wlr_box area = server_usable_area(view->server,
		view->x + view->geometry.width / 2.0,
		view->y + view->geometry.height / 2.0);
	/* In the toplevel surface's coordinates, as wlroots expects. */
	struct wlr_box box = {
		.x = area.x - (view->x - view->geometry.x),
		.y = area.y - (view->y - view->geometry.y),
		.width = area.width,
		.height = area.height,
	};
	wlr_xdg_popup_unconstrain_from_box(popup->xdg_popup, &box);

	/*
	 * wlroots only applies the adjustments the client allows; a client
	 * that allows none keeps its popup wherever it asked, even over the
	 * trusted indicator or off screen. Prism moves it inside the usable
	 * area regardless: the client learns where from the configure.
	 */
	struct wlr_xdg_surface *parent =
		wlr_xdg_surface_from_wlr_surface(popup->xdg_popup->parent);
	int px = view->x, py = view->y;
	if (parent != NULL && parent->role == WLR_XDG_SURFACE_ROLE_POPUP &&
			parent->data != NULL) {
		struct prism_popup *pp = parent->data;
		px += pp->box.x;
		py += pp->box.y;
	}
	/* Inset by the popup's border, which must stay visible too. */
	int pb = view->server->decor.popup_border;
	area.x += pb;
	area.y += pb;
	area.width -= 2 * pb;
	area.height -= 2 * pb;
	/* The positioner's numbers are the client's, up to INT32_MAX: in 64
	 * bits nothing here overflows, and the result lies in the area. */
	struct wlr_box *geo = &popup->xdg_popup->geometry;
	int64_t x = (int64_t)px + geo->x, y = (int64_t)py + geo->y;
	int64_t max_x = (int64_t)area.x + area.width - geo->width;
	int64_t max_y = (int64_t)area.y + area.height - geo->height;
	int64_t cx = x > max_x ? max_x : x;
	int64_t cy = y > max_y ? max_y : y;
	cx = cx < area.x ? area.x : cx;
	cy = cy < area.y ? area.y : cy;
	geo->x = (int)(cx - px);
	geo->y = (int)(cy - py);
}

static void popup_create(struct prism_view *view, struct wlr_xdg_popup *xdg_popup);

static void popup_handle_map(struct wl_listener *listener, void *data) {
	struct prism_popup *popup = wl_container_of(listener, popup, map);
	popup_update_position(popup);
	wlr_scene_node_set_enabled(&popup->tree->node, true);
	popup_damage(popup);
	output_update_surface_outputs(popup->view);
}

static void popup_handle_unmap(struct wl_listener *listener, void *data) {
	struct prism_popup *popup = wl_container_of(listener, popup, unmap);
	popup_damage(popup);
	wlr_scene_node_set_enabled(&popup->tree->node, false);
}

static void popup_handle_commit(struct wl_listener *listener, void *data) {
	struct prism_popup *popup = wl_container_of(listener, popup, commit);
	popup_update_position(popup);
}

static void popup_handle_new_popup(struct wl_listener *listener, void *data) {
	struct prism_popup *popup = wl_container_of(listener, popup, new_popup);
	popup_create(popup->view, data);
}

static void popup_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_popup *popup = wl_container_of(listener, popup, destroy);
	if (popup->tree->node.state.enabled) {
		popup_damage(popup);
	}
	wl_list_remove(&popup->map.link);
	wl_list_remove(&popup->unmap.link);
	wl_list_remove(&popup->destroy.link);
	wl_list_remove(&popup->commit.link);
	wl_list_remove(&popup->new_popup.link);
	wl_list_remove(&popup->link);
	popup->xdg_popup->base->data = NULL;
	wlr_scene_node_destroy(&popup->tree->node);
	free(popup);
}

static void popup_create(struct prism_view *view, struct wlr_xdg_popup *xdg_popup) {
	struct wlr_xdg_surface *base = xdg_popup->base;
	struct prism_popup *popup = calloc(1, sizeof(*popup));
	if (popup == NULL) {
		wl_resource_post_no_memory(base->resource);
		return;
	}
	popup->view = view;
	popup->xdg_popup = xdg_popup;
	popup->tag.kind = PRISM_NODE_POPUP;
	/* Every popup, nested or not, is a direct child of the view's popup
	 * tree, so each one is clipped to its own box and nothing else. */
	popup->tree = wlr_scene_tree_create(&view->popups->node);
	if (popup->tree == NULL) {
		free(popup);
		wl_resource_post_no_memory(base->resource);
		return;
	}
	popup->surface_tree = wlr_scene_subsurface_tree_create(&popup->tree->node,
		base->surface);
	if (popup->surface_tree == NULL) {
		wlr_scene_node_destroy(&popup->tree->node);
		free(popup);
		wl_resource_post_no_memory(base->resource);
		return;
	}
	popup->tree->node.data = &popup->tag;
	wlr_scene_node_set_enabled(&popup->tree->node, false);
	base->data = popup;

	popup->map.notify = popup_handle_map;
	wl_signal_add(&base->events.map, &popup->map);
	popup->unmap.notify = popup_handle_unmap;
	wl_signal_add(&base->events.unmap, &popup->unmap);
	popup->destroy.notify = popup_handle_destroy;
	wl_signal_add(&base->events.destroy, &popup->destroy);
	popup->commit.notify = popup_handle_commit;
	wl_signal_add(&base->surface->events.commit, &popup->commit);
	popup->new_popup.notify = popup_handle_new_popup;
	wl_signal_add(&base->events.new_popup, &popup->new_popup);
	wl_list_insert(view->popup_list.prev, &popup->link);

	popup_unconstrain(popup);
}

/* Whether a frame placed there would overlap any mapped window. */
static bool frame_is_free(struct prism_server *server, const struct wlr_box *frame) {
	struct prism_view *other;
	wl_list_for_each(other, &server->views, link) {
		struct wlr_box box = view_frame_box(other);
		struct wlr_box inter;
		if (wlr_box_intersection(&inter, &box, frame)) {
			return false;
		}
	}
	return true;
}

/*
 * New windows go to the first free spot, scanning the usable area from the
 * top left; when there is none, they cascade from the centre. Either way the
 * whole frame, label included, starts on screen.
 */
static void view_place(struct prism_view *view) {
	struct prism_server *server = view->server;
	struct prism_decor *decor = &server->decor;
	struct prism_seat *seat = &server->seat;
	struct wlr_box area = server_usable_area(server, seat->cursor->x,
		seat->cursor->y);
	struct wlr_box max = decor_content_box(decor, &area);

	/* A window larger than the screen is asked to shrink, so that its
	 * frame and label are always visible. */
	int width = view->geometry.width, height = view->geometry.height;
	if (width > max.width || height > max.height) {
		width = width > max.width ? max.width : width;
		height = height > max.height ? max.height : height;
		view_request_size(view, width, height);
	}

	int x = 0, y = 0;
	bool placed = false;
	struct wlr_xdg_surface *parent = view->xdg_surface->toplevel->parent;
	struct prism_view *parent_view = parent ? parent->data : NULL;
	if (parent_view != NULL && parent_view->mapped) {
		x = parent_view->x + (parent_view->geometry.width - width) / 2;
		y = parent_view->y + (parent_view->geometry.height - height) / 2;
		placed = true;
	}
	int gap = PLACEMENT_GAP;
	for (int cy = max.y + gap; !placed &&
			cy + height + gap <= max.y + max.height; cy += PLACEMENT_STEP) {
		for (int cx = max.x + gap; cx + width + gap <= max.x + max.width;
				cx += PLACEMENT_STEP) {
			struct wlr_box content = { cx, cy, width, height };
			struct wlr_box frame = decor_frame_box(decor, &content);
			frame.x -= gap;
			frame.y -= gap;
			frame.width += 2 * gap;
			frame.height += 2 * gap;
			if (frame_is_free(server, &frame)) {
				x = cx;
				y = cy;
				placed = true;
				break;
			}
		}
	}
	if (!placed) {
		int step = (int)(server->next_view_id % CASCADE_STEPS) * CASCADE_STEP;
		x = max.x + (max.width - width) / 2 + step - CASCADE_STEPS * CASCADE_STEP / 2;
		y = max.y + (max.height - height) / 2 + step - CASCADE_STEPS * CASCADE_STEP / 2;
	}
	if (x + width > max.x + max.width) {
		x = max.x + max.width - width;
	}
	if (y + height > max.y + max.height) {
		y = max.y + max.height - height;
	}
	x = x < max.x ? max.x : x;
	y = y < max.y ? max.y : y;
	view->x = x;
	view->y = y;
	wlr_scene_node_set_position(&view->tree->node, x, y);
}

/*
 * Fullscreen hides the frame, so it is the VM's policy that decides: with
 * "fullscreen = yes" the window covers its output below the trusted
 * indicator, which keeps saying which VM it is; otherwise the request is
 * granted as maximise, frame and all.
 */
static void view_apply_fullscreen_request(struct prism_view *view) {
	bool wanted = view->xdg_surface->toplevel->requested.fullscreen;
	if (view_may_fullscreen(view)) {
		view_set_fullscreen(view, wanted);
		return;
	}
	if (wanted) {
		wlr_log(WLR_INFO, "vm=%s: window %u asked for fullscreen; the "
			"VM's policy maximises it instead", vm_name(view->vm), view->id);
	}
	view_set_maximized(view, wanted);
}

/*
 * A new window takes the keyboard only when that cannot surprise the user:
 * nothing has focus, or the focused window belongs to the same VM (a dialog
 * of the application being used). Otherwise it opens unfocused below the
 * focused window, so a VM cannot steal keystrokes by opening a window (I6).
 */
static bool view_may_take_focus(struct prism_view *view) {
	struct prism_view *focused = view->server->focused_view;
	return focused == NULL || focused->vm == view->vm;
}

static void view_update_title(struct prism_view *view) {
	bool utf8 = view->vm == NULL || view->vm->config->title_utf8;
	char title[TITLE_BUF_SIZE];
	title_sanitise(view->xdg_surface->toplevel->title, utf8, title,
		sizeof(title));
	if (strcmp(title, view->title) == 0) {
		return;
	}
	memcpy(view->title, title, sizeof(title));
	if (view->mapped) {
		decor_update_title(&view->server->decor, view, true);
		struct wlr_box content = view_content_box(view);
		struct wlr_box box = decor_title_box(&view->server->decor, &content);
		output_damage_layout_box(view->server, &box);
	}
}

/*
 * A VM's windows are bounded in size, as in Qubes: content beyond the limit
 * is simply not shown (the content box is the clip), so a huge buffer can
 * neither cover the screen nor make the frame absurd.
 */
static void view_clamp_geometry(struct prism_view *view, struct wlr_box *geo) {
	if (view->vm == NULL) {
		return;
	}
	const struct prism_vm_config *c = view->vm->config;
	if (geo->width <= c->max_window_width &&
			geo->height <= c->max_window_height) {
		return;
	}
	if (!view->oversize_logged) {
		wlr_log(WLR_INFO, "vm=%s: window %u is %dx%d, above the VM's limit "
			"of %dx%d; showing only that much", vm_name(view->vm), view->id,
			geo->width, geo->height, c->max_window_width,
			c->max_window_height);
		view->oversize_logged = true;
	}
	if (geo->width > c->max_window_width) {
		geo->width = c->max_window_width;
	}
	if (geo->height > c->max_window_height) {
		geo->height = c->max_window_height;
	}
}

static void view_handle_map(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, map);
	struct prism_server *server = view->server;
	if (view->vm != NULL &&
			vm_window_count(view->vm) >= (size_t)view->vm->config->max_windows) {
		/* Over the limit: the window is never shown and the client is
		 * asked to close it. Nothing else is affected. */
		wlr_log(WLR_INFO, "vm=%s: window %u refused: the VM already shows "
			"%d windows, its limit", vm_name(view->vm), view->id,
			view->vm->config->max_windows);
		view->refused = true;
		wlr_xdg_toplevel_send_close(view->xdg_surface);
		return;
	}
	wlr_xdg_surface_get_geometry(view->xdg_surface, &view->geometry);
	view_clamp_geometry(view, &view->geometry);
	wlr_scene_node_set_position(view->surface_tree, -view->geometry.x,
		-view->geometry.y);
	view_place(view);
	/* The title may have been set before Prism started listening. */
	view_update_title(view);
	view->mapped = true;
	wlr_scene_node_set_enabled(&view->tree->node, true);
	decor_update_title(&server->decor, view, true);

	if (view_may_take_focus(view)) {
		wl_list_insert(&server->views, &view->link);
		view_focus(view);
	} else {
		struct prism_view *focused = server->focused_view;
		wl_list_insert(&focused->link, &view->link);
		wlr_scene_node_place_below(&view->tree->node, &focused->tree->node);
		view_damage_whole(view);
	}
	if (view->xdg_surface->toplevel->requested.fullscreen) {
		view_apply_fullscreen_request(view);
	} else if (view->xdg_surface->toplevel->requested.maximized) {
		view_set_maximized(view, true);
	}
	output_update_surface_outputs(view);
	seat_update_pointer(&server->seat, 0);

	if (view->vm != NULL) {
		struct prism_vm_client *vc = vm_client_from_client(
			wl_resource_get_client(view->xdg_surface->resource));
		wlr_log(WLR_INFO, "vm=%s client=%u: window %u mapped %dx%d",
			vm_name(view->vm), vc ? vc->id : 0, view->id,
			view->geometry.width, view->geometry.height);
	}
}

static void view_handle_unmap(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, unmap);
	struct prism_server *server = view->server;
	if (!view->mapped) {
		return; // a refused window was never shown
	}
	view_damage_whole(view);
	view->mapped = false;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	wl_list_remove(&view->link);
	wl_list_init(&view->link);
	seat_view_gone(&server->seat, view);

	if (server->focused_view == view) {
		server->focused_view = NULL;
		/* Focus returns to the window the user used before. */
		if (!wl_list_empty(&server->views)) {
			struct prism_view *next = wl_container_of(server->views.next,
				next, link);
			view_focus(next);
		} else {
			seat_focus_view(&server->seat, NULL);
		}
	}
	seat_update_pointer(&server->seat, 0);
}

static void view_handle_commit(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, commit);
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg_surface, &geo);
	view_clamp_geometry(view, &geo);
	if (!view->mapped) {
		view->geometry = geo;
		return;
	}
	if (memcmp(&geo, &view->geometry, sizeof(geo)) == 0) {
		return;
	}
	view_damage_whole(view);
	struct prism_seat *seat = &view->server->seat;
	if (seat->grabbed_view == view && seat->cursor_mode == PRISM_CURSOR_RESIZE) {
		/* Keep the edge opposite to the one being dragged in place. */
		struct wlr_box grab = seat->grab_geometry;
		if (seat->resize_edges & WLR_EDGE_LEFT) {
			view->x = grab.x + grab.width - geo.width;
		}
		if (seat->resize_edges & WLR_EDGE_TOP) {
			view->y = grab.y + grab.height - geo.height;
		}
		wlr_scene_node_set_position(&view->tree->node, view->x, view->y);
	}
	view->geometry = geo;
	wlr_scene_node_set_position(view->surface_tree, -geo.x, -geo.y);
	struct prism_popup *popup;
	wl_list_for_each(popup, &view->popup_list, link) {
		popup_update_position(popup);
	}
	view_damage_whole(view);
	output_update_surface_outputs(view);
}

static void view_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, destroy);
	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->new_popup.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->request_minimize.link);
	wl_list_remove(&view->set_title.link);
	wl_list_remove(&view->link);
	seat_view_gone(&view->server->seat, view);
	view->xdg_surface->data = NULL;
	if (view->notice_timer != NULL) {
		wl_event_source_remove(view->notice_timer);
	}
	wlr_scene_node_destroy(&view->tree->node);
	decor_view_finish(view);
	free(view);
}

static void view_handle_new_popup(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, new_popup);
	popup_create(view, data);
}

/*
 * Interactive move and resize are the user's: a client may only start one
 * from a button press that is still held on one of its own surfaces.
 */
static bool view_owns_pointer_grab(struct prism_view *view, uint32_t serial) {
	struct wlr_seat *seat = seat_domain_for_view(view)->wlr_seat;
	if (!wlr_seat_validate_pointer_grab_serial(seat, NULL, serial)) {
		return false;
	}
	struct wlr_surface *focus = seat->pointer_state.focused_surface;
	return focus != NULL &&
		wlr_surface_get_root_surface(focus) == view->xdg_surface->surface;
}

static void view_handle_request_move(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, request_move);
	struct wlr_xdg_toplevel_move_event *event = data;
	if (view->mapped && view_owns_pointer_grab(view, event->serial)) {
		seat_begin_interactive(&view->server->seat, view,
			PRISM_CURSOR_MOVE, 0);
	}
}

static void view_handle_request_resize(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	if (view->mapped && view_owns_pointer_grab(view, event->serial)) {
		seat_begin_interactive(&view->server->seat, view,
			PRISM_CURSOR_RESIZE, event->edges);
	}
}

static void view_handle_request_maximize(struct wl_listener *listener,
		void *data) {
	struct prism_view *view = wl_container_of(listener, view, request_maximize);
	if (!view->mapped) {
		wlr_xdg_surface_schedule_configure(view->xdg_surface);
		return;
	}
	view_set_maximized(view, view->xdg_surface->toplevel->requested.maximized);
}

static void view_handle_request_fullscreen(struct wl_listener *listener,
		void *data) {
	struct prism_view *view = wl_container_of(listener, view,
		request_fullscreen);
	if (!view->mapped) {
		wlr_xdg_surface_schedule_configure(view->xdg_surface);
		return;
	}
	view_apply_fullscreen_request(view);
}

static void view_handle_request_minimize(struct wl_listener *listener,
		void *data) {
	struct prism_view *view = wl_container_of(listener, view, request_minimize);
	/* There is no minimised state to show; acknowledge with a configure. */
	wlr_xdg_surface_schedule_configure(view->xdg_surface);
}

static void view_handle_set_title(struct wl_listener *listener, void *data) {
	struct prism_view *view = wl_container_of(listener, view, set_title);
	view_update_title(view);
}

void view_create(struct prism_server *server, struct wlr_xdg_surface *xdg_surface) {
	struct prism_view *view = calloc(1, sizeof(*view));
	if (view == NULL) {
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	view->server = server;
	view->xdg_surface = xdg_surface;
	view->vm = vm_from_client(wl_resource_get_client(xdg_surface->resource));
	view->id = ++server->next_view_id;
	wl_list_init(&view->link);
	wl_list_init(&view->popup_list);
	view->view_tag.kind = PRISM_NODE_VIEW;
	view->content_tag.kind = PRISM_NODE_CONTENT;

	view->tree = wlr_scene_tree_create(&server->windows->node);
	view->content = view->tree ? wlr_scene_tree_create(&view->tree->node) : NULL;
	view->surface_tree = view->content ? wlr_scene_subsurface_tree_create(
		&view->content->node, xdg_surface->surface) : NULL;
	view->popups = view->surface_tree ?
		wlr_scene_tree_create(&view->tree->node) : NULL;
	if (view->popups == NULL) {
		if (view->tree != NULL) {
			wlr_scene_node_destroy(&view->tree->node);
		}
		free(view);
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	view->tree->node.data = &view->view_tag;
	view->content->node.data = &view->content_tag;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	xdg_surface->data = view;

	struct wlr_xdg_toplevel *toplevel = xdg_surface->toplevel;
	view->map.notify = view_handle_map;
	wl_signal_add(&xdg_surface->events.map, &view->map);
	view->unmap.notify = view_handle_unmap;
	wl_signal_add(&xdg_surface->events.unmap, &view->unmap);
	view->destroy.notify = view_handle_destroy;
	wl_signal_add(&xdg_surface->events.destroy, &view->destroy);
	view->commit.notify = view_handle_commit;
	wl_signal_add(&xdg_surface->surface->events.commit, &view->commit);
	view->new_popup.notify = view_handle_new_popup;
	wl_signal_add(&xdg_surface->events.new_popup, &view->new_popup);
	view->request_move.notify = view_handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = view_handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = view_handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = view_handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen,
		&view->request_fullscreen);
	view->request_minimize.notify = view_handle_request_minimize;
	wl_signal_add(&toplevel->events.request_minimize, &view->request_minimize);
	view->set_title.notify = view_handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &view->set_title);
}

/*
 * A window may take focus through xdg-activation only with a token made by
 * the window that has focus now, of the same VM and seat: an application
 * handing focus to its own new window. Anything else (a token from another
 * VM, from a window the user has left, or one made without focus) is
 * refused, and the window is marked as wanting attention instead (I6).
 * Tokens wlroots does not know never reach this handler, and wlroots hands
 * out only unknown tokens to a surface without keyboard focus that names an
 * input serial: those requests are dropped before they get here.
 */
static void server_request_activate(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server,
		request_activate);
	struct wlr_xdg_activation_v1_request_activate_event *event = data;
	struct prism_view *view = view_from_surface(event->surface);
	if (view == NULL || view_is_focused(view)) {
		return;
	}
	struct wlr_xdg_activation_token_v1 *token = event->token;
	struct prism_view *focused = server->focused_view;
	struct prism_view *origin = view_from_surface(token->surface);
	const char *refusal = NULL;
	if (origin == NULL) {
		refusal = "the token was made without a window";
	} else if (origin != focused) {
		refusal = "the token was not made by the focused window";
	} else if (origin->vm != view->vm) {
		refusal = "the token belongs to another VM";
	} else if (token->seat != seat_domain_for_view(origin)->wlr_seat) {
		refusal = "the token does not come from the user's input";
	}
	if (refusal == NULL) {
		view_focus(view);
		return;
	}
	wlr_log(WLR_INFO, "%s%s: window %u asked for focus: refused (%s); marked "
		"as wanting attention", view->vm ? "vm=" : "host",
		view->vm ? vm_name(view->vm) : "", view->id, refusal);
	view_set_urgent(view, true);
}

bool xdg_activation_init(struct prism_server *server) {
	server->xdg_activation = wlr_xdg_activation_v1_create(server->display);
	if (server->xdg_activation == NULL) {
		return false;
	}
	server->request_activate.notify = server_request_activate;
	wl_signal_add(&server->xdg_activation->events.request_activate,
		&server->request_activate);
	return true;
}
