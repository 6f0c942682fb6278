#ifndef PRISM_CONTROL_H
#define PRISM_CONTROL_H

#include <stdbool.h>

struct prism_server;

/* Prism's control protocol (protocol/prism-control-v1.xml), for host clients:
 * prismctl, panels, tests. VM clients never see it (I4). */
bool control_init(struct prism_server *server);

#endif
