/* test_suggest.c - the nearest word to a typo, and when there is none. */
#include <criterion/criterion.h>

#include "outpost/suggest.h"

static const char *const cmds[] = {
	"init", "list", "show", "retry", "flush", "hold", "release",
	"delete", "stats"
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

Test(suggest, distance)
{
	cr_expect_eq(suggest_distance("list", "list"), 0);
	cr_expect_eq(suggest_distance("lsit", "list"), 1);	/* a swap */
	cr_expect_eq(suggest_distance("lst", "list"), 1);
	cr_expect_eq(suggest_distance("", "abc"), 3);
	cr_expect_eq(suggest_distance("kitten", "sitting"), 3);
}

Test(suggest, nearest)
{
	cr_expect_str_eq(suggest_nearest("lsit", cmds, NCMDS), "list");
	cr_expect_str_eq(suggest_nearest("relase", cmds, NCMDS), "release");
	cr_expect_str_eq(suggest_nearest("stat", cmds, NCMDS), "stats");
	cr_expect_str_eq(suggest_nearest("del", cmds, NCMDS), "delete");
}

Test(suggest, none_when_far)
{
	cr_expect_null(suggest_nearest("frob", cmds, NCMDS));
	cr_expect_null(suggest_nearest("x", cmds, NCMDS));
	cr_expect_null(suggest_nearest("", cmds, NCMDS));
	cr_expect_null(suggest_nearest("list", cmds, 0));
}

Test(suggest, long_words_are_far)
{
	char w[200];

	memset(w, 'a', sizeof w - 1);
	w[sizeof w - 1] = '\0';
	cr_expect_eq(suggest_distance(w, "list"), (size_t)-1);
	cr_expect_null(suggest_nearest(w, cmds, NCMDS));
}
