#version 450
// t[0] += 1 (Adam's step counter, kept on the device so recordings replay)
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats t;
} p;

void main()
{
    if (gl_GlobalInvocationID.x == 0)
        p.t.v[0] += 1.0;
}
