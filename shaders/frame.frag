// Prism's frame program, fragment stage.
//
// Everything in the quad is the frame colour except the hole, the window's
// content box, which gets the opaque backdrop: a translucent VM window must
// never show what lies beneath it, since that may belong to another VM.
// Pixel centres sit at .5, and the hole's edges are whole pixels, so the
// comparison below picks exactly the pixels the pixman path fills.

#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif

uniform vec4 u_colour;   // premultiplied
uniform vec4 u_backdrop; // premultiplied
uniform vec4 u_hole;     // x1, y1, x2, y2 in the pixels of v_pos

varying vec2 v_pos;

void main() {
	bool inside = all(greaterThanEqual(v_pos, u_hole.xy)) &&
		all(lessThan(v_pos, u_hole.zw));
	gl_FragColor = inside ? u_backdrop : u_colour;
}
