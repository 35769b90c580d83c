/*
 * image_to_tensor.c - turns a text-line image (binary PGM or PPM) into the
 * input tensor PP-OCR's classifier and recognizer expect, as an ONNX
 * TensorProto file that `pare run` reads.
 *
 * Preprocessing as PaddleOCR does it: resize to height H keeping the aspect
 * ratio (width capped at W), scale pixels to (v/255 - 0.5)/0.5, pad on the
 * right with 0 up to width W. Output shape [1,3,H,W], float32.
 *
 *   image_to_tensor IN.pgm OUT.pb [--height 48] [--width 192] [--rotate180]
 */
#include "frontend/onnx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct image {
  int w, h, channels;
  unsigned char *px; /* row-major, interleaved channels */
} image;

static int skip_space_and_comments(FILE *f) {
  int c;
  while ((c = fgetc(f)) != EOF) {
    if (c == '#') {
      while ((c = fgetc(f)) != EOF && c != '\n') {
      }
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      ungetc(c, f);
      return 0;
    }
  }
  return -1;
}

static int read_header_int(FILE *f, int *out) {
  return skip_space_and_comments(f) == 0 && fscanf(f, "%d", out) == 1 ? 0 : -1;
}

static int read_pnm(const char *path, image *img) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "image_to_tensor: %s: cannot open\n", path);
    return -1;
  }
  char magic[3] = {0};
  int maxval = 0, rc = -1;
  if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6') ||
      read_header_int(f, &img->w) || read_header_int(f, &img->h) || read_header_int(f, &maxval) ||
      img->w <= 0 || img->h <= 0 || img->w > 16384 || img->h > 16384 || maxval != 255) {
    fprintf(stderr, "image_to_tensor: %s: not an 8-bit binary PGM/PPM (P5/P6)\n", path);
    goto out;
  }
  fgetc(f); /* the single whitespace after maxval */
  img->channels = magic[1] == '5' ? 1 : 3;
  size_t n = (size_t)img->w * (size_t)img->h * (size_t)img->channels;
  img->px = malloc(n);
  if (!img->px || fread(img->px, 1, n, f) != n) {
    fprintf(stderr, "image_to_tensor: %s: truncated pixel data\n", path);
    goto out;
  }
  rc = 0;
out:
  fclose(f);
  return rc;
}

/* Gray level of pixel (x, y), channel c (gray images repeat their channel). */
static float pixel(const image *img, int x, int y, int c) {
  if (img->channels == 1) c = 0;
  return img->px[((size_t)y * (size_t)img->w + (size_t)x) * (size_t)img->channels + (size_t)c];
}

/* Bilinear sample at continuous source coordinates (half-pixel centers). */
static float sample(const image *img, float sx, float sy, int c) {
  sx = fmaxf(0.0f, fminf(sx, (float)img->w - 1));
  sy = fmaxf(0.0f, fminf(sy, (float)img->h - 1));
  int x0 = (int)sx, y0 = (int)sy;
  int x1 = x0 + 1 < img->w ? x0 + 1 : x0, y1 = y0 + 1 < img->h ? y0 + 1 : y0;
  float fx = sx - (float)x0, fy = sy - (float)y0;
  float top = pixel(img, x0, y0, c) * (1 - fx) + pixel(img, x1, y0, c) * fx;
  float bot = pixel(img, x0, y1, c) * (1 - fx) + pixel(img, x1, y1, c) * fx;
  return top * (1 - fy) + bot * fy;
}

int main(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  int height = 48, width = 192, rotate = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--height") == 0 && i + 1 < argc)
      height = atoi(argv[++i]);
    else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc)
      width = atoi(argv[++i]);
    else if (strcmp(argv[i], "--rotate180") == 0)
      rotate = 1;
    else if (!in)
      in = argv[i];
    else if (!out)
      out = argv[i];
    else
      in = NULL, i = argc;
  }
  if (!in || !out || height <= 0 || width <= 0 || height > 4096 || width > 16384) {
    fprintf(stderr, "usage: image_to_tensor IN.pgm|IN.ppm OUT.pb [--height 48] [--width 192] "
                    "[--rotate180]\n");
    return 2;
  }
  image img = {0};
  if (read_pnm(in, &img)) return 1;
  int resized_w = (int)ceil((double)height * img.w / img.h);
  if (resized_w > width) resized_w = width;
  int64_t dims[4] = {1, 3, height, width};
  pare_shape shape = pare_shape_make(4, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(PARE_F32, &shape, &err);
  if (!t) {
    fprintf(stderr, "image_to_tensor: %s\n", err.msg);
    free(img.px);
    return 1;
  }
  float *data = t->data;
  float sx_scale = (float)img.w / (float)resized_w, sy_scale = (float)img.h / (float)height;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < height; y++)
      for (int x = 0; x < resized_w; x++) {
        /* Rotation by 180 degrees happens in source coordinates. */
        float sx = ((float)x + 0.5f) * sx_scale - 0.5f, sy = ((float)y + 0.5f) * sy_scale - 0.5f;
        if (rotate) {
          sx = (float)img.w - 1 - sx;
          sy = (float)img.h - 1 - sy;
        }
        float v = sample(&img, sx, sy, c);
        data[((size_t)c * height + y) * width + x] = (v / 255.0f - 0.5f) / 0.5f;
      }
  int rc = pare_tensor_write_pb(out, t, "x", &err);
  if (rc) fprintf(stderr, "image_to_tensor: %s\n", err.msg);
  pare_tensor_free(t);
  free(img.px);
  return rc ? 1 : 0;
}
