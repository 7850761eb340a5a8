/*
 * drop.c - drops messages into outbound/CHANNEL/ the way any producer
 * may (tmp/, write, fsync, rename), fast, for the benchmark.
 *
 * usage: drop MAILBOX CHANNEL N [GAP_MS]
 * CHANNEL may be inbound/SOURCE: the files are then chat messages as a
 * source writes them, named by the time as mailbox_uniq() names them
 * (outpost-route reads names so), and the id printed is the name's stem.
 * With GAP_MS, one message every GAP_MS milliseconds, and "ID TIME"
 * printed per message, TIME being when the rename made it visible (the
 * drop proper; the producer's own fsync before it is not outpost's), so
 * the sink's log gives drop-to-request latency.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A name as mailbox_uniq() makes it: the time first. */
static void
stem(char *buf, size_t size, int i)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y%m%dT%H%M%S", &tm);
	snprintf(buf, size, "%s.%06ldZ.%d_%010d_0000.bench", when,
	    ts.tv_nsec / 1000, (int)getpid(), i);
}

int
main(int argc, char **argv)
{
	char tmp[4096], dst[4096], body[1024], id[96];
	int i, n, fd, len, gap, inbound;
	struct timespec ts;
	double t;

	if (argc < 4 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: drop MAILBOX CHANNEL N [GAP_MS]\n");
		return 64;
	}
	gap = argc > 4 ? atoi(argv[4]) : 0;
	snprintf(dst, sizeof dst, "%s/outbound/%s", argv[1], argv[2]);
	mkdir(dst, 0700);
	inbound = strncmp(argv[2], "inbound/", 8) == 0;
	if (inbound) {
		snprintf(dst, sizeof dst, "%s/%s", argv[1], argv[2]);
		mkdir(dst, 0700);
	}
	for (i = 0; i < n; i++) {
		if (inbound)
			stem(id, sizeof id, i);
		else
			snprintf(id, sizeof id, "b%d-%06d", getpid(), i);
		len = snprintf(body, sizeof body, "---\n%s%s\nsubject: "
		    "bench %d\n---\nMessage **%d** of the benchmark, a line "
		    "of text as a cron job would send.\n", inbound ? "" :
		    "id: ", inbound ? "source: bench" : id, i, i);
		snprintf(tmp, sizeof tmp, "%s/tmp/%s", argv[1], id);
		snprintf(dst, sizeof dst, "%s/%s%s/%s.md", argv[1],
		    inbound ? "" : "outbound/", argv[2], id);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
		    write(fd, body, (size_t)len) != len || fsync(fd) == -1 ||
		    close(fd) == -1 || rename(tmp, dst) == -1) {
			perror(tmp);
			return 74;
		}
		t = wall();
		if (gap > 0) {
			printf("%s %.6f\n", id, t);
			fflush(stdout);
			ts.tv_sec = gap / 1000;
			ts.tv_nsec = (gap % 1000) * 1000000L;
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
