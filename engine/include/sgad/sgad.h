/* Skip-GANomaly++ engine: the public API in one include. */
#ifndef SGAD_H
#define SGAD_H

#include "device.h"
#include "ops.h"
#include "ref.h"
#include "seq.h"
#include "status.h"
#include "tensor.h"

#endif
