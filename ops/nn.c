/*
 * nn.c - ops of the nn family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_nn[] = {
    {0, 0, 0},
};
