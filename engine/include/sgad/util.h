/* Small utilities shared by the engine and its users (tools, tests, plugin):
 * a monotonic clock and the splitmix64 generator. One definition each. */
#ifndef SGAD_UTIL_H
#define SGAD_UTIL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds on a monotonic clock (for durations and rates, never dates). */
double sg_now(void);

#define SG_SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull

/* splitmix64's finaliser: a bijective 64-bit mix, the same on every platform. */
static inline uint64_t sg_splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The next value of the splitmix64 stream whose state is *state. */
static inline uint64_t sg_splitmix64_next(uint64_t *state)
{
    return sg_splitmix64_mix(*state += SG_SPLITMIX64_GAMMA);
}

/* Value j of the stream started at seed (random access: the same as the
 * (j+1)-th sg_splitmix64_next from state = seed). */
static inline uint64_t sg_splitmix64_at(uint64_t seed, uint64_t j)
{
    return sg_splitmix64_mix(seed + (j + 1) * SG_SPLITMIX64_GAMMA);
}

#ifdef __cplusplus
}
#endif
#endif
