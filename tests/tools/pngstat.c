/* pngstat: what a test needs to know about a PNG to call it a picture.
 * Reads one non-interlaced 8-bit PNG (grey, grey+alpha, RGB, RGBA or
 * palette, the kinds gnuplot's pngcairo writes), inflates its IDAT chunks
 * with zlib, undoes the scanline filters and prints one line:
 *
 *   width 640 height 480 colours 37 nonbg 0.0812
 *
 * colours counts distinct pixel values (RGBA), nonbg is the fraction of
 * pixels that differ from the most common one (the background). A blank
 * plot has 1 colour and nonbg 0. Exit status 0, or 1 with a message on
 * stderr for anything it cannot read. A test tool, not part of nnlua. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

/* The whole file, or NULL. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    unsigned char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  fclose(f);
  *len = n;
  return buf;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The PNG's header fields and its palette. */
typedef struct {
  uint32_t width, height;
  int depth, ctype, interlace;
  uint32_t palette[256];
  int npalette;
} png_info;

static int fail(const char *path, const char *what) {
  fprintf(stderr, "pngstat: %s: %s\n", path, what);
  return 1;
}

/* Channels per pixel of a colour type, or 0 when unknown. */
static int channels(int ctype) {
  switch (ctype) {
  case 0: return 1;
  case 2: return 3;
  case 3: return 1;
  case 4: return 2;
  case 6: return 4;
  default: return 0;
  }
}

static int paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/* Undoes the filters of rows in place (each row: a filter byte then
 * stride bytes); 0, or -1 for an unknown filter. */
static int unfilter(unsigned char *data, uint32_t height, size_t stride, int bpp) {
  unsigned char *prev = NULL;
  for (uint32_t y = 0; y < height; y++) {
    unsigned char *row = data + (size_t)y * (stride + 1);
    int filter = row[0];
    unsigned char *px = row + 1;
    for (size_t i = 0; i < stride; i++) {
      int a = i >= (size_t)bpp ? px[i - bpp] : 0;
      int b = prev ? prev[i] : 0;
      int c = (prev && i >= (size_t)bpp) ? prev[i - bpp] : 0;
      switch (filter) {
      case 0: break;
      case 1: px[i] = (unsigned char)(px[i] + a); break;
      case 2: px[i] = (unsigned char)(px[i] + b); break;
      case 3: px[i] = (unsigned char)(px[i] + ((a + b) >> 1)); break;
      case 4: px[i] = (unsigned char)(px[i] + paeth(a, b, c)); break;
      default: return -1;
      }
    }
    prev = px;
  }
  return 0;
}

/* The pixel at px as 0xRRGGBBAA. */
static uint32_t pixel(const png_info *in, const unsigned char *px) {
  switch (in->ctype) {
  case 0: return (uint32_t)px[0] * 0x01010100u | 0xff;
  case 2: return be32((const unsigned char[]){px[0], px[1], px[2], 0xff});
  case 3: return px[0] < in->npalette ? in->palette[px[0]] : 0;
  case 4: return (uint32_t)px[0] * 0x01010100u | px[1];
  default: return be32(px);
  }
}

/* A counting hash set of pixel values: open addressing, doubled at half full. */
typedef struct {
  uint32_t *key;
  uint64_t *count;
  size_t cap, used;
} colour_set;

static int set_add(colour_set *s, uint32_t key) {
  if (2 * (s->used + 1) > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint32_t *k = calloc(cap, sizeof *k);
    uint64_t *c = calloc(cap, sizeof *c);
    if (!k || !c) {
      free(k);
      free(c);
      return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->count[i]) continue;
      size_t j = (s->key[i] * 2654435761u) & (cap - 1);
      while (c[j]) j = (j + 1) & (cap - 1);
      k[j] = s->key[i];
      c[j] = s->count[i];
    }
    free(s->key);
    free(s->count);
    s->key = k;
    s->count = c;
    s->cap = cap;
  }
  size_t j = (key * 2654435761u) & (s->cap - 1);
  while (s->count[j] && s->key[j] != key) j = (j + 1) & (s->cap - 1);
  if (!s->count[j]) {
    s->key[j] = key;
    s->used++;
  }
  s->count[j]++;
  return 0;
}

/* Walks the chunks of file (len bytes): fills in and the inflated image
 * data (*raw, *rawlen, owned by the caller). Returns an error text or NULL. */
static const char *read_png(const unsigned char *file, size_t len, png_info *in,
                            unsigned char **raw, size_t *rawlen) {
  static const unsigned char sig[8] = {137, 'P', 'N', 'G', '\r', '\n', 26, '\n'};
  if (len < 8 || memcmp(file, sig, 8) != 0) return "not a PNG (signature)";
  size_t at = 8, want = 0;
  int have_header = 0, done = 0;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit(&z) != Z_OK) return "zlib init failed";
  const char *err = NULL;
  *raw = NULL;
  while (!err && !done) {
    if (len - at < 12) {
      err = "truncated chunk";
      break;
    }
    uint32_t n = be32(file + at);
    const unsigned char *type = file + at + 4, *data = file + at + 8;
    if (n > len - at - 12) {
      err = "chunk runs past the end";
      break;
    }
    if (!memcmp(type, "IHDR", 4) && have_header) {
      err = "two IHDR chunks";
    } else if (!memcmp(type, "IHDR", 4) && n >= 13) {
      in->width = be32(data);
      in->height = be32(data + 4);
      in->depth = data[8];
      in->ctype = data[9];
      in->interlace = data[12];
      have_header = 1;
      if (in->width == 0 || in->height == 0) err = "zero width or height";
      else if (in->depth != 8 || !channels(in->ctype)) err = "not an 8-bit grey/RGB/RGBA/palette PNG";
      else if (in->interlace) err = "interlaced PNGs are not read";
      else if (in->width > 20000 || in->height > 20000) err = "image too large";
      else {
        want = (size_t)in->height * ((size_t)in->width * channels(in->ctype) + 1);
        *raw = malloc(want);
        if (!*raw) err = "out of memory";
        z.next_out = *raw;
        z.avail_out = (uInt)want;
      }
    } else if (!memcmp(type, "PLTE", 4)) {
      in->npalette = (int)(n / 3 > 256 ? 256 : n / 3);
      for (int i = 0; i < in->npalette; i++)
        in->palette[i] = be32((const unsigned char[]){data[3 * i], data[3 * i + 1], data[3 * i + 2], 0xff});
    } else if (!memcmp(type, "tRNS", 4) && in->ctype == 3) {
      for (uint32_t i = 0; i < n && i < (uint32_t)in->npalette; i++)
        in->palette[i] = (in->palette[i] & 0xffffff00u) | data[i];
    } else if (!memcmp(type, "IDAT", 4)) {
      if (!have_header || !*raw) {
        err = "IDAT before IHDR";
        break;
      }
      z.next_in = data;
      z.avail_in = n;
      int zs = inflate(&z, Z_NO_FLUSH);
      if (zs != Z_OK && zs != Z_STREAM_END && !(zs == Z_BUF_ERROR && z.avail_out == 0))
        err = "bad compressed data";
    } else if (!memcmp(type, "IEND", 4)) {
      done = 1;
    }
    at += (size_t)n + 12;
  }
  inflateEnd(&z);
  if (!err && !have_header) err = "no IHDR";
  if (!err && z.total_out != want) err = "image data too short";
  if (err) {
    free(*raw);
    *raw = NULL;
  }
  *rawlen = want;
  return err;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pngstat file.png\n");
    return 2;
  }
  const char *path = argv[1];
  size_t len = 0, rawlen = 0;
  unsigned char *file = slurp(path, &len);
  if (!file) return fail(path, "cannot read");
  png_info in;
  memset(&in, 0, sizeof in);
  unsigned char *raw = NULL;
  const char *err = read_png(file, len, &in, &raw, &rawlen);
  free(file);
  if (err) return fail(path, err);
  int bpp = channels(in.ctype);
  size_t stride = (size_t)in.width * bpp;
  if (unfilter(raw, in.height, stride, bpp) != 0) {
    free(raw);
    return fail(path, "unknown scanline filter");
  }
  colour_set set = {0};
  for (uint32_t y = 0; y < in.height && !err; y++) {
    const unsigned char *row = raw + (size_t)y * (stride + 1) + 1;
    for (uint32_t x = 0; x < in.width; x++) {
      if (set_add(&set, pixel(&in, row + (size_t)x * bpp)) != 0) {
        err = "out of memory";
        break;
      }
    }
  }
  free(raw);
  uint64_t most = 0;
  for (size_t i = 0; i < set.cap; i++)
    if (set.count[i] > most) most = set.count[i];
  free(set.key);
  free(set.count);
  if (err) return fail(path, err);
  double total = (double)in.width * in.height;
  printf("width %u height %u colours %zu nonbg %.4f\n", in.width, in.height, set.used,
         (total - (double)most) / total);
  return 0;
}
