#define _GNU_SOURCE // accept4
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include "config.h"
#include "policy.h"
#include "server.h"
#include "view.h"
#include "vm.h"

const char *vm_name(const struct prism_vm *vm) {
	return vm->config->name;
}

const char *vm_label(const struct prism_vm *vm) {
	return vm->config->label;
}

uint32_t vm_colour(const struct prism_vm *vm) {
	return vm->config->colour;
}

size_t vm_client_count(const struct prism_vm *vm) {
	return (size_t)wl_list_length(&vm->clients);
}

size_t vm_window_count(const struct prism_vm *vm) {
	size_t n = 0;
	struct prism_view *view;
	wl_list_for_each(view, &vm->server->views, link) {
		n += view->vm == vm;
	}
	return n;
}

static void vm_client_handle_destroy(struct wl_listener *listener, void *data) {
	struct prism_vm_client *vc = wl_container_of(listener, vc, destroy);
	wlr_log(WLR_INFO, "vm=%s client=%u: disconnected", vm_name(vc->vm), vc->id);
	wl_list_remove(&vc->destroy.link);
	wl_list_remove(&vc->link);
	free(vc);
}

struct prism_vm_client *vm_client_from_client(struct wl_client *client) {
	struct wl_listener *listener = wl_client_get_destroy_listener(client,
		vm_client_handle_destroy);
	if (listener == NULL) {
		return NULL;
	}
	struct prism_vm_client *vc = wl_container_of(listener, vc, destroy);
	return vc;
}

struct prism_vm *vm_from_client(struct wl_client *client) {
	struct prism_vm_client *vc = vm_client_from_client(client);
	return vc ? vc->vm : NULL;
}

/*
 * Second layer of I4: whatever reaches prism on a VM's socket sees only the
 * globals of its allowlist profile, and never a privileged one.
 */
static bool global_filter(const struct wl_client *client,
		const struct wl_global *global, void *data) {
	struct prism_vm *vm = vm_from_client((struct wl_client *)client);
	const struct wl_interface *iface = wl_global_get_interface(global);
	if (iface == &wl_seat_interface) {
		/* Each domain sees its own seat and no other. */
		struct wlr_seat *seat = wl_global_get_user_data(global);
		struct prism_domain_seat *domain = seat ? seat->data : NULL;
		struct prism_domain_seat *own = vm ? vm->domain :
			((struct prism_server *)data)->seat.host;
		if (domain != own) {
			return false;
		}
	}
	if (vm == NULL) {
		return true; // host clients are trusted
	}
	if (policy_interface_is_privileged(iface->name)) {
		return false;
	}
	return policy_max_version(&vm->config->policy, iface->name) > 0;
}

static int vm_handle_connection(int fd, uint32_t mask, void *data) {
	struct prism_vm *vm = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		wlr_log(WLR_ERROR, "vm=%s: listening socket failed", vm_name(vm));
		wl_event_source_remove(vm->listen_source);
		vm->listen_source = NULL;
		return 0;
	}
	int client_fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (client_fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			wlr_log_errno(WLR_ERROR, "vm=%s: accept", vm_name(vm));
		}
		return 0;
	}

	struct prism_vm_client *vc = calloc(1, sizeof(*vc));
	if (vc == NULL) {
		close(client_fd);
		return 0;
	}
	/* The destroy listener that tags the client is attached before the
	 * event loop can read a single byte from it, so the global filter
	 * never sees this client untagged. */
	struct wl_client *client = wl_client_create(vm->server->display, client_fd);
	if (client == NULL) {
		wlr_log(WLR_ERROR, "vm=%s: cannot create client", vm_name(vm));
		free(vc);
		close(client_fd);
		return 0;
	}
	vc->vm = vm;
	vc->client = client;
	vc->id = ++vm->next_client_id;
	vc->destroy.notify = vm_client_handle_destroy;
	wl_client_add_destroy_listener(client, &vc->destroy);
	wl_list_insert(&vm->clients, &vc->link);
	wlr_log(WLR_INFO, "vm=%s client=%u: connected", vm_name(vm), vc->id);
	return 0;
}

/*
 * $XDG_RUNTIME_DIR/prism must be ours and private: if anyone else could
 * create entries in it, they could put their own socket where a VMM expects
 * Prism's and impersonate it.
 */
static bool ensure_socket_dir(const char *dir) {
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		wlr_log_errno(WLR_ERROR, "cannot create %s", dir);
		return false;
	}
	struct stat st;
	if (lstat(dir, &st) != 0) {
		wlr_log_errno(WLR_ERROR, "cannot stat %s", dir);
		return false;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
			(st.st_mode & 077) != 0) {
		wlr_log(WLR_ERROR, "%s must be a directory owned by uid %u with "
			"mode 0700", dir, (unsigned)geteuid());
		return false;
	}
	return true;
}

static bool vm_open_socket(struct prism_vm *vm) {
	/* A lock beside the socket, as libwayland does for its own: a second
	 * prism must fail loudly instead of stealing a live VM's socket. */
	vm->lock_fd = open(vm->lock_path, O_CREAT | O_CLOEXEC | O_RDWR,
		S_IRUSR | S_IWUSR);
	if (vm->lock_fd < 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: cannot open %s", vm_name(vm),
			vm->lock_path);
		return false;
	}
	if (flock(vm->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		wlr_log(WLR_ERROR, "vm=%s: %s is in use by another compositor",
			vm_name(vm), vm->socket_path);
		return false;
	}
	if (unlink(vm->socket_path) != 0 && errno != ENOENT) {
		wlr_log_errno(WLR_ERROR, "vm=%s: cannot remove stale %s",
			vm_name(vm), vm->socket_path);
		return false;
	}

	vm->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (vm->listen_fd < 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: socket", vm_name(vm));
		return false;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", vm->socket_path);
	if (bind(vm->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: cannot bind %s", vm_name(vm),
			vm->socket_path);
		return false;
	}
	if (chmod(vm->socket_path, 0600) != 0 || listen(vm->listen_fd, 32) != 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: cannot listen on %s", vm_name(vm),
			vm->socket_path);
		return false;
	}
	vm->listen_source = wl_event_loop_add_fd(vm->server->loop, vm->listen_fd,
		WL_EVENT_READABLE, vm_handle_connection, vm);
	return vm->listen_source != NULL;
}

static void vm_destroy(struct prism_vm *vm) {
	if (vm == NULL) {
		return;
	}
	struct prism_vm_client *vc, *tmp;
	wl_list_for_each_safe(vc, tmp, &vm->clients, link) {
		wl_client_destroy(vc->client);
	}
	seat_domain_destroy(vm->domain);
	if (vm->listen_source != NULL) {
		wl_event_source_remove(vm->listen_source);
	}
	if (vm->listen_fd >= 0) {
		close(vm->listen_fd);
		unlink(vm->socket_path);
	}
	if (vm->lock_fd >= 0) {
		unlink(vm->lock_path);
		close(vm->lock_fd);
	}
	wl_list_remove(&vm->link);
	free(vm);
}

static struct prism_vm *vm_create(struct prism_server *server,
		const struct prism_vm_config *config, const char *dir) {
	struct prism_vm *vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		return NULL;
	}
	vm->server = server;
	vm->config = config;
	vm->listen_fd = -1;
	vm->lock_fd = -1;
	wl_list_init(&vm->clients);
	wl_list_insert(server->vms.prev, &vm->link);

	int n;
	if (config->socket_path != NULL) {
		n = snprintf(vm->socket_path, sizeof(vm->socket_path), "%s",
			config->socket_path);
	} else {
		n = snprintf(vm->socket_path, sizeof(vm->socket_path),
			"%s/vm-%s.sock", dir, config->name);
	}
	if (n < 0 || (size_t)n >= sizeof(vm->socket_path)) {
		wlr_log(WLR_ERROR, "vm=%s: socket path too long", config->name);
		vm_destroy(vm);
		return NULL;
	}
	snprintf(vm->lock_path, sizeof(vm->lock_path), "%s.lock", vm->socket_path);
	vm->domain = seat_domain_create(&server->seat, vm);
	if (vm->domain == NULL || !vm_open_socket(vm)) {
		vm_destroy(vm);
		return NULL;
	}
	wlr_log(WLR_INFO, "vm=%s: label '%s', colour #%06x, allowlist '%s', "
		"socket %s", config->name, config->label, config->colour,
		config->allowlist, vm->socket_path);
	return vm;
}

bool vms_init(struct prism_server *server) {
	wl_list_init(&server->vms);
	wl_display_set_global_filter(server->display, global_filter, server);
	if (server->config.vms_len == 0) {
		return true;
	}

	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime == NULL || runtime[0] != '/') {
		wlr_log(WLR_ERROR, "XDG_RUNTIME_DIR is not set");
		return false;
	}
	char dir[108];
	int n = snprintf(dir, sizeof(dir), "%s/prism", runtime);
	if (n < 0 || (size_t)n >= sizeof(dir) || !ensure_socket_dir(dir)) {
		return false;
	}
	for (size_t i = 0; i < server->config.vms_len; i++) {
		if (vm_create(server, &server->config.vms[i], dir) == NULL) {
			return false;
		}
	}
	return true;
}

void vms_finish(struct prism_server *server) {
	struct prism_vm *vm, *tmp;
	wl_list_for_each_safe(vm, tmp, &server->vms, link) {
		vm_destroy(vm);
	}
}
