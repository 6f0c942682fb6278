#include <stdlib.h>
#include <wlr/types/wlr_keyboard_shortcuts_inhibit_v1.h>
#include <wlr/types/wlr_pointer_constraints_v1.h>
#include <wlr/types/wlr_relative_pointer_v1.h>
#include <wlr/util/region.h>
#include "constraints.h"
#include "server.h"
#include "view.h"

struct prism_constraint {
	struct prism_constraints *constraints;
	struct wlr_pointer_constraint_v1 *wlr_constraint;
	struct wl_listener destroy;
};

/* The surface the user works in: focused, and the pointer over it. */
static struct wlr_surface *user_surface(struct prism_constraints *c,
		struct wlr_seat **seat) {
	struct prism_server *server = c->server;
	struct prism_view *view = server->focused_view;
	if (view == NULL) {
		return NULL;
	}
	struct prism_domain_seat *domain = seat_domain_for_view(view);
	*seat = domain->wlr_seat;
	struct wlr_surface *surface = view->xdg_surface->surface;
	if (server->seat.pointer_domain != domain ||
			domain->wlr_seat->pointer_state.focused_surface != surface) {
		return NULL;
	}
	return surface;
}

static void deactivate(struct prism_constraints *c) {
	if (c->active == NULL) {
		return;
	}
	wlr_pointer_constraint_v1_send_deactivated(c->active);
	wl_list_remove(&c->active_destroy.link);
	c->active = NULL;
}

static void handle_active_destroy(struct wl_listener *listener, void *data) {
	struct prism_constraints *c = wl_container_of(listener, c, active_destroy);
	wl_list_remove(&c->active_destroy.link);
	c->active = NULL;
}

void constraints_update(struct prism_constraints *c) {
	struct wlr_seat *seat = NULL;
	struct wlr_surface *surface = user_surface(c, &seat);
	struct wlr_pointer_constraint_v1 *wanted = surface == NULL ? NULL :
		wlr_pointer_constraints_v1_constraint_for_surface(
			c->pointer_constraints, surface, seat);
	if (wanted != c->active) {
		deactivate(c);
		if (wanted != NULL) {
			c->active = wanted;
			wl_signal_add(&wanted->events.destroy, &c->active_destroy);
			wlr_pointer_constraint_v1_send_activated(wanted);
		}
	}

	/* Shortcut inhibitors: only the focused window's may be active. */
	struct prism_view *focused = c->server->focused_view;
	struct wlr_surface *kb_surface = focused ? focused->xdg_surface->surface :
		NULL;
	struct wlr_keyboard_shortcuts_inhibitor_v1 *inhibitor;
	wl_list_for_each(inhibitor, &c->shortcuts_inhibit->inhibitors, link) {
		bool should = inhibitor->surface == kb_surface &&
			inhibitor->seat == seat_domain_for_view(focused)->wlr_seat;
		if (should && !inhibitor->active) {
			wlr_keyboard_shortcuts_inhibitor_v1_activate(inhibitor);
		} else if (!should && inhibitor->active) {
			wlr_keyboard_shortcuts_inhibitor_v1_deactivate(inhibitor);
		}
	}
}

void constraints_pointer_motion(struct prism_constraints *c,
		uint32_t time_msec, double *dx, double *dy, double unaccel_dx,
		double unaccel_dy) {
	struct prism_seat *seat = &c->server->seat;
	if (seat->pointer_domain != NULL) {
		wlr_relative_pointer_manager_v1_send_relative_motion(
			c->relative_pointer, seat->pointer_domain->wlr_seat,
			(uint64_t)time_msec * 1000, *dx, *dy, unaccel_dx, unaccel_dy);
	}
	struct wlr_pointer_constraint_v1 *active = c->active;
	if (active == NULL) {
		return;
	}
	if (active->type == WLR_POINTER_CONSTRAINT_V1_LOCKED) {
		*dx = 0;
		*dy = 0;
		return;
	}
	struct prism_view *view = c->server->focused_view;
	if (view == NULL) {
		return;
	}
	/* Confined: the motion stops at the edge of the region, in the
	 * coordinates of the (toplevel) surface it was set on. */
	double ox = view->x - view->geometry.x;
	double oy = view->y - view->geometry.y;
	double sx = seat->cursor->x - ox, sy = seat->cursor->y - oy;
	double nx, ny;
	if (wlr_region_confine(&active->region, sx, sy, sx + *dx, sy + *dy,
			&nx, &ny)) {
		*dx = nx - sx;
		*dy = ny - sy;
	}
}

static void constraint_handle_destroy(struct wl_listener *listener,
		void *data) {
	struct prism_constraint *pc = wl_container_of(listener, pc, destroy);
	wl_list_remove(&pc->destroy.link);
	free(pc);
}

static void handle_new_constraint(struct wl_listener *listener, void *data) {
	struct prism_constraints *c = wl_container_of(listener, c,
		new_constraint);
	struct wlr_pointer_constraint_v1 *wlr_constraint = data;
	struct prism_constraint *pc = calloc(1, sizeof(*pc));
	if (pc == NULL) {
		wl_resource_post_no_memory(wlr_constraint->resource);
		return;
	}
	pc->constraints = c;
	pc->wlr_constraint = wlr_constraint;
	pc->destroy.notify = constraint_handle_destroy;
	wl_signal_add(&wlr_constraint->events.destroy, &pc->destroy);
	constraints_update(c);
}

static void handle_new_inhibitor(struct wl_listener *listener, void *data) {
	struct prism_constraints *c = wl_container_of(listener, c, new_inhibitor);
	constraints_update(c);
}

bool constraints_init(struct prism_constraints *c, struct prism_server *server) {
	c->server = server;
	c->pointer_constraints = wlr_pointer_constraints_v1_create(server->display);
	c->relative_pointer = wlr_relative_pointer_manager_v1_create(
		server->display);
	c->shortcuts_inhibit = wlr_keyboard_shortcuts_inhibit_v1_create(
		server->display);
	if (c->pointer_constraints == NULL || c->relative_pointer == NULL ||
			c->shortcuts_inhibit == NULL) {
		return false;
	}
	c->active_destroy.notify = handle_active_destroy;
	c->new_constraint.notify = handle_new_constraint;
	wl_signal_add(&c->pointer_constraints->events.new_constraint,
		&c->new_constraint);
	c->new_inhibitor.notify = handle_new_inhibitor;
	wl_signal_add(&c->shortcuts_inhibit->events.new_inhibitor,
		&c->new_inhibitor);
	return true;
}

void constraints_finish(struct prism_constraints *c) {
	if (c->active != NULL) {
		wl_list_remove(&c->active_destroy.link);
		c->active = NULL;
	}
	if (c->new_constraint.link.next != NULL) {
		wl_list_remove(&c->new_constraint.link);
		wl_list_remove(&c->new_inhibitor.link);
		c->new_constraint.link.next = NULL;
	}
}
