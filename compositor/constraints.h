#ifndef PRISM_CONSTRAINTS_H
#define PRISM_CONSTRAINTS_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>

struct prism_server;
struct wlr_input_device;

/*
 * Pointer constraints, relative pointer and keyboard-shortcuts-inhibit: what
 * games and remote desktops ask for. Each is a global that a VM sees only
 * when its allowlist profile lists it (the default profile does not), and
 * each takes effect only for the window the user has focused: a pointer is
 * locked or confined only while the user works in that window, and
 * inhibiting shortcuts is only ever reported to the client. Prism's own
 * bindings are never inhibited.
 */
struct prism_constraints {
	struct prism_server *server;
	struct wlr_pointer_constraints_v1 *pointer_constraints;
	struct wlr_relative_pointer_manager_v1 *relative_pointer;
	struct wlr_keyboard_shortcuts_inhibit_manager_v1 *shortcuts_inhibit;
	struct wlr_pointer_constraint_v1 *active;

	struct wl_listener new_constraint;
	struct wl_listener new_inhibitor;
	struct wl_listener active_destroy;
};

bool constraints_init(struct prism_constraints *constraints,
	struct prism_server *server);
void constraints_finish(struct prism_constraints *constraints);

/* Focus moved (keyboard or pointer): re-decide what is active. */
void constraints_update(struct prism_constraints *constraints);

/*
 * Relative pointer motion: report it to the focused client's relative
 * pointers, then apply the active constraint to (*dx, *dy).
 */
void constraints_pointer_motion(struct prism_constraints *constraints,
	uint32_t time_msec, double *dx, double *dy, double unaccel_dx,
	double unaccel_dy);

#endif
