#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include "config.h"
#include "server.h"
#include "vm.h"

static const char usage[] =
	"Usage: prism [options] [-- COMMAND [ARGS...]]\n"
	"\n"
	"  -c, --config FILE  read the configuration from FILE\n"
	"  -d, --debug        log debugging messages\n"
	"  -h, --help         show this help\n"
	"  -v, --version      show the version\n"
	"\n"
	"With a command, prism runs it once ready, with WAYLAND_DISPLAY set to\n"
	"the host socket, and exits with its status when it exits.\n";

static int handle_terminate(int signal, void *data) {
	struct prism_server *server = data;
	wl_display_terminate(server->display);
	return 0;
}

static int handle_hangup(int signal, void *data) {
	struct prism_server *server = data;
	server_reload(server, NULL, 0);
	return 0;
}

static int handle_child(int signal, void *data) {
	struct prism_server *server = data;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (vms_handle_child_exit(server, pid, status) ||
				pid != server->child_pid) {
			continue;
		}
		server->child_pid = 0;
		if (WIFEXITED(status)) {
			server->exit_status = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			server->exit_status = 128 + WTERMSIG(status);
		}
		wlr_log(WLR_INFO, "command exited with status %d",
			server->exit_status);
		wl_display_terminate(server->display);
	}
	return 0;
}

static bool spawn(struct prism_server *server, char *const argv[]) {
	pid_t pid = fork();
	if (pid < 0) {
		wlr_log_errno(WLR_ERROR, "fork");
		return false;
	}
	if (pid == 0) {
		/* The event loop blocks the signals it turns into signalfds;
		 * the command must not inherit that mask. */
		sigset_t set;
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		signal(SIGPIPE, SIG_DFL);
		server_child_restore_limits();
		execvp(argv[0], argv);
		fprintf(stderr, "prism: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	server->child_pid = pid;
	return true;
}

int main(int argc, char *argv[]) {
	const char *config_path = NULL;
	bool debug = false;
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "+c:dhv", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'v':
			printf("prism %s\n", PRISM_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	char **command = optind < argc ? &argv[optind] : NULL;

	struct prism_config config;
	char err[1024];
	char *default_path = config_path ? NULL : config_default_path();
	const char *path = config_path ? config_path : default_path;
	bool ok = path ? config_load(&config, path, err, sizeof(err)) :
		config_init_default(&config);
	free(default_path);
	if (!ok) {
		fprintf(stderr, "%s\n", path ? err : "prism: out of memory");
		return 2;
	}

	wlr_log_init(debug ? WLR_DEBUG : WLR_INFO, NULL);
	if (path == NULL) {
		wlr_log(WLR_INFO, "no configuration file found; using built-in "
			"defaults (no VMs)");
	}
	signal(SIGPIPE, SIG_IGN);
	server_raise_fd_limit();

	struct prism_server server = {0};
	struct wl_event_source *signals[4] = {0};
	int status = 1;
	if (!server_init(&server, &config)) {
		wlr_log(WLR_ERROR, "cannot initialise the compositor");
		goto end;
	}
	signals[0] = wl_event_loop_add_signal(server.loop, SIGTERM,
		handle_terminate, &server);
	signals[1] = wl_event_loop_add_signal(server.loop, SIGINT,
		handle_terminate, &server);
	signals[2] = wl_event_loop_add_signal(server.loop, SIGCHLD, handle_child,
		&server);
	signals[3] = wl_event_loop_add_signal(server.loop, SIGHUP, handle_hangup,
		&server);
	if (!server_start(&server)) {
		goto end;
	}
	if (command != NULL && !spawn(&server, command)) {
		goto end;
	}
	wl_display_run(server.display);
	status = command ? server.exit_status : 0;

end:
	if (server.child_pid > 0) {
		kill(server.child_pid, SIGTERM);
	}
	for (size_t i = 0; server.loop != NULL &&
			i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
	server_finish(&server);
	return status;
}
