#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "title.h"

static const char *sanitise(const char *in, bool utf8) {
	static char out[TITLE_BUF_SIZE];
	title_sanitise(in, utf8, out, sizeof(out));
	return out;
}

static size_t codepoints(const char *s) {
	size_t n = 0;
	for (; *s; s++) {
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

static void test_plain(void) {
	CHECK_STR(sanitise("Hello, world", false), "Hello, world");
	CHECK_STR(sanitise("", false), "");
	CHECK_STR(sanitise(NULL, true), "");
}

static void test_controls(void) {
	CHECK_STR(sanitise("a\x01" "b\x7f" "c\x1b[31m", false), "abc[31m");
	CHECK_STR(sanitise("a\tb\n\nc\rd", false), "a b c d");
	CHECK_STR(sanitise("   padded   ", false), "padded");
	CHECK_STR(sanitise("a\xc2\x85" "b", true), "a b"); // NEL is white space
	CHECK_STR(sanitise("a\xc2\x9b" "b", true), "ab"); // C1 CSI
}

static void test_bidi_and_invisible(void) {
	/* U+202E RIGHT-TO-LEFT OVERRIDE would show "gnp.exe" as "exe.png". */
	CHECK_STR(sanitise("invoice\xe2\x80\xae" "gnp.exe", true), "invoicegnp.exe");
	CHECK_STR(sanitise("invoice\xe2\x80\xae" "gnp.exe", false), "invoicegnp.exe");
	CHECK_STR(sanitise("a\xe2\x81\xa6" "b\xe2\x81\xa9", true), "ab"); // isolates
	CHECK_STR(sanitise("a\xe2\x80\x8b" "b\xef\xbb\xbf" "c", true), "abc"); // ZWSP, BOM
	CHECK_STR(sanitise("\xe2\x80\x8b\xe2\x80\x8b", true), "");
	CHECK_STR(sanitise("\xf3\xa0\x80\x81" "tag", true), "tag"); // U+E0001
	/* Only invisible characters: nothing that could pass for a label. */
	CHECK_STR(sanitise("\xe3\x85\xa4\xe3\x85\xa4", true), ""); // hangul filler
}

static void test_ascii_mode(void) {
	CHECK_STR(sanitise("caf\xc3\xa9", false), "caf?");
	CHECK_STR(sanitise("caf\xc3\xa9", true), "caf\xc3\xa9");
	/* Cyrillic "а" looks like Latin "a": in ASCII mode it cannot pass. */
	CHECK_STR(sanitise("W\xd0\xb0rk", false), "W?rk");
}

static void test_invalid_utf8(void) {
	CHECK_STR(sanitise("a\xff" "b", false), "a?b");
	CHECK_STR(sanitise("a\xff" "b", true), "a\xef\xbf\xbd" "b");
	CHECK_STR(sanitise("\xc0\xaf", false), "??"); // overlong '/'
	CHECK_STR(sanitise("\xed\xa0\x80", false), "???"); // surrogate
	CHECK_STR(sanitise("\xf4\x90\x80\x80", false), "????"); // > U+10FFFF
	CHECK_STR(sanitise("\xe2\x82", false), "??"); // truncated
}

static void test_length(void) {
	char *big = malloc(10 * 1024 + 1);
	memset(big, 'x', 10 * 1024);
	big[10 * 1024] = '\0';
	const char *out = sanitise(big, false);
	CHECK(strlen(out) == TITLE_MAX_CODEPOINTS + 3);
	CHECK(strcmp(out + TITLE_MAX_CODEPOINTS, "...") == 0);
	out = sanitise(big, true);
	CHECK(codepoints(out) == TITLE_MAX_CODEPOINTS + 1);
	free(big);

	/* 100 kB of overrides and zero-width spaces: nothing survives. */
	size_t n = 100 * 1024 / 3;
	char *evil = malloc(n * 3 + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(evil + 3 * i, i % 2 ? "\xe2\x80\xae" : "\xe2\x80\x8b", 3);
	}
	evil[n * 3] = '\0';
	CHECK_STR(sanitise(evil, true), "");
	free(evil);

	/* Multi-byte characters right at the cap never split. */
	char *wide = malloc(4 * 200 + 1);
	for (int i = 0; i < 200; i++) {
		memcpy(wide + 4 * i, "\xf0\x9f\x98\x80", 4);
	}
	wide[800] = '\0';
	out = sanitise(wide, true);
	CHECK(codepoints(out) == TITLE_MAX_CODEPOINTS + 1);
	free(wide);

	char small[8];
	CHECK(title_sanitise("abc", false, small, sizeof(small)) == 0);
	CHECK(small[0] == '\0');
}

int main(void) {
	test_plain();
	test_controls();
	test_bidi_and_invisible();
	test_ascii_mode();
	test_invalid_utf8();
	test_length();
	return TEST_RESULT();
}
