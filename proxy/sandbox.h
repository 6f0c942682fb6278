#ifndef PRISM_PROXY_SANDBOX_H
#define PRISM_PROXY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * prism-proxy is the first code to read guest bytes, so once it is set up it
 * gives up everything its relay does not need: every fd it was not handed
 * is closed, no_new_privs is set, and a seccomp filter kills the process on
 * any system call outside a short list. It cannot open files, create
 * sockets, connect, or execute anything: all it can reach is what prism
 * handed it. Standalone mode keeps socket(AF_UNIX) and connect(), which it
 * needs for its upstream; that is all it keeps beyond prism mode.
 */

enum sandbox_mode {
	SANDBOX_SPAWNED, // started by prism: fds handed over, nothing to open
	SANDBOX_STANDALONE, // connects to its upstream for each client
};

/* keep: the fds to keep open (stderr is always kept). */
bool sandbox_enter(enum sandbox_mode mode, const int *keep, size_t keep_len);

/*
 * For the test suite: try a system call the filter forbids ("open",
 * "connect" or "execve"). With the sandbox in place this does not return.
 */
void sandbox_try_forbidden(const char *call);

#endif
