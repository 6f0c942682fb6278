// Prism's frame program, vertex stage: one quad per frame, border, title
// bar, popup outline or indicator strip.
//
// a_pos is a corner of the unit square; u_matrix takes it to normalised
// device coordinates (output transform included). v_pos carries the same
// point in target pixels from the quad's top-left corner, so the fragment
// stage can tell the band from the hole with the integer edges the CPU
// path uses.

uniform mat3 u_matrix;
uniform vec2 u_size;

attribute vec2 a_pos;

varying vec2 v_pos;

void main() {
	v_pos = a_pos * u_size;
	vec3 ndc = u_matrix * vec3(a_pos, 1.0);
	gl_Position = vec4(ndc.xy, 0.0, 1.0);
}
