#include <stdlib.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/util/addon.h>
#include <wlr/util/log.h>
#include "decoration.h"
#include "output.h"
#include "server.h"
#include "view.h"
#include "vm.h"

struct wlr_box view_content_box(const struct prism_view *view) {
	return (struct wlr_box){
		.x = view->x,
		.y = view->y,
		.width = view->geometry.width,
		.height = view->geometry.height,
	};
}

struct wlr_box view_frame_box(const struct prism_view *view) {
	struct wlr_box content = view_content_box(view);
	if (view->fullscreen) {
		return content;
	}
	return decor_frame_box(&view->server->decor, &content);
}

void scene_node_for_each_surface(struct wlr_scene_node *node, int lx, int ly,
		prism_surface_fn fn, void *data) {
	if (!node->state.enabled) {
		return;
	}
	lx += node->state.x;
	ly += node->state.y;
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		struct wlr_scene_surface *ss = wlr_scene_surface_from_node(node);
		fn(ss->surface, lx, ly, data);
	}
	struct wlr_scene_node *child;
	wl_list_for_each(child, &node->state.children, state.link) {
		scene_node_for_each_surface(child, lx, ly, fn, data);
	}
}

void view_for_each_surface(struct prism_view *view, prism_surface_fn fn,
		void *data) {
	if (!view->mapped) {
		return;
	}
	scene_node_for_each_surface(&view->tree->node, 0, 0, fn, data);
}

struct prism_view *view_from_node(struct wlr_scene_node *node) {
	if (!node->state.enabled || node->data == NULL) {
		return NULL;
	}
	struct prism_view *view = wl_container_of((struct prism_node *)node->data,
		view, view_tag);
	return view;
}

struct wlr_box popup_frame_box(const struct prism_popup *popup) {
	const struct prism_view *view = popup->view;
	int pb = view->server->decor.popup_border;
	return (struct wlr_box){
		.x = view->x + popup->box.x - pb,
		.y = view->y + popup->box.y - pb,
		.width = popup->box.width + 2 * pb,
		.height = popup->box.height + 2 * pb,
	};
}

void view_damage_whole(struct prism_view *view) {
	if (!view->mapped) {
		return;
	}
	struct wlr_box box = view_frame_box(view);
	output_damage_layout_box(view->server, &box);
	struct prism_popup *popup;
	wl_list_for_each(popup, &view->popup_list, link) {
		struct wlr_box pbox = popup_frame_box(popup);
		output_damage_layout_box(view->server, &pbox);
	}
}

void view_move(struct prism_view *view, int x, int y) {
	if (view->x == x && view->y == y) {
		return;
	}
	view_damage_whole(view);
	view->x = x;
	view->y = y;
	wlr_scene_node_set_position(&view->tree->node, x, y);
	view_damage_whole(view);
	output_update_surface_outputs(view);
}

void view_request_size(struct prism_view *view, int width, int height) {
	if (width < 1) {
		width = 1;
	}
	if (height < 1) {
		height = 1;
	}
	wlr_xdg_toplevel_set_size(view->xdg_surface, (uint32_t)width,
		(uint32_t)height);
}

void view_set_maximized(struct prism_view *view, bool maximized) {
	if (view->maximized == maximized) {
		wlr_xdg_surface_schedule_configure(view->xdg_surface);
		return;
	}
	struct prism_decor *decor = &view->server->decor;
	if (maximized) {
		view->saved = view_content_box(view);
		struct wlr_box area = server_usable_area(view->server,
			view->x + view->geometry.width / 2.0,
			view->y + view->geometry.height / 2.0);
		struct wlr_box content = decor_content_box(decor, &area);
		view_move(view, content.x, content.y);
		view_request_size(view, content.width, content.height);
	} else {
		view_move(view, view->saved.x, view->saved.y);
		view_request_size(view, view->saved.width, view->saved.height);
	}
	view->maximized = maximized;
	wlr_xdg_toplevel_set_maximized(view->xdg_surface, maximized);
}

#define NOTICE_MS 2500

static void view_damage_title(struct prism_view *view) {
	if (!view->mapped) {
		return;
	}
	struct wlr_box content = view_content_box(view);
	struct wlr_box box = decor_title_box(&view->server->decor, &content);
	output_damage_layout_box(view->server, &box);
}

static int view_notice_expire(void *data) {
	struct prism_view *view = data;
	view->notice[0] = '\0';
	decor_update_title(&view->server->decor, view, true);
	view_damage_title(view);
	return 0;
}

void view_show_notice(struct prism_view *view, const char *text) {
	if (view->notice_timer == NULL) {
		view->notice_timer = wl_event_loop_add_timer(view->server->loop,
			view_notice_expire, view);
		if (view->notice_timer == NULL) {
			return;
		}
	}
	snprintf(view->notice, sizeof(view->notice), "%s", text);
	wl_event_source_timer_update(view->notice_timer, NOTICE_MS);
	decor_update_title(&view->server->decor, view, true);
	view_damage_title(view);
}

bool view_may_fullscreen(const struct prism_view *view) {
	return view->vm == NULL || view->vm->config->allow_fullscreen;
}

void view_set_fullscreen(struct prism_view *view, bool fullscreen) {
	if (view->fullscreen == fullscreen || (fullscreen &&
			!view_may_fullscreen(view))) {
		wlr_xdg_surface_schedule_configure(view->xdg_surface);
		return;
	}
	view_damage_whole(view);
	if (fullscreen) {
		view->saved_fullscreen = view_content_box(view);
		struct wlr_box area = server_usable_area(view->server,
			view->x + view->geometry.width / 2.0,
			view->y + view->geometry.height / 2.0);
		view->fullscreen = true;
		view_move(view, area.x, area.y);
		view_request_size(view, area.width, area.height);
		wlr_scene_node_raise_to_top(&view->tree->node);
	} else {
		view->fullscreen = false;
		struct wlr_box saved = view->saved_fullscreen;
		view_move(view, saved.x, saved.y);
		view_request_size(view, saved.width, saved.height);
	}
	wlr_xdg_toplevel_set_fullscreen(view->xdg_surface, fullscreen);
	view_damage_whole(view);
}

void view_close(struct prism_view *view) {
	wlr_xdg_toplevel_send_close(view->xdg_surface);
}

bool view_is_focused(const struct prism_view *view) {
	return view->server->focused_view == view;
}

void view_focus(struct prism_view *view) {
	if (view == NULL || !view->mapped) {
		return;
	}
	struct prism_server *server = view->server;
	bool on_top = view->tree->node.state.link.next ==
		&server->windows->node.state.children;
	if (!on_top) {
		wlr_scene_node_raise_to_top(&view->tree->node);
		view_damage_whole(view);
	}
	wl_list_remove(&view->link);
	wl_list_insert(&server->views, &view->link);
	seat_focus_view(&server->seat, view);
}

static bool popup_hit(struct prism_view *view, double lx, double ly,
		struct prism_hit *hit) {
	struct prism_popup *popup;
	wl_list_for_each_reverse(popup, &view->popup_list, link) {
		if (!popup->tree->node.state.enabled) {
			continue;
		}
		struct wlr_box box = popup->box;
		box.x += view->x;
		box.y += view->y;
		if (!wlr_box_contains_point(&box, lx, ly)) {
			continue;
		}
		/* Input outside the popup's box is never delivered to it: what
		 * is clipped away must not take clicks either. */
		hit->view = view;
		hit->part = PRISM_PART_POPUP;
		double nx, ny;
		/* view->popups sits at the content origin. */
		struct wlr_scene_node *node = wlr_scene_node_at(
			&popup->tree->node, lx - view->x, ly - view->y, &nx, &ny);
		if (node != NULL && node->type == WLR_SCENE_NODE_SURFACE) {
			hit->surface = wlr_scene_surface_from_node(node)->surface;
			hit->sx = nx;
			hit->sy = ny;
		}
		return true;
	}
	return false;
}

bool view_at(struct prism_server *server, double lx, double ly,
		struct prism_hit *hit) {
	*hit = (struct prism_hit){0};
	struct wlr_scene_node *node;
	wl_list_for_each_reverse(node, &server->windows->node.state.children,
			state.link) {
		struct prism_view *view = view_from_node(node);
		if (view == NULL) {
			continue;
		}
		if (popup_hit(view, lx, ly, hit)) {
			return true;
		}
		struct wlr_box content = view_content_box(view);
		if (wlr_box_contains_point(&content, lx, ly)) {
			hit->view = view;
			hit->part = PRISM_PART_CONTENT;
			double nx, ny;
			struct wlr_scene_node *at = wlr_scene_node_at(
				&view->content->node, lx - view->x, ly - view->y,
				&nx, &ny);
			if (at != NULL && at->type == WLR_SCENE_NODE_SURFACE) {
				hit->surface = wlr_scene_surface_from_node(at)->surface;
				hit->sx = nx;
				hit->sy = ny;
			}
			return true;
		}
		enum prism_view_part part = view->fullscreen ? PRISM_PART_NONE :
			decor_part_at(&server->decor, &content, lx, ly, &hit->edges);
		if (part != PRISM_PART_NONE) {
			hit->view = view;
			hit->part = part;
			return true;
		}
	}
	return false;
}

struct wlr_box server_usable_area(struct prism_server *server, double lx,
		double ly) {
	struct wlr_output *output = wlr_output_layout_output_at(
		server->output_layout, lx, ly);
	if (output == NULL) {
		output = wlr_output_layout_get_center_output(server->output_layout);
	}
	struct wlr_box box = {0, 0, 1280, 720};
	if (output != NULL) {
		box = *wlr_output_layout_get_box(server->output_layout, output);
	}
	int strip = server->indicator.height;
	box.y += strip;
	box.height -= strip;
	return box;
}

/*
 * Damage tracking. wlroots 0.15 damages only wlr_scene_outputs, which Prism
 * does not use, so every surface is tracked here: on commit, its damage is
 * translated to layout coordinates and clipped to the box the surface is
 * drawn in (content or popup), never spilling onto a frame.
 */
struct prism_surface {
	struct prism_server *server;
	struct wlr_surface *surface;
	struct prism_vm *vm; // whose surface count it is in
	struct wlr_addon addon;
	struct wlr_box last; // layout box when last damaged
	bool last_valid;
	struct wl_listener commit;
};

static void surface_addon_destroy(struct wlr_addon *addon) {
	struct prism_surface *ps = wl_container_of(addon, ps, addon);
	/* The surface is going: whatever it covered must be repainted. */
	if (ps->last_valid) {
		output_damage_layout_box(ps->server, &ps->last);
	}
	if (ps->vm != NULL) {
		ps->vm->surfaces--;
	}
	wl_list_remove(&ps->commit.link);
	wlr_addon_finish(&ps->addon);
	free(ps);
}

static const struct wlr_addon_interface surface_addon_impl = {
	.name = "prism_surface",
	.destroy = surface_addon_destroy,
};

static struct prism_surface *prism_surface_from_wlr(
		struct prism_server *server, struct wlr_surface *surface) {
	struct wlr_addon *addon = wlr_addon_find(&surface->addons, server,
		&surface_addon_impl);
	if (addon == NULL) {
		return NULL;
	}
	struct prism_surface *ps = wl_container_of(addon, ps, addon);
	return ps;
}

struct damage_walk {
	struct prism_server *server;
	struct wlr_surface *committed;
	struct wlr_box clip;
};

static void damage_clipped(struct prism_server *server, const struct wlr_box *box,
		const struct wlr_box *clip) {
	struct wlr_box inter;
	if (wlr_box_intersection(&inter, box, clip)) {
		output_damage_layout_box(server, &inter);
	}
}

static void damage_surface_iter(struct wlr_surface *surface, int lx, int ly,
		void *data) {
	struct damage_walk *walk = data;
	struct prism_surface *ps = prism_surface_from_wlr(walk->server, surface);
	if (ps == NULL) {
		return;
	}
	struct wlr_box box = {
		.x = lx,
		.y = ly,
		.width = surface->current.width,
		.height = surface->current.height,
	};
	bool moved = !ps->last_valid || box.x != ps->last.x ||
		box.y != ps->last.y || box.width != ps->last.width ||
		box.height != ps->last.height;
	if (moved) {
		if (ps->last_valid) {
			damage_clipped(walk->server, &ps->last, &walk->clip);
		}
		damage_clipped(walk->server, &box, &walk->clip);
	} else if (surface == walk->committed) {
		pixman_region32_t damage;
		pixman_region32_init(&damage);
		wlr_surface_get_effective_damage(surface, &damage);
		pixman_region32_translate(&damage, lx, ly);
		pixman_region32_intersect_rect(&damage, &damage, walk->clip.x,
			walk->clip.y, (unsigned)walk->clip.width,
			(unsigned)walk->clip.height);
		output_damage_layout_region(walk->server, &damage);
		pixman_region32_fini(&damage);
	}
	ps->last = box;
	ps->last_valid = true;
}

/* Which mapped view, and which clipped subtree of it, shows this surface. */
static struct prism_view *surface_owner(struct wlr_surface *surface,
		struct prism_popup **popup_out) {
	*popup_out = NULL;
	while (surface != NULL && wlr_surface_is_subsurface(surface)) {
		struct wlr_subsurface *sub = wlr_subsurface_from_wlr_surface(surface);
		surface = sub ? sub->parent : NULL;
	}
	if (surface == NULL || !wlr_surface_is_xdg_surface(surface)) {
		return NULL;
	}
	struct wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(surface);
	if (xdg == NULL || xdg->data == NULL) {
		return NULL;
	}
	if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		return xdg->data;
	}
	if (xdg->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		struct prism_popup *popup = xdg->data;
		*popup_out = popup;
		return popup->view;
	}
	return NULL;
}

struct prism_view *view_from_surface(struct wlr_surface *surface) {
	struct prism_popup *popup;
	struct prism_view *view = surface ? surface_owner(surface, &popup) : NULL;
	return view != NULL && view->mapped ? view : NULL;
}

void view_set_urgent(struct prism_view *view, bool urgent) {
	if (view->urgent == urgent) {
		return;
	}
	view->urgent = urgent;
	decor_update_title(&view->server->decor, view, true);
	view_damage_title(view);
}

static void surface_handle_commit(struct wl_listener *listener, void *data) {
	struct prism_surface *ps = wl_container_of(listener, ps, commit);
	struct prism_popup *popup;
	struct prism_view *view = surface_owner(ps->surface, &popup);
	if (view == NULL || !view->mapped) {
		return;
	}
	struct damage_walk walk = {
		.server = ps->server,
		.committed = ps->surface,
	};
	struct wlr_scene_node *root;
	if (popup != NULL) {
		walk.clip = popup->box;
		root = &popup->tree->node;
	} else {
		walk.clip = (struct wlr_box){0, 0, view->geometry.width,
			view->geometry.height};
		root = &view->content->node;
	}
	walk.clip.x += view->x;
	walk.clip.y += view->y;
	/* Walk the whole clipped subtree: a commit of the parent may have
	 * moved, resized or unmapped its subsurfaces. */
	scene_node_for_each_surface(root, view->x, view->y, damage_surface_iter,
		&walk);
	if (!wlr_surface_has_buffer(ps->surface) && ps->last_valid) {
		damage_clipped(ps->server, &ps->last, &walk.clip);
		ps->last_valid = false;
	}
}

static void server_new_surface(struct wl_listener *listener, void *data) {
	struct prism_server *server = wl_container_of(listener, server, new_surface);
	struct wlr_surface *surface = data;
	struct wl_client *client = wl_resource_get_client(surface->resource);
	struct prism_vm *vm = vm_from_client(client);
	if (vm != NULL && vm->surfaces >= (size_t)vm->config->max_surfaces) {
		struct prism_vm_client *vc = vm_client_from_client(client);
		wlr_log(WLR_INFO, "vm=%s client=%u: more than %d surfaces in the "
			"VM, its limit; disconnecting", vm_name(vm), vc ? vc->id : 0,
			vm->config->max_surfaces);
		wl_client_post_implementation_error(client,
			"too many surfaces for this VM");
		return;
	}
	struct prism_surface *ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		wl_resource_post_no_memory(surface->resource);
		return;
	}
	ps->server = server;
	ps->surface = surface;
	ps->vm = vm;
	if (vm != NULL) {
		vm->surfaces++;
	}
	wlr_addon_init(&ps->addon, &surface->addons, server, &surface_addon_impl);
	ps->commit.notify = surface_handle_commit;
	wl_signal_add(&surface->events.commit, &ps->commit);
}

void surface_tracking_init(struct prism_server *server) {
	server->new_surface.notify = server_new_surface;
	wl_signal_add(&server->compositor->events.new_surface, &server->new_surface);
}
