/*
 * compile.c - `pare compile`: a model into an object file (or assembly, LLVM
 * IR, bitcode, a static archive or a shared library), its C header, and
 * optionally a make-style depfile.
 *
 * Every output is first written to a temporary name beside its target and
 * renamed into place only when all of them are complete; on an error or
 * SIGINT/SIGTERM/SIGHUP the temporary files are removed, so no partial or
 * stale-mixed set of outputs is ever left (see "Staging" below).
 */
#include "driver/cli.h"
#include "driver/search.h"

#include "backend/backend.h"
#include "frontend/onnx.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum out_kind { OUT_OBJ, OUT_ASM, OUT_LLVM, OUT_BC, OUT_STATIC, OUT_SHARED } out_kind;
static const char *const out_kind_names[] = {"obj", "asm", "llvm", "bc", "static", "shared"};

typedef struct compile_opts {
  const char *model;
  const char *output;
  const char *header;
  const char *depfile;
  const char *name;
  const char *triple;
  const char *cpu;
  int write_depfile;
  int opt_level;
  int stats;
  out_kind emit;
  input_shapes shapes;
  pass_flags passes;
  /* Automatic compression (driver/search.h): on when a target or a bound
   * is given. */
  int search;
  search_opts so;
} compile_opts;

static const char compile_usage[] =
    "usage: pare compile MODEL -o OUT [options]\n"
    "  MODEL is an .onnx file or pare textual IR (.pir)\n"
    "  --input-shape NAME=D1,D2,...  bind a symbolic input shape (repeatable)\n"
    "  --emit KIND        obj (default), asm, llvm (textual IR), bc (bitcode),\n"
    "                     static (ar archive of the object), shared (shared library,\n"
    "                     linked with $CC or cc)\n"
    "  --header FILE      the C header (default: OUT with its extension replaced by .h)\n"
    "  --name NAME        symbol prefix: NAME_run, NAME_workspace_size (default: the\n"
    "                     model's file name made a C identifier)\n"
    "  -O0 .. -O3         LLVM optimization level (default -O3)\n"
    "  --target TRIPLE    target triple (default: this machine's)\n"
    "  --mcpu CPU         target CPU (default: native, this machine's CPU and features;\n"
    "                     e.g. x86-64-v3 for a portable AVX2 build)\n"
    "  -MD                also write a make-style depfile (default: OUT with .d)\n"
    "  -MF FILE           the depfile's path (implies -MD)\n"
    "  --stats            print workspace, intermediate and weight bytes on stdout\n"
    "                     (and the pass statistics on stderr)\n"
    "automatic compression (needs --calib DIR; --passes, default\n"
    "'fold-batchnorm,cleanup,dce', runs first):\n"
    "  --target-size N|P% weight bytes of the generated code: N bytes, or P percent of\n"
    "                     the uncompressed build's; least held-out error within it\n"
    "  --bits-per-weight B  the same target as B bits per Conv/Gemm/MatMul weight\n"
    "                     (the other constants at their size)\n"
    "  --max-error M=V    a bound on the held-out error against the original model:\n"
    "                     rel-l2 (all outputs), top1 (1 - argmax agreement), ctc (CER\n"
    "                     of the greedy decoding against the original's; needs\n"
    "                     --vocab) or mask<T> (1 - IoU at threshold T); alone, the\n"
    "                     smallest size within it; with a target, fail if the\n"
    "                     result is over it\n"
    "  --vocab FILE       the CTC vocabulary (line k is class k+1)\n"
    "  --search-sets K|A-B  held-out sets of the --calib folder (default: the last\n"
    "                     fifth of the --calib-sets, which the passes then skip)\n"
    "  --search-menu P    the alternatives each layer chooses from, as a pipeline of\n"
    "                     quantize and cluster settings (default: 13 of them, 1 to 8\n"
    "                     bits per weight)\n"
    "  --time-limit S     seconds for the whole search (default 720)\n"
    "  --generations N    most evolutionary steps (default 200)\n"
    "  --seed N           of the evolutionary steps (default 1)\n"
    "The chosen pipeline is printed on stdout ('passes: ...') with the --calib-sets\n"
    "it calibrates on: compiling with those reproduces the output byte for byte.\n"
    "Outputs are written atomically; on any error none is left behind.\n";

static int is_c_identifier(const char *s) {
  if (!*s || isdigit((unsigned char)*s)) return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return 0;
  return 1;
}

/* The model's file name without folder and extension, as a C identifier. */
static char *default_name(const char *model) {
  const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
  size_t n = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base) n = (size_t)(dot - base);
  char *name = malloc(n + 2);
  if (!name) return NULL;
  size_t o = 0;
  if (n == 0 || isdigit((unsigned char)base[0])) name[o++] = '_';
  for (size_t i = 0; i < n; i++) name[o++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
  name[o] = 0;
  return name;
}

/* path with its extension (if any, after the last '/') replaced by ext. */
static char *replace_ext(const char *path, const char *ext) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  size_t n = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
  char *r = malloc(n + strlen(ext) + 1);
  if (!r) return NULL;
  memcpy(r, path, n);
  strcpy(r + n, ext);
  return r;
}

/* The folder of path resolved (symlinks, "." and "..") joined to its last
 * component; NULL when the folder does not exist. */
static char *resolved(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  char *real = realpath(dir, NULL);
  if (!real) return NULL;
  const char *base = slash ? slash + 1 : path;
  size_t n = strlen(real) + strlen(base) + 2;
  char *r = malloc(n);
  if (r) snprintf(r, n, "%s/%s", real, base);
  free(real);
  return r;
}

/* Do two output paths name the same file (out.o and ./out.o)? */
static int same_file(const char *a, const char *b) {
  if (strcmp(a, b) == 0) return 1;
  char *ra = resolved(a), *rb = resolved(b);
  int same = ra && rb && strcmp(ra, rb) == 0;
  free(ra);
  free(rb);
  return same;
}

static int parse_compile_args(int argc, char **argv, compile_opts *o) {
  pare_err err;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    int pf = cli_parse_common_flag(argc, argv, &i, &o->passes, compile_usage);
    if (pf < 0) return EXIT_USAGE;
    if (pf) continue;
    if (strcmp(a, "-o") == 0 && has_value) {
      o->output = argv[++i];
    } else if (strcmp(a, "--header") == 0 && has_value) {
      o->header = argv[++i];
    } else if (strcmp(a, "--name") == 0 && has_value) {
      o->name = argv[++i];
      if (!is_c_identifier(o->name) || strlen(o->name) > 100) {
        cli_error("--name '%s': expected a C identifier of at most 100 characters", o->name);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--emit") == 0 && has_value) {
      const char *k = argv[++i];
      int found = -1;
      for (int j = 0; j < 6; j++)
        if (strcmp(k, out_kind_names[j]) == 0) found = j;
      if (found < 0) {
        cli_error("--emit '%s': expected obj, asm, llvm, bc, static or shared", k);
        return EXIT_USAGE;
      }
      o->emit = (out_kind)found;
    } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
      o->opt_level = a[2] - '0';
    } else if (strcmp(a, "--target") == 0 && has_value) {
      o->triple = argv[++i];
    } else if (strcmp(a, "--mcpu") == 0 && has_value) {
      o->cpu = argv[++i];
    } else if (strcmp(a, "-MD") == 0) {
      o->write_depfile = 1;
    } else if (strcmp(a, "-MF") == 0 && has_value) {
      o->depfile = argv[++i];
      o->write_depfile = 1;
    } else if (strcmp(a, "--stats") == 0) {
      o->stats = 1;
      o->passes.pm.stats = 1;
    } else if (strcmp(a, "--target-size") == 0 && has_value) {
      const char *v = argv[++i];
      char *end;
      double x = strtod(v, &end);
      o->search = 1;
      if (end != v && strcmp(end, "%") == 0 && x > 0 && x <= 100) {
        o->so.target_percent = x;
      } else if (end != v && !*end && x >= 1 && x == floor(x) && x < 9e18) {
        o->so.target_bytes = (int64_t)x;
      } else {
        cli_error("--target-size '%s': expected bytes or a percentage in (0, 100]", v);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--bits-per-weight") == 0 && has_value) {
      char *end;
      o->so.bits_per_weight = strtod(argv[++i], &end);
      o->search = 1;
      if (*end || !(o->so.bits_per_weight > 0 && o->so.bits_per_weight <= 32)) {
        cli_error("--bits-per-weight '%s': expected a number in (0, 32]", argv[i]);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--max-error") == 0 && has_value) {
      if (search_parse_error(argv[++i], &o->so.bound, &err)) {
        cli_error("--max-error %s", err.msg);
        return EXIT_USAGE;
      }
      o->so.has_bound = 1;
      o->search = 1;
    } else if (strcmp(a, "--vocab") == 0 && has_value) {
      o->so.bound.metric.vocab = argv[++i];
    } else if (strcmp(a, "--search-sets") == 0 && has_value) {
      o->so.search_sets = argv[++i];
    } else if (strcmp(a, "--search-menu") == 0 && has_value) {
      o->so.menu = argv[++i];
    } else if ((strcmp(a, "--time-limit") == 0 || strcmp(a, "--generations") == 0 ||
                strcmp(a, "--seed") == 0) &&
               has_value) {
      char *end;
      double x = strtod(argv[++i], &end);
      if (*end || end == argv[i] || !(x >= 0) || x > 1e15 || (a[2] != 't' && x != floor(x))) {
        cli_error("%s '%s': expected a number >= 0", a, argv[i]);
        return EXIT_USAGE;
      }
      if (a[2] == 't')
        o->so.time_limit = x;
      else if (a[2] == 'g')
        o->so.generations = (int)(x < 1e9 ? x : 1e9);
      else
        o->so.seed = (uint64_t)x;
    } else if (strcmp(a, "--input-shape") == 0 && has_value) {
      if (cli_parse_input_shape(argv[++i], &o->shapes, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
      }
    } else if (a[0] == '-' && a[1]) {
      cli_error("compile: unknown option '%s' or missing value", a);
      return EXIT_USAGE;
    } else if (!o->model) {
      o->model = a;
    } else {
      cli_error("compile: more than one model given ('%s' and '%s')", o->model, a);
      return EXIT_USAGE;
    }
  }
  if (!o->model || !o->output) {
    fputs(compile_usage, stderr);
    return EXIT_USAGE;
  }
  int sizes = (o->so.target_bytes > 0 || o->so.target_percent > 0) + (o->so.bits_per_weight > 0);
  if (sizes > 1) {
    cli_error("compile: --target-size and --bits-per-weight are two targets; give one");
    return EXIT_USAGE;
  }
  if (o->search && !o->passes.calib) {
    cli_error("compile: --target-size, --bits-per-weight and --max-error need --calib DIR");
    return EXIT_USAGE;
  }
  if (!o->search && (o->so.search_sets || o->so.menu)) {
    cli_error("compile: --search-sets and --search-menu need --target-size, --bits-per-weight "
              "or --max-error");
    return EXIT_USAGE;
  }
  if (o->so.has_bound && o->so.bound.metric.kind == METRIC_CTC && !o->so.bound.metric.vocab) {
    cli_error("compile: --max-error ctc=... needs --vocab FILE");
    return EXIT_USAGE;
  }
  return 0;
}

/* Runs the search and makes its pipeline the one compiled. */
static int search_pipeline(compile_opts *o, search_result *r, pare_err *err) {
  char *prefix = o->passes.pipeline.n ? pare_pipeline_string(&o->passes.pipeline)
                                      : strdup("fold-batchnorm,cleanup,dce");
  if (!prefix) return pare_errf(err, "out of memory");
  o->so.model = o->model;
  o->so.shapes = &o->shapes;
  o->so.prefix = prefix;
  o->so.calib = o->passes.calib;
  o->so.calib_sets = o->passes.calib_sets;
  o->so.log = stderr;
  int rc = search_run(&o->so, r, err);
  free(prefix);
  if (rc) return rc;
  pare_pipeline_free(&o->passes.pipeline);
  if (pare_pipeline_parse(r->pipeline, &o->passes.pipeline, err))
    return pare_err_prefix(err, "the search's pipeline");
  o->passes.calib_sets = r->calib_sets;
  o->passes.search_points = r->points;
  o->passes.n_search_points = r->n_points;
  return PARE_OK;
}

static void print_search(const compile_opts *o, const search_result *r) {
  printf("search: %d candidates measured in %.0f s, %d evolutionary steps%s, %d held-out "
         "sets\n",
         r->evaluations, r->seconds, r->generations,
         r->time_limited ? " (cut short by --time-limit)" : "", r->n_held_out);
  printf("search: weight bytes %lld -> %lld (%.2f%% of the uncompressed build",
         (long long)r->base_bytes, (long long)r->bytes,
         100.0 * (double)r->bytes / (double)r->base_bytes);
  if (r->target > 0) printf("; target %lld", (long long)r->target);
  printf(")\n");
  printf("search: held-out relative L2 error %.6g", r->rel_l2);
  if (o->so.has_bound && !o->so.bound.rel_l2)
    printf(", %s %.6g (bound %g)", metric_kind_name(o->so.bound.metric.kind), r->metric,
           o->so.bound.bound);
  printf("\n");
  printf("calib-sets: %s\n", r->calib_sets);
  printf("passes: %s\n", r->pipeline);
}

/* ------------------------------------------------------- staged outputs */

#define MAX_OUTPUTS 3
#define SLOT_OBJECT MAX_OUTPUTS /* the object inside an archive or library */

/* Staging. Output i (the artifact, the header, the depfile) is written to a
 * temporary file beside its target (mkstemp, so same folder, same file
 * system) and renamed onto the target once every output is complete. The
 * object that goes into an archive or library is written into a temporary
 * folder beside the artifact, as NAME.o, so the archive's member name is
 * stable. These names are kept where the signal handler can reach them; it
 * may only unlink and rmdir. */
static char stage_dir[4096];
static char staged[MAX_OUTPUTS + 1][4200];

static void remove_stage(void) {
  for (int i = 0; i < MAX_OUTPUTS + 1; i++)
    if (staged[i][0]) unlink(staged[i]);
  if (stage_dir[0]) rmdir(stage_dir);
  memset(staged, 0, sizeof staged);
  stage_dir[0] = 0;
}

static void on_signal(int sig) {
  remove_stage();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_cleanup(void) {
  static int done;
  if (done) return;
  done = 1;
  /* LLVM's fatal errors exit() from inside codegen: clean up then too. */
  atexit(remove_stage);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

/* Reserves the staged name of output `slot`, beside target. */
static int stage_file(int slot, const char *target, pare_err *err) {
  install_cleanup();
  char *tmp = pare_temp_path_for(target);
  if (!tmp) return pare_errf(err, "out of memory");
  snprintf(staged[slot], sizeof staged[slot], "%s", tmp);
  free(tmp);
  int fd = mkstemp(staged[slot]);
  if (fd < 0) {
    int e = errno;
    staged[slot][0] = 0;
    return pare_errf(err, "%s: cannot write to its folder: %s", target, strerror(e));
  }
  close(fd);
  return PARE_OK;
}

/* The staged object NAME.o in a temporary folder beside the artifact. */
static const char *stage_object(const char *output, const char *name, pare_err *err) {
  install_cleanup();
  const char *slash = strrchr(output, '/');
  if (!slash)
    snprintf(stage_dir, sizeof stage_dir, ".pare-XXXXXX");
  else if (slash == output)
    snprintf(stage_dir, sizeof stage_dir, "/.pare-XXXXXX");
  else
    snprintf(stage_dir, sizeof stage_dir, "%.*s/.pare-XXXXXX", (int)(slash - output), output);
  if (!mkdtemp(stage_dir)) {
    int e = errno;
    stage_dir[0] = 0;
    pare_errf(err, "%s: cannot write to its folder: %s", output, strerror(e));
    return NULL;
  }
  snprintf(staged[SLOT_OBJECT], sizeof staged[SLOT_OBJECT], "%s/%s.o", stage_dir, name);
  return staged[SLOT_OBJECT];
}

/* Renames the staged files onto their targets (with their final modes);
 * removes the ones already published if a later one fails. */
static int publish(const char *const *targets, const mode_t *modes, int n, pare_err *err) {
  for (int i = 0; i < n; i++) {
    if (chmod(staged[i], modes[i]) != 0 || rename(staged[i], targets[i]) != 0) {
      int e = errno;
      for (int j = 0; j < i; j++) unlink(targets[j]);
      return pare_errf(err, "%s: cannot write: %s", targets[i], strerror(e));
    }
    staged[i][0] = 0;
  }
  return PARE_OK;
}

/* Make-style depfile: "OUT: MODEL EXTERNAL...", spaces and '$' escaped. */
static int write_depfile(const char *path, const char *target, char **files, int n, pare_err *err) {
  size_t cap = strlen(target) * 2 + 8;
  for (int i = 0; i < n; i++) cap += strlen(files[i]) * 2 + 4;
  char *buf = malloc(cap), *p = buf;
  if (!buf) return pare_errf(err, "out of memory");
  for (int i = -1; i < n; i++) {
    const char *s = i < 0 ? target : files[i];
    if (i >= 0) *p++ = ' ';
    for (; *s; s++) {
      if (*s == ' ' || *s == '#') *p++ = '\\';
      if (*s == '$') *p++ = '$';
      *p++ = *s;
    }
    if (i < 0) *p++ = ':';
  }
  *p++ = '\n';
  int rc = pare_write_file(path, buf, (size_t)(p - buf), err);
  free(buf);
  return rc;
}

static void print_stats(const char *model, const pare_cg_stats *s) {
  printf("pare: %s\n", model);
  printf("  workspace         %12lld bytes (planned intermediates %lld + kernel scratch %lld)\n",
         (long long)s->workspace_bytes, (long long)s->planned_bytes, (long long)s->scratch_bytes);
  printf("  intermediates     %12lld bytes if each had its own buffer (plan uses %.1f%%)\n",
         (long long)s->naive_bytes,
         s->naive_bytes ? 100.0 * (double)s->planned_bytes / (double)s->naive_bytes : 0.0);
  printf("  weights           %12lld bytes of read-only data\n", (long long)s->weight_bytes);
  printf("  kernels           %12d (%d nodes fused into other nodes' kernels)\n", s->n_kernels,
         s->n_fused);
  if (s->n_int8)
    printf("  int8 layers       %12d (QDQ Conv/Gemm/MatMul on integer kernels)\n", s->n_int8);
}

/* Emits the main artifact of kind o->emit into staged slot 0. */
static int emit_artifact(pare_module *m, const compile_opts *o, pare_err *err) {
  static const pare_emit_kind direct[] = {PARE_EMIT_OBJ, PARE_EMIT_ASM, PARE_EMIT_LLVM,
                                          PARE_EMIT_BC};
  if (o->emit <= OUT_BC) return pare_module_emit(m, direct[o->emit], staged[0], err);
  const char *obj = stage_object(o->output, o->name, err);
  if (!obj || pare_module_emit(m, PARE_EMIT_OBJ, obj, err)) return PARE_ERR;
  return o->emit == OUT_STATIC ? pare_archive_static(obj, staged[0], err)
                               : pare_link_shared(obj, staged[0], err);
}

static int compile_model(compile_opts *o, pare_err *err) {
  pare_graph *g = cli_load_model(o->model, &o->shapes, err);
  if (!g) return PARE_ERR;
  int rc = cli_make_static(g, o->model, err);
  if (!rc) rc = cli_run_passes(g, &o->passes, o->model, err);
  pare_module *m = NULL;
  if (!rc) {
    pare_cg_opts co = {
        .name = o->name, .opt_level = o->opt_level, .triple = o->triple, .cpu = o->cpu};
    m = pare_codegen(g, &co, err);
    if (!m) rc = pare_err_prefix(err, "%s", o->model);
  }
  if (!rc) rc = pare_module_optimize(m, err);
  const char *targets[3] = {o->output, o->header, o->depfile};
  const mode_t modes[3] = {o->emit == OUT_SHARED ? 0755 : 0644, 0644, 0644};
  int n_out = o->write_depfile ? 3 : 2;
  for (int i = 0; !rc && i < n_out; i++) rc = stage_file(i, targets[i], err);
  if (!rc) rc = emit_artifact(m, o, err);
  if (!rc) rc = pare_header_write(g, o->name, pare_module_stats(m), staged[1], err);
  char **files = NULL;
  int n_files = 0;
  if (!rc && o->write_depfile) {
    rc = pare_onnx_input_files(o->model, &files, &n_files, err);
    if (!rc) rc = write_depfile(staged[2], o->output, files, n_files, err);
  }
  if (!rc) rc = publish(targets, modes, n_out, err);
  if (!rc && o->stats) print_stats(o->model, pare_module_stats(m));
  pare_free_file_list(files, n_files);
  remove_stage();
  pare_module_free(m);
  pare_graph_free(g);
  return rc;
}

int cmd_compile(int argc, char **argv) {
  compile_opts o;
  memset(&o, 0, sizeof o);
  o.opt_level = 3;
  o.so.time_limit = 720;
  o.so.generations = 200;
  o.so.seed = 1;
  char *name = NULL, *header = NULL, *depfile = NULL;
  int rc = parse_compile_args(argc, argv, &o);
  if (!rc && !o.name && !(o.name = name = default_name(o.model))) rc = EXIT_MODEL_ERROR;
  if (!rc && !o.header && !(o.header = header = replace_ext(o.output, ".h"))) rc = EXIT_MODEL_ERROR;
  if (!rc && o.write_depfile && !o.depfile && !(o.depfile = depfile = replace_ext(o.output, ".d")))
    rc = EXIT_MODEL_ERROR;
  if (!rc && (same_file(o.header, o.output) ||
              (o.depfile && (same_file(o.depfile, o.output) || same_file(o.depfile, o.header))))) {
    cli_error("compile: the output, header and depfile must be different files");
    rc = EXIT_USAGE;
  }
  search_result sr = {0};
  if (!rc) {
    pare_err err = {{0}};
    if ((o.search && search_pipeline(&o, &sr, &err)) || compile_model(&o, &err)) {
      cli_error("%s", err.msg);
      rc = EXIT_MODEL_ERROR;
    } else if (o.search) {
      print_search(&o, &sr);
    }
  }
  search_result_free(&sr);
  free(name);
  free(header);
  free(depfile);
  cli_free_input_shapes(&o.shapes);
  cli_free_pass_flags(&o.passes);
  return rc;
}
