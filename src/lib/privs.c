/*
 * privs.c - whose mailbox it is, and running as that user.
 *
 * The switch follows OpenSSH's permanently_set_uid(): groups first, then
 * the gid, then the uid, and a check that the way back to root is shut.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/privs.h"

int
privs_owner(const char *path, struct owner *o, struct err *e)
{
	struct stat st;
	int fd;

	/* O_PATH: a group member may reach a mailbox it cannot list. */
	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			return err_set(e, ERR_PERM, "mailbox %s: not a "
			    "directory (symbolic links are not followed)", path);
		err_sys(e, "mailbox %s", path);
		if (e != NULL && e->class == ERR_GONE)
			e->class = ERR_PERM;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err_sys(e, "mailbox %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	o->uid = st.st_uid;
	o->gid = st.st_gid;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	return 0;
}

static const char *
user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

/* The environment a login as pw would have, so children look there. */
static void
set_env(const struct passwd *pw)
{
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
}

int
privs_become(const struct owner *o, const char *path, struct err *e)
{
	struct passwd *pw;
	char who[64];
	gid_t gid;
	int r;

	if (geteuid() == o->uid)
		return 0;
	if (geteuid() != 0)
		return err_set(e, ERR_NOPERM, "mailbox %s belongs to %s; run "
		    "this as %s or as root", path,
		    user_name(o->uid, who, sizeof who), who);
	errno = 0;
	pw = getpwuid(o->uid);
	gid = pw != NULL ? pw->pw_gid : o->gid;
	r = pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid);
	if (r == -1 || setgid(gid) == -1 || setuid(o->uid) == -1)
		return err_sys(e, "cannot switch to %s, the owner of %s",
		    user_name(o->uid, who, sizeof who), path);
	if (o->uid != 0 && (setuid(0) != -1 || geteuid() != o->uid))
		return err_set(e, ERR_SOFTWARE, "still root after switching "
		    "to uid %ld", (long)o->uid);
	if (pw != NULL)
		set_env(pw);
	return 0;
}

int
privs_in_group(gid_t gid)
{
	gid_t *list;
	int i, n, in = getegid() == gid;

	if (in || (n = getgroups(0, NULL)) <= 0 ||
	    (list = calloc((size_t)n, sizeof *list)) == NULL)
		return in;
	n = getgroups(n, list);
	for (i = 0; i < n; i++)
		if (list[i] == gid)
			in = 1;
	free(list);
	return in;
}
