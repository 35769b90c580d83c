/*
 * passes.h - the pass manager and compression passes (to come).
 */
#ifndef PARE_PASSES_H
#define PARE_PASSES_H

#include "ir/ir.h"

#endif /* PARE_PASSES_H */
