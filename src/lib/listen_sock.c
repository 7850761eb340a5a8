/*
 * listen_sock.c - outpost-listen's listening socket: one systemd passed
 * (sd_listen_fds(3) semantics, without libsystemd), or one it binds.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/listen.h"

#define LISTEN_FDS_START 3
#define BACKLOG 1024

int
listen_activated(struct err *e)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct stat st;
	int r = -1;

	if (pid == NULL || fds == NULL)
		return -1;
	/* Not ours: inherited from a parent that was activated itself. */
	if (strtol(pid, NULL, 10) != (long)getpid())
		goto out;
	if (strcmp(fds, "1") != 0) {
		err_set(e, ERR_CONFIG, "LISTEN_FDS=%s: want exactly one "
		    "socket", fds);
		goto out;
	}
	if (fstat(LISTEN_FDS_START, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		err_set(e, ERR_CONFIG, "LISTEN_FDS=1 but fd 3 is not a socket");
		goto out;
	}
	fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	r = LISTEN_FDS_START;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}

/* "host:port" or "[v6]:port" into host and port; -1 when malformed. */
static int
split(const char *addr, char *host, size_t size, const char **port)
{
	const char *colon, *end;
	size_t n;

	if (addr[0] == '[') {
		if ((end = strchr(addr, ']')) == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - addr - 1);
		addr++;
		colon = end + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return -1;
		n = (size_t)(colon - addr);
	}
	if (n == 0 || n >= size || colon[1] == '\0')
		return -1;
	memcpy(host, addr, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

int
listen_bind(const char *addr, struct err *e)
{
	struct addrinfo hints, *ai;
	const char *port;
	char host[256];
	int fd, one = 1, rc;

	if (split(addr, host, sizeof host, &port) == -1)
		return err_set(e, ERR_USAGE, "listen: '%s': want ADDR:PORT or "
		    "[ADDR6]:PORT", addr);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return err_set(e, ERR_USAGE, "listen: '%s': %s", addr,
		    gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		freeaddrinfo(ai);
		return err_sys(e, "listen: socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, BACKLOG) == -1) {
		err_sys(e, "listen: %s", addr);
		if (errno == EADDRINUSE || errno == EACCES)
			e->class = ERR_PERM;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}
