#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "policy.h"
#include "relay.h"
#include "sandbox.h"
#include "wire.h"

static const char usage[] =
	"Usage: prism-proxy --listen PATH --upstream PATH [options]\n"
	"       prism-proxy --listen-fd FD --connector-fd FD [options]\n"
	"\n"
	"The validating Wayland proxy in front of one VM. Standalone, it\n"
	"listens on PATH and connects each client to the compositor socket at\n"
	"--upstream; started by prism, it is handed its sockets instead.\n"
	"\n"
	"  --allowlist FILE       allowlist profile (default: the \"default\" one)\n"
	"  --vm NAME              name used in log lines\n"
	"  --require-shm-seal     shm pool fds must be sealed against shrinking\n"
	"  --max-connections N    concurrent clients (default 64)\n"
	"  --max-objects N        objects per client (default 65536)\n"
	"  --max-buffer BYTES     queued bytes per direction (default 4194304);\n"
	"                         a client whose events pile up beyond it is\n"
	"                         disconnected\n"
	"  --max-fds-in-flight N  fds received and not yet forwarded (default 32)\n"
	"  --max-shm-pool BYTES   largest shm pool (default 2147483647)\n";

static int bad_usage(void) {
	fputs(usage, stderr);
	return 2;
}

static bool parse_size(const char *s, unsigned long long max,
		unsigned long long *out) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '\0' || s[0] == '-' ||
			v == 0 || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* Standalone mode: our own listening socket. Only a stale socket is ever
 * removed, never whatever other file happens to sit at PATH. */
static int listen_on(const char *path) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "prism-proxy: %s: path too long\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "prism-proxy: %s exists and is not a socket\n",
				path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
			listen(fd, 32) != 0) {
		fprintf(stderr, "prism-proxy: cannot listen on %s: %s\n", path,
			strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

int main(int argc, char *argv[]) {
	const char *listen_path = NULL, *upstream = NULL;
	const char *allowlist = PRISM_DATADIR "/allowlist/default.conf";
	struct relay_options opts = {
		.vm_name = "standalone",
		.listen_fd = -1,
		.connector_fd = -1,
		.max_buffer = 4 << 20,
		.max_connections = 64,
		.max_fds_in_flight = 32,
	};
	struct wire_limits limits = {
		.max_objects = 65536,
		.max_shm_pool = INT32_MAX,
	};
	enum {
		OPT_LISTEN = 256, OPT_UPSTREAM, OPT_LISTEN_FD, OPT_CONNECTOR_FD,
		OPT_ALLOWLIST, OPT_VM, OPT_SEAL, OPT_MAX_CONN, OPT_MAX_OBJECTS,
		OPT_MAX_BUFFER, OPT_MAX_POOL, OPT_MAX_FDS,
	};
	static const struct option options[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "upstream", required_argument, NULL, OPT_UPSTREAM },
		{ "listen-fd", required_argument, NULL, OPT_LISTEN_FD },
		{ "connector-fd", required_argument, NULL, OPT_CONNECTOR_FD },
		{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
		{ "vm", required_argument, NULL, OPT_VM },
		{ "require-shm-seal", no_argument, NULL, OPT_SEAL },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "max-objects", required_argument, NULL, OPT_MAX_OBJECTS },
		{ "max-buffer", required_argument, NULL, OPT_MAX_BUFFER },
		{ "max-shm-pool", required_argument, NULL, OPT_MAX_POOL },
		{ "max-fds-in-flight", required_argument, NULL, OPT_MAX_FDS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	unsigned long long v;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			listen_path = optarg;
			break;
		case OPT_UPSTREAM:
			upstream = optarg;
			break;
		case OPT_LISTEN_FD:
			if (!parse_size(optarg, 1 << 20, &v)) {
				return bad_usage();
			}
			opts.listen_fd = (int)v;
			break;
		case OPT_CONNECTOR_FD:
			if (!parse_size(optarg, 1 << 20, &v)) {
				return bad_usage();
			}
			opts.connector_fd = (int)v;
			break;
		case OPT_ALLOWLIST:
			allowlist = optarg;
			break;
		case OPT_VM:
			opts.vm_name = optarg;
			break;
		case OPT_SEAL:
			limits.require_shm_seal = true;
			break;
		case OPT_MAX_CONN:
			if (!parse_size(optarg, 1 << 16, &v)) {
				return bad_usage();
			}
			opts.max_connections = (size_t)v;
			break;
		case OPT_MAX_OBJECTS:
			if (!parse_size(optarg, 1 << 24, &v)) {
				return bad_usage();
			}
			limits.max_objects = (size_t)v;
			break;
		case OPT_MAX_BUFFER:
			if (!parse_size(optarg, 1ull << 30, &v)) {
				return bad_usage();
			}
			opts.max_buffer = (size_t)v;
			break;
		case OPT_MAX_FDS:
			if (!parse_size(optarg, WIRE_FD_QUEUE_MAX, &v)) {
				return bad_usage();
			}
			opts.max_fds_in_flight = (size_t)v;
			break;
		case OPT_MAX_POOL:
			if (!parse_size(optarg, INT32_MAX, &v)) {
				return bad_usage();
			}
			limits.max_shm_pool = (int64_t)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return bad_usage();
		}
	}
	bool standalone = listen_path != NULL && upstream != NULL &&
		opts.listen_fd < 0 && opts.connector_fd < 0;
	bool spawned = listen_path == NULL && upstream == NULL &&
		opts.listen_fd >= 0 && opts.connector_fd >= 0;
	if (optind != argc || standalone == spawned) {
		return bad_usage();
	}

	struct policy profile;
	char err[512];
	if (!policy_load(&profile, allowlist, err, sizeof(err)) ||
			!policy_check_known(&profile, err, sizeof(err))) {
		fprintf(stderr, "prism-proxy: %s\n", err);
		return 2;
	}
	struct wire_policy wp;
	if (!wire_policy_init(&wp, &profile, &limits, err, sizeof(err))) {
		fprintf(stderr, "prism-proxy: %s\n", err);
		policy_finish(&profile);
		return 2;
	}
	policy_finish(&profile);

	if (standalone) {
		opts.listen_fd = listen_on(listen_path);
		opts.upstream_path = upstream;
		if (opts.listen_fd < 0) {
			wire_policy_finish(&wp);
			return 1;
		}
	}
	const char *selftest = getenv("PRISM_PROXY_SELFTEST");
	if (selftest != NULL && selftest[0] != '\0') {
		opts.selftest_forbidden = selftest;
	}
	struct relay *relay = relay_create(&opts, &wp);
	if (relay == NULL) {
		fprintf(stderr, "prism-proxy: cannot set up the relay\n");
		wire_policy_finish(&wp);
		return 1;
	}
	/* Everything it will ever need is open now: give up the rest before
	 * the first guest byte is read. */
	int keep[8];
	size_t keep_len = relay_fds(relay, keep, 8);
	if (!sandbox_enter(standalone ? SANDBOX_STANDALONE : SANDBOX_SPAWNED,
			keep, keep_len)) {
		relay_destroy(relay);
		wire_policy_finish(&wp);
		return 1;
	}
	int status = relay_run(relay);
	relay_destroy(relay);
	/* The socket file stays: the sandbox allows no unlink, and the next
	 * start removes a stale socket anyway. */
	wire_policy_finish(&wp);
	return status;
}
