/* The monotonic clock of sgad/util.h. */
#include <time.h>

#include "sgad/util.h"

double sg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
