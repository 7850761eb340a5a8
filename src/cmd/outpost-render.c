/*
 * outpost-render - print the requests a channel would send for a
 * message, sending nothing (see preview.h for how).
 *
 * The message is FILE (any message file: in outbound/, or anywhere),
 * else stdin.  The channel is -C, else the directory FILE is in when it
 * names a channel of the config (outbound/<channel>/).  Nothing in the
 * mailbox is written: blobs/ is read for attachments, that is all.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/preview.h"

static struct cli cli;
static const char *channel, *file;

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code ? stderr : stdout, "usage: outpost-render [-hqv] "
	    "[--version] [-M dir] [-c file] [-C channel] [file | -]\n");
	exit(code);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:C:", longopts, NULL)) !=
	    -1)
		switch (c) {
		case 'C': channel = optarg; break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);
		}
	if (argc - optind > 1)
		usage(64);
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		file = argv[optind];
	if (channel != NULL && !name_valid(channel)) {
		log_err("invalid channel name '%s'", channel);
		exit(64);
	}
}

/* The channel: -C, else the name of the directory file is in. */
static const struct channel *
find_channel(void)
{
	static char dir[NAME_LEN];	/* channel points here after */
	const char *end, *start;

	if (channel != NULL)
		return config_channel(cli.cfg, channel);
	if (file == NULL || (end = strrchr(file, '/')) == NULL)
		return NULL;
	for (start = end; start > file && start[-1] != '/'; start--)
		;
	if ((size_t)(end - start) >= sizeof dir)
		return NULL;
	memcpy(dir, start, (size_t)(end - start));
	dir[end - start] = '\0';
	channel = dir;		/* for the error, when it is no channel */
	return name_valid(dir) ? config_channel(cli.cfg, dir) : NULL;
}

static struct message *
read_message(struct err *e)
{
	struct message *m = NULL;
	char *buf = NULL, chunk[65536];
	size_t len = 0, n;
	FILE *mem;

	if (file != NULL)
		return message_load(AT_FDCWD, file, &m, e) == 0 ? m : NULL;
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		err_sys(e, "stdin");
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 &&
	    len + n <= MESSAGE_MAX)
		fwrite(chunk, 1, n, mem);
	if (fclose(mem) != 0 || ferror(stdin)) {
		free(buf);
		err_sys(e, "stdin");
		return NULL;
	}
	if (len + n > MESSAGE_MAX) {
		free(buf);
		err_set(e, ERR_DATA, "stdin: over %d bytes", MESSAGE_MAX);
		return NULL;
	}
	if (message_parse(buf, len, &m, e) == -1)
		m = NULL;
	free(buf);
	return m;
}

int
main(int argc, char **argv)
{
	const struct channel *ch;
	struct message *m;
	struct err e = { 0 };
	int code = 0;

	log_init(argv[0]);
	parse_args(argc, argv);
	/* The owner's, like the secrets it needs to build the requests. */
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	if ((ch = find_channel()) == NULL) {
		if (channel == NULL)
			log_err("no channel: name one with -C");
		else
			log_err("%s: no such channel in %s", channel,
			    cli.cfg->path ? cli.cfg->path : "the config");
		return 78;
	}
	if (config_resolve(cli.cfg, ch->name, &e) == -1)
		cli_die(ch->name, &e);
	if ((m = read_message(&e)) == NULL) {
		if (e.line > 0)
			log_err("%s: line %d: %s", file ? file : "stdin",
			    e.line, e.msg);
		else
			log_err("%s", e.msg);
		return e.class == ERR_NONE ? 65 : err_exitcode(&e);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_err("cannot start libcurl");
		return 70;
	}
	if (preview_message(stdout, &cli.mb, ch, m, file, &e) == -1) {
		log_err("%s: %s", file ? file : "stdin", e.msg);
		code = err_exitcode(&e);
	}
	if (fflush(stdout) != 0 && code == 0)
		code = 74;
	message_free(m);
	curl_global_cleanup();
	cli_close(&cli);
	return code;
}
