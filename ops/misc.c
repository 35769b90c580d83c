/*
 * misc.c - ops of the misc family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_misc[] = {
    {0, 0, 0},
};
