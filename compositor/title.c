#include <string.h>
#include "title.h"

#define INVALID_CP 0xFFFFFFFFu

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
	if (len == 0) {
		*cp = INVALID_CP;
		return 0;
	}
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = INVALID_CP;
		return 1;
	}
	if (len < n) {
		*cp = INVALID_CP;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = INVALID_CP;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = INVALID_CP;
		return 1;
	}
	*cp = v;
	return n;
}

size_t utf8_encode(uint32_t cp, char out[static 4]) {
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool is_space(uint32_t cp) {
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
		cp == 0x0b || cp == 0x0c || cp == 0x85 || cp == 0xa0 ||
		cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
		cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
		cp == 0x3000;
}

/*
 * Characters that change how surrounding text is shown, or show nothing:
 * they let a title reorder itself (U+202E), hide text or look empty.
 */
static bool is_removed(uint32_t cp) {
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
		return true; // C0, DEL, C1 controls
	}
	switch (cp) {
	case 0x00ad: // soft hyphen
	case 0x034f: // combining grapheme joiner
	case 0x061c: // arabic letter mark
	case 0x115f: case 0x1160: // hangul fillers
	case 0x17b4: case 0x17b5:
	case 0x180e: // mongolian vowel separator
	case 0x3164: case 0xffa0: // hangul fillers
	case 0xfeff: // zero-width no-break space / BOM
		return true;
	}
	if ((cp >= 0x200b && cp <= 0x200f) || // zero-width, LRM, RLM
			(cp >= 0x202a && cp <= 0x202e) || // bidi embeddings, overrides
			(cp >= 0x2060 && cp <= 0x206f) || // word joiner, isolates, ...
			(cp >= 0xfff9 && cp <= 0xfffb) || // interlinear annotations
			(cp >= 0xe0000 && cp <= 0xe0fff) || // tags, variation sel. supp.
			(cp >= 0xfe00 && cp <= 0xfe0f)) { // variation selectors
		return true;
	}
	return false;
}

size_t title_sanitise(const char *in, bool allow_utf8, char *out,
		size_t out_size) {
	size_t in_len = in ? strlen(in) : 0;
	size_t pos = 0, count = 0;
	bool pending_space = false, truncated = false;

	if (out_size < TITLE_BUF_SIZE) {
		if (out_size > 0) {
			out[0] = '\0';
		}
		return 0;
	}

	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;
	while (i < in_len) {
		uint32_t cp;
		i += utf8_decode(s + i, in_len - i, &cp);
		if (cp == INVALID_CP) {
			cp = 0xfffd;
		}
		if (is_space(cp)) {
			pending_space = count > 0;
			continue;
		}
		if (is_removed(cp)) {
			continue;
		}
		if (!allow_utf8 && cp > 0x7e) {
			cp = '?';
		}
		size_t needed = pending_space ? 2 : 1;
		if (count + needed > TITLE_MAX_CODEPOINTS) {
			truncated = true;
			break;
		}
		if (pending_space) {
			out[pos++] = ' ';
			count++;
			pending_space = false;
		}
		pos += utf8_encode(cp, out + pos);
		count++;
	}

	if (truncated) {
		if (allow_utf8) {
			pos += utf8_encode(0x2026, out + pos);
		} else {
			memcpy(out + pos, "...", 3);
			pos += 3;
		}
	}
	out[pos] = '\0';
	return pos;
}
