#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy.h"
#include "test.h"

static char *write_file(const char *text) {
	char *path = strdup("/tmp/prism-policy-test-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
	close(fd);
	return path;
}

static void expect_error(const char *text, int line, const char *reason) {
	char *path = write_file(text);
	struct policy p;
	char err[512] = "";
	bool ok = policy_load(&p, path, err, sizeof(err));
	char prefix[300];
	if (line > 0) {
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	} else {
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	}
	if (ok || strncmp(err, prefix, strlen(prefix)) != 0 ||
			strstr(err, reason) == NULL) {
		fprintf(stderr, "for:\n%s\nexpected \"%s...%s\", got \"%s\"\n",
			text, prefix, reason, err);
		test_failures++;
	}
	CHECK(p.ifaces == NULL && p.ifaces_len == 0);
	policy_finish(&p);
	unlink(path);
	free(path);
}

static void test_default_profile(void) {
	char path[512];
	snprintf(path, sizeof(path), "%s/allowlist/default.conf",
		getenv("PRISM_DATA_DIR"));
	struct policy p;
	char err[512];
	CHECK(policy_load(&p, path, err, sizeof(err)));
	CHECK(policy_max_version(&p, "wl_compositor") == 4);
	CHECK(policy_max_version(&p, "xdg_wm_base") >= 1);
	CHECK(policy_max_version(&p, "prism_control_v1") == 0);
	CHECK(policy_max_version(&p, "zwlr_screencopy_manager_v1") == 0);
	/* GPU buffers go to Prism's own checked dmabuf implementation; wl_drm
	 * (the host's device, unchecked buffers) never. */
	CHECK(policy_max_version(&p, "zwp_linux_dmabuf_v1") == 4);
	CHECK(policy_max_version(&p, "wl_drm") == 0);
	for (size_t i = 0; i < p.ifaces_len; i++) {
		CHECK(!policy_interface_is_privileged(p.ifaces[i].name));
	}
	policy_finish(&p);
	policy_finish(NULL);
}

static void test_rules(void) {
	char *path = write_file("# comment\n\nwl_shm 1 # trailing\n"
		"wl_seat\t7\ndeny wl_shm.create_pool\n");
	struct policy p;
	char err[512];
	CHECK(policy_load(&p, path, err, sizeof(err)));
	CHECK(p.ifaces_len == 2);
	const struct policy_iface *shm = policy_find(&p, "wl_shm");
	CHECK(shm != NULL && shm->version == 1 && shm->line == 3);
	CHECK(shm != NULL && policy_iface_denies(shm, "create_pool"));
	CHECK(shm != NULL && !policy_iface_denies(shm, "create_buffer"));
	CHECK(policy_max_version(&p, "wl_seat") == 7);
	policy_finish(&p);
	unlink(path);
	free(path);
}

static void test_errors(void) {
	expect_error("wl_shm 1\nzwlr_screencopy_manager_v1 3\n", 2, "privileged");
	expect_error("prism_control_v1 1\n", 1, "privileged");
	expect_error("wl_shm 1\nwl_shm 2\n", 2, "listed twice");
	expect_error("wl_shm 0\n", 1, "version");
	expect_error("wl_shm 1001\n", 1, "version");
	expect_error("wl_shm one\n", 1, "version");
	expect_error("wl_shm -1\n", 1, "version");
	expect_error("wl_shm\n", 1, "expected");
	expect_error("wl_shm 1 2\n", 1, "expected");
	expect_error("wl-shm 1\n", 1, "not an interface name");
	expect_error("wl_shm 1\ndeny wl_seat.get_keyboard\n", 2, "not allowed above");
	expect_error("wl_shm 1\ndeny wl_shm\n", 2, "INTERFACE.MESSAGE");
	expect_error("wl_shm 1\ndeny wl_shm.create_pool\ndeny wl_shm.create_pool\n",
		3, "denied twice");
	expect_error("# nothing\n", 0, "allows no interface");
	expect_error("", 0, "allows no interface");
}

static void test_names(void) {
	CHECK(policy_name_is_valid("default"));
	CHECK(policy_name_is_valid("gpu-1_x"));
	CHECK(!policy_name_is_valid(""));
	CHECK(!policy_name_is_valid("../etc"));
	CHECK(!policy_name_is_valid("Default"));
	CHECK(!policy_name_is_valid("a.conf"));
}

int main(void) {
	test_default_profile();
	test_rules();
	test_errors();
	test_names();
	return TEST_RESULT();
}
