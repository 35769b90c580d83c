/*
 * main.c - the pare command line: dispatch to subcommands.
 */
#include "driver/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: pare <command> [options]\n"
    "\n"
    "pare is an ahead-of-time ONNX model-compression compiler.\n"
    "\n"
    "commands:\n"
    "  passes\n"
    "        List the passes --passes accepts, with their options and defaults.\n"
    "  inspect MODEL [--input-shape NAME=D1,D2,...]... [--format text|json] [--weights]\n"
    "        Print the model as pare IR (after binding shapes and folding constants)\n"
    "        followed by a summary: nodes by op, parameters, bytes and FLOPs.\n"
    "  compile MODEL -o OUT [--emit obj|asm|llvm|bc|static|shared] [--header FILE]\n"
    "          [--name NAME] [-O0..-O3] [--target TRIPLE] [--mcpu CPU] [-MD] [-MF FILE]\n"
    "          [--input-shape NAME=D1,D2,...]... [--stats]\n"
    "        Compile the model through LLVM into native code specialized to its\n"
    "        shapes and a C header declaring NAME_run and NAME_workspace_size\n"
    "        (see 'pare compile --help').\n"
    "  run MODEL --inputs DIR --output OUTDIR [--input-shape NAME=D1,D2,...]...\n"
    "          [--engine interp|jit|aot] [-O0..-O3] [--repeat N]\n"
    "        Run the model on DIR/input_K.pb (ONNX TensorProto, K = 0.. in\n"
    "        graph-input order) and write OUTDIR/output_K.pb in graph-output\n"
    "        order, with the reference interpreter (default) or the generated\n"
    "        code (jit: in-process through LLVM's ORC JIT; aot: compiled to a\n"
    "        shared library and loaded). Symbolic dims not given with\n"
    "        --input-shape are bound from the input tensors. --repeat N runs N\n"
    "        times and prints the median run time on stderr.\n"
    "  eval MODEL --data DIR [--passes PIPELINE | --compressed LIB] [--sets A-B]\n"
    "          [--metric top1|ctc|mask<T>] [--labels FILE] [--vocab FILE] [--json]\n"
    "        Run MODEL and its compressed form on every DIR/test_data_set_K: per\n"
    "        output the error against the original, and the task metric (see\n"
    "        'pare eval --help').\n"
    "  report REPORT.json -o REPORT.html\n"
    "        Draw a JSON report of --report as a self-contained HTML page.\n"
    "\n"
    "compile, run and inspect take --passes PIPELINE (e.g. 'fold-batchnorm,cleanup,dce')\n"
    "with --print-after-all, --print-after NAMES, --print-before NAMES,\n"
    "--print-changed, --time-passes, --verify-each and --stats, and --max-memory\n"
    "BYTES (a cap on the tensor data held at once, K/M/G/T suffixes, default 8G);\n"
    "MODEL may be an .onnx file or pare textual IR (.pir).\n"
    "\n"
    "options:\n"
    "  -h, --help     this text\n"
    "  --version      print pare's version\n"
    "\n"
    "exit status: 0 success, 1 model/input/output error (one line on stderr),\n"
    "2 usage error.\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("pare %s\n", PARE_VERSION);
    return 0;
  }
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "compile") == 0) return cmd_compile(argc - 1, argv + 1);
  if (strcmp(cmd, "passes") == 0) return cmd_passes(argc - 1, argv + 1);
  if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
  if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
  cli_error("unknown command '%s' (see 'pare --help')", cmd);
  return EXIT_USAGE;
}
