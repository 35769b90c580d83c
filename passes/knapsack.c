/*
 * knapsack.c - the multiple-choice knapsack of the bit allocations: one
 * choice per item, least summed cost within a byte budget, solved exactly
 * by dynamic programming over the budget cut into `steps` steps. Each
 * choice's bytes are rounded up to whole steps, so the solution never
 * exceeds the budget (it may miss a slightly better one that fits only
 * without the rounding).
 */
#include "passes/passes.h"

#include <math.h>
#include <stdlib.h>

int pare_knapsack(int n, int nc, const int64_t *bytes, const double *cost, int64_t budget,
                  int steps, int *choice, pare_err *err) {
  if (n <= 0) return PARE_OK;
  if (nc < 1 || nc > 255 || steps < 1) return pare_errf(err, "knapsack: bad arguments");
  int64_t step = budget > 0 ? (budget + steps - 1) / steps : 1;
  if (step < 1) step = 1;
  int64_t cap = budget > 0 ? budget / step : 0;
  size_t w = (size_t)cap + 1;
  double *dp = malloc(w * sizeof *dp), *nx = malloc(w * sizeof *nx);
  unsigned char *pick = malloc((size_t)n * w);
  if (!dp || !nx || !pick) {
    free(dp);
    free(nx);
    free(pick);
    return pare_errf(err, "out of memory");
  }
  for (size_t u = 0; u < w; u++) dp[u] = 0;
  for (int i = 0; i < n; i++) {
    unsigned char *row = pick + (size_t)i * w;
    for (size_t u = 0; u < w; u++) {
      nx[u] = INFINITY;
      row[u] = 0xff;
      for (int c = 0; c < nc; c++) {
        int64_t b = bytes[(size_t)i * (size_t)nc + (size_t)c];
        double v = cost[(size_t)i * (size_t)nc + (size_t)c];
        if (b < 0 || v == INFINITY) continue;
        size_t units = (size_t)((b + step - 1) / step);
        if (units > u || dp[u - units] == INFINITY) continue;
        v += dp[u - units];
        if (v < nx[u]) nx[u] = v, row[u] = (unsigned char)c;
      }
    }
    double *t = dp;
    dp = nx, nx = t;
  }
  int rc = PARE_OK;
  if (dp[cap] == INFINITY) {
    int64_t least = 0;
    for (int i = 0; i < n; i++) {
      int64_t m = INT64_MAX;
      for (int c = 0; c < nc; c++) {
        int64_t b = bytes[(size_t)i * (size_t)nc + (size_t)c];
        if (b >= 0 && cost[(size_t)i * (size_t)nc + (size_t)c] != INFINITY && b < m) m = b;
      }
      least += m;
    }
    rc = pare_errf(err,
                   "the budget (%lld bytes for the weights it may change) is below the "
                   "smallest the candidates reach (%lld bytes)",
                   (long long)budget, (long long)least);
  } else {
    size_t u = (size_t)cap;
    for (int i = n - 1; i >= 0; i--) {
      int c = pick[(size_t)i * w + u];
      choice[i] = c;
      u -= (size_t)((bytes[(size_t)i * (size_t)nc + (size_t)c] + step - 1) / step);
    }
  }
  free(dp);
  free(nx);
  free(pick);
  return rc;
}
