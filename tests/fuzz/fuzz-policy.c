/*
 * libFuzzer target over allowlist profiles: the parser, the check against
 * the proxy's known interfaces, and the resolution into a wire policy
 * (deny rules, reachability). Seeds: data/allowlist and corpus-policy/.
 */
#include <stdint.h>
#include <stdlib.h>
#include "policy.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct policy profile;
	char err[512];
	if (!policy_parse(&profile, "fuzz.conf", (const char *)data, size, err,
			sizeof(err))) {
		return 0;
	}
	if (policy_check_known(&profile, err, sizeof(err))) {
		struct wire_policy wp;
		struct wire_limits limits = { .max_objects = 16, .max_shm_pool = 4096 };
		if (wire_policy_init(&wp, &profile, &limits, err, sizeof(err))) {
			wire_policy_finish(&wp);
		}
	}
	policy_finish(&profile);
	return 0;
}
