/*
 * interp.h - the reference interpreter: runs a graph node by node with the
 * reference kernels of ops/.
 */
#ifndef PARE_INTERP_H
#define PARE_INTERP_H

#include "ir/ir.h"

/*
 * Runs g on inputs[i] (one per graph input, in graph-input order; dtype must
 * match, shape must agree with every known dim). On success outputs[j] is a
 * new tensor per graph output that the caller frees with pare_tensor_free.
 * Intermediates are freed after their last use. The graph is not modified.
 */
int pare_interp_run(const pare_graph *g, pare_tensor *const *inputs, pare_tensor **outputs,
                    pare_err *err);

#endif /* PARE_INTERP_H */
