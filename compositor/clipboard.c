#define _GNU_SOURCE // pipe2
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/util/log.h>
#include "clipboard.h"
#include "server.h"
#include "view.h"
#include "vm.h"

/* How long a VM may take to hand over its selection, and a client to take
 * a paste, before Prism gives up on it. */
#define TRANSFER_TIMEOUT_MS 3000

/* Text only: what crosses between VMs is something a person can read. */
static const char *const text_types[] = {
	"text/plain;charset=utf-8",
	"UTF8_STRING",
	"text/plain",
	"STRING",
	"TEXT",
};
#define TEXT_TYPES (sizeof(text_types) / sizeof(text_types[0]))

struct clipboard_read {
	struct prism_clipboard *clipboard;
	struct prism_vm *vm;
	uint32_t view_id;
	int fd;
	char *buf;
	size_t len;
	bool too_large;
	struct wl_event_source *source;
	struct wl_event_source *timer;
};

struct clipboard_write {
	int fd;
	char *data;
	size_t len, off;
	struct wl_event_source *source;
	struct wl_event_source *timer;
};

/* A selection served by Prism itself, from the global clipboard's bytes. */
struct prism_data_source {
	struct wlr_data_source base;
	struct prism_server *server;
	char *data;
	size_t len;
};

static struct prism_view *view_by_id(struct prism_server *server, uint32_t id) {
	struct prism_view *view;
	wl_list_for_each(view, &server->views, link) {
		if (view->id == id) {
			return view;
		}
	}
	return NULL;
}

static void write_finish(struct clipboard_write *w) {
	wl_event_source_remove(w->source);
	wl_event_source_remove(w->timer);
	close(w->fd);
	free(w->data);
	free(w);
}

static int write_ready(int fd, uint32_t mask, void *data) {
	struct clipboard_write *w = data;
	while (w->off < w->len) {
		ssize_t n = write(w->fd, w->data + w->off, w->len - w->off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			return 0;
		}
		if (n <= 0) {
			break;
		}
		w->off += (size_t)n;
	}
	write_finish(w);
	return 0;
}

static int write_timeout(void *data) {
	write_finish(data);
	return 0;
}

/*
 * Never block the compositor on a client: the bytes go out as its pipe
 * takes them, and a client that stops reading is dropped after a while.
 */
static void start_write(struct prism_server *server, int fd, const char *data,
		size_t len) {
	struct clipboard_write *w = calloc(1, sizeof(*w));
	if (w == NULL || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		free(w);
		close(fd);
		return;
	}
	w->fd = fd;
	w->len = len;
	w->data = malloc(len ? len : 1);
	w->source = wl_event_loop_add_fd(server->loop, fd, WL_EVENT_WRITABLE,
		write_ready, w);
	w->timer = wl_event_loop_add_timer(server->loop, write_timeout, w);
	if (w->data == NULL || w->source == NULL || w->timer == NULL) {
		if (w->source != NULL) {
			wl_event_source_remove(w->source);
		}
		if (w->timer != NULL) {
			wl_event_source_remove(w->timer);
		}
		free(w->data);
		free(w);
		close(fd);
		return;
	}
	memcpy(w->data, data, len);
	wl_event_source_timer_update(w->timer, TRANSFER_TIMEOUT_MS);
}

static void source_send(struct wlr_data_source *base, const char *mime,
		int32_t fd) {
	struct prism_data_source *src = wl_container_of(base, src, base);
	start_write(src->server, fd, src->data, src->len);
}

static void source_destroy(struct wlr_data_source *base) {
	struct prism_data_source *src = wl_container_of(base, src, base);
	free(src->data);
	free(src);
}

static const struct wlr_data_source_impl source_impl = {
	.send = source_send,
	.destroy = source_destroy,
};

static struct wlr_data_source *source_create(struct prism_server *server,
		const char *data, size_t len) {
	struct prism_data_source *src = calloc(1, sizeof(*src));
	if (src == NULL) {
		return NULL;
	}
	src->server = server;
	src->data = malloc(len ? len : 1);
	if (src->data == NULL) {
		free(src);
		return NULL;
	}
	memcpy(src->data, data, len);
	src->len = len;
	wlr_data_source_init(&src->base, &source_impl);
	for (size_t i = 0; i < TEXT_TYPES; i++) {
		char **slot = wl_array_add(&src->base.mime_types, sizeof(*slot));
		if (slot != NULL) {
			*slot = strdup(text_types[i]);
		}
	}
	return &src->base;
}

static void notify(struct prism_server *server, uint32_t view_id,
		const char *text) {
	struct prism_view *view = view_by_id(server, view_id);
	if (view != NULL) {
		view_show_notice(view, text);
	}
}

static void read_finish(struct clipboard_read *r) {
	struct prism_clipboard *clipboard = r->clipboard;
	wl_event_source_remove(r->source);
	wl_event_source_remove(r->timer);
	close(r->fd);
	free(r->buf);
	clipboard->reading = NULL;
	free(r);
}

static void read_done(struct clipboard_read *r) {
	struct prism_clipboard *clipboard = r->clipboard;
	struct prism_server *server = clipboard->server;
	char text[128];
	if (r->too_large) {
		snprintf(text, sizeof(text), "copy refused: more than %zu bytes",
			clipboard->max_bytes);
		wlr_log(WLR_INFO, "vm=%s: copy refused: more than %zu bytes",
			vm_name(r->vm), clipboard->max_bytes);
		notify(server, r->view_id, text);
		read_finish(r);
		return;
	}
	free(clipboard->data);
	clipboard->data = r->buf;
	clipboard->len = r->len;
	r->buf = NULL;
	snprintf(clipboard->from, sizeof(clipboard->from), "%s", vm_label(r->vm));

	/* The global clipboard is the host's: host applications can paste
	 * it. VMs get it only through Ctrl+Shift+V. */
	struct wlr_data_source *src = source_create(server, clipboard->data,
		clipboard->len);
	if (src != NULL) {
		wlr_seat_set_selection(server->seat.host->wlr_seat, src,
			wl_display_next_serial(server->display));
	}
	wlr_log(WLR_INFO, "vm=%s: copied %zu bytes to the global clipboard",
		vm_name(r->vm), clipboard->len);
	snprintf(text, sizeof(text), "copied %zu bytes to the global clipboard",
		clipboard->len);
	notify(server, r->view_id, text);
	read_finish(r);
}

static int read_ready(int fd, uint32_t mask, void *data) {
	struct clipboard_read *r = data;
	char chunk[4096];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			return 0;
		}
		if (n <= 0) {
			read_done(r);
			return 0;
		}
		size_t max = r->clipboard->max_bytes;
		if (r->len + (size_t)n > max) {
			r->too_large = true;
			read_done(r);
			return 0;
		}
		memcpy(r->buf + r->len, chunk, (size_t)n);
		r->len += (size_t)n;
	}
}

static int read_timeout(void *data) {
	struct clipboard_read *r = data;
	wlr_log(WLR_INFO, "vm=%s: copy abandoned: the VM did not hand over its "
		"selection in time", vm_name(r->vm));
	notify(r->clipboard->server, r->view_id, "copy failed: no answer");
	read_finish(r);
	return 0;
}

static const char *pick_text_type(struct wlr_data_source *source) {
	for (size_t i = 0; i < TEXT_TYPES; i++) {
		char **mime;
		wl_array_for_each(mime, &source->mime_types) {
			if (strcmp(*mime, text_types[i]) == 0) {
				return text_types[i];
			}
		}
	}
	return NULL;
}

bool clipboard_copy_from(struct prism_clipboard *clipboard,
		struct prism_view *view) {
	struct prism_server *server = clipboard->server;
	struct prism_vm *vm = view->vm;
	if (vm == NULL) {
		return false;
	}
	if (clipboard->reading != NULL) {
		view_show_notice(view, "a copy is already in progress");
		return true;
	}
	struct wlr_data_source *source = vm->domain->wlr_seat->selection_source;
	if (source == NULL) {
		view_show_notice(view, "nothing to copy");
		return true;
	}
	const char *mime = pick_text_type(source);
	if (mime == NULL) {
		wlr_log(WLR_INFO, "vm=%s: copy refused: the selection is not text",
			vm_name(vm));
		view_show_notice(view, "copy refused: only text crosses VMs");
		return true;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		return true;
	}
	struct clipboard_read *r = calloc(1, sizeof(*r));
	char *buf = malloc(clipboard->max_bytes ? clipboard->max_bytes : 1);
	if (r == NULL || buf == NULL) {
		free(r);
		free(buf);
		close(fds[0]);
		close(fds[1]);
		return true;
	}
	r->clipboard = clipboard;
	r->vm = vm;
	r->view_id = view->id;
	r->fd = fds[0];
	r->buf = buf;
	r->source = wl_event_loop_add_fd(server->loop, fds[0], WL_EVENT_READABLE,
		read_ready, r);
	r->timer = wl_event_loop_add_timer(server->loop, read_timeout, r);
	if (r->source == NULL || r->timer == NULL) {
		if (r->source != NULL) {
			wl_event_source_remove(r->source);
		}
		if (r->timer != NULL) {
			wl_event_source_remove(r->timer);
		}
		free(buf);
		free(r);
		close(fds[0]);
		close(fds[1]);
		return true;
	}
	wl_event_source_timer_update(r->timer, TRANSFER_TIMEOUT_MS);
	clipboard->reading = r;
	/* wlroots passes the write end to the VM's client and closes it. */
	wlr_data_source_send(source, mime, fds[1]);
	return true;
}

void clipboard_clear(struct prism_clipboard *clipboard) {
	free(clipboard->data);
	clipboard->data = NULL;
	clipboard->len = 0;
	clipboard->from[0] = '\0';
}

bool clipboard_paste_into(struct prism_clipboard *clipboard,
		struct prism_view *view) {
	struct prism_server *server = clipboard->server;
	struct prism_vm *vm = view->vm;
	if (vm == NULL) {
		return false;
	}
	if (clipboard->data == NULL) {
		wlr_log(WLR_INFO, "vm=%s: paste: the global clipboard is empty",
			vm_name(vm));
		view_show_notice(view, "the global clipboard is empty");
		return true;
	}
	struct wlr_data_source *src = source_create(server, clipboard->data,
		clipboard->len);
	if (src == NULL) {
		return true;
	}
	/* Into this VM's own seat: it becomes what this VM pastes, and no
	 * other VM ever sees it. */
	wlr_seat_set_selection(vm->domain->wlr_seat, src,
		wl_display_next_serial(server->display));
	char text[128 + PRISM_LABEL_MAX];
	snprintf(text, sizeof(text), "pasted %zu bytes from %s", clipboard->len,
		clipboard->from);
	wlr_log(WLR_INFO, "vm=%s: offered %zu bytes from the global clipboard",
		vm_name(vm), clipboard->len);
	view_show_notice(view, text);

	/* Once: the global clipboard is emptied, as Qubes does, so the same
	 * secret is not pasted into a second VM by a slip of the fingers. */
	clipboard_clear(clipboard);
	struct wlr_seat *host = server->seat.host->wlr_seat;
	if (host->selection_source != NULL &&
			host->selection_source->impl == &source_impl) {
		wlr_seat_set_selection(host, NULL,
			wl_display_next_serial(server->display));
	}
	return true;
}

void clipboard_init(struct prism_clipboard *clipboard,
		struct prism_server *server) {
	memset(clipboard, 0, sizeof(*clipboard));
	clipboard->server = server;
	clipboard->max_bytes = (size_t)server->config.clipboard_max;
}

void clipboard_finish(struct prism_clipboard *clipboard) {
	if (clipboard->reading != NULL) {
		read_finish(clipboard->reading);
	}
	clipboard_clear(clipboard);
}

void clipboard_vm_gone(struct prism_clipboard *clipboard, struct prism_vm *vm) {
	if (clipboard->reading != NULL && clipboard->reading->vm == vm) {
		read_finish(clipboard->reading);
	}
}
