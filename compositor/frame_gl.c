#include <epoxy/gl.h>
#include <stdio.h>
#include <string.h>
#include <wlr/types/wlr_matrix.h>
#include "frame.h"

static GLuint compile(GLenum type, const char *source, char *err,
		size_t err_size) {
	GLuint shader = glCreateShader(type);
	glShaderSource(shader, 1, &source, NULL);
	glCompileShader(shader);
	GLint ok = GL_FALSE;
	glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (ok != GL_TRUE) {
		char log[1024] = "";
		glGetShaderInfoLog(shader, sizeof(log), NULL, log);
		snprintf(err, err_size, "%s shader: %s",
			type == GL_VERTEX_SHADER ? "vertex" : "fragment",
			log[0] ? log : "compilation failed without a log");
		glDeleteShader(shader);
		return 0;
	}
	return shader;
}

bool frame_gl_init(struct frame_gl *gl, const char *vert, const char *frag,
		char *err, size_t err_size) {
	memset(gl, 0, sizeof(*gl));
	GLuint vs = compile(GL_VERTEX_SHADER, vert, err, err_size);
	if (vs == 0) {
		return false;
	}
	GLuint fs = compile(GL_FRAGMENT_SHADER, frag, err, err_size);
	if (fs == 0) {
		glDeleteShader(vs);
		return false;
	}
	GLuint program = glCreateProgram();
	glAttachShader(program, vs);
	glAttachShader(program, fs);
	glLinkProgram(program);
	glDetachShader(program, vs);
	glDetachShader(program, fs);
	glDeleteShader(vs);
	glDeleteShader(fs);
	GLint ok = GL_FALSE;
	glGetProgramiv(program, GL_LINK_STATUS, &ok);
	if (ok != GL_TRUE) {
		char log[1024] = "";
		glGetProgramInfoLog(program, sizeof(log), NULL, log);
		snprintf(err, err_size, "link: %s",
			log[0] ? log : "linking failed without a log");
		glDeleteProgram(program);
		return false;
	}
	gl->program = program;
	gl->u_matrix = glGetUniformLocation(program, "u_matrix");
	gl->u_size = glGetUniformLocation(program, "u_size");
	gl->u_colour = glGetUniformLocation(program, "u_colour");
	gl->u_backdrop = glGetUniformLocation(program, "u_backdrop");
	gl->u_hole = glGetUniformLocation(program, "u_hole");
	gl->a_pos = glGetAttribLocation(program, "a_pos");
	/* A program that links but lacks an input would draw garbage: treat
	 * it as a failure like any other. */
	if (gl->u_matrix < 0 || gl->u_size < 0 || gl->u_colour < 0 ||
			gl->u_backdrop < 0 || gl->u_hole < 0 || gl->a_pos < 0) {
		snprintf(err, err_size, "the frame program lacks an input");
		glDeleteProgram(program);
		gl->program = 0;
		return false;
	}
	return true;
}

void frame_gl_finish(struct frame_gl *gl) {
	if (gl->program != 0) {
		glDeleteProgram(gl->program);
		gl->program = 0;
	}
}

void frame_gl_draw(const struct frame_gl *gl, const struct frame_shape *shape,
		const float target_matrix[static 9], int buffer_width,
		int buffer_height) {
	const struct wlr_box *b = &shape->box;
	if (wlr_box_empty(b) || buffer_width <= 0 || buffer_height <= 0) {
		return;
	}
	/* Buffer pixels to normalised device coordinates, with buffer row 0
	 * at window row 0, as wlroots' GLES2 renderer draws into its
	 * buffers (and as glReadPixels returns them). */
	const float ndc[9] = {
		2.0f / (float)buffer_width, 0.0f, -1.0f,
		0.0f, 2.0f / (float)buffer_height, -1.0f,
		0.0f, 0.0f, 1.0f,
	};
	float box_matrix[9], m[9];
	wlr_matrix_project_box(box_matrix, b, WL_OUTPUT_TRANSFORM_NORMAL, 0,
		target_matrix);
	wlr_matrix_multiply(m, ndc, box_matrix);
	/* GLES2 takes no transposed uniforms: wlroots' matrices are row-major. */
	wlr_matrix_transpose(m, m);

	float hole[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
	if (!wlr_box_empty(&shape->hole)) {
		hole[0] = (float)(shape->hole.x - b->x);
		hole[1] = (float)(shape->hole.y - b->y);
		hole[2] = hole[0] + (float)shape->hole.width;
		hole[3] = hole[1] + (float)shape->hole.height;
	}
	static const GLfloat quad[] = {
		0.0f, 0.0f,
		1.0f, 0.0f,
		0.0f, 1.0f,
		1.0f, 1.0f,
	};

	if (shape->colour[3] >= 1.0f && shape->backdrop[3] >= 1.0f) {
		glDisable(GL_BLEND);
	} else {
		glEnable(GL_BLEND);
	}
	glUseProgram(gl->program);
	glUniformMatrix3fv(gl->u_matrix, 1, GL_FALSE, m);
	glUniform2f(gl->u_size, (float)b->width, (float)b->height);
	glUniform4fv(gl->u_colour, 1, shape->colour);
	glUniform4fv(gl->u_backdrop, 1, shape->backdrop);
	glUniform4fv(gl->u_hole, 1, hole);
	glBindBuffer(GL_ARRAY_BUFFER, 0);
	glVertexAttribPointer((GLuint)gl->a_pos, 2, GL_FLOAT, GL_FALSE, 0, quad);
	glEnableVertexAttribArray((GLuint)gl->a_pos);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	glDisableVertexAttribArray((GLuint)gl->a_pos);
}
