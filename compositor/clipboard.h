#ifndef PRISM_CLIPBOARD_H
#define PRISM_CLIPBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

struct prism_server;
struct prism_view;
struct prism_vm;
struct clipboard_read;

/*
 * Clipboard domains (I5). Every VM has its own selection and primary
 * selection, in its own seat (seat.h); nothing moves between them except
 * through the global clipboard, and only by the user's hand: Ctrl+Shift+C in
 * a VM window copies that VM's selection (text, up to a size limit) into the
 * global clipboard, Ctrl+Shift+V in another VM window offers it to that VM
 * once and empties it. The title bar says what happened.
 */
struct prism_clipboard {
	struct prism_server *server;
	char *data; // the global clipboard; NULL when empty
	size_t len;
	char from[PRISM_LABEL_MAX + 1]; // label of the VM it came from
	size_t max_bytes;
	struct clipboard_read *reading; // a copy in progress
};

void clipboard_init(struct prism_clipboard *clipboard,
	struct prism_server *server);
void clipboard_finish(struct prism_clipboard *clipboard);

/* Return false when the window is not a VM's (the keys then go on). */
bool clipboard_copy_from(struct prism_clipboard *clipboard,
	struct prism_view *view);
bool clipboard_paste_into(struct prism_clipboard *clipboard,
	struct prism_view *view);
void clipboard_clear(struct prism_clipboard *clipboard);
void clipboard_vm_gone(struct prism_clipboard *clipboard, struct prism_vm *vm);

#endif
