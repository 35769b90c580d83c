/*
 * signal.c - ops of the signal family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_signal[] = {
    {0, 0, 0},
};
