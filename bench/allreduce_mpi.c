/* The cost of Open MPI's allreduce on this machine, the constants of
 * docs/scaling.md's model: MPI_Allreduce (float sum, in place) at every
 * rank of mpirun on sizes 1 KB .. 16 MB and the Fashion MLP's and CNN's
 * gradient sizes, the median of reps calls each started together
 * (barrier), and a least-squares fit (relative error) of the ring cost
 *   t(S) = 2 (N - 1) alpha + 2 (N - 1) / N * S * beta.
 * Then whether a nonblocking MPI_Iallreduce progresses while the rank
 * computes without calling MPI (the backward pass between bucket starts):
 * start it on the gradient size, spin for twice its blocking time, and time
 * the MPI_Wait: once with no spin (the nonblocking call's own cost), once
 * with no MPI call while spinning, once with MPI_Test every test_us
 * microseconds. hidden = 1 - wait / blocking time (negative when the wait
 * costs more than a blocking MPI_Allreduce).
 * Built and run by bench/dist.sh (mpicc -O2, not a CMake target, so the
 * bench folder builds without MPI):
 *   mpirun -np 2 allreduce_mpi [reps] [test_us]
 * Prints (rank 0):
 *   mpi-allreduce ranks=<n> floats=<f> bytes=<B> ms=<median> min_ms=<a> max_ms=<b> [grad=<mlp|cnn>]
 *   mpi-allreduce-fit ranks=<n> alpha_us=<a> beta_ns_per_byte=<b> gbytes_per_s=<g>
 *   mpi-iallreduce ranks=<n> floats=<f> grad=<g> blocking_ms=<t> compute_ms=<c> wait_ms=<w> hidden=<h> test_us=<0|k>
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MLP_FLOATS = 235146, CNN_FLOATS = 225034 }; /* bench/dist_torch.py counts them */

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median seconds of one in-place MPI_Allreduce of n floats; min and max. */
static double time_allreduce(float *buf, int n, int reps, double *mn, double *mx)
{
  double *t = malloc(sizeof *t * (size_t)reps);
  for (int i = 0; i < 3; i++)
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  for (int i = 0; i < reps; i++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    t[i] = MPI_Wtime() - t0;
  }
  double m = median(t, reps);
  *mn = t[0];
  *mx = t[reps - 1];
  free(t);
  return m;
}

/* Spin for s seconds, calling MPI_Test on req every test_s seconds (never
 * when test_s <= 0): the backward pass computing between bucket starts. */
static void spin(double s, MPI_Request *req, double test_s)
{
  double t0 = MPI_Wtime(), next = t0 + test_s;
  volatile double x = 1;
  while (MPI_Wtime() - t0 < s) {
    for (int i = 0; i < 1000; i++) x = x * 1.0000001 + 1e-9;
    if (test_s > 0 && MPI_Wtime() >= next) {
      int done;
      MPI_Test(req, &done, MPI_STATUS_IGNORE);
      next += test_s;
    }
  }
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int reps = argc > 1 ? atoi(argv[1]) : 30;
  double test_us = argc > 2 ? atof(argv[2]) : 100;
  if (reps < 3) reps = 3;
  int sizes[16], ns = 0;
  for (int f = 256; f <= 4 << 20; f *= 4) sizes[ns++] = f; /* 1 KB .. 16 MB */
  sizes[ns++] = MLP_FLOATS;
  sizes[ns++] = CNN_FLOATS;
  float *buf = calloc(4 << 20, sizeof *buf);
  double fs[16], ft[16], tgrad[2] = {0, 0};
  for (int i = 0; i < ns; i++) {
    double mn, mx;
    int r = sizes[i] > (1 << 20) ? (reps / 3 > 5 ? reps / 3 : 5) : reps;
    double m = time_allreduce(buf, sizes[i], r, &mn, &mx);
    const char *g = sizes[i] == MLP_FLOATS ? " grad=mlp" : sizes[i] == CNN_FLOATS ? " grad=cnn" : "";
    if (sizes[i] == MLP_FLOATS) tgrad[0] = m;
    if (sizes[i] == CNN_FLOATS) tgrad[1] = m;
    if (rank == 0)
      printf("mpi-allreduce ranks=%d floats=%d bytes=%d ms=%.4f min_ms=%.4f max_ms=%.4f%s\n",
             size, sizes[i], 4 * sizes[i], 1e3 * m, 1e3 * mn, 1e3 * mx, g);
    fs[i] = 4.0 * sizes[i];
    ft[i] = m;
  }
  if (rank == 0 && size > 1) {
    /* Weighted least squares, weights 1/t, on columns a = 2(N-1), b = 2(N-1)/N S. */
    double saa = 0, sab = 0, sbb = 0, sat = 0, sbt = 0;
    for (int i = 0; i < ns; i++) {
      double w = 1 / ft[i], a = 2.0 * (size - 1) * w, b = 2.0 * (size - 1) / size * fs[i] * w,
             t = ft[i] * w;
      saa += a * a; sab += a * b; sbb += b * b; sat += a * t; sbt += b * t;
    }
    double det = saa * sbb - sab * sab;
    double alpha = (sat * sbb - sbt * sab) / det, beta = (saa * sbt - sab * sat) / det;
    printf("mpi-allreduce-fit ranks=%d alpha_us=%.2f beta_ns_per_byte=%.4f gbytes_per_s=%.2f\n",
           size, alpha * 1e6, beta * 1e9, beta > 0 ? 1e-9 / beta : 0.0);
  }
  for (int g = 0; g < 2; g++) {
    int n = g ? CNN_FLOATS : MLP_FLOATS;
    for (int mode = 0; mode < 3; mode++) { /* no compute; compute; compute + MPI_Test */
      double ts = mode == 2 ? test_us * 1e-6 : 0, compute = mode ? 2 * tgrad[g] : 0;
      double *w = malloc(sizeof *w * (size_t)reps);
      for (int i = 0; i < reps; i++) {
        MPI_Request req;
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req);
        spin(compute, &req, ts);
        double t0 = MPI_Wtime();
        MPI_Wait(&req, MPI_STATUS_IGNORE);
        w[i] = MPI_Wtime() - t0;
      }
      double m = median(w, reps);
      if (rank == 0)
        printf("mpi-iallreduce ranks=%d floats=%d grad=%s blocking_ms=%.4f compute_ms=%.4f wait_ms=%.4f hidden=%.3f test_us=%g\n",
               size, n, g ? "cnn" : "mlp", 1e3 * tgrad[g], 1e3 * compute, 1e3 * m,
               tgrad[g] > 0 ? 1 - m / tgrad[g] : 0.0, mode == 2 ? test_us : 0.0);
      free(w);
    }
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
