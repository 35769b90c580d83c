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
    "  inspect MODEL [--input-shape NAME=D1,D2,...]... [--format text|json] [--weights]\n"
    "        Print the model as pare IR (after binding shapes and folding constants)\n"
    "        followed by a summary: nodes by op, parameters, bytes and FLOPs.\n"
    "  run MODEL --inputs DIR --output OUTDIR [--input-shape NAME=D1,D2,...]... [--repeat N]\n"
    "        Run the model with the reference interpreter on DIR/input_K.pb\n"
    "        (ONNX TensorProto, K = 0.. in graph-input order) and write\n"
    "        OUTDIR/output_K.pb in graph-output order. Symbolic dims not given\n"
    "        with --input-shape are bound from the input tensors. --repeat N runs\n"
    "        N times and prints the median run time on stderr.\n"
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
  cli_error("unknown command '%s' (see 'pare --help')", cmd);
  return EXIT_USAGE;
}
