/*
 * elementwise.c - ops of the elementwise family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_elementwise[] = {
    {0, 0, 0},
};
