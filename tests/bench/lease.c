/*
 * lease.c - what claims as leases cost: a claim (rename + the lease's
 * first mtime) against a bare rename, and renewing N claims in flight.
 *
 * usage: bench-lease DIR [N]   (DIR on the file system to measure)
 * Prints figures, medians of 5 runs; asserts nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "outpost/claim.h"
#include "outpost/mailbox.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
fill(int dir, int n)
{
	char name[64];
	FILE *f;
	int i, fd;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "m%06d.md", i);
		if ((fd = openat(dir, name, O_WRONLY | O_CREAT, 0600)) == -1 ||
		    (f = fdopen(fd, "w")) == NULL) {
			perror(name);
			exit(1);
		}
		fputs("---\nid: x\n---\nbody\n", f);
		fclose(f);
	}
}

/* One run: n claims taken (or bare renames), then n renewals. */
static void
run(struct mailbox *mb, int out, int act, int n, double *take, double *bare,
    double *renew)
{
	char (*claimed)[NAME_LEN] = calloc((size_t)n, NAME_LEN), name[64];
	struct err e;
	double t;
	int i;

	fill(out, n);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "m%06d.md", i);
		if (claim_take(mb, out, name, act, claimed[i], &e) == -1) {
			fprintf(stderr, "%s\n", e.msg);
			exit(1);
		}
	}
	*take = now() - t;
	t = now();
	for (i = 0; i < n; i++)
		if (claim_renew(mb, act, claimed[i], &e) == -1) {
			fprintf(stderr, "%s\n", e.msg);
			exit(1);
		}
	*renew = now() - t;
	for (i = 0; i < n; i++)
		unlinkat(act, claimed[i], 0);
	fill(out, n);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "m%06d.md", i);
		snprintf(claimed[i], NAME_LEN, "m%06d:h:1.md", i);
		mailbox_move(out, name, act, claimed[i], 0, &e);
	}
	*bare = now() - t;
	for (i = 0; i < n; i++)
		unlinkat(act, claimed[i], 0);
	free(claimed);
}

int
main(int argc, char **argv)
{
	double take[5], bare[5], renew[5];
	char path[4096];
	struct mailbox mb;
	struct err e;
	int n = argc > 2 ? atoi(argv[2]) : 1000, out, act, r;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: bench-lease DIR [N]\n");
		return 64;
	}
	snprintf(path, sizeof path, "%s/lease-mb", argv[1]);
	if (mailbox_init(path, &e) == -1 || mailbox_open(&mb, path, &e) == -1 ||
	    (out = mailbox_dir(&mb, ST_OUTBOUND, "b", 1, &e)) == -1 ||
	    (act = mailbox_dir(&mb, ST_ACTIVE, "b", 1, &e)) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (r = 0; r < 5; r++)
		run(&mb, out, act, n, &take[r], &bare[r], &renew[r]);
	qsort(take, 5, sizeof *take, cmp);
	qsort(bare, 5, sizeof *bare, cmp);
	qsort(renew, 5, sizeof *renew, cmp);
	printf("claim (rename + lease): %.1f us each; bare rename %.1f us\n",
	    take[2] / n * 1e6, bare[2] / n * 1e6);
	printf("renewing %d claims: %.2f ms a round (every claim_lease/3; "
	    "%.4f%% of one core at the default 5m)\n", n, renew[2] * 1e3,
	    renew[2] / 100.0 * 100.0);
	mailbox_close(&mb);
	return 0;
}
