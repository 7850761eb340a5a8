/* sdnotify.c - sd_notify(3) by hand (sdnotify.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "outpost/sdnotify.h"

static struct sockaddr_un sa;
static socklen_t salen;

int
sdnotify_init(struct err *e)
{
	const char *s = getenv("NOTIFY_SOCKET");
	size_t n;
	int r = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if ((s[0] == '/' || s[0] == '@') && n >= 2 && n < sizeof sa.sun_path) {
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, s, n);
		if (s[0] == '@')
			sa.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		r = err_set(e, ERR_CONFIG, "NOTIFY_SOCKET=%s: not a unix "
		    "socket; not notifying", s);
	unsetenv("NOTIFY_SOCKET");
	return r;
}

int
sdnotify(const char *msg, struct err *e)
{
	int fd, r = 0;

	if (salen == 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (const struct sockaddr *)&sa, salen) == -1)
		r = err_sys(e, "NOTIFY_SOCKET");
	if (fd != -1)
		close(fd);
	return r;
}
