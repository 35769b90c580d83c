/*
 * rnn.c - ops of the rnn family (infer + reference eval).
 */
#include "ops/ops.h"

const pare_op_def pare_ops_rnn[] = {
    {0, 0, 0},
};
