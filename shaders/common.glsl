// Shared declarations for every compute shader of the engine.
//
// Tensors reach shaders as 64-bit device addresses in the push-constant block
// (no descriptor sets), typed through these buffer references. Element indices
// are 32-bit: tensors are limited to 2^31 elements.
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Floats {
    float v[];
};
layout(buffer_reference, std430, buffer_reference_align = 16) buffer Vec4s {
    vec4 v[];
};

// Workgroup size chosen by the engine (specialization constant 0).
layout(local_size_x_id = 0) in;

// Linear workgroup index for dispatches split over x and y (sg_groups_1d).
uint group_index()
{
    return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}

// Linear invocation index over such a dispatch.
uint global_index()
{
    return group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
}
