#define _GNU_SOURCE // F_GET_SEALS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "fdcheck.h"

bool fdcheck_shm_pool(int fd, int64_t size, bool require_seal, char *reason,
		size_t reason_size) {
	struct stat st;
	/* The fstat system call itself: glibc's fstat() goes through
	 * newfstatat, which takes a path, and the sandbox allows no paths. */
	if (syscall(SYS_fstat, fd, &st) != 0) {
		snprintf(reason, reason_size, "fstat: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(reason, reason_size, "not a regular file or memfd");
		return false;
	}
	if (st.st_size < size) {
		snprintf(reason, reason_size, "%lld bytes, smaller than the "
			"declared %lld", (long long)st.st_size, (long long)size);
		return false;
	}
	if (require_seal) {
		int seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
			snprintf(reason, reason_size, "not sealed against shrinking "
				"(F_SEAL_SHRINK), which this VM's policy requires");
			return false;
		}
	}
	return true;
}

/* linux/magic.h; spelled out so that the check builds without kernel
 * headers. */
#define PRISM_DMA_BUF_MAGIC 0x444d4142

bool fdcheck_dmabuf_plane(int fd, uint64_t *size, bool *is_dmabuf,
		char *reason, size_t reason_size) {
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) != 0) {
		snprintf(reason, reason_size, "fstat: %s", strerror(errno));
		return false;
	}
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PRISM_DMA_BUF_MAGIC) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0) {
			snprintf(reason, reason_size, "cannot tell the dmabuf's "
				"size: %s", strerror(errno));
			return false;
		}
		*size = (uint64_t)end;
		*is_dmabuf = true;
		return true;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(reason, reason_size, "neither a dmabuf nor a memfd");
		return false;
	}
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		snprintf(reason, reason_size, "a file that is not a dmabuf must "
			"be a memfd sealed against shrinking (F_SEAL_SHRINK)");
		return false;
	}
	*size = (uint64_t)st.st_size;
	*is_dmabuf = false;
	return true;
}
