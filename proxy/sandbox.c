#define _GNU_SOURCE // close_range
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#if defined(PRISM_SANITIZED) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "sandbox.h"

static int cmp_int(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Close everything but the kept fds and stderr. */
static bool close_others(const int *keep, size_t keep_len) {
	int sorted[64];
	if (keep_len + 1 > sizeof(sorted) / sizeof(sorted[0])) {
		return false;
	}
	memcpy(sorted, keep, keep_len * sizeof(int));
	sorted[keep_len++] = STDERR_FILENO;
	qsort(sorted, keep_len, sizeof(int), cmp_int);
	unsigned int from = 0;
	for (size_t i = 0; i < keep_len; i++) {
		if (sorted[i] < 0 || (unsigned int)sorted[i] < from) {
			continue;
		}
		if ((unsigned int)sorted[i] > from &&
				close_range(from, (unsigned int)sorted[i] - 1, 0) != 0) {
			return false;
		}
		from = (unsigned int)sorted[i] + 1;
	}
	return close_range(from, ~0u, 0) == 0;
}

#define ALLOW(ctx, call, ...) \
	(seccomp_rule_add((ctx), SCMP_ACT_ALLOW, SCMP_SYS(call), __VA_ARGS__) == 0)

static bool add_rules(scmp_filter_ctx ctx, enum sandbox_mode mode) {
	bool ok = true;
	/* The relay: epoll, messages and fds over the sockets it was handed,
	 * new guest connections on its listening socket. */
	ok = ok && ALLOW(ctx, epoll_wait, 0);
	ok = ok && ALLOW(ctx, epoll_pwait, 0);
	ok = ok && ALLOW(ctx, epoll_ctl, 0);
	ok = ok && ALLOW(ctx, recvmsg, 0);
	ok = ok && ALLOW(ctx, sendmsg, 0);
	ok = ok && ALLOW(ctx, recvfrom, 0);
	ok = ok && ALLOW(ctx, sendto, 0);
	ok = ok && ALLOW(ctx, accept4, 0);
	ok = ok && ALLOW(ctx, close, 0);
	/* The signalfd for SIGTERM; log lines go to stderr only. */
	ok = ok && ALLOW(ctx, read, 0);
	ok = ok && ALLOW(ctx, write, 1, SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO));
	/* fd checks: the size, type and seals of shm pool fds, and keeping a
	 * copy of a pool's fd to check its resizes. */
	ok = ok && ALLOW(ctx, fstat, 0);
	ok = ok && ALLOW(ctx, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	ok = ok && ALLOW(ctx, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	ok = ok && ALLOW(ctx, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_GET_SEALS));
	ok = ok && ALLOW(ctx, fcntl, 1, SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC));
	/* dmabuf plane fds: is it a dmabuf (its file system), and its size
	 * (only SEEK_END tells a dmabuf's). */
	ok = ok && ALLOW(ctx, fstatfs, 0);
	ok = ok && ALLOW(ctx, lseek, 1, SCMP_A2(SCMP_CMP_EQ, SEEK_END));
	/* Memory, never executable. */
	ok = ok && ALLOW(ctx, brk, 0);
	ok = ok && ALLOW(ctx, mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ok = ok && ALLOW(ctx, mprotect, 1,
		SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ok = ok && ALLOW(ctx, munmap, 0);
	ok = ok && ALLOW(ctx, mremap, 0);
	ok = ok && ALLOW(ctx, madvise, 0);
	/* The rest of a process's life. */
	ok = ok && ALLOW(ctx, futex, 0);
	ok = ok && ALLOW(ctx, clock_gettime, 0);
	ok = ok && ALLOW(ctx, rt_sigreturn, 0);
	ok = ok && ALLOW(ctx, rt_sigprocmask, 0);
	ok = ok && ALLOW(ctx, restart_syscall, 0);
	ok = ok && ALLOW(ctx, exit, 0);
	ok = ok && ALLOW(ctx, exit_group, 0);
	if (mode == SANDBOX_STANDALONE) {
		/* Its upstream is a path: it must make the socket itself. */
		ok = ok && ALLOW(ctx, socket, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		ok = ok && ALLOW(ctx, connect, 0);
	}
#ifdef PRISM_SANITIZED
	/* Sanitizer runtimes need a few more calls to report what they find;
	 * in those builds only, they are let through (read-only opens among
	 * them, which is why the open test is skipped there). */
	ok = ok && ALLOW(ctx, openat, 1,
		SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDONLY));
	ok = ok && ALLOW(ctx, readlink, 0);
	ok = ok && ALLOW(ctx, getpid, 0);
	ok = ok && ALLOW(ctx, sched_yield, 0);
	ok = ok && ALLOW(ctx, sigaltstack, 0);
	ok = ok && ALLOW(ctx, rt_sigaction, 0);
	ok = ok && ALLOW(ctx, prctl, 0);
	ok = ok && ALLOW(ctx, clone, 0);
	ok = ok && ALLOW(ctx, wait4, 0);
	ok = ok && ALLOW(ctx, ptrace, 0);
	ok = ok && ALLOW(ctx, gettid, 0);
	ok = ok && ALLOW(ctx, write, 0);
	ok = ok && ALLOW(ctx, pread64, 0);
	ok = ok && ALLOW(ctx, newfstatat, 0);
	ok = ok && ALLOW(ctx, getrusage, 0);
#endif
	return ok;
}

bool sandbox_enter(enum sandbox_mode mode, const int *keep, size_t keep_len) {
#if defined(PRISM_SANITIZED) && defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's exit-time check stops the world from a cloned
	 * tracer the sandbox cannot let run (the proxy would spin waiting for
	 * it): run the check now, while it still can, which also cancels the
	 * one at exit. Leaks in the relay's later life are left to the unit
	 * tests and the fuzzer, which run the same wire code unsandboxed. */
	__lsan_do_leak_check();
#endif
	if (!close_others(keep, keep_len)) {
		fprintf(stderr, "prism-proxy: sandbox: cannot close inherited fds\n");
		return false;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "prism-proxy: sandbox: no_new_privs: %s\n",
			strerror(errno));
		return false;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		fprintf(stderr, "prism-proxy: sandbox: seccomp_init failed\n");
		return false;
	}
	bool ok = add_rules(ctx, mode);
	int err = ok ? seccomp_load(ctx) : -EINVAL;
	seccomp_release(ctx);
	if (err != 0) {
		fprintf(stderr, "prism-proxy: sandbox: cannot load the seccomp "
			"filter: %s\n", strerror(-err));
		return false;
	}
	return true;
}

void sandbox_try_forbidden(const char *call) {
	if (strcmp(call, "open") == 0) {
		int fd = open("/etc/hostname", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
		}
	} else if (strcmp(call, "connect") == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		strcpy(addr.sun_path, "/nonexistent");
		connect(fd, (struct sockaddr *)&addr, sizeof(addr));
		syscall(SYS_connect, -1, NULL, 0);
	} else if (strcmp(call, "execve") == 0) {
		char *argv[] = { "/bin/true", NULL };
		execv(argv[0], argv);
	}
	fprintf(stderr, "prism-proxy: the forbidden call '%s' was not stopped\n",
		call);
}
