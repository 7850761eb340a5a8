/*
 * test_regress.c - every input kept in tests/fuzz/regress/<target>/,
 * replayed through the oracle of its fuzz target (tests/fuzz/oracle.h),
 * so a bug a fuzzer found stays found.
 *
 * oracle.c is included whole: the test judges a reproducer with exactly
 * the code that found it, and one source file makes one test program.
 * The directory is $OUTPOST_SRC/tests/fuzz/regress, else
 * tests/fuzz/regress.
 */
#include <criterion/criterion.h>

#include "../fuzz/oracle.c"

static void
regress_path(char *buf, size_t size, const char *target, const char *name)
{
	const char *src = getenv("OUTPOST_SRC");
	int n;

	n = snprintf(buf, size, "%s%stests/fuzz/regress/%s%s%s",
	    src != NULL && *src != '\0' ? src : "",
	    src != NULL && *src != '\0' ? "/" : "", target,
	    name != NULL ? "/" : "", name != NULL ? name : "");
	cr_assert(n > 0 && (size_t)n < size, "path too long");
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	ssize_t r;
	size_t have = 0;
	int fd;

	cr_assert_neq(fd = open(path, O_RDONLY | O_CLOEXEC), -1,
	    "cannot open %s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	/* One more byte, so that an empty file is not malloc(0). */
	cr_assert_not_null(p = malloc((size_t)st.st_size + 1));
	while (have < (size_t)st.st_size &&
	    (r = read(fd, p + have, (size_t)st.st_size - have)) > 0)
		have += (size_t)r;
	close(fd);
	cr_assert_eq(have, (size_t)st.st_size, "short read of %s", path);
	*len = have;
	return p;
}

static int
is_input(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Replays every file of regress/<target>/ through oracle. */
static void
replay(const char *target, int (*oracle)(const uint8_t *, size_t, char *))
{
	char dir[4096], path[4096], why[ORACLE_WHY];
	struct dirent **list;
	uint8_t *data;
	size_t len;
	int n, i;

	regress_path(dir, sizeof dir, target, NULL);
	if ((n = scandir(dir, &list, is_input, alphasort)) == -1)
		return;		/* none kept for this target */
	for (i = 0; i < n; i++) {
		regress_path(path, sizeof path, target, list[i]->d_name);
		data = slurp(path, &len);
		why[0] = '\0';
		cr_expect_eq(oracle(data, len, why), 0, "regress/%s/%s: %s",
		    target, list[i]->d_name, why);
		free(data);
		free(list[i]);
	}
	free(list);
}

Test(regress, message) { replay("message", oracle_message); }
Test(regress, config) { replay("config", oracle_config); }
Test(regress, render, .timeout = 120) { replay("render", oracle_render); }
Test(regress, mime) { replay("mime", oracle_mime); }
