/*
 * loss.c - ops of the loss family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_loss[] = {
    {0, 0, 0},
};
