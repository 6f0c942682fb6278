#ifndef PRISM_VM_H
#define PRISM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <wayland-server-core.h>

struct prism_server;
struct prism_vm_config;

/*
 * An isolation unit. Its identity (name, label, colour, policy) comes from
 * the host's config only. Prism owns the VM's listening socket but never
 * reads a guest byte itself: it hands the socket to the VM's prism-proxy,
 * and for each guest connection the proxy asks for (on the connector) it
 * creates the wl_client, tags it with the VM and hands the proxy the other
 * end. A client's VM is decided by which proxy asked, never by anything the
 * guest says.
 */
struct prism_vm {
	struct prism_server *server;
	struct wl_list link; // prism_server::vms
	const struct prism_vm_config *config;

	char socket_path[108];
	char lock_path[128];
	int listen_fd;
	int lock_fd;

	pid_t proxy_pid; // 0 while none runs
	int connector_fd; // prism's end; -1 while none runs
	struct wl_event_source *connector_source;
	struct wl_event_source *respawn_timer;
	int respawn_delay_ms;
	struct timespec proxy_started;

	struct prism_vm_config *owned_config; // for VMs added at run time
	uint32_t denials; // clients cut off by its proxy for a violation

	struct prism_domain_seat *domain; // the VM's own wl_seat
	struct wl_list clients; // prism_vm_client::link
	uint32_t next_client_id;
	size_t surfaces; // wl_surfaces of all its clients
};

struct prism_vm_client {
	struct prism_vm *vm;
	struct wl_client *client;
	uint32_t id;
	struct wl_list link; // prism_vm::clients
	struct wl_listener destroy;
};

/* Create every configured VM's socket; install the per-VM global filter. */
bool vms_init(struct prism_server *server);
void vms_finish(struct prism_server *server);

/*
 * A VM added at run time (prismctl vm add): socket, seat and proxy, as for
 * one in the file; it takes ownership of config. Returns NULL and a reason
 * when it cannot be made (name or label in use, socket, proxy).
 */
struct prism_vm *vm_add(struct prism_server *server,
	struct prism_vm_config *config, const char **reason);
/* Close its windows, clients, proxy and socket. */
void vm_remove(struct prism_vm *vm);
struct prism_vm *vm_find(struct prism_server *server, const char *name);

/*
 * The configuration was read again: VMs gone from it are removed, new ones
 * created, the others follow their new sections (a changed socket makes a
 * new VM; a changed allowlist or limit restarts its proxy). VMs added at run
 * time are left alone.
 */
void vms_apply_config(struct prism_server *server);

/* A child exited: if it was a VM's proxy, log it and respawn with back-off.
 * Returns false when pid is no proxy of ours. */
bool vms_handle_child_exit(struct prism_server *server, pid_t pid, int status);

/* The VM a client belongs to, or NULL for a host client. */
struct prism_vm *vm_from_client(struct wl_client *client);
struct prism_vm_client *vm_client_from_client(struct wl_client *client);

const char *vm_name(const struct prism_vm *vm);
const char *vm_label(const struct prism_vm *vm);
uint32_t vm_colour(const struct prism_vm *vm);
size_t vm_client_count(const struct prism_vm *vm);
size_t vm_window_count(const struct prism_vm *vm);

#endif
