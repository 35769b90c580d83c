/*
 * shape.c - ops of the shape family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_shape[] = {
    {0, 0, 0},
};
