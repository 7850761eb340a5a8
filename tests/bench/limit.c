/*
 * limit.c - the filesystem's own rate for the Maildir step, the number
 * every outpost figure is compared with: create a 1 KiB file in tmp/,
 * write, fsync, rename into new/, fsync new/.
 *
 * usage: limit DIR N
 * Prints "messages/s" for N steps in DIR (which it fills and empties).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char tmp[4096], dst[4096], buf[1024];
	int i, n, fd, newfd;
	double t0, t;

	if (argc != 3 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: limit DIR N\n");
		return 64;
	}
	snprintf(tmp, sizeof tmp, "%s/tmp", argv[1]);
	snprintf(dst, sizeof dst, "%s/new", argv[1]);
	mkdir(argv[1], 0700);
	mkdir(tmp, 0700);
	mkdir(dst, 0700);
	if ((newfd = open(dst, O_RDONLY | O_DIRECTORY)) == -1) {
		perror(dst);
		return 74;
	}
	memset(buf, 'x', sizeof buf);
	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof tmp, "%s/tmp/%d", argv[1], i);
		snprintf(dst, sizeof dst, "%s/new/%d", argv[1], i);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
		    write(fd, buf, sizeof buf) != (ssize_t)sizeof buf ||
		    fsync(fd) == -1 || close(fd) == -1 ||
		    rename(tmp, dst) == -1 || fsync(newfd) == -1) {
			perror(tmp);
			return 74;
		}
	}
	t = now() - t0;
	printf("%.0f\n", n / t);
	for (i = 0; i < n; i++) {
		snprintf(dst, sizeof dst, "%s/new/%d", argv[1], i);
		unlink(dst);
	}
	return 0;
}
