#ifndef PRISM_SEAT_H
#define PRISM_SEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/util/box.h>

struct prism_server;
struct prism_view;
struct prism_vm;

/* Presses taken by Prism whose releases must not reach a client. */
#define PRISM_CONSUMED_KEYS_MAX 16

enum prism_cursor_mode {
	PRISM_CURSOR_PASSTHROUGH,
	PRISM_CURSOR_MOVE,
	PRISM_CURSOR_RESIZE,
};

/*
 * One wl_seat per isolation domain: the host has one, each VM has its own,
 * and a client only ever sees its domain's seat. Selections, primary
 * selections, drags and popup grabs all live in a wlr_seat, so giving each
 * VM its own keeps them apart by construction: a VM can read only what its
 * own windows copied (I5), a drag can never reach another VM, and a popup
 * grab can only hold the grabbing VM's own input (I6). Prism routes the one
 * physical keyboard and pointer into whichever domain the user is working in.
 */
struct prism_domain_seat {
	struct prism_seat *seat;
	struct wlr_seat *wlr_seat;
	struct prism_vm *vm; // NULL for the host's seat

	struct wl_listener request_cursor;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;
	struct wl_listener request_start_drag;
	struct wl_listener start_drag;
};

struct prism_seat {
	struct prism_server *server;
	struct prism_domain_seat *host;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *cursor_manager;
	struct wl_list keyboards; // prism_keyboard::link
	struct wl_list pointers; // prism_pointer::link
	struct wlr_input_device *virtual_keyboard;
	struct wlr_input_device *virtual_pointer;
	struct wlr_input_device *last_keyboard; // the one keys came from last
	uint32_t capabilities;

	/* The domains that hold keyboard focus and pointer focus now. */
	struct prism_domain_seat *keyboard_domain;
	struct prism_domain_seat *pointer_domain;

	enum prism_cursor_mode cursor_mode;
	struct prism_view *grabbed_view;
	double grab_x, grab_y;
	struct wlr_box grab_geometry;
	uint32_t resize_edges;
	uint32_t consumed_buttons[PRISM_CONSUMED_KEYS_MAX];
	size_t consumed_buttons_len;

	struct wl_listener cursor_motion;
	struct wl_listener cursor_motion_absolute;
	struct wl_listener cursor_button;
	struct wl_listener cursor_axis;
	struct wl_listener cursor_frame;
};

struct prism_pointer {
	struct prism_seat *seat;
	struct wlr_input_device *device;
	struct wl_list link; // prism_seat::pointers
	struct wl_listener destroy;
};

struct prism_keyboard {
	struct prism_seat *seat;
	struct wlr_input_device *device;
	struct wl_list link; // prism_seat::keyboards
	uint32_t consumed[PRISM_CONSUMED_KEYS_MAX];
	size_t consumed_len;

	struct wl_listener modifiers;
	struct wl_listener key;
	struct wl_listener destroy;
};

bool seat_init(struct prism_seat *seat, struct prism_server *server);
void seat_finish(struct prism_seat *seat);
void seat_add_input(struct prism_seat *seat, struct wlr_input_device *device);
/* The configuration changed: keymaps, repeat, pointer settings. */
void seat_apply_config(struct prism_seat *seat);

/* The seat a VM's clients see (vm == NULL: the host's). */
struct prism_domain_seat *seat_domain_create(struct prism_seat *seat,
	struct prism_vm *vm);
void seat_domain_destroy(struct prism_domain_seat *domain);
struct prism_domain_seat *seat_domain_for_client(struct prism_seat *seat,
	struct wl_client *client);
struct prism_domain_seat *seat_domain_for_view(struct prism_view *view);

/* Give the keyboard to view (NULL clears focus). Does not raise. */
void seat_focus_view(struct prism_seat *seat, struct prism_view *view);
/* Re-evaluate what is under the pointer after the scene changed under it. */
void seat_update_pointer(struct prism_seat *seat, uint32_t time_msec);
/* A view is going away: drop grabs and pointer state that refer to it. */
void seat_view_gone(struct prism_seat *seat, struct prism_view *view);

void seat_begin_interactive(struct prism_seat *seat, struct prism_view *view,
	enum prism_cursor_mode mode, uint32_t edges);

/*
 * Press and release a combination such as "Ctrl+Shift+C" on the virtual
 * keyboard, through the same handler as a physical key. Returns false and
 * sets *reason when the combination cannot be typed with the current keymap.
 */
bool seat_inject_combo(struct prism_seat *seat, const char *combo,
	const char **reason);
/* The same for the pointer: motion to a layout point, or a button. */
bool seat_inject_motion(struct prism_seat *seat, int x, int y,
	const char **reason);
bool seat_inject_button(struct prism_seat *seat, uint32_t button, bool pressed,
	const char **reason);

#endif
