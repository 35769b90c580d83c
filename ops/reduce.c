/*
 * reduce.c - ops of the reduce family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_reduce[] = {
    {0, 0, 0},
};
