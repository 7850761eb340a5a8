/*
 * post.c - the listener's load: CLIENTS connections, each a thread that
 * POSTs one request after another on its keep-alive connection for
 * SECONDS, and the time from each request's first byte sent to its
 * answer's last byte read.  In C, so the client is not what is measured.
 *
 * usage: post PORT PATH KIND CLIENTS SECONDS [HEADER...]
 *   KIND drop      a JSON message for /drop/<channel>
 *   KIND telegram  a Telegram Update with a new update_id each time
 * Prints "REQ/S P50_MS P99_MS N BAD": the requests answered 2xx per
 * second, the latencies of those, and how many were answered otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXLAT	(4 * 1024 * 1024)

static int port;
static const char *path, *kind;
static char extra[2048];
static double end;
static double *lat;
static unsigned long nlat, bad, seq;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
connect_to(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("post: connect");
		exit(69);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* One request's bytes into buf; returns its length. */
static int
request(char *buf, size_t size, unsigned long n)
{
	char body[512];
	int blen;

	if (strcmp(kind, "telegram") == 0)
		blen = snprintf(body, sizeof body, "{\"update_id\":%lu,"
		    "\"message\":{\"message_id\":%lu,\"date\":1765000000,"
		    "\"chat\":{\"id\":-100123,\"type\":\"group\"},\"from\":"
		    "{\"id\":42,\"first_name\":\"Bench\"},\"text\":\"load %lu\"}}",
		    n, n, n);
	else
		blen = snprintf(body, sizeof body, "{\"subject\":\"load %lu\","
		    "\"body\":\"x\\n\"}", n);
	return snprintf(buf, size, "POST %s HTTP/1.1\r\nHost: bench\r\n"
	    "Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n"
	    "%s", path, extra, blen, body);
}

/* Reads one answer; returns its status, -1 when the connection ended. */
static int
answer(int fd)
{
	char buf[8192], *hdr_end, *cl;
	size_t have = 0, need;
	ssize_t k;
	int status;

	for (;;) {
		if ((k = read(fd, buf + have, sizeof buf - 1 - have)) <= 0)
			return -1;
		have += (size_t)k;
		buf[have] = '\0';
		if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		need = (size_t)(hdr_end + 4 - buf) +
		    (cl ? strtoul(cl + 17, NULL, 10) : 0);
		if (have >= need)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	return status;
}

static void *
client(void *arg)
{
	char req[4096];
	int fd = connect_to(), len, st;
	unsigned long n;
	double t0, t1;

	(void)arg;
	while ((t0 = now()) < end) {
		n = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
		len = request(req, sizeof req, n);
		if (write(fd, req, (size_t)len) != len ||
		    (st = answer(fd)) == -1) {
			close(fd);
			fd = connect_to();
			continue;
		}
		t1 = now();
		pthread_mutex_lock(&mu);
		if (st / 100 == 2 && nlat < MAXLAT)
			lat[nlat++] = (t1 - t0) * 1000;
		else
			bad++;
		pthread_mutex_unlock(&mu);
	}
	close(fd);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t *t;
	double secs, t0;
	int i, n;

	if (argc < 6) {
		fprintf(stderr, "usage: post PORT PATH KIND CLIENTS SECONDS "
		    "[HEADER...]\n");
		return 64;
	}
	port = atoi(argv[1]);
	path = argv[2];
	kind = argv[3];
	n = atoi(argv[4]);
	secs = atof(argv[5]);
	for (i = 6; i < argc; i++) {
		strncat(extra, argv[i], sizeof extra - strlen(extra) - 3);
		strcat(extra, "\r\n");
	}
	if ((lat = malloc(MAXLAT * sizeof *lat)) == NULL ||
	    (t = calloc((size_t)n, sizeof *t)) == NULL)
		return 71;
	seq = (unsigned long)time(NULL) * 1000;	/* new ids on each run */
	t0 = now();
	end = t0 + secs;
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	qsort(lat, nlat, sizeof *lat, cmp);
	if (nlat == 0) {
		printf("0 n/a n/a 0 %lu\n", bad);
		return 0;
	}
	printf("%.0f %.2f %.2f %lu %lu\n", nlat / (now() - t0),
	    lat[nlat / 2], lat[(size_t)(nlat * 0.99)], nlat, bad);
	return 0;
}
