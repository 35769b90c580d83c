/*
 * report_html.c - the report of a pass pipeline as one self-contained HTML
 * page (--report FILE.html): inline CSS and inline SVG drawn here, no
 * scripts and nothing fetched, so it opens anywhere, offline.
 *
 * The page is drawn from the JSON report (report.c): the model summary
 * (totals before and after), a plot of bytes by layer before and after (log
 * scale: layers span several orders of magnitude), the error-vs-size points
 * of a search when the report holds them ("search"), the per-layer table
 * (op, weight shape, passes that decided something, bits, sparsity, rank,
 * bytes before/after, the largest error a pass measured, other decisions)
 * and the passes with their times.
 */
#include "driver/report.h"

#include "ir/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text from the model (names may hold anything) escaped for HTML. */
static void text(pare_strbuf *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      pare_strbuf_printf(b, "&lt;");
      break;
    case '>':
      pare_strbuf_printf(b, "&gt;");
      break;
    case '&':
      pare_strbuf_printf(b, "&amp;");
      break;
    case '"':
      pare_strbuf_printf(b, "&quot;");
      break;
    default:
      pare_strbuf_printf(b, "%c", *s);
    }
  }
}

static double num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItem(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
  return s ? s : "";
}

/* 1234567 as "1.23 MB"-style text (powers of 1000, as the byte counts). */
static void bytes_text(double v, char *buf, size_t len) {
  const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (fabs(v) >= 1000 && u < 4) v /= 1000, u++;
  snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", v, unit[u]);
}

static void count_text(double v, char *buf, size_t len) {
  const char *unit[] = {"", "k", "M", "G", "T"};
  int u = 0;
  while (fabs(v) >= 1000 && u < 4) v /= 1000, u++;
  snprintf(buf, len, u ? "%.3g%s" : "%.0f%s", v, unit[u]);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
    "table{border-collapse:collapse;font-size:12.5px}"
    "th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}"
    "th{background:#f3f3f3}td{white-space:nowrap}td.l,th.l{text-align:left}"
    "tr.removed td{color:#999;text-decoration:line-through}"
    "code{font-size:12px;word-break:break-all}.scroll{overflow-x:auto}"
    "svg text{font:11px system-ui,sans-serif;fill:#333}"
    ".before{fill:#bbb}.after{fill:#2a6fd6}.axis{stroke:#666;stroke-width:1}"
    ".grid{stroke:#eee;stroke-width:1}.pt{fill:#2a6fd6;opacity:.7}.chosen{fill:#d62a2a}"
    ".bar{fill:#5a9}.none{color:#777;font-style:italic}.key{display:inline-block;"
    "width:10px;height:10px;margin:0 4px 0 12px}.key.before{background:#bbb}"
    ".key.after{background:#2a6fd6}td.dec{color:#555;text-align:left;white-space:normal}";

static void summary(pare_strbuf *b, const cJSON *root) {
  const cJSON *before = cJSON_GetObjectItem(root, "before");
  const cJSON *after = cJSON_GetObjectItem(root, "after");
  pare_strbuf_printf(b, "<h1>pare report</h1>\n<p>model <code>");
  text(b, str(root, "model"));
  pare_strbuf_printf(b, "</code><br>pipeline <code>");
  text(b, str(root, "pipeline")[0] ? str(root, "pipeline") : "(none)");
  pare_strbuf_printf(
      b, "</code></p>\n<table id=\"summary\"><tr><th class=l></th><th>before</th><th>after</th>"
         "<th>after / before</th></tr>\n");
  const char *rows[][2] = {
      {"parameters", "parameters"}, {"weight bytes", "bytes"}, {"FLOPs", "flops"}};
  for (int i = 0; i < 3; i++) {
    double x = num(before, rows[i][1]), y = num(after, rows[i][1]);
    char a[32], c[32];
    if (i == 1)
      bytes_text(x, a, sizeof a), bytes_text(y, c, sizeof c);
    else
      count_text(x, a, sizeof a), count_text(y, c, sizeof c);
    pare_strbuf_printf(
        b, "<tr><td class=l>%s</td><td title=\"%.0f\">%s</td><td title=\"%.0f\">%s</td>",
        rows[i][0], x, a, y, c);
    if (x > 0)
      pare_strbuf_printf(b, "<td>%.4f</td></tr>\n", y / x);
    else
      pare_strbuf_printf(b, "<td>-</td></tr>\n");
  }
  const cJSON *layers = cJSON_GetObjectItem(root, "layers"), *l;
  int n = 0, removed = 0, decided = 0;
  cJSON_ArrayForEach(l, layers) {
    n++;
    removed += cJSON_IsTrue(cJSON_GetObjectItem(l, "removed"));
    decided += cJSON_GetArraySize(cJSON_GetObjectItem(l, "decisions")) > 0;
  }
  pare_strbuf_printf(
      b,
      "</table>\n<p id=\"layer-count\">%d layers with weights; passes decided something for "
      "%d, removed %d.</p>\n",
      n, decided, removed);
}

/* Bytes by layer, before and after, on a log scale. */
static void size_plot(pare_strbuf *b, const cJSON *layers) {
  int n = cJSON_GetArraySize(layers);
  pare_strbuf_printf(b, "<h2>Size by layer</h2>\n");
  if (n == 0) {
    pare_strbuf_printf(b, "<p class=none>no layers with weights</p>\n");
    return;
  }
  double lo = INFINITY, hi = 1;
  const cJSON *l;
  cJSON_ArrayForEach(l, layers) {
    double v[2] = {num(cJSON_GetObjectItem(l, "before"), "bytes"),
                   num(cJSON_GetObjectItem(l, "after"), "bytes")};
    for (int k = 0; k < 2; k++)
      if (v[k] > 0) lo = fmin(lo, v[k]), hi = fmax(hi, v[k]);
  }
  if (!isfinite(lo)) lo = 1;
  int e0 = (int)floor(log10(lo)), e1 = (int)ceil(log10(hi));
  if (e1 <= e0) e1 = e0 + 1;
  /* Layer names under the bars when they fit. */
  int names = n <= 60;
  const double left = 64, top = 16, ph = 240, below = names ? 110 : 30;
  double pw = fmax(600, n * 14.0), gw = pw / n, bw = fmin(18, (gw - 4) / 2);
  double w = left + pw + 16, h = top + ph + below;
  pare_strbuf_printf(
      b,
      "<p><span class=\"key before\"></span>before<span class=\"key after\"></span>after "
      "(bytes as stored, log scale; hover a bar for the layer)</p>\n<div class=scroll>"
      "<svg id=\"size-plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\">\n",
      w, h);
#define Y(v) (top + ph - (log10(v) - e0) / (double)(e1 - e0) * ph)
  for (int e = e0; e <= e1; e++) {
    char t[32];
    bytes_text(pow(10, e), t, sizeof t);
    pare_strbuf_printf(b,
                       "<line class=grid x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                       "<text x=\"%.0f\" y=\"%.1f\" text-anchor=end>%s</text>\n",
                       left, left + pw, Y(pow(10, e)), Y(pow(10, e)), left - 6, Y(pow(10, e)) + 4,
                       t);
  }
  int i = 0;
  cJSON_ArrayForEach(l, layers) {
    double x = left + i * gw + (gw - 2 * bw) / 2;
    if (names) {
      /* The last 18 characters: the distinctive end of "/block/conv1/Conv". */
      const char *name = str(l, "name");
      size_t len = strlen(name);
      pare_strbuf_printf(
          b, "<text class=name transform=\"translate(%.1f %.0f) rotate(-60)\" text-anchor=end>",
          x + bw, top + ph + 10);
      text(b, len > 18 ? name + len - 18 : name);
      pare_strbuf_printf(b, "</text>\n");
    }
    const char *cls[2] = {"before", "after"};
    for (int k = 0; k < 2; k++) {
      double v = num(cJSON_GetObjectItem(l, cls[k]), "bytes");
      if (v <= 0) continue; /* a removed layer has no bar after */
      double y = Y(fmax(v, pow(10, e0)));
      pare_strbuf_printf(
          b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"><title>",
          cls[k], x + k * bw, y, bw, top + ph - y);
      text(b, str(l, "name"));
      pare_strbuf_printf(b, " (%s): %.0f bytes %s</title></rect>\n", str(l, "op"), v, cls[k]);
    }
    i++;
  }
#undef Y
  pare_strbuf_printf(
      b,
      "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
      "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
      "<text x=\"%.0f\" y=\"%.0f\">layers in graph order (%d)</text>\n</svg></div>\n",
      left, left + pw, top + ph, top + ph, left, left, top, top + ph, left, h - 6, n);
}

/* Error against size of the candidates a search measured. */
static void search_plot(pare_strbuf *b, const cJSON *search) {
  int n = cJSON_GetArraySize(search);
  pare_strbuf_printf(b, "<h2>Error against size (search)</h2>\n");
  if (n == 0) {
    pare_strbuf_printf(
        b, "<p class=none id=\"search-none\">no search: this report holds no search points "
           "(a pipeline given with --passes)</p>\n");
    return;
  }
  double x0 = INFINITY, x1 = -INFINITY, y0 = 0, y1 = -INFINITY;
  const cJSON *p;
  cJSON_ArrayForEach(p, search) {
    x0 = fmin(x0, num(p, "bytes")), x1 = fmax(x1, num(p, "bytes"));
    y1 = fmax(y1, num(p, "error"));
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  /* Sizes spanning more than a decade (a search's per-layer probes sit
   * near the full size, its candidates near the target) are drawn on a
   * log axis, else the candidates crowd one edge. */
  int log_x = x0 > 0 && x1 / x0 > 10;
  if (log_x) x0 = log10(x0), x1 = log10(x1);
  /* A margin, so that no point sits on an axis. */
  double mx = (x1 - x0) * 0.05;
  x0 = log_x ? x0 - mx : fmax(0, x0 - mx), x1 += mx, y1 *= 1.05;
  const double left = 70, top = 16, pw = 560, ph = 260;
  pare_strbuf_printf(b,
                     "<svg id=\"search-plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\">\n",
                     left + pw + 20, top + ph + 40);
#define PX(v) (left + ((log_x ? log10(v) : (v)) - x0) / (x1 - x0) * pw)
#define PY(v) (top + ph - ((v)-y0) / (y1 - y0) * ph)
  for (int t = 0; t <= 4; t++) {
    double xv = x0 + (x1 - x0) * t / 4, yv = y0 + (y1 - y0) * t / 4;
    if (log_x) xv = pow(10, xv);
    char xs[32];
    bytes_text(xv, xs, sizeof xs);
    pare_strbuf_printf(b,
                       "<line class=grid x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                       "<text x=\"%.1f\" y=\"%.0f\" text-anchor=middle>%s</text>"
                       "<line class=grid x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                       "<text x=\"%.0f\" y=\"%.1f\" text-anchor=end>%.3g</text>\n",
                       PX(xv), PX(xv), top, top + ph, PX(xv), top + ph + 16, xs, left, left + pw,
                       PY(yv), PY(yv), left - 6, PY(yv) + 4, yv);
  }
  cJSON_ArrayForEach(p, search) {
    int chosen = cJSON_IsTrue(cJSON_GetObjectItem(p, "chosen"));
    pare_strbuf_printf(
        b,
        "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"><title>%.0f bytes, error %.6g%s"
        "</title></circle>\n",
        chosen ? "chosen" : "pt", PX(num(p, "bytes")), PY(num(p, "error")), chosen ? 6 : 3,
        num(p, "bytes"), num(p, "error"), chosen ? " (chosen)" : "");
    if (chosen)
      pare_strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">chosen</text>\n", PX(num(p, "bytes")) + 8,
                         PY(num(p, "error")) - 6);
  }
#undef PX
#undef PY
  pare_strbuf_printf(b,
                     "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                     "<line class=axis x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
                     "<text x=\"%.0f\" y=\"%.0f\" text-anchor=middle>weight bytes%s</text>"
                     "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" "
                     "text-anchor=middle>error</text>\n</svg>\n<p>%d candidates measured</p>\n",
                     left, left + pw, top + ph, top + ph, left, left, top, top + ph, left + pw / 2,
                     top + ph + 34, log_x ? " (log scale)" : "", top + ph / 2, top + ph / 2, n);
}

/* The last value a pass decided for key in a layer (number or string),
 * passes that skipped the layer left out: their figures were not applied. */
static const cJSON *decision(const cJSON *decisions, const char *key) {
  const cJSON *per, *found = NULL;
  cJSON_ArrayForEach(per, decisions) {
    if (cJSON_GetObjectItem(per, "skipped")) continue;
    const cJSON *v = cJSON_GetObjectItem(per, key);
    if (v) found = v;
  }
  return found;
}

static int is_error_key(const char *k) {
  return strcmp(k, "error") == 0 || strcmp(k, "output_error") == 0 ||
         strcmp(k, "calib_output_error") == 0;
}

/* A table cell: the decision's number times scale with suffix, or its text. */
static void cell_decision(pare_strbuf *b, const cJSON *decisions, const char *key, double scale,
                          const char *suffix) {
  const cJSON *v = decision(decisions, key);
  if (cJSON_IsNumber(v))
    pare_strbuf_printf(b, "<td>%.4g%s</td>", v->valuedouble * scale, suffix);
  else if (cJSON_IsString(v)) {
    pare_strbuf_printf(b, "<td>");
    text(b, v->valuestring);
    pare_strbuf_printf(b, "</td>");
  } else
    pare_strbuf_printf(b, "<td></td>");
}

static void layer_table(pare_strbuf *b, const cJSON *layers) {
  pare_strbuf_printf(
      b, "<h2>Layers</h2>\n<div class=scroll><table id=\"layers\"><thead><tr><th class=l>layer</th>"
         "<th class=l>op</th><th class=l>weight shape</th><th class=l>passes</th><th>bits</th>"
         "<th>sparsity</th><th>rank</th><th>bytes before</th><th>bytes after</th>"
         "<th>after / before</th><th>params after</th><th>FLOPs after</th>"
         "<th title=\"the largest relative error a pass measured for the layer: "
         "calib_output_error, output_error or error\">error</th>"
         "<th class=l>other decisions</th></tr></thead>\n<tbody>\n");
  const cJSON *l;
  cJSON_ArrayForEach(l, layers) {
    const cJSON *before = cJSON_GetObjectItem(l, "before"),
                *after = cJSON_GetObjectItem(l, "after");
    const cJSON *dec = cJSON_GetObjectItem(l, "decisions");
    int removed = cJSON_IsTrue(cJSON_GetObjectItem(l, "removed"));
    pare_strbuf_printf(b, "<tr class=\"layer%s\"><td class=\"l name\"><code>",
                       removed ? " removed" : "");
    text(b, str(l, "name"));
    pare_strbuf_printf(b, "</code></td><td class=l>");
    text(b, str(l, "op"));
    pare_strbuf_printf(b, "</td><td class=l>[");
    const cJSON *d;
    int first = 1;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(l, "weight_shape")) {
      pare_strbuf_printf(b, "%s%.0f", first ? "" : ",", d->valuedouble);
      first = 0;
    }
    pare_strbuf_printf(b, "]</td><td class=l>");
    const cJSON *per;
    first = 1;
    cJSON_ArrayForEach(per, dec) {
      pare_strbuf_printf(b, "%s", first ? "" : ", ");
      text(b, per->string);
      first = 0;
    }
    pare_strbuf_printf(b, "</td>");
    cell_decision(b, dec, "bits", 1, "");
    cell_decision(b, dec, "sparsity", 100, "%"); /* a fraction */
    cell_decision(b, dec, "rank", 1, "");
    double x = num(before, "bytes"), y = num(after, "bytes");
    char a[32], c[32], p[32], f[32];
    bytes_text(x, a, sizeof a), bytes_text(y, c, sizeof c);
    count_text(num(after, "parameters"), p, sizeof p), count_text(num(after, "flops"), f, sizeof f);
    pare_strbuf_printf(b, "<td title=\"%.0f\">%s</td><td title=\"%.0f\">%s</td>", x, a, y, c);
    if (x > 0)
      pare_strbuf_printf(b, "<td>%.3f</td>", y / x);
    else
      pare_strbuf_printf(b, "<td>-</td>");
    pare_strbuf_printf(b, "<td>%s</td><td>%s</td>", p, f);
    /* The largest error any pass measured for the layer. */
    double err = -1;
    cJSON_ArrayForEach(per, dec) {
      const cJSON *v;
      cJSON_ArrayForEach(v, per) {
        if (cJSON_IsNumber(v) && is_error_key(v->string)) err = fmax(err, v->valuedouble);
      }
    }
    if (err >= 0)
      pare_strbuf_printf(b, "<td>%.4g</td>", err);
    else
      pare_strbuf_printf(b, "<td></td>");
    pare_strbuf_printf(b, "<td class=dec>");
    cJSON_ArrayForEach(per, dec) {
      const cJSON *v;
      cJSON_ArrayForEach(v, per) {
        if (!strcmp(v->string, "bits") || !strcmp(v->string, "sparsity") ||
            !strcmp(v->string, "rank") || is_error_key(v->string))
          continue;
        text(b, per->string);
        pare_strbuf_printf(b, ".");
        text(b, v->string);
        pare_strbuf_printf(b, "=");
        if (cJSON_IsNumber(v))
          pare_strbuf_printf(b, "%g", v->valuedouble);
        else
          text(b, cJSON_GetStringValue(v));
        pare_strbuf_printf(b, " ");
      }
    }
    pare_strbuf_printf(b, "</td></tr>\n");
  }
  pare_strbuf_printf(b, "</tbody></table></div>\n");
}

static void pass_table(pare_strbuf *b, const cJSON *passes) {
  int n = cJSON_GetArraySize(passes);
  pare_strbuf_printf(b, "<h2>Passes</h2>\n");
  if (n == 0) {
    pare_strbuf_printf(b, "<p class=none>no passes ran</p>\n");
    return;
  }
  double total = 0, most = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, passes) {
    total += num(p, "seconds");
    most = fmax(most, num(p, "seconds"));
  }
  pare_strbuf_printf(
      b,
      "<table id=\"passes\"><thead><tr><th class=l>pass</th><th>seconds</th>"
      "<th class=l>time</th><th>changed</th><th class=l>statistics</th></tr></thead>\n<tbody>\n");
  cJSON_ArrayForEach(p, passes) {
    double s = num(p, "seconds");
    pare_strbuf_printf(b, "<tr class=pass><td class=l>");
    text(b, str(p, "name"));
    pare_strbuf_printf(
        b,
        "</td><td>%.4f</td><td class=l><svg class=\"time\" xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"204\" height=\"12\"><rect class=bar x=\"0\" y=\"1\" width=\"%.1f\" "
        "height=\"10\"/></svg></td><td>%s</td><td class=dec>",
        s, most > 0 ? 200 * s / most : 0,
        cJSON_IsTrue(cJSON_GetObjectItem(p, "changed")) ? "yes" : "no");
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(p, "stats")) {
      text(b, v->string);
      pare_strbuf_printf(b, "=%.0f ", v->valuedouble);
    }
    pare_strbuf_printf(b, "</td></tr>\n");
  }
  pare_strbuf_printf(
      b,
      "</tbody><tfoot><tr><td class=l>total</td><td>%.4f</td><td></td><td></td><td></td></tr>"
      "</tfoot></table>\n",
      total);
}

int report_html_write(const cJSON *root, const char *path, pare_err *err) {
  pare_strbuf b = {0};
  pare_strbuf_printf(
      &b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=\"utf-8\">\n<title>pare report: ");
  text(&b, str(root, "model"));
  pare_strbuf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n", style);
  summary(&b, root);
  const cJSON *layers = cJSON_GetObjectItem(root, "layers");
  size_plot(&b, layers);
  search_plot(&b, cJSON_GetObjectItem(root, "search"));
  layer_table(&b, layers);
  pass_table(&b, cJSON_GetObjectItem(root, "passes"));
  pare_strbuf_printf(&b, "<p class=none>written by pare %s</p>\n</body></html>\n", PARE_VERSION);
  if (b.oom) {
    free(b.s);
    return pare_errf(err, "out of memory");
  }
  int rc = pare_write_file_atomic(path, b.s, b.len, err);
  free(b.s);
  return rc ? pare_err_prefix(err, "--report %s", path) : PARE_OK;
}
