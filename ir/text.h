/*
 * text.h - pare's textual IR (.pir): printer, parser and JSON export.
 *
 * The text form captures everything in a pare_graph, so for any graph that
 * passes pare_graph_verify, print -> parse -> print is byte-identical and the
 * parsed graph is structurally equal to the original (values, types, constant
 * bits, encodings, nodes, attributes with their exact types, graph inputs and
 * outputs in order). Pass tests are written in it. Example:
 *
 *   graph @main opset 17 {
 *     input %x : f32[N,3,?,?]
 *     const %w : f32[8,3,3,3] = dense<0.5, -1, inf, nan, ...>
 *     const %b : f32[8] = dense<0>                        # splat: all elements equal
 *     const %q : f32[64,32] = quant<bits=3, symmetric=1, axis=0, group_size=32>
 *         {packed = u8[768] dense<...>, scales = f32[64] dense<...>}
 *     %y : f32[N,8,?,?] = Conv(%x, %w, %b) {group = 1 : int, pads = [1, 1, 1, 1] : ints} @conv1
 *     %v : f32[2], _ = com.example::TwoOut(%y, _) @"node with spaces"
 *     output %y
 *   }
 *
 * Grammar sketch (whitespace, including newlines, separates tokens anywhere;
 * '#' starts a comment that runs to the end of the line):
 *
 *   file     := "graph" ["@" name] "opset" INT "{" stmt* "}"
 *   stmt     := "input" VALUE ":" type
 *             | "const" VALUE ":" type "=" cbody
 *             | "value" VALUE ":" type           # declared, defined by nothing
 *             | results "=" [domain "::"] op "(" [operand {"," operand}] ")" [attrs] ["@" name]
 *             | "output" VALUE
 *   results  := result {"," result} | "(" ")"      # "()" = node without outputs
 *   result   := VALUE ":" type | "_"               # "_" = omitted optional output
 *   operand  := VALUE | "_"                        # "_" = omitted optional input
 *   VALUE    := "%" name
 *   name     := [A-Za-z0-9_.:/-]+ not ending in ':' | STRING
 *   op, domain, attribute and dim-param names: [A-Za-z_][A-Za-z0-9_.]* | STRING
 *   STRING   := C-like "...", escapes \" \\ \n \t \r \xHH; other bytes raw (UTF-8)
 *   type     := DTYPE "[" "*" "]"                  # unknown rank
 *             | DTYPE "[" [dim {"," dim}] "]"      # "[]" = scalar
 *   DTYPE    := f32 f64 f16 i8 i16 i32 i64 u8 u16 u32 u64 bool string undef
 *   dim      := INT | "?" | param | param "=" INT  # param alone = unknown dim, named
 *   cbody    := data [encoding] | encoding         # encoding alone: no dense copy kept
 *   data     := "dense" "<" [elem {"," elem}] ">"  # row-major; one elem = splat
 *             | "elided" "<" "crc32" "=" HEX ">"   # see pare_parse_opts.allow_elided
 *   elem     := INT | FLOAT | true | false         # per the dtype (bool: 0..255 or true/false)
 *   FLOAT    := decimal (1, -0.5, 1e-45) | ["-"] "inf" | ["-"] "nan" | "nan:0x" HEX
 *               ("nan" is the default quiet NaN; "nan:0x7fc00001" gives the exact
 *               bits, sign included, of any other NaN)
 *   encoding := KIND "<" [field "=" INT {"," field "=" INT}] ">" "{" [part {"," part}] "}"
 *   KIND     := quant | sparse | codebook
 *   field    := bits | symmetric | axis | group_size | nm_n | nm_m   (absent = 0)
 *   part     := PART "=" tensor | "outliers" "=" encoding
 *   PART     := packed | scales | zeros | codebook | row_ptr | col_idx | values
 *   tensor   := DTYPE "[" [INT {"," INT}] "]" data
 *   attrs    := "{" [attr {"," attr}] "}"
 *   attr     := aname "=" aval [":" ATYPE]
 *   ATYPE    := int | float | string | tensor | ints | floats | strings
 *   aval     := INT | FLOAT | STRING | "[" [elems] "]" | tensor
 *
 * Attribute types: the printer always writes the ": TYPE" marker, so an INT 1,
 * a FLOAT 1 and INTS [1] stay distinct. The parser infers a missing marker
 * (integer literal -> int, literal with '.', 'e', inf or nan -> float, string,
 * list of those, tensor); an empty list needs the marker.
 *
 * Statement order: the printer writes graph inputs (in order), constants
 * (in value order), declared values, nodes (in order), graph outputs (in
 * order). The parser accepts statements in any order as long as every value
 * is defined before it is used, and runs pare_graph_verify on the result.
 *
 * Canonicalizations (the only things not kept verbatim): a node domain of ""
 * parses back as NULL (both mean ai.onnx); dead nodes (op NULL) are printed
 * as comments and so vanish; values' `producer` and is_graph_* flags are
 * recomputed; value indices follow statement order (compare graphs by value
 * name). Numbers print in the shortest form that reads back bit-exact, laid
 * out like Python's repr (fixed notation for exponents in [-5, 16)).
 */
#ifndef PARE_IR_TEXT_H
#define PARE_IR_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"

/* ------------------------------------------------------------ printing */

typedef struct pare_print_opts {
  /* Constant tensors (values, encoding parts, tensor attributes) with more
   * elements than this print as elided<crc32=...> instead of their data,
   * unless every element is equal (a splat stays exact). 0 = print all. */
  int64_t elide_above;
} pare_print_opts;

/* Writes the text form of g to f. opts may be NULL (print everything).
 * PARE_ERR on a write error. The graph is not modified. */
int pare_graph_print(FILE *f, const pare_graph *g, const pare_print_opts *opts, pare_err *err);

/* Returns the text form as a NUL-terminated malloc'd string the caller frees
 * with free(); NULL + err on OOM. */
char *pare_graph_to_text(const pare_graph *g, const pare_print_opts *opts, pare_err *err);

/* One node statement (no indentation, no newline) as a malloc'd string, for
 * diagnostics in passes; NULL on OOM or bad index. */
char *pare_node_to_text(const pare_graph *g, int node, const pare_print_opts *opts);

/* ------------------------------------------------------------- parsing */

typedef struct pare_parse_opts {
  /* Accept elided<crc32=...> data: such a constant (or part) becomes a
   * zero-filled tensor of its declared type and the crc is not checked.
   * Useful to read back a printed summary for its structure; the weights are
   * lost. When 0, elided data is a parse error. */
  int allow_elided;
} pare_parse_opts;

/* Parses text into a new graph the caller frees with pare_graph_free.
 * `label` names the source in errors ("label:LINE:COL: expected ..."), NULL
 * means "<text>". opts may be NULL (defaults). The result has passed
 * pare_graph_verify; NULL + err otherwise. */
pare_graph *pare_graph_parse(const char *text, const char *label, const pare_parse_opts *opts,
                             pare_err *err);

/* Reads a whole file and parses it with the path as label. */
pare_graph *pare_graph_parse_file(const char *path, const pare_parse_opts *opts, pare_err *err);

/* ---------------------------------------------------------------- JSON */

struct cJSON;

/*
 * JSON summary of a graph:
 *   {"name", "opset",
 *    "inputs":  [{"name", "dtype", "shape": [1,3,-1,-1] | null (unknown rank),
 *                 "dim_params": [null, "N", ...]}],
 *    "outputs": [same],
 *    "values":  [{"name", "dtype", "shape", "dim_params"?, "is_const", "bytes",
 *                 "crc32"? ("0x%08x" of the dense data), "producer" (node index | -1),
 *                 "encoding"?: {"kind", "bits", "symmetric", "axis", "group_size",
 *                               "nm_n", "nm_m", "bytes", "parts": {name: {dtype, shape,
 *                               bytes}}, "outliers"?: {...}}}],
 *    "nodes":   [{"name", "op", "domain"?, "inputs": [name | null], "outputs": [...],
 *                 "attributes": [{"name", "type", "value"}]}]}
 * "bytes" of a value is what it stores: the encoding's bytes if encoded, else
 * the dense data's. Tensor attributes summarize as {dtype, shape, bytes, crc32}
 * plus "data" when they have at most 16 elements. Integers beyond +-2^53 are
 * written as decimal strings so they survive JSON's doubles; NaN/inf floats
 * are written as the strings "nan", "inf", "-inf".
 */

/* Builds the cJSON tree; the caller owns it (cJSON_Delete) and may add to it,
 * e.g. a driver's summary section. NULL + err on OOM. */
struct cJSON *pare_graph_to_cjson(const pare_graph *g, pare_err *err);

/* Pretty-printed JSON as a malloc'd string (free with free()); NULL + err on OOM. */
char *pare_graph_to_json(const pare_graph *g, pare_err *err);

#endif /* PARE_IR_TEXT_H */
