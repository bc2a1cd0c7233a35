/* The engine's switches from the environment (SGAD_VALIDATION=1 and the
 * like). Internal to the engine. */
#ifndef SGAD_CORE_ENV_H
#define SGAD_CORE_ENV_H

#include <stdbool.h>

/* Whether the variable is set to something other than "" or "0". */
bool sg_env_flag(const char *name);

#endif
