/*
 * reduce_einsum.c - Einsum (infer + reference eval), part of the reduce family.
 *
 * The equation is parsed into one label per input dim. Letters are labels
 * 0..51 (A-Z then a-z, so label order is ASCII order, which the implicit
 * output form sorts by); the dims an ellipsis stands for get labels 52.. and
 * broadcast numpy-style, right-aligned across inputs. Evaluation is a plain
 * sum of products: for every output index, over every combination of the
 * summed labels. Offsets of both loops are tabulated per input first, so the
 * inner loop is a gather dot product; for matmul-shaped equations that is the
 * naive O(M*N*K) loop without per-element index arithmetic.
 */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

#define N_LETTERS  52
#define MAX_LABELS (N_LETTERS + PARE_MAX_RANK)
#define MAX_INPUTS 16

typedef struct einsum_spec {
  int n_in;
  int rank[MAX_INPUTS];
  int labels[MAX_INPUTS][PARE_MAX_RANK]; /* label of each input dim */
  int n_out;
  int out_labels[MAX_LABELS];
  int64_t size[MAX_LABELS]; /* -1: unknown, 0 with used[] = 0: unused */
  int used[MAX_LABELS];
} einsum_spec;

static char label_char(int l) {
  return (char)(l < 26 ? 'A' + l : 'a' + (l - 26));
}

static int letter_label(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

/* Parses one term (no spaces) into letters/ellipsis codes: label or -1 for
 * "...". Returns the count or PARE_ERR. */
static int parse_term(const char *s, size_t len, int *codes, int max, pare_err *err) {
  int n = 0, ellipses = 0;
  for (size_t i = 0; i < len;) {
    if (s[i] == '.') {
      if (i + 3 > len || s[i + 1] != '.' || s[i + 2] != '.')
        return pare_errf(err, "Einsum: '.' not part of an ellipsis '...'");
      if (ellipses++) return pare_errf(err, "Einsum: more than one ellipsis in a term");
      if (n == max) return pare_errf(err, "Einsum: term '%.*s' too long", (int)len, s);
      codes[n++] = -1;
      i += 3;
      continue;
    }
    int l = letter_label(s[i]);
    if (l < 0) return pare_errf(err, "Einsum: invalid character '%c' in equation", s[i]);
    if (n == max) return pare_errf(err, "Einsum: term '%.*s' too long", (int)len, s);
    codes[n++] = l;
    i++;
  }
  return n;
}

/* Records dimension d for label l, checking agreement. Ellipsis labels
 * broadcast (1 against n); letters must match exactly. */
static int set_label_size(einsum_spec *sp, int l, int64_t d, pare_err *err) {
  if (!sp->used[l]) {
    sp->used[l] = 1;
    sp->size[l] = d;
    return PARE_OK;
  }
  int64_t have = sp->size[l];
  if (have == d) return PARE_OK;
  if (l >= N_LETTERS && (have == 1 || d == 1)) {
    if (have == 1) sp->size[l] = d;
    return PARE_OK;
  }
  if (have < 0 || d < 0) {
    /* Unknown against known: keep the known one (ellipsis: 1 could still broadcast). */
    if (have < 0 && (l < N_LETTERS || d != 1)) sp->size[l] = d;
    return PARE_OK;
  }
  if (l < N_LETTERS)
    return pare_errf(err, "Einsum: label '%c' has sizes %lld and %lld", label_char(l),
                     (long long)have, (long long)d);
  return pare_errf(err, "Einsum: ellipsis dims %lld and %lld do not broadcast", (long long)have,
                   (long long)d);
}

/* Builds the spec from the equation and input shapes (ranks must be known). */
static int einsum_parse(const pare_node *node, const pare_tensor *const *in, int n_in,
                        einsum_spec *sp, pare_err *err) {
  memset(sp, 0, sizeof *sp);
  const char *eq = pare_attr_string(node, "equation", NULL);
  if (!eq) return pare_errf(err, "Einsum: missing attribute 'equation'");
  if (n_in < 1) return pare_errf(err, "Einsum: needs at least one input");
  if (n_in > MAX_INPUTS) return pare_errf(err, "Einsum: more than %d inputs", MAX_INPUTS);
  size_t eqlen = strlen(eq);
  char *buf = malloc(eqlen + 1);
  if (!buf) return pare_errf(err, "out of memory");
  size_t len = 0;
  for (size_t i = 0; i < eqlen; i++)
    if (eq[i] != ' ' && eq[i] != '\t') buf[len++] = eq[i];
  buf[len] = 0;
  char *arrow = strstr(buf, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - buf) : len;

  int codes[MAX_INPUTS][PARE_MAX_RANK + 1], ncodes[MAX_INPUTS];
  int rc = PARE_OK, term = 0, max_ell = 0, ell_rank[MAX_INPUTS];
  size_t start = 0;
  for (size_t i = 0; i <= lhs_len && rc == PARE_OK; i++) {
    if (i < lhs_len && buf[i] != ',') continue;
    if (term >= n_in) {
      rc = pare_errf(err, "Einsum: equation '%s' has more terms than the %d inputs", eq, n_in);
      break;
    }
    int n = parse_term(buf + start, i - start, codes[term], PARE_MAX_RANK + 1, err);
    if (n < 0) {
      rc = PARE_ERR;
      break;
    }
    ncodes[term] = n;
    term++;
    start = i + 1;
  }
  if (rc == PARE_OK && term != n_in)
    rc = pare_errf(err, "Einsum: equation '%s' has %d terms for %d inputs", eq, term, n_in);
  /* Expand ellipses against the input ranks. */
  for (int t = 0; t < n_in && rc == PARE_OK; t++) {
    if (pare_need_input(in, n_in, t, err)) {
      rc = PARE_ERR;
      break;
    }
    int r = in[t]->shape.rank, letters = 0, has_ell = 0;
    for (int k = 0; k < ncodes[t]; k++) {
      if (codes[t][k] < 0)
        has_ell = 1;
      else
        letters++;
    }
    if (r < letters || (!has_ell && r != letters)) {
      rc = pare_errf(err, "Einsum: input %d has rank %d but its term names %d dims%s", t, r,
                     letters, has_ell ? " (plus an ellipsis)" : "");
      break;
    }
    ell_rank[t] = r - letters;
    if (ell_rank[t] > max_ell) max_ell = ell_rank[t];
    sp->rank[t] = r;
  }
  for (int t = 0; t < n_in && rc == PARE_OK; t++) {
    int d = 0;
    for (int k = 0; k < ncodes[t] && rc == PARE_OK; k++) {
      if (codes[t][k] >= 0) {
        sp->labels[t][d] = codes[t][k];
        rc = set_label_size(sp, codes[t][k], in[t]->shape.dims[d], err);
        d++;
        continue;
      }
      for (int e = 0; e < ell_rank[t] && rc == PARE_OK; e++, d++) {
        int l = N_LETTERS + (max_ell - ell_rank[t] + e);
        sp->labels[t][d] = l;
        rc = set_label_size(sp, l, in[t]->shape.dims[d], err);
      }
    }
  }
  sp->n_in = n_in;
  if (rc == PARE_OK && arrow) {
    int out_codes[MAX_LABELS + 1];
    const char *rhs = arrow + 2;
    int n = parse_term(rhs, strlen(rhs), out_codes, MAX_LABELS + 1, err);
    if (n < 0) rc = PARE_ERR;
    int seen[MAX_LABELS] = {0};
    for (int k = 0; k < n && rc == PARE_OK; k++) {
      int l = out_codes[k];
      if (l < 0) {
        for (int e = 0; e < max_ell; e++) sp->out_labels[sp->n_out++] = N_LETTERS + e;
        continue;
      }
      if (!sp->used[l])
        rc =
            pare_errf(err, "Einsum: output label '%c' does not appear in any input", label_char(l));
      else if (seen[l]++)
        rc = pare_errf(err, "Einsum: output label '%c' repeated", label_char(l));
      else
        sp->out_labels[sp->n_out++] = l;
    }
  } else if (rc == PARE_OK) {
    /* Implicit output: the ellipsis dims, then labels used exactly once, sorted. */
    int count[MAX_LABELS] = {0};
    for (int t = 0; t < n_in; t++)
      for (int d = 0; d < sp->rank[t]; d++) count[sp->labels[t][d]]++;
    for (int e = 0; e < max_ell; e++) sp->out_labels[sp->n_out++] = N_LETTERS + e;
    for (int l = 0; l < N_LETTERS; l++)
      if (count[l] == 1) sp->out_labels[sp->n_out++] = l;
  }
  if (rc == PARE_OK && sp->n_out > PARE_MAX_RANK)
    rc = pare_errf(err, "Einsum: output rank %d exceeds %d", sp->n_out, PARE_MAX_RANK);
  free(buf);
  return rc;
}

static int einsum_dtype_ok(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64 || pare_dtype_is_int(dt);
}

int pare_einsum_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  pare_dtype dt = in[0]->dtype;
  if (!einsum_dtype_ok(dt))
    return pare_errf(err, "Einsum: unsupported dtype %s", pare_dtype_name(dt));
  int known = 1;
  for (int i = 0; i < n_in; i++) {
    if (pare_need_input(in, n_in, i, err)) return PARE_ERR;
    if (in[i]->dtype != dt)
      return pare_errf(err, "Einsum: input %d is %s, input 0 is %s", i,
                       pare_dtype_name(in[i]->dtype), pare_dtype_name(dt));
    if (in[i]->shape.rank < 0) known = 0;
  }
  out[0].dtype = dt;
  if (!known) {
    out[0].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  einsum_spec sp;
  if (einsum_parse(node, in, n_in, &sp, err)) return PARE_ERR;
  pare_shape s = pare_shape_make(sp.n_out, NULL);
  int status = PARE_OK;
  for (int k = 0; k < sp.n_out; k++) {
    s.dims[k] = sp.size[sp.out_labels[k]];
    if (s.dims[k] < 0) status = PARE_UNKNOWN;
  }
  out[0].shape = s;
  return status;
}

/* Offsets into input t for every combination of `labels` (row-major over
 * them). A dim of size 1 whose label is larger (broadcast) contributes 0. */
static int64_t *label_offsets(const einsum_spec *sp, int t, const pare_shape *shape,
                              const int *labels, int n, int64_t count, pare_err *err) {
  int64_t strides[PARE_MAX_RANK], lstride[MAX_LABELS] = {0};
  pare_strides(shape, strides);
  for (int d = 0; d < sp->rank[t]; d++) {
    int l = sp->labels[t][d];
    if (shape->dims[d] == sp->size[l]) lstride[l] += strides[d]; /* repeated label: diagonal */
  }
  int64_t *offs = malloc((size_t)(count > 0 ? count : 1) * sizeof *offs);
  if (!offs) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  int64_t idx[MAX_LABELS] = {0}, off = 0;
  for (int64_t j = 0; j < count; j++) {
    offs[j] = off;
    for (int k = n - 1; k >= 0; k--) {
      int l = labels[k];
      off += lstride[l];
      if (++idx[k] < sp->size[l]) break;
      off -= idx[k] * lstride[l];
      idx[k] = 0;
    }
  }
  return offs;
}

int pare_einsum_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  einsum_spec sp;
  if (einsum_parse(node, in, n_in, &sp, err)) return PARE_ERR;
  int in_out[MAX_LABELS] = {0}, sum_labels[MAX_LABELS], n_sum = 0;
  for (int k = 0; k < sp.n_out; k++) in_out[sp.out_labels[k]] = 1;
  for (int l = 0; l < MAX_LABELS; l++)
    if (sp.used[l] && !in_out[l]) sum_labels[n_sum++] = l;
  int64_t n_o = 1, n_s = 1;
  for (int k = 0; k < sp.n_out; k++) n_o *= sp.size[sp.out_labels[k]];
  for (int k = 0; k < n_sum; k++) n_s *= sp.size[sum_labels[k]];
  if (n_o != pare_tensor_numel(out))
    return pare_errf(err, "Einsum: output has %lld elements, expected %lld",
                     (long long)pare_tensor_numel(out), (long long)n_o);
  if (n_o == 0) return PARE_OK;

  int is_float = pare_dtype_is_float(in[0]->dtype), rc = PARE_OK;
  int64_t *oo[MAX_INPUTS] = {0}, *so[MAX_INPUTS] = {0};
  void *vals[MAX_INPUTS] = {0};
  for (int t = 0; t < n_in && rc == PARE_OK; t++) {
    oo[t] = label_offsets(&sp, t, &in[t]->shape, sp.out_labels, sp.n_out, n_o, err);
    so[t] = oo[t] ? label_offsets(&sp, t, &in[t]->shape, sum_labels, n_sum, n_s, err) : NULL;
    /* Inputs converted once, so the inner loop does no dtype dispatch. */
    int64_t n = pare_tensor_numel(in[t]);
    vals[t] = malloc((size_t)(n > 0 ? n : 1) * (is_float ? sizeof(double) : sizeof(int64_t)));
    if (!oo[t] || !so[t]) {
      rc = PARE_ERR;
      break;
    }
    if (!vals[t]) {
      rc = pare_errf(err, "out of memory");
      break;
    }
    for (int64_t i = 0; i < n; i++) {
      if (is_float)
        ((double *)vals[t])[i] = pare_tensor_get_f64(in[t], i);
      else
        ((int64_t *)vals[t])[i] = pare_tensor_get_i64(in[t], i);
    }
  }
  if (rc == PARE_OK && is_float) {
    const double *a = vals[0], *b = n_in > 1 ? vals[1] : NULL;
    for (int64_t o = 0; o < n_o; o++) {
      double acc = 0;
      if (n_in == 1) {
        const double *pa = a + oo[0][o];
        for (int64_t s = 0; s < n_s; s++) acc += pa[so[0][s]];
      } else if (n_in == 2) {
        const double *pa = a + oo[0][o], *pb = b + oo[1][o];
        const int64_t *sa = so[0], *sb = so[1];
        for (int64_t s = 0; s < n_s; s++) acc += pa[sa[s]] * pb[sb[s]];
      } else {
        for (int64_t s = 0; s < n_s; s++) {
          double prod = 1;
          for (int t = 0; t < n_in; t++) prod *= ((const double *)vals[t])[oo[t][o] + so[t][s]];
          acc += prod;
        }
      }
      pare_tensor_set_f64(out, o, acc);
    }
  } else if (rc == PARE_OK) {
    for (int64_t o = 0; o < n_o; o++) {
      uint64_t acc = 0; /* wrapping arithmetic, no signed overflow */
      for (int64_t s = 0; s < n_s; s++) {
        uint64_t prod = 1;
        for (int t = 0; t < n_in; t++)
          prod *= (uint64_t)((const int64_t *)vals[t])[oo[t][o] + so[t][s]];
        acc += prod;
      }
      int64_t v = (int64_t)acc;
      switch (out->dtype) {
      case PARE_I64:
        ((int64_t *)out->data)[o] = v;
        break;
      case PARE_U64:
        ((uint64_t *)out->data)[o] = acc;
        break;
      case PARE_I32:
        ((int32_t *)out->data)[o] = (int32_t)v;
        break;
      case PARE_U32:
        ((uint32_t *)out->data)[o] = (uint32_t)v;
        break;
      case PARE_I16:
        ((int16_t *)out->data)[o] = (int16_t)v;
        break;
      case PARE_U16:
        ((uint16_t *)out->data)[o] = (uint16_t)v;
        break;
      case PARE_I8:
        ((int8_t *)out->data)[o] = (int8_t)v;
        break;
      case PARE_U8:
        ((uint8_t *)out->data)[o] = (uint8_t)v;
        break;
      default:
        pare_tensor_set_f64(out, o, (double)v);
        break;
      }
    }
  }
  for (int t = 0; t < n_in; t++) {
    free(oo[t]);
    free(so[t]);
    free(vals[t]);
  }
  return rc;
}
