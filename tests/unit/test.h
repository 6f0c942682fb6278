#ifndef PRISM_TEST_H
#define PRISM_TEST_H

#include <stdio.h>
#include <string.h>

/*
 * A minimal check harness: each failed check prints where and why and is
 * counted; a test program returns non-zero if any check failed.
 */
static int test_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			__LINE__, #cond); \
		test_failures++; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (strcmp(a_, b_) != 0) { \
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			a_, b_); \
		test_failures++; \
	} \
} while (0)

#define TEST_RESULT() (test_failures == 0 ? 0 : 1)

#endif
