/* Skip-GANomaly++ engine: the device, tensor and op API in one include (the
 * C references, sgad/ref.h, belong to the tests and are not part of it). */
#ifndef SGAD_H
#define SGAD_H

#include "device.h"
#include "ops.h"
#include "seq.h"
#include "status.h"
#include "tensor.h"

#endif
