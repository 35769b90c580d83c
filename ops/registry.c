/*
 * registry.c - concatenates the op family tables of ops.h.
 */
#include "ops/ops.h"

#include <string.h>

static const pare_op_def *const families[] = {
    pare_ops_elementwise, pare_ops_nn,  pare_ops_shape,  pare_ops_reduce, pare_ops_loss,
    pare_ops_misc,        pare_ops_rnn, pare_ops_signal, pare_ops_quant,
};

const pare_op_def *pare_op_at(int index) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    for (const pare_op_def *d = families[f]; d->name; d++)
      if (index-- == 0) return d;
  }
  return NULL;
}

const pare_op_def *pare_op_find(const char *op_type) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    for (const pare_op_def *d = families[f]; d->name; d++)
      if (strcmp(d->name, op_type) == 0) return d;
  return NULL;
}
