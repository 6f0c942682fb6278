#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <libinput.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/libinput.h>
#include <wlr/backend/session.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/util/edges.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>
#include "decoration.h"
#include "seat.h"
#include "server.h"
#include "view.h"
#include "vm.h"

/* Lock modifiers never change what a binding means. */
#define BINDING_MOD_MASK (WLR_MODIFIER_SHIFT | WLR_MODIFIER_CTRL | \
	WLR_MODIFIER_ALT | WLR_MODIFIER_LOGO)

static uint32_t now_msec(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct prism_view *cycle_target(struct prism_server *server,
		bool backwards) {
	if (wl_list_length(&server->views) < 2) {
		return NULL;
	}
	/* Forwards takes the least recently focused window, so repeated
	 * presses visit every window; backwards returns to the previous one. */
	struct prism_view *view;
	if (backwards) {
		view = wl_container_of(server->views.next->next, view, link);
	} else {
		view = wl_container_of(server->views.prev, view, link);
	}
	return view;
}

_Static_assert((int)PRISM_MOD_SHIFT == (int)WLR_MODIFIER_SHIFT &&
	(int)PRISM_MOD_CTRL == (int)WLR_MODIFIER_CTRL &&
	(int)PRISM_MOD_ALT == (int)WLR_MODIFIER_ALT &&
	(int)PRISM_MOD_LOGO == (int)WLR_MODIFIER_LOGO,
	"config.h's modifier bits must be wlroots' own");

/* Exit asks to be confirmed by a second press within this time. */
#define EXIT_CONFIRM_MS 3000

static void toggle_fullscreen(struct prism_view *view) {
	/* Always a way out of fullscreen, whatever the client does. */
	if (view->fullscreen) {
		view_set_fullscreen(view, false);
	} else if (view_may_fullscreen(view)) {
		view_set_fullscreen(view, true);
	} else {
		view_set_maximized(view, !view->maximized);
	}
}

static void run_exit(struct prism_server *server) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (server->exit_armed_ms != 0 && ms - server->exit_armed_ms < EXIT_CONFIRM_MS) {
		wlr_log(WLR_INFO, "exit confirmed");
		wl_display_terminate(server->display);
		return;
	}
	server->exit_armed_ms = ms;
	indicator_show_notice(&server->indicator,
		"Press the exit keys again to leave Prism", EXIT_CONFIRM_MS);
}

/* Returns false when the key should go on to the focused window. */
static bool run_action(struct prism_seat *seat,
		const struct prism_binding *binding) {
	struct prism_server *server = seat->server;
	struct prism_view *focused = server->focused_view;
	switch (binding->action) {
	case PRISM_ACTION_NONE:
		return false;
	case PRISM_ACTION_CLOSE:
		if (focused != NULL) {
			view_close(focused);
		}
		return true;
	case PRISM_ACTION_MAXIMIZE:
		if (focused != NULL) {
			view_set_maximized(focused, !focused->maximized);
		}
		return true;
	case PRISM_ACTION_FULLSCREEN:
		if (focused != NULL) {
			toggle_fullscreen(focused);
		}
		return true;
	case PRISM_ACTION_FOCUS_NEXT:
	case PRISM_ACTION_FOCUS_PREV:
		view_focus(cycle_target(server,
			binding->action == PRISM_ACTION_FOCUS_PREV));
		return true;
	case PRISM_ACTION_COPY:
		/* Between VMs only: in a host window the keys are the
		 * application's. */
		return focused != NULL &&
			clipboard_copy_from(&server->clipboard, focused);
	case PRISM_ACTION_PASTE:
		return focused != NULL &&
			clipboard_paste_into(&server->clipboard, focused);
	case PRISM_ACTION_TERMINAL:
		server_spawn(server, server->config.terminal);
		return true;
	case PRISM_ACTION_LAUNCHER:
		if (server->config.launcher == NULL) {
			indicator_show_notice(&server->indicator,
				"No launcher is configured", 2000);
		} else {
			server_spawn(server, server->config.launcher);
		}
		return true;
	case PRISM_ACTION_EXEC:
		server_spawn(server, binding->command);
		return true;
	case PRISM_ACTION_RELOAD:
		server_reload(server, NULL, 0);
		return true;
	case PRISM_ACTION_EXIT:
		run_exit(server);
		return true;
	}
	return false;
}

/*
 * Prism's own bindings come before any client sees the key, and no client
 * can inhibit them: they are how the user takes control back.
 */
static bool handle_binding(struct prism_seat *seat, uint32_t mods,
		xkb_keysym_t sym) {
	struct prism_server *server = seat->server;
	mods &= BINDING_MOD_MASK;

	/* Switching virtual terminals is not configurable: it is the way
	 * back to a console whatever the configuration says. */
	if (mods == (WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT) &&
			sym >= XKB_KEY_XF86Switch_VT_1 &&
			sym <= XKB_KEY_XF86Switch_VT_12) {
		struct wlr_session *session = wlr_backend_get_session(server->backend);
		if (session != NULL) {
			wlr_session_change_vt(session,
				(unsigned)(sym - XKB_KEY_XF86Switch_VT_1 + 1));
		}
		return true;
	}
	if (sym == XKB_KEY_ISO_Left_Tab) {
		sym = XKB_KEY_Tab;
	}
	const struct prism_config *c = &server->config;
	for (size_t i = 0; i < c->bindings_len; i++) {
		if (c->bindings[i].modifiers == mods && c->bindings[i].keysym == sym) {
			return run_action(seat, &c->bindings[i]);
		}
	}
	return false;
}

/* Keys go to the domain of the focused window, and to no other. */
static struct wlr_seat *keyboard_target(struct prism_seat *seat,
		struct wlr_input_device *device) {
	struct prism_domain_seat *domain = seat->keyboard_domain ?
		seat->keyboard_domain : seat->host;
	seat->last_keyboard = device;
	wlr_seat_set_keyboard(domain->wlr_seat, device);
	return domain->wlr_seat;
}

static void keyboard_handle_modifiers(struct wl_listener *listener, void *data) {
	struct prism_keyboard *kb = wl_container_of(listener, kb, modifiers);
	struct wlr_seat *target = keyboard_target(kb->seat, kb->device);
	wlr_seat_keyboard_notify_modifiers(target,
		&kb->device->keyboard->modifiers);
}

static void keyboard_handle_key(struct wl_listener *listener, void *data) {
	struct prism_keyboard *kb = wl_container_of(listener, kb, key);
	struct wlr_event_keyboard_key *event = data;
	struct wlr_keyboard *keyboard = kb->device->keyboard;
	xkb_keycode_t keycode = event->keycode + 8;

	bool handled = false;
	if (event->state == WL_KEYBOARD_KEY_STATE_PRESSED) {
		/* Bindings match the key's unshifted symbol, so that
		 * Ctrl+Shift+C is 'c' with Ctrl and Shift held. */
		xkb_layout_index_t layout = xkb_state_key_get_layout(
			keyboard->xkb_state, keycode);
		const xkb_keysym_t *syms;
		int n = xkb_keymap_key_get_syms_by_level(keyboard->keymap, keycode,
			layout, 0, &syms);
		uint32_t mods = wlr_keyboard_get_modifiers(keyboard);
		for (int i = 0; i < n && !handled; i++) {
			handled = handle_binding(kb->seat, mods,
				xkb_keysym_to_lower(syms[i]));
		}
		if (handled && kb->consumed_len < PRISM_CONSUMED_KEYS_MAX) {
			kb->consumed[kb->consumed_len++] = event->keycode;
		}
	} else {
		/* The client never saw the press of a binding: it must not see
		 * its release either. */
		for (size_t i = 0; i < kb->consumed_len; i++) {
			if (kb->consumed[i] == event->keycode) {
				kb->consumed[i] = kb->consumed[--kb->consumed_len];
				handled = true;
				break;
			}
		}
	}

	if (!handled) {
		struct wlr_seat *target = keyboard_target(kb->seat, kb->device);
		wlr_seat_keyboard_notify_key(target, event->time_msec,
			event->keycode, event->state);
	}
}

static void keyboard_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_keyboard *kb = wl_container_of(listener, kb, destroy);
	if (kb->seat->virtual_keyboard == kb->device) {
		kb->seat->virtual_keyboard = NULL;
	}
	if (kb->seat->last_keyboard == kb->device) {
		kb->seat->last_keyboard = NULL;
	}
	wl_list_remove(&kb->modifiers.link);
	wl_list_remove(&kb->key.link);
	wl_list_remove(&kb->destroy.link);
	wl_list_remove(&kb->link);
	free(kb);
}

static bool keyboard_apply_config(struct prism_seat *seat,
		struct wlr_keyboard *keyboard) {
	const struct prism_config *c = &seat->server->config;
	struct xkb_rule_names rules = {
		.rules = c->xkb.rules,
		.model = c->xkb.model,
		.layout = c->xkb.layout,
		.variant = c->xkb.variant,
		.options = c->xkb.options,
	};
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (context == NULL) {
		return false;
	}
	struct xkb_keymap *keymap = xkb_keymap_new_from_names(context, &rules,
		XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap == NULL) {
		wlr_log(WLR_ERROR, "cannot compile the keymap for layout '%s'; "
			"falling back to the default", c->xkb.layout ? c->xkb.layout : "");
		keymap = xkb_keymap_new_from_names(context, NULL,
			XKB_KEYMAP_COMPILE_NO_FLAGS);
	}
	bool ok = keymap != NULL && wlr_keyboard_set_keymap(keyboard, keymap);
	xkb_keymap_unref(keymap);
	xkb_context_unref(context);
	wlr_keyboard_set_repeat_info(keyboard, c->xkb.repeat_rate,
		c->xkb.repeat_delay);
	return ok;
}

static void seat_add_keyboard(struct prism_seat *seat,
		struct wlr_input_device *device) {
	struct prism_keyboard *kb = calloc(1, sizeof(*kb));
	if (kb == NULL) {
		return;
	}
	kb->seat = seat;
	kb->device = device;
	if (!keyboard_apply_config(seat, device->keyboard)) {
		wlr_log(WLR_ERROR, "keyboard %s: no usable keymap", device->name);
		free(kb);
		return;
	}
	kb->modifiers.notify = keyboard_handle_modifiers;
	wl_signal_add(&device->keyboard->events.modifiers, &kb->modifiers);
	kb->key.notify = keyboard_handle_key;
	wl_signal_add(&device->keyboard->events.key, &kb->key);
	kb->destroy.notify = keyboard_handle_destroy;
	wl_signal_add(&device->events.destroy, &kb->destroy);
	wl_list_insert(&seat->keyboards, &kb->link);
	if (seat->last_keyboard == NULL) {
		seat->last_keyboard = device;
	}
}

static void seat_update_capabilities(struct prism_seat *seat) {
	seat->capabilities = WL_SEAT_CAPABILITY_POINTER;
	if (!wl_list_empty(&seat->keyboards)) {
		seat->capabilities |= WL_SEAT_CAPABILITY_KEYBOARD;
	}
	wlr_seat_set_capabilities(seat->host->wlr_seat, seat->capabilities);
	struct prism_vm *vm;
	wl_list_for_each(vm, &seat->server->vms, link) {
		if (vm->domain != NULL) {
			wlr_seat_set_capabilities(vm->domain->wlr_seat,
				seat->capabilities);
		}
	}
}

/* Acceleration, natural scrolling and tap-to-click, where libinput has them. */
static void pointer_apply_config(struct prism_seat *seat,
		struct wlr_input_device *device) {
	if (!wlr_input_device_is_libinput(device)) {
		return;
	}
	const struct prism_config *c = &seat->server->config;
	struct libinput_device *handle = wlr_libinput_get_device_handle(device);
	if (libinput_device_config_accel_is_available(handle)) {
		libinput_device_config_accel_set_speed(handle, c->pointer_accel);
	}
	if (libinput_device_config_scroll_has_natural_scroll(handle)) {
		libinput_device_config_scroll_set_natural_scroll_enabled(handle,
			c->natural_scroll);
	}
	if (libinput_device_config_tap_get_finger_count(handle) > 0) {
		libinput_device_config_tap_set_enabled(handle, c->tap_to_click ?
			LIBINPUT_CONFIG_TAP_ENABLED : LIBINPUT_CONFIG_TAP_DISABLED);
	}
}

static void pointer_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_pointer *pointer = wl_container_of(listener, pointer, destroy);
	wl_list_remove(&pointer->destroy.link);
	wl_list_remove(&pointer->link);
	free(pointer);
}

static void seat_add_pointer(struct prism_seat *seat,
		struct wlr_input_device *device) {
	struct prism_pointer *pointer = calloc(1, sizeof(*pointer));
	if (pointer == NULL) {
		return;
	}
	pointer->seat = seat;
	pointer->device = device;
	pointer->destroy.notify = pointer_handle_destroy;
	wl_signal_add(&device->events.destroy, &pointer->destroy);
	wl_list_insert(&seat->pointers, &pointer->link);
	pointer_apply_config(seat, device);
	wlr_cursor_attach_input_device(seat->cursor, device);
}

void seat_apply_config(struct prism_seat *seat) {
	struct prism_keyboard *kb;
	wl_list_for_each(kb, &seat->keyboards, link) {
		if (!keyboard_apply_config(seat, kb->device->keyboard)) {
			wlr_log(WLR_ERROR, "keyboard %s: the new keymap failed",
				kb->device->name);
		}
	}
	struct prism_pointer *pointer;
	wl_list_for_each(pointer, &seat->pointers, link) {
		pointer_apply_config(seat, pointer->device);
	}
}

void seat_add_input(struct prism_seat *seat, struct wlr_input_device *device) {
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		seat_add_keyboard(seat, device);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		seat_add_pointer(seat, device);
		break;
	default:
		break;
	}
	seat_update_capabilities(seat);
}

struct prism_domain_seat *seat_domain_for_client(struct prism_seat *seat,
		struct wl_client *client) {
	struct prism_vm *vm = vm_from_client(client);
	return vm != NULL && vm->domain != NULL ? vm->domain : seat->host;
}

struct prism_domain_seat *seat_domain_for_view(struct prism_view *view) {
	struct prism_seat *seat = &view->server->seat;
	return view->vm != NULL && view->vm->domain != NULL ?
		view->vm->domain : seat->host;
}

void seat_focus_view(struct prism_seat *seat, struct prism_view *view) {
	struct prism_server *server = seat->server;
	struct prism_view *prev = server->focused_view;
	if (prev != view) {
		server->focused_view = view;
		if (prev != NULL) {
			wlr_xdg_toplevel_set_activated(prev->xdg_surface, false);
			decor_update_title(&server->decor, prev, false);
			view_damage_whole(prev);
		}
		if (view != NULL) {
			wlr_xdg_toplevel_set_activated(view->xdg_surface, true);
			view->urgent = false;
			decor_update_title(&server->decor, view, true);
			view_damage_whole(view);
		}
	}

	indicator_update(&server->indicator);

	struct prism_domain_seat *domain = view ? seat_domain_for_view(view) : NULL;
	if (seat->keyboard_domain != NULL && seat->keyboard_domain != domain) {
		/* The domain losing focus must not keep a focused surface: it
		 * would be told about key releases it never saw pressed and
		 * could believe it still has the user's attention. */
		wlr_seat_keyboard_notify_clear_focus(seat->keyboard_domain->wlr_seat);
	}
	seat->keyboard_domain = domain;
	if (domain == NULL) {
		constraints_update(&server->constraints);
		return;
	}
	struct wlr_surface *surface = view->xdg_surface->surface;
	struct wlr_input_device *device = seat->last_keyboard;
	if (device != NULL) {
		wlr_seat_set_keyboard(domain->wlr_seat, device);
		struct wlr_keyboard *keyboard = device->keyboard;
		wlr_seat_keyboard_notify_enter(domain->wlr_seat, surface,
			keyboard->keycodes, keyboard->num_keycodes,
			&keyboard->modifiers);
	} else {
		wlr_seat_keyboard_notify_enter(domain->wlr_seat, surface, NULL, 0,
			NULL);
	}
	constraints_update(&server->constraints);
}

static void set_default_cursor(struct prism_seat *seat) {
	wlr_xcursor_manager_set_cursor_image(seat->cursor_manager, "left_ptr",
		seat->cursor);
}

static void process_move(struct prism_seat *seat) {
	view_move(seat->grabbed_view, (int)(seat->cursor->x - seat->grab_x),
		(int)(seat->cursor->y - seat->grab_y));
}

static void process_resize(struct prism_seat *seat) {
	struct prism_view *view = seat->grabbed_view;
	double dx = seat->cursor->x - seat->grab_x;
	double dy = seat->cursor->y - seat->grab_y;
	struct wlr_box box = seat->grab_geometry;
	if (seat->resize_edges & WLR_EDGE_LEFT) {
		box.width -= (int)dx;
	} else if (seat->resize_edges & WLR_EDGE_RIGHT) {
		box.width += (int)dx;
	}
	if (seat->resize_edges & WLR_EDGE_TOP) {
		box.height -= (int)dy;
	} else if (seat->resize_edges & WLR_EDGE_BOTTOM) {
		box.height += (int)dy;
	}
	view_request_size(view, box.width, box.height);
}

static void pointer_leave_domain(struct prism_seat *seat) {
	if (seat->pointer_domain != NULL) {
		wlr_seat_pointer_notify_clear_focus(seat->pointer_domain->wlr_seat);
		seat->pointer_domain = NULL;
		constraints_update(&seat->server->constraints);
	}
}

void seat_update_pointer(struct prism_seat *seat, uint32_t time_msec) {
	struct prism_hit hit;
	view_at(seat->server, seat->cursor->x, seat->cursor->y, &hit);
	if (hit.surface == NULL) {
		set_default_cursor(seat);
		pointer_leave_domain(seat);
		return;
	}
	struct prism_domain_seat *domain = seat_domain_for_client(seat,
		wl_resource_get_client(hit.surface->resource));
	if (domain != seat->pointer_domain) {
		pointer_leave_domain(seat);
		seat->pointer_domain = domain;
	}
	struct wlr_surface *before = domain->wlr_seat->pointer_state.focused_surface;
	wlr_seat_pointer_notify_enter(domain->wlr_seat, hit.surface, hit.sx,
		hit.sy);
	wlr_seat_pointer_notify_motion(domain->wlr_seat, time_msec, hit.sx,
		hit.sy);
	if (before != hit.surface) {
		constraints_update(&seat->server->constraints);
	}
}

static void process_cursor_motion(struct prism_seat *seat, uint32_t time_msec) {
	switch (seat->cursor_mode) {
	case PRISM_CURSOR_MOVE:
		process_move(seat);
		return;
	case PRISM_CURSOR_RESIZE:
		process_resize(seat);
		return;
	case PRISM_CURSOR_PASSTHROUGH:
		break;
	}
	seat_update_pointer(seat, time_msec);
}

static void seat_cursor_motion(struct wl_listener *listener, void *data) {
	struct prism_seat *seat = wl_container_of(listener, seat, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	double dx = event->delta_x, dy = event->delta_y;
	constraints_pointer_motion(&seat->server->constraints, event->time_msec,
		&dx, &dy, event->unaccel_dx, event->unaccel_dy);
	wlr_cursor_move(seat->cursor, event->device, dx, dy);
	process_cursor_motion(seat, event->time_msec);
}

static void seat_cursor_motion_absolute(struct wl_listener *listener,
		void *data) {
	struct prism_seat *seat = wl_container_of(listener, seat,
		cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	/* As a relative motion, so that constraints apply to it too. */
	double lx, ly;
	wlr_cursor_absolute_to_layout_coords(seat->cursor, event->device,
		event->x, event->y, &lx, &ly);
	double dx = lx - seat->cursor->x, dy = ly - seat->cursor->y;
	constraints_pointer_motion(&seat->server->constraints, event->time_msec,
		&dx, &dy, dx, dy);
	wlr_cursor_move(seat->cursor, event->device, dx, dy);
	process_cursor_motion(seat, event->time_msec);
}

void seat_begin_interactive(struct prism_seat *seat, struct prism_view *view,
		enum prism_cursor_mode mode, uint32_t edges) {
	if (view == NULL || !view->mapped) {
		return;
	}
	seat->grabbed_view = view;
	seat->cursor_mode = mode;
	if (mode == PRISM_CURSOR_MOVE) {
		seat->grab_x = seat->cursor->x - view->x;
		seat->grab_y = seat->cursor->y - view->y;
	} else {
		seat->grab_x = seat->cursor->x;
		seat->grab_y = seat->cursor->y;
		seat->grab_geometry = view_content_box(view);
		seat->resize_edges = edges;
		wlr_xdg_toplevel_set_resizing(view->xdg_surface, true);
	}
	/* While the user drags, no client gets pointer events. */
	pointer_leave_domain(seat);
}

static void end_interactive(struct prism_seat *seat) {
	if (seat->cursor_mode == PRISM_CURSOR_RESIZE && seat->grabbed_view) {
		wlr_xdg_toplevel_set_resizing(seat->grabbed_view->xdg_surface, false);
	}
	seat->cursor_mode = PRISM_CURSOR_PASSTHROUGH;
	seat->grabbed_view = NULL;
}

void seat_view_gone(struct prism_seat *seat, struct prism_view *view) {
	if (seat->grabbed_view == view) {
		seat->cursor_mode = PRISM_CURSOR_PASSTHROUGH;
		seat->grabbed_view = NULL;
	}
}

static uint32_t edges_for_point(struct prism_view *view, double lx, double ly) {
	struct wlr_box box = view_content_box(view);
	uint32_t edges = 0;
	edges |= lx < box.x + box.width / 2.0 ? WLR_EDGE_LEFT : WLR_EDGE_RIGHT;
	edges |= ly < box.y + box.height / 2.0 ? WLR_EDGE_TOP : WLR_EDGE_BOTTOM;
	return edges;
}

static bool button_pressed_by_prism(struct prism_seat *seat,
		struct wlr_event_pointer_button *event) {
	struct prism_hit hit;
	if (!view_at(seat->server, seat->cursor->x, seat->cursor->y, &hit)) {
		return false;
	}
	/* Click to focus and raise: focus follows the user's hand only. */
	view_focus(hit.view);

	struct wlr_keyboard *keyboard = seat->last_keyboard ?
		seat->last_keyboard->keyboard : NULL;
	uint32_t mods = keyboard ? wlr_keyboard_get_modifiers(keyboard) : 0;
	if ((mods & BINDING_MOD_MASK) == WLR_MODIFIER_LOGO) {
		if (event->button == BTN_LEFT) {
			seat_begin_interactive(seat, hit.view, PRISM_CURSOR_MOVE, 0);
			return true;
		}
		if (event->button == BTN_RIGHT) {
			seat_begin_interactive(seat, hit.view, PRISM_CURSOR_RESIZE,
				edges_for_point(hit.view, seat->cursor->x,
					seat->cursor->y));
			return true;
		}
	}
	if (hit.part == PRISM_PART_TITLE) {
		if (event->button == BTN_LEFT) {
			seat_begin_interactive(seat, hit.view, PRISM_CURSOR_MOVE, 0);
		}
		return true; // the frame is Prism's; clients never see clicks on it
	}
	if (hit.part == PRISM_PART_BORDER) {
		if (event->button == BTN_LEFT) {
			seat_begin_interactive(seat, hit.view, PRISM_CURSOR_RESIZE,
				hit.edges);
		}
		return true;
	}
	return false;
}

static void seat_cursor_button(struct wl_listener *listener, void *data) {
	struct prism_seat *seat = wl_container_of(listener, seat, cursor_button);
	struct wlr_event_pointer_button *event = data;

	if (event->state == WLR_BUTTON_RELEASED) {
		if (seat->cursor_mode != PRISM_CURSOR_PASSTHROUGH) {
			end_interactive(seat);
			seat_update_pointer(seat, event->time_msec);
		}
		for (size_t i = 0; i < seat->consumed_buttons_len; i++) {
			if (seat->consumed_buttons[i] == event->button) {
				seat->consumed_buttons[i] =
					seat->consumed_buttons[--seat->consumed_buttons_len];
				return;
			}
		}
		if (seat->pointer_domain != NULL) {
			wlr_seat_pointer_notify_button(seat->pointer_domain->wlr_seat,
				event->time_msec, event->button, event->state);
		}
		return;
	}

	if (seat->cursor_mode == PRISM_CURSOR_PASSTHROUGH &&
			button_pressed_by_prism(seat, event)) {
		if (seat->consumed_buttons_len < PRISM_CONSUMED_KEYS_MAX) {
			seat->consumed_buttons[seat->consumed_buttons_len++] =
				event->button;
		}
		return;
	}
	if (seat->pointer_domain != NULL) {
		wlr_seat_pointer_notify_button(seat->pointer_domain->wlr_seat,
			event->time_msec, event->button, event->state);
	}
}

static void seat_cursor_axis(struct wl_listener *listener, void *data) {
	struct prism_seat *seat = wl_container_of(listener, seat, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	if (seat->pointer_domain != NULL) {
		wlr_seat_pointer_notify_axis(seat->pointer_domain->wlr_seat,
			event->time_msec, event->orientation, event->delta,
			event->delta_discrete, event->source);
	}
}

static void seat_cursor_frame(struct wl_listener *listener, void *data) {
	struct prism_seat *seat = wl_container_of(listener, seat, cursor_frame);
	if (seat->pointer_domain != NULL) {
		wlr_seat_pointer_notify_frame(seat->pointer_domain->wlr_seat);
	}
}

static void domain_request_cursor(struct wl_listener *listener, void *data) {
	struct prism_domain_seat *domain = wl_container_of(listener, domain,
		request_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	/* Only the client under the pointer may change its image. */
	if (domain->seat->pointer_domain == domain &&
			domain->wlr_seat->pointer_state.focused_client ==
			event->seat_client) {
		wlr_cursor_set_surface(domain->seat->cursor, event->surface,
			event->hotspot_x, event->hotspot_y);
	}
}

static void domain_request_set_selection(struct wl_listener *listener,
		void *data) {
	struct prism_domain_seat *domain = wl_container_of(listener, domain,
		request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	wlr_seat_set_selection(domain->wlr_seat, event->source, event->serial);
}

static void domain_request_set_primary_selection(struct wl_listener *listener,
		void *data) {
	struct prism_domain_seat *domain = wl_container_of(listener, domain,
		request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	wlr_seat_set_primary_selection(domain->wlr_seat, event->source,
		event->serial);
}

static void domain_request_start_drag(struct wl_listener *listener, void *data) {
	struct prism_domain_seat *domain = wl_container_of(listener, domain,
		request_start_drag);
	struct wlr_seat_request_start_drag_event *event = data;
	/* A drag needs a real button press on the origin surface. */
	if (wlr_seat_validate_pointer_grab_serial(domain->wlr_seat, event->origin,
			event->serial)) {
		wlr_seat_start_pointer_drag(domain->wlr_seat, event->drag,
			event->serial);
		return;
	}
	wlr_data_source_destroy(event->drag->source);
}

struct prism_domain_seat *seat_domain_create(struct prism_seat *seat,
		struct prism_vm *vm) {
	struct prism_domain_seat *domain = calloc(1, sizeof(*domain));
	if (domain == NULL) {
		return NULL;
	}
	domain->seat = seat;
	domain->vm = vm;
	/* Every domain calls its seat "seat0": it is the only one it sees. */
	domain->wlr_seat = wlr_seat_create(seat->server->display, "seat0");
	if (domain->wlr_seat == NULL) {
		free(domain);
		return NULL;
	}
	domain->wlr_seat->data = domain;
	wlr_seat_set_capabilities(domain->wlr_seat, seat->capabilities);

	struct wlr_seat *s = domain->wlr_seat;
	domain->request_cursor.notify = domain_request_cursor;
	wl_signal_add(&s->events.request_set_cursor, &domain->request_cursor);
	domain->request_set_selection.notify = domain_request_set_selection;
	wl_signal_add(&s->events.request_set_selection,
		&domain->request_set_selection);
	domain->request_set_primary_selection.notify =
		domain_request_set_primary_selection;
	wl_signal_add(&s->events.request_set_primary_selection,
		&domain->request_set_primary_selection);
	domain->request_start_drag.notify = domain_request_start_drag;
	wl_signal_add(&s->events.request_start_drag, &domain->request_start_drag);
	return domain;
}

void seat_domain_destroy(struct prism_domain_seat *domain) {
	if (domain == NULL) {
		return;
	}
	struct prism_seat *seat = domain->seat;
	if (seat->keyboard_domain == domain) {
		seat->keyboard_domain = NULL;
	}
	if (seat->pointer_domain == domain) {
		seat->pointer_domain = NULL;
	}
	wl_list_remove(&domain->request_cursor.link);
	wl_list_remove(&domain->request_set_selection.link);
	wl_list_remove(&domain->request_set_primary_selection.link);
	wl_list_remove(&domain->request_start_drag.link);
	wlr_seat_destroy(domain->wlr_seat);
	free(domain);
}

bool seat_init(struct prism_seat *seat, struct prism_server *server) {
	seat->server = server;
	wl_list_init(&seat->keyboards);
	wl_list_init(&seat->pointers);
	seat->capabilities = WL_SEAT_CAPABILITY_POINTER;
	seat->host = seat_domain_create(seat, NULL);
	seat->cursor = wlr_cursor_create();
	if (seat->host == NULL || seat->cursor == NULL) {
		return false;
	}
	wlr_cursor_attach_output_layout(seat->cursor, server->output_layout);
	seat->cursor_manager = wlr_xcursor_manager_create(
		server->config.cursor_theme, (uint32_t)server->config.cursor_size);
	if (seat->cursor_manager == NULL ||
			!wlr_xcursor_manager_load(seat->cursor_manager, 1)) {
		wlr_log(WLR_ERROR, "cannot load the cursor theme");
		return false;
	}

	seat->cursor_motion.notify = seat_cursor_motion;
	wl_signal_add(&seat->cursor->events.motion, &seat->cursor_motion);
	seat->cursor_motion_absolute.notify = seat_cursor_motion_absolute;
	wl_signal_add(&seat->cursor->events.motion_absolute,
		&seat->cursor_motion_absolute);
	seat->cursor_button.notify = seat_cursor_button;
	wl_signal_add(&seat->cursor->events.button, &seat->cursor_button);
	seat->cursor_axis.notify = seat_cursor_axis;
	wl_signal_add(&seat->cursor->events.axis, &seat->cursor_axis);
	seat->cursor_frame.notify = seat_cursor_frame;
	wl_signal_add(&seat->cursor->events.frame, &seat->cursor_frame);
	return true;
}

void seat_finish(struct prism_seat *seat) {
	if (seat->cursor != NULL) {
		if (seat->cursor_motion.link.next != NULL) {
			wl_list_remove(&seat->cursor_motion.link);
			wl_list_remove(&seat->cursor_motion_absolute.link);
			wl_list_remove(&seat->cursor_button.link);
			wl_list_remove(&seat->cursor_axis.link);
			wl_list_remove(&seat->cursor_frame.link);
		}
		wlr_cursor_destroy(seat->cursor);
		seat->cursor = NULL;
	}
	seat_domain_destroy(seat->host);
	seat->host = NULL;
	wlr_xcursor_manager_destroy(seat->cursor_manager);
	seat->cursor_manager = NULL;
}

/* The keycode that types sym at the lowest shift level of the first layout. */
static bool find_keycode(struct xkb_keymap *keymap, xkb_keysym_t sym,
		xkb_keycode_t *out) {
	xkb_keycode_t min = xkb_keymap_min_keycode(keymap);
	xkb_keycode_t max = xkb_keymap_max_keycode(keymap);
	for (xkb_level_index_t level = 0; level < 2; level++) {
		for (xkb_keycode_t kc = min; kc <= max; kc++) {
			const xkb_keysym_t *syms;
			int n = xkb_keymap_key_get_syms_by_level(keymap, kc, 0,
				level, &syms);
			for (int i = 0; i < n; i++) {
				if (syms[i] == sym) {
					*out = kc;
					return true;
				}
			}
		}
	}
	return false;
}

static void virtual_key(struct wlr_keyboard *keyboard, xkb_keycode_t keycode,
		enum wl_keyboard_key_state state) {
	struct wlr_event_keyboard_key event = {
		.time_msec = now_msec(),
		.keycode = keycode - 8,
		.update_state = true,
		.state = state,
	};
	wlr_keyboard_notify_key(keyboard, &event);
}

#define COMBO_MAX_KEYS 6

bool seat_inject_combo(struct prism_seat *seat, const char *combo,
		const char **reason) {
	if (seat->virtual_keyboard == NULL) {
		*reason = "the virtual keyboard is not available";
		return false;
	}
	struct wlr_keyboard *keyboard = seat->virtual_keyboard->keyboard;
	char buf[128];
	if (strlen(combo) == 0 || strlen(combo) >= sizeof(buf)) {
		*reason = "empty or over-long key combination";
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", combo);

	xkb_keycode_t keys[COMBO_MAX_KEYS];
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, "+", &save); tok != NULL;
			tok = strtok_r(NULL, "+", &save)) {
		if (n == COMBO_MAX_KEYS) {
			*reason = "too many keys in the combination";
			return false;
		}
		xkb_keysym_t sym;
		bool last = save == NULL || *save == '\0';
		if (!last && strcasecmp(tok, "shift") == 0) {
			sym = XKB_KEY_Shift_L;
		} else if (!last && (strcasecmp(tok, "ctrl") == 0 ||
				strcasecmp(tok, "control") == 0)) {
			sym = XKB_KEY_Control_L;
		} else if (!last && strcasecmp(tok, "alt") == 0) {
			sym = XKB_KEY_Alt_L;
		} else if (!last && (strcasecmp(tok, "super") == 0 ||
				strcasecmp(tok, "logo") == 0)) {
			sym = XKB_KEY_Super_L;
		} else if (!last) {
			*reason = "unknown modifier (use Shift, Ctrl, Alt, Super)";
			return false;
		} else {
			sym = xkb_keysym_from_name(tok, XKB_KEYSYM_CASE_INSENSITIVE);
			if (sym == XKB_KEY_NoSymbol) {
				*reason = "unknown key name";
				return false;
			}
		}
		if (!find_keycode(keyboard->keymap, sym, &keys[n])) {
			*reason = "the keymap has no key for that symbol";
			return false;
		}
		n++;
	}
	if (n == 0) {
		*reason = "empty key combination";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		virtual_key(keyboard, keys[i], WL_KEYBOARD_KEY_STATE_PRESSED);
	}
	for (size_t i = n; i-- > 0;) {
		virtual_key(keyboard, keys[i], WL_KEYBOARD_KEY_STATE_RELEASED);
	}
	return true;
}

/*
 * The virtual pointer emits its events on its own wlr_pointer, so they
 * travel exactly as a physical pointer's do: through wlr_cursor and the
 * handlers above.
 */
bool seat_inject_motion(struct prism_seat *seat, int x, int y,
		const char **reason) {
	struct wlr_input_device *device = seat->virtual_pointer;
	struct wlr_box *layout = wlr_output_layout_get_box(
		seat->server->output_layout, NULL);
	if (device == NULL || layout == NULL || wlr_box_empty(layout)) {
		*reason = "the virtual pointer is not available";
		return false;
	}
	if (!wlr_box_contains_point(layout, x, y)) {
		*reason = "the point is outside every output";
		return false;
	}
	struct wlr_event_pointer_motion_absolute event = {
		.device = device,
		.time_msec = now_msec(),
		.x = (x - layout->x + 0.5) / layout->width,
		.y = (y - layout->y + 0.5) / layout->height,
	};
	wl_signal_emit(&device->pointer->events.motion_absolute, &event);
	wl_signal_emit(&device->pointer->events.frame, device->pointer);
	return true;
}

bool seat_inject_button(struct prism_seat *seat, uint32_t button, bool pressed,
		const char **reason) {
	struct wlr_input_device *device = seat->virtual_pointer;
	if (device == NULL) {
		*reason = "the virtual pointer is not available";
		return false;
	}
	if (button < BTN_MISC || button > BTN_TASK) {
		*reason = "not a pointer button code";
		return false;
	}
	struct wlr_event_pointer_button event = {
		.device = device,
		.time_msec = now_msec(),
		.button = button,
		.state = pressed ? WLR_BUTTON_PRESSED : WLR_BUTTON_RELEASED,
	};
	wl_signal_emit(&device->pointer->events.button, &event);
	wl_signal_emit(&device->pointer->events.frame, device->pointer);
	return true;
}
