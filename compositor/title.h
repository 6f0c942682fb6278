#ifndef PRISM_TITLE_H
#define PRISM_TITLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest title shown, in code points, before "..." is appended. */
#define TITLE_MAX_CODEPOINTS 120
/* Enough room for any sanitised title, UTF-8 encoded, with its ellipsis. */
#define TITLE_BUF_SIZE (TITLE_MAX_CODEPOINTS * 4 + 8)

/*
 * Sanitise a title supplied by a guest. The result is what the frame shows after
 * the host's label, so it must not be able to move, hide or impersonate text:
 * control characters and bidi overrides go, invisible characters go, runs of
 * white space collapse to one space, the length is capped. Without allow_utf8
 * only printable ASCII survives and any other character becomes '?'. Invalid
 * UTF-8 becomes U+FFFD ('?' in ASCII mode). out_size must be at least
 * TITLE_BUF_SIZE; out is always NUL-terminated. Returns the number of bytes
 * written, not counting the NUL.
 */
size_t title_sanitise(const char *in, bool allow_utf8, char *out, size_t out_size);

/*
 * Decode one UTF-8 sequence from s (at most len bytes). Returns the number of
 * bytes consumed (>= 1 when len >= 1) and stores the code point, or
 * 0xFFFFFFFF for an invalid sequence (overlong, surrogate, out of range,
 * truncated), which then consumes one byte.
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
size_t utf8_encode(uint32_t cp, char out[static 4]);

#endif
