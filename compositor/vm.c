#define _GNU_SOURCE // close_range
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include "config.h"
#include "connector.h"
#include "policy.h"
#include "server.h"
#include "view.h"
#include "vm.h"

/* Respawn back-off for a VM's proxy: it doubles while the proxy keeps
 * dying young, and starts again from the minimum once one ran a while. */
#define PROXY_RESPAWN_MIN_MS 100
#define PROXY_RESPAWN_MAX_MS 5000
#define PROXY_STABLE_MS 10000

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

static struct prism_vm_client *vm_client_create(struct prism_vm *vm, int fd) {
	struct prism_vm_client *vc = calloc(1, sizeof(*vc));
	if (vc == NULL) {
		return NULL;
	}
	/* The destroy listener that tags the client is attached before the
	 * event loop can read a single byte from it, so the global filter
	 * never sees this client untagged. */
	struct wl_client *client = wl_client_create(vm->server->display, fd);
	if (client == NULL) {
		free(vc);
		return NULL;
	}
	vc->vm = vm;
	vc->client = client;
	vc->id = ++vm->next_client_id;
	vc->destroy.notify = vm_client_handle_destroy;
	wl_client_add_destroy_listener(client, &vc->destroy);
	wl_list_insert(&vm->clients, &vc->link);
	return vc;
}

static void vm_connector_close(struct prism_vm *vm) {
	if (vm->connector_source != NULL) {
		wl_event_source_remove(vm->connector_source);
		vm->connector_source = NULL;
	}
	if (vm->connector_fd >= 0) {
		close(vm->connector_fd);
		vm->connector_fd = -1;
	}
}

static void vm_reply(struct prism_vm *vm, uint32_t type, uint32_t serial,
		uint32_t client_id, int fd) {
	struct connector_msg reply = {
		.type = type,
		.serial = serial,
		.client_id = client_id,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	}
	if (sendmsg(vm->connector_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: cannot answer the proxy",
			vm_name(vm));
	}
}

/* The proxy asks for an upstream for one guest connection. */
static int vm_handle_connector(int fd, uint32_t mask, void *data) {
	struct prism_vm *vm = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		/* The proxy is gone; SIGCHLD tells how, and respawns it. */
		vm_connector_close(vm);
		return 0;
	}
	struct connector_msg msg;
	ssize_t n = recv(fd, &msg, sizeof(msg), MSG_DONTWAIT);
	if (n < 0) {
		return 0;
	}
	if (n == sizeof(msg) && msg.type == CONNECTOR_DENIAL) {
		/* Only a counter: what a (possibly subverted) proxy says here
		 * decides nothing. */
		vm->denials++;
		return 0;
	}
	if (n != sizeof(msg) || msg.type != CONNECTOR_CONNECT) {
		/* The proxy only ever sends CONNECT: anything else means it is
		 * not the proxy we started any more. */
		wlr_log(WLR_ERROR, "vm=%s: the proxy sent a malformed request; "
			"killing it", vm_name(vm));
		kill(vm->proxy_pid, SIGKILL);
		vm_connector_close(vm);
		return 0;
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: socketpair", vm_name(vm));
		vm_reply(vm, CONNECTOR_REFUSED, msg.serial, 0, -1);
		return 0;
	}
	struct prism_vm_client *vc = vm_client_create(vm, sv[0]);
	if (vc == NULL) {
		wlr_log(WLR_ERROR, "vm=%s: cannot create a client", vm_name(vm));
		close(sv[0]);
		close(sv[1]);
		vm_reply(vm, CONNECTOR_REFUSED, msg.serial, 0, -1);
		return 0;
	}
	wlr_log(WLR_INFO, "vm=%s client=%u: connected", vm_name(vm), vc->id);
	vm_reply(vm, CONNECTOR_UPSTREAM, msg.serial, vc->id, sv[1]);
	close(sv[1]);
	return 0;
}

static bool vm_spawn_proxy(struct prism_vm *vm);

static int vm_handle_respawn(void *data) {
	struct prism_vm *vm = data;
	if (vm->proxy_pid == 0 && !vm_spawn_proxy(vm)) {
		wlr_log(WLR_ERROR, "vm=%s: cannot restart the proxy; trying again "
			"in %d ms", vm_name(vm), vm->respawn_delay_ms);
		wl_event_source_timer_update(vm->respawn_timer, vm->respawn_delay_ms);
	}
	return 0;
}

/*
 * Start the VM's prism-proxy with exactly two fds: the VM's listening
 * socket (3) and its end of a new connector (4). It can reach nothing else.
 */
static bool vm_spawn_proxy(struct prism_vm *vm) {
	const char *proxy = vm->server->proxy_path;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: socketpair", vm_name(vm));
		return false;
	}
	const struct prism_vm_config *c = vm->config;
	char limits[5][24];
	snprintf(limits[0], sizeof(limits[0]), "%d", c->max_connections);
	snprintf(limits[1], sizeof(limits[1]), "%d", c->max_objects);
	snprintf(limits[2], sizeof(limits[2]), "%d", c->max_buffer_bytes);
	snprintf(limits[3], sizeof(limits[3]), "%d", c->max_fds_in_flight);
	snprintf(limits[4], sizeof(limits[4]), "%d", c->max_shm_pool_bytes);
	char *argv[32];
	size_t argc = 0;
	argv[argc++] = "prism-proxy";
	argv[argc++] = "--listen-fd";
	argv[argc++] = "3";
	argv[argc++] = "--connector-fd";
	argv[argc++] = "4";
	argv[argc++] = "--vm";
	argv[argc++] = (char *)vm_name(vm);
	argv[argc++] = "--allowlist";
	argv[argc++] = vm->config->policy.path;
	argv[argc++] = "--max-connections";
	argv[argc++] = limits[0];
	argv[argc++] = "--max-objects";
	argv[argc++] = limits[1];
	argv[argc++] = "--max-buffer";
	argv[argc++] = limits[2];
	argv[argc++] = "--max-fds-in-flight";
	argv[argc++] = limits[3];
	argv[argc++] = "--max-shm-pool";
	argv[argc++] = limits[4];
	if (vm->config->require_shm_seal) {
		argv[argc++] = "--require-shm-seal";
	}
	argv[argc] = NULL;

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		wlr_log_errno(WLR_ERROR, "vm=%s: fork", vm_name(vm));
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pid == 0) {
		/* A proxy never outlives prism: with prism gone, nothing may
		 * keep holding a VM's socket. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
			_exit(127);
		}
		int listen_fd = fcntl(vm->listen_fd, F_DUPFD, 10);
		int connector = fcntl(sv[1], F_DUPFD, 10);
		if (listen_fd < 0 || connector < 0 || dup2(listen_fd, 3) != 3 ||
				dup2(connector, 4) != 4) {
			_exit(127);
		}
		close_range(5, ~0u, 0);
		server_child_restore_limits();
		sigset_t set;
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		execv(proxy, argv);
		fprintf(stderr, "prism: cannot run %s: %s\n", proxy, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	vm->connector_fd = sv[0];
	vm->connector_source = wl_event_loop_add_fd(vm->server->loop, sv[0],
		WL_EVENT_READABLE, vm_handle_connector, vm);
	vm->proxy_pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &vm->proxy_started);
	wlr_log(WLR_INFO, "vm=%s: proxy started (pid %d)", vm_name(vm), (int)pid);
	return vm->connector_source != NULL;
}

bool vms_handle_child_exit(struct prism_server *server, pid_t pid, int status) {
	struct prism_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->proxy_pid != pid) {
			continue;
		}
		vm->proxy_pid = 0;
		vm_connector_close(vm);
		/* Its guests' upstream sockets died with it, so their clients
		 * and windows are going too; other VMs are not affected. */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long lived_ms = (now.tv_sec - vm->proxy_started.tv_sec) * 1000 +
			(now.tv_nsec - vm->proxy_started.tv_nsec) / 1000000;
		if (lived_ms > PROXY_STABLE_MS) {
			vm->respawn_delay_ms = PROXY_RESPAWN_MIN_MS;
		}
		if (WIFSIGNALED(status)) {
			wlr_log(WLR_ERROR, "vm=%s: proxy (pid %d) was killed by signal "
				"%d; restarting it in %d ms", vm_name(vm), (int)pid,
				WTERMSIG(status), vm->respawn_delay_ms);
		} else {
			wlr_log(WLR_ERROR, "vm=%s: proxy (pid %d) exited with status "
				"%d; restarting it in %d ms", vm_name(vm), (int)pid,
				WEXITSTATUS(status), vm->respawn_delay_ms);
		}
		wl_event_source_timer_update(vm->respawn_timer, vm->respawn_delay_ms);
		vm->respawn_delay_ms *= 2;
		if (vm->respawn_delay_ms > PROXY_RESPAWN_MAX_MS) {
			vm->respawn_delay_ms = PROXY_RESPAWN_MAX_MS;
		}
		return true;
	}
	return false;
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
	return true;
}

/*
 * The proxy exits when its connector closes; SIGTERM is for one that is
 * busy, SIGKILL for one that is stuck. prism never waits long for it.
 */
static void vm_stop_proxy(struct prism_vm *vm) {
	kill(vm->proxy_pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(vm->proxy_pid, NULL, WNOHANG) == vm->proxy_pid) {
			vm->proxy_pid = 0;
			return;
		}
		struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	wlr_log(WLR_ERROR, "vm=%s: proxy (pid %d) did not stop; killing it",
		vm_name(vm), (int)vm->proxy_pid);
	kill(vm->proxy_pid, SIGKILL);
	waitpid(vm->proxy_pid, NULL, 0);
	vm->proxy_pid = 0;
}

static void vm_destroy(struct prism_vm *vm) {
	if (vm == NULL) {
		return;
	}
	struct prism_vm_client *vc, *tmp;
	wl_list_for_each_safe(vc, tmp, &vm->clients, link) {
		wl_client_destroy(vc->client);
	}
	clipboard_vm_gone(&vm->server->clipboard, vm);
	seat_domain_destroy(vm->domain);
	if (vm->respawn_timer != NULL) {
		wl_event_source_remove(vm->respawn_timer);
	}
	vm_connector_close(vm);
	if (vm->proxy_pid > 0) {
		vm_stop_proxy(vm);
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
	if (vm->owned_config != NULL) {
		config_vm_finish(vm->owned_config);
		free(vm->owned_config);
	}
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
	vm->connector_fd = -1;
	vm->respawn_delay_ms = PROXY_RESPAWN_MIN_MS;
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
	vm->respawn_timer = wl_event_loop_add_timer(server->loop,
		vm_handle_respawn, vm);
	if (vm->domain == NULL || vm->respawn_timer == NULL ||
			!vm_open_socket(vm) || !vm_spawn_proxy(vm)) {
		vm_destroy(vm);
		return NULL;
	}
	wlr_log(WLR_INFO, "vm=%s: label '%s', colour #%06x, allowlist '%s', "
		"socket %s", config->name, config->label, config->colour,
		config->allowlist, vm->socket_path);
	return vm;
}

/* $XDG_RUNTIME_DIR/prism, made (or checked) the first time a VM needs it. */
static bool vms_socket_dir(struct prism_server *server) {
	if (server->socket_dir[0] != '\0') {
		return true;
	}
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime == NULL || runtime[0] != '/') {
		wlr_log(WLR_ERROR, "XDG_RUNTIME_DIR is not set");
		return false;
	}
	char dir[sizeof(server->socket_dir)];
	int n = snprintf(dir, sizeof(dir), "%s/prism", runtime);
	if (n < 0 || (size_t)n >= sizeof(dir) || !ensure_socket_dir(dir)) {
		return false;
	}
	memcpy(server->socket_dir, dir, sizeof(dir));
	return true;
}

struct prism_vm *vm_find(struct prism_server *server, const char *name) {
	struct prism_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (strcmp(vm_name(vm), name) == 0) {
			return vm;
		}
	}
	return NULL;
}

static bool label_in_use(struct prism_server *server, const char *label,
		const struct prism_vm *except) {
	struct prism_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm != except && strcmp(vm_label(vm), label) == 0) {
			return true;
		}
	}
	return false;
}

struct prism_vm *vm_add(struct prism_server *server,
		struct prism_vm_config *config, const char **reason) {
	if (vm_find(server, config->name) != NULL) {
		*reason = "a VM of that name exists";
	} else if (label_in_use(server, config->label, NULL)) {
		*reason = "another VM has that label; labels must tell VMs apart";
	} else if (!vms_socket_dir(server)) {
		*reason = "cannot make the VM socket directory";
	} else {
		struct prism_vm *vm = vm_create(server, config, server->socket_dir);
		if (vm != NULL) {
			vm->owned_config = config;
			wlr_log(WLR_INFO, "vm=%s: added at run time", vm_name(vm));
			return vm;
		}
		*reason = "cannot create its socket or start its proxy";
	}
	config_vm_finish(config);
	free(config);
	return NULL;
}

void vm_remove(struct prism_vm *vm) {
	wlr_log(WLR_INFO, "vm=%s: removed", vm_name(vm));
	vm_destroy(vm);
}

/* What the proxy was started with: if any of it changed, it must restart. */
static bool proxy_settings_equal(const struct prism_vm_config *a,
		const struct prism_vm_config *b) {
	if (strcmp(a->allowlist, b->allowlist) != 0 ||
			a->require_shm_seal != b->require_shm_seal ||
			a->max_connections != b->max_connections ||
			a->max_objects != b->max_objects ||
			a->max_buffer_bytes != b->max_buffer_bytes ||
			a->max_fds_in_flight != b->max_fds_in_flight ||
			a->max_shm_pool_bytes != b->max_shm_pool_bytes ||
			a->policy.ifaces_len != b->policy.ifaces_len) {
		return false;
	}
	for (size_t i = 0; i < a->policy.ifaces_len; i++) {
		const struct policy_iface *x = &a->policy.ifaces[i];
		const struct policy_iface *y = &b->policy.ifaces[i];
		if (strcmp(x->name, y->name) != 0 || x->version != y->version ||
				x->denied_len != y->denied_len) {
			return false;
		}
		for (size_t d = 0; d < x->denied_len; d++) {
			if (strcmp(x->denied[d], y->denied[d]) != 0) {
				return false;
			}
		}
	}
	return true;
}

static bool same_socket(const struct prism_vm_config *a,
		const struct prism_vm_config *b) {
	if (a->socket_path == NULL || b->socket_path == NULL) {
		return a->socket_path == b->socket_path;
	}
	return strcmp(a->socket_path, b->socket_path) == 0;
}

void vms_apply_config(struct prism_server *server) {
	struct prism_vm *vm, *tmp;
	wl_list_for_each_safe(vm, tmp, &server->vms, link) {
		if (vm->owned_config != NULL) {
			continue; // added at run time: not the file's to change
		}
		const struct prism_vm_config *next = config_find_vm(&server->config,
			vm_name(vm));
		if (next == NULL || !same_socket(vm->config, next)) {
			wlr_log(WLR_INFO, "vm=%s: %s", vm_name(vm), next == NULL ?
				"gone from the configuration; removing it" :
				"its socket changed; making it anew");
			vm_destroy(vm);
			continue;
		}
		bool restart = !proxy_settings_equal(vm->config, next);
		vm->config = next;
		if (restart && vm->proxy_pid > 0) {
			wlr_log(WLR_INFO, "vm=%s: its allowlist or limits changed; "
				"restarting its proxy (its clients must reconnect)",
				vm_name(vm));
			vm_stop_proxy(vm);
			vm_connector_close(vm);
			if (!vm_spawn_proxy(vm)) {
				wl_event_source_timer_update(vm->respawn_timer,
					vm->respawn_delay_ms);
			}
		}
	}
	for (size_t i = 0; i < server->config.vms_len; i++) {
		const struct prism_vm_config *c = &server->config.vms[i];
		if (vm_find(server, c->name) == NULL &&
				vms_socket_dir(server) &&
				vm_create(server, c, server->socket_dir) != NULL) {
			wlr_log(WLR_INFO, "vm=%s: added by the configuration", c->name);
		}
	}
}

bool vms_init(struct prism_server *server) {
	wl_list_init(&server->vms);
	wl_display_set_global_filter(server->display, global_filter, server);
	if (server->config.vms_len == 0) {
		return true;
	}
	if (!vms_socket_dir(server)) {
		return false;
	}
	for (size_t i = 0; i < server->config.vms_len; i++) {
		if (vm_create(server, &server->config.vms[i],
				server->socket_dir) == NULL) {
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
