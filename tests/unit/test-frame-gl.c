/*
 * Prism's frame program against the pixman path: the same shapes drawn by
 * both, offscreen, must give the same pixels to within one step per channel.
 *
 * The GL side runs on whatever EGL gives on the surfaceless platform: Mesa's
 * software rasteriser on a machine without a GPU (as in CI), the GPU's
 * driver elsewhere. Without EGL or GLES2 the test reports itself skipped.
 */
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_matrix.h>
#include <wlr/types/wlr_output.h>
#include "frame.h"
#include "shaders.h"
#include "test.h"

#define SKIP 77
/* The stated tolerance: one step of 8-bit rounding per channel. */
#define TOLERANCE 1

static bool has_ext(const char *list, const char *ext) {
	size_t len = strlen(ext);
	for (const char *p = list; p != NULL && (p = strstr(p, ext)) != NULL;
			p += len) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0')) {
			return true;
		}
	}
	return false;
}

static const char *egl_setup(void) {
	const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (client == NULL || !has_ext(client, "EGL_MESA_platform_surfaceless") ||
			!has_ext(client, "EGL_EXT_platform_base")) {
		return "EGL has no surfaceless platform (install libegl-mesa0)";
	}
	EGLDisplay dpy = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA,
		EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, NULL, NULL)) {
		return "cannot initialise the surfaceless EGL display";
	}
	const char *exts = eglQueryString(dpy, EGL_EXTENSIONS);
	if (!has_ext(exts, "EGL_KHR_surfaceless_context")) {
		return "EGL cannot make a context current without a surface";
	}
	if (!eglBindAPI(EGL_OPENGL_ES_API)) {
		return "EGL has no OpenGL ES";
	}
	EGLConfig config = EGL_NO_CONFIG_KHR;
	if (!has_ext(exts, "EGL_KHR_no_config_context")) {
		const EGLint want[] = {
			EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT,
			EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
			EGL_NONE,
		};
		EGLint n = 0;
		if (!eglChooseConfig(dpy, want, &config, 1, &n) || n < 1) {
			return "no EGL config for GLES2";
		}
	}
	const EGLint attribs[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	EGLContext ctx = eglCreateContext(dpy, config, EGL_NO_CONTEXT, attribs);
	if (ctx == EGL_NO_CONTEXT ||
			!eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
		return "cannot create and bind a GLES2 context";
	}
	return NULL;
}

/* As wlr_output computes it: target pixels to buffer pixels. */
static void target_matrix(float m[static 9], enum wl_output_transform tr,
		int buffer_w, int buffer_h, int target_w, int target_h) {
	wlr_matrix_identity(m);
	if (tr != WL_OUTPUT_TRANSFORM_NORMAL) {
		wlr_matrix_translate(m, buffer_w / 2.0f, buffer_h / 2.0f);
		wlr_matrix_transform(m, tr);
		wlr_matrix_translate(m, -target_w / 2.0f, -target_h / 2.0f);
	}
}

struct canvas {
	int target_w, target_h; // before the transform
	int buffer_w, buffer_h; // after it
	enum wl_output_transform transform;
	GLuint fbo, tex;
	pixman_image_t *image;
	uint8_t *gl_pixels;
};

static const float background[4] = { 0.25f, 0.5f, 0.75f, 1.0f };

static bool canvas_init(struct canvas *c, int w, int h,
		enum wl_output_transform tr) {
	memset(c, 0, sizeof(*c));
	c->target_w = w;
	c->target_h = h;
	c->transform = tr;
	bool swap = tr % 2 == 1; // 90, 270 and their flips
	c->buffer_w = swap ? h : w;
	c->buffer_h = swap ? w : h;
	glGenTextures(1, &c->tex);
	glBindTexture(GL_TEXTURE_2D, c->tex);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, c->buffer_w, c->buffer_h, 0,
		GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	glGenFramebuffers(1, &c->fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, c->fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
		GL_TEXTURE_2D, c->tex, 0);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
		return false;
	}
	glViewport(0, 0, c->buffer_w, c->buffer_h);
	/* wlroots' GLES2 renderer draws premultiplied, like this. */
	glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
	glDisable(GL_SCISSOR_TEST);
	glClearColor(background[0], background[1], background[2], background[3]);
	glClear(GL_COLOR_BUFFER_BIT);

	c->image = pixman_image_create_bits(PIXMAN_a8b8g8r8, c->buffer_w,
		c->buffer_h, NULL, c->buffer_w * 4);
	pixman_color_t bg = { 0x4040, 0x8080, 0xbfbf, 0xffff };
	pixman_box32_t all = { 0, 0, c->buffer_w, c->buffer_h };
	pixman_image_fill_boxes(PIXMAN_OP_SRC, c->image, &bg, 1, &all);
	c->gl_pixels = malloc((size_t)c->buffer_w * (size_t)c->buffer_h * 4);
	return c->image != NULL && c->gl_pixels != NULL;
}

static void canvas_finish(struct canvas *c) {
	glDeleteFramebuffers(1, &c->fbo);
	glDeleteTextures(1, &c->tex);
	if (c->image != NULL) {
		pixman_image_unref(c->image);
	}
	free(c->gl_pixels);
}

/* Draw on both paths, inside clip (buffer pixels) or everywhere. */
static void canvas_draw(struct canvas *c, const struct frame_gl *gl,
		const struct frame_shape *shape, const struct wlr_box *clip) {
	float m[9];
	target_matrix(m, c->transform, c->buffer_w, c->buffer_h, c->target_w,
		c->target_h);
	pixman_region32_t region;
	if (clip != NULL) {
		glScissor(clip->x, clip->y, clip->width, clip->height);
		glEnable(GL_SCISSOR_TEST);
		pixman_region32_init_rect(&region, clip->x, clip->y,
			(unsigned)clip->width, (unsigned)clip->height);
	} else {
		glDisable(GL_SCISSOR_TEST);
	}
	frame_gl_draw(gl, shape, m, c->buffer_w, c->buffer_h);
	frame_paint_pixman(c->image, shape, c->transform, c->target_w,
		c->target_h, clip != NULL ? &region : NULL);
	if (clip != NULL) {
		pixman_region32_fini(&region);
	}
}

/* The largest difference of any channel of any pixel; where, in *at. */
static int canvas_compare(struct canvas *c, int *at_x, int *at_y) {
	glReadPixels(0, 0, c->buffer_w, c->buffer_h, GL_RGBA, GL_UNSIGNED_BYTE,
		c->gl_pixels);
	const uint8_t *cpu = (const uint8_t *)pixman_image_get_data(c->image);
	int stride = pixman_image_get_stride(c->image);
	int worst = 0;
	for (int y = 0; y < c->buffer_h; y++) {
		for (int x = 0; x < c->buffer_w; x++) {
			const uint8_t *g = &c->gl_pixels[((size_t)y * c->buffer_w + x) * 4];
			/* a8b8g8r8 is R, G, B, A in memory on little endian,
			 * as GL_RGBA reads back. */
			const uint8_t *p = &cpu[(size_t)y * stride + (size_t)x * 4];
			for (int i = 0; i < 4; i++) {
				int d = abs((int)g[i] - (int)p[i]);
				if (d > worst) {
					worst = d;
					*at_x = x;
					*at_y = y;
				}
			}
		}
	}
	return worst;
}

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rnd(uint32_t n) {
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return n == 0 ? 0 : rng_state % n;
}

static void colour(float out[static 4], uint32_t rgb, float factor) {
	out[0] = (float)((rgb >> 16) & 0xff) / 255.0f * factor;
	out[1] = (float)((rgb >> 8) & 0xff) / 255.0f * factor;
	out[2] = (float)(rgb & 0xff) / 255.0f * factor;
	out[3] = 1.0f;
}

/* A window frame as decoration.c builds it: border b all round, a title
 * band of height t on top, the content as the hole. */
static struct frame_shape window_frame(int x, int y, int w, int h, int b,
		int t, uint32_t rgb, float factor) {
	struct frame_shape s = {
		.box = { x - b, y - t, w + 2 * b, h + t + b },
		.hole = { x, y, w, h },
	};
	colour(s.colour, rgb, factor);
	colour(s.backdrop, 0x000000, 1.0f);
	return s;
}

static int check_case(const struct frame_gl *gl, const char *name, int w,
		int h, enum wl_output_transform tr, const struct frame_shape *shapes,
		size_t n, const struct wlr_box *clip) {
	struct canvas c;
	if (!canvas_init(&c, w, h, tr)) {
		fprintf(stderr, "%s: cannot set up the canvas\n", name);
		test_failures++;
		canvas_finish(&c);
		return 255;
	}
	for (size_t i = 0; i < n; i++) {
		canvas_draw(&c, gl, &shapes[i], clip);
	}
	int x = 0, y = 0;
	int worst = canvas_compare(&c, &x, &y);
	if (worst > TOLERANCE) {
		fprintf(stderr, "%s: GL and pixman differ by %d at (%d, %d)\n",
			name, worst, x, y);
		test_failures++;
	}
	canvas_finish(&c);
	return worst;
}

static void test_broken_program_fails_with_its_log(void) {
	struct frame_gl gl;
	char err[1024] = "";
	const char *broken = "void main() { gl_FragColor = vec4(undeclared); }\n";
	CHECK(!frame_gl_init(&gl, prism_shader_frame_vert, broken, err,
		sizeof(err)));
	CHECK(strncmp(err, "fragment shader: ", 17) == 0);
	CHECK(strlen(err) > 17);
	/* A program without the inputs Prism sets is refused as well. */
	const char *bare = "void main() { gl_FragColor = vec4(1.0); }\n";
	err[0] = '\0';
	CHECK(!frame_gl_init(&gl, prism_shader_frame_vert, bare, err,
		sizeof(err)));
	CHECK(err[0] != '\0');
}

int main(void) {
	const char *why = egl_setup();
	if (why != NULL) {
		printf("SKIP: %s\n", why);
		return SKIP;
	}
	printf("GL_RENDERER: %s\n", (const char *)glGetString(GL_RENDERER));

	struct frame_gl gl;
	char err[1024] = "";
	if (!frame_gl_init(&gl, prism_shader_frame_vert, prism_shader_frame_frag,
			err, sizeof(err))) {
		fprintf(stderr, "the embedded frame program does not build: %s\n",
			err);
		return 1;
	}

	int worst = 0, w;
	/* Frames of several sizes, colours and border widths, unfocused
	 * ones dimmed (a factor that gives no exact 8-bit value). */
	const int borders[] = { 1, 2, 3, 5, 8 };
	const uint32_t colours[] = { 0xcc3333, 0x33aa55, 0x3355ff, 0xffffff,
		0x010203, 0x7f8081 };
	for (size_t bi = 0; bi < sizeof(borders) / sizeof(borders[0]); bi++) {
		for (size_t ci = 0; ci < sizeof(colours) / sizeof(colours[0]); ci++) {
			int b = borders[bi];
			struct frame_shape s[3] = {
				window_frame(20, 30, 160, 90, b, 22, colours[ci], 1.0f),
				window_frame(60, 70, 1, 1, b, b, colours[ci], 0.6f),
				window_frame(150, 100, 140, 80, b, 18, colours[ci], 0.83f),
			};
			char name[64];
			snprintf(name, sizeof(name), "frames b=%d rgb=%06x", b,
				colours[ci]);
			w = check_case(&gl, name, 320, 200, WL_OUTPUT_TRANSFORM_NORMAL,
				s, 3, NULL);
			worst = w > worst ? w : worst;
		}
	}

	/* The indicator strip (no hole) and the fullscreen backdrop (all
	 * hole), on every output transform, with a damage clip. */
	for (int tr = 0; tr < 8; tr++) {
		struct frame_shape s[3] = {
			window_frame(40, 50, 200, 100, 4, 20, 0xcc3333, 0.7f),
			{ .box = { 0, 0, 320, 24 } },
			{ .box = { 250, 120, 60, 70 }, .hole = { 250, 120, 60, 70 } },
		};
		colour(s[1].colour, 0x33aa55, 1.0f);
		colour(s[2].colour, 0xffffff, 1.0f);
		colour(s[2].backdrop, 0x000000, 1.0f);
		char name[64];
		snprintf(name, sizeof(name), "transform %d", tr);
		w = check_case(&gl, name, 320, 200, (enum wl_output_transform)tr,
			s, 3, NULL);
		worst = w > worst ? w : worst;
		struct wlr_box clip = { 30, 17, 101, 77 };
		snprintf(name, sizeof(name), "transform %d clipped", tr);
		w = check_case(&gl, name, 320, 200, (enum wl_output_transform)tr,
			s, 3, &clip);
		worst = w > worst ? w : worst;
	}

	/* Random frames, partly off the canvas, with translucent colours as a
	 * guard on the blending the two paths share. */
	for (int round = 0; round < 40; round++) {
		struct frame_shape s[6];
		for (size_t i = 0; i < 6; i++) {
			int b = 1 + (int)rnd(10);
			s[i] = window_frame((int)rnd(300) - 20, (int)rnd(200) - 20,
				1 + (int)rnd(200), 1 + (int)rnd(150), b,
				b + (int)rnd(30), rnd(0x1000000),
				0.5f + (float)rnd(500) / 1000.0f);
			if (rnd(4) == 0) {
				for (int k = 0; k < 4; k++) {
					s[i].colour[k] *= 0.5f;
				}
			}
		}
		char name[64];
		snprintf(name, sizeof(name), "random round %d", round);
		w = check_case(&gl, name, 277, 183,
			(enum wl_output_transform)rnd(8), s, 6, NULL);
		worst = w > worst ? w : worst;
	}

	test_broken_program_fails_with_its_log();
	frame_gl_finish(&gl);
	printf("largest difference between GL and pixman: %d (tolerance %d)\n",
		worst, TOLERANCE);
	return TEST_RESULT();
}
