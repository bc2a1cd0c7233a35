/* The monotonic clock of sgad/util.h, and the environment's switches (env.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "env.h"
#include "sgad/util.h"

double sg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool sg_env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}
