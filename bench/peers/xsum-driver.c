/*
 * A peer for `npm run bench:vs-peer -- --kernel exact`: Neal's xsum (https://gitlab.com/radfordneal/xsum,
 * github radfordneal/xsum), built outside this repository. Only this driver lives here; xsum's files
 * are included from the path given at build time (docs/performance-vs-xsum.md):
 *
 *   gcc -O3 -march=native -std=gnu99 -DDOUBLE -I "$XSUM" -o /tmp/xsum-driver bench/peers/xsum-driver.c "$XSUM/xsum.c" -lm
 *
 * Arguments: sum:FILE or dot:FILE, raw little-endian float64 (a dot file holds x, then y). For each,
 * one untimed call, then five lines "<name> <ns> ns/value|ns/pair <bits>", each timing enough calls
 * for about 20 ms of CPU time. <bits> is the result's IEEE bits in hex: for a sum, xsum_large_addv's; for a dot,
 * the correctly rounded dot (each product split exactly by fma), so it can be held to the service's,
 * while the time is xsum_large_add_dot's, which adds the rounded products.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "xsum.h"

/* CPU time of the process, not wall time: on a shared machine a descheduled thread is not slower. */
static double now_ns (void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint64_t bits_of (double value)
{
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

static double *read_file (const char *path, long *count)
{
  FILE *file = fopen(path, "rb");
  if (file == NULL) { perror(path); exit(1); }
  fseek(file, 0, SEEK_END);
  long bytes = ftell(file);
  rewind(file);
  double *values = malloc(bytes);
  if (values == NULL || fread(values, 1, bytes, file) != (size_t)bytes) { perror(path); exit(1); }
  fclose(file);
  *count = bytes / 8;
  return values;
}

static double sum (const double *values, long n)
{
  xsum_large_accumulator acc;
  xsum_large_init(&acc);
  xsum_large_addv(&acc, values, n);
  return xsum_large_round(&acc);
}

static double dot (const double *x, const double *y, long n)
{
  xsum_large_accumulator acc;
  xsum_large_init(&acc);
  xsum_large_add_dot(&acc, x, y, n);
  return xsum_large_round(&acc);
}

/* Exact where no product overflows or underflows: x*y = p + e exactly, with e from one fma. */
static double exact_dot (const double *x, const double *y, long n)
{
  xsum_large_accumulator acc;
  xsum_large_init(&acc);
  for (long i = 0; i < n; i++) {
    double p = x[i] * y[i];
    xsum_large_add1(&acc, p);
    xsum_large_add1(&acc, fma(x[i], y[i], -p));
  }
  return xsum_large_round(&acc);
}

int main (int argc, char **argv)
{
  volatile double sink = 0;
  for (int a = 1; a < argc; a++) {
    int is_dot = strncmp(argv[a], "dot:", 4) == 0;
    if (!is_dot && strncmp(argv[a], "sum:", 4) != 0) { fprintf(stderr, "usage: xsum-driver sum:FILE|dot:FILE...\n"); return 2; }
    const char *path = argv[a] + 4;
    const char *slash = strrchr(path, '/');
    char name[256];
    snprintf(name, sizeof name, "%s", slash == NULL ? path : slash + 1);
    char *dot_at = strrchr(name, '.');
    if (dot_at != NULL) *dot_at = 0;
    long count;
    double *values = read_file(path, &count);
    long n = is_dot ? count / 2 : count;
    const double *y = values + n;
    double result = is_dot ? exact_dot(values, y, n) : sum(values, n);
    long calls = n >= 20000000 ? 1 : 20000000 / n;
    for (int line = 0; line < 5; line++) {
      double started = now_ns();
      for (long k = 0; k < calls; k++) sink += is_dot ? dot(values, y, n) : sum(values, n);
      double ns = (now_ns() - started) / ((double)calls * n);
      printf("%s %.3f %s %016" PRIx64 "\n", name, ns, is_dot ? "ns/pair" : "ns/value", bits_of(result));
    }
    free(values);
  }
  return sink == 12345.6789 ? 3 : 0;
}
