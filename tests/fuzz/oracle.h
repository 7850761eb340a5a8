/*
 * oracle.h - what must hold for any input, shared by the libFuzzer
 * targets (tests/fuzz/fuzz_*.c) and the regression test that replays
 * tests/fuzz/regress/ (tests/unit/test_regress.c).
 *
 * Each oracle feeds one input through a library entry point and checks
 * the result.  It returns 0, or -1 with why filled when an invariant is
 * broken; a fuzz target turns -1 into abort() so libFuzzer keeps the
 * input, a test into a failed assertion.  A crash is found by the
 * sanitizers, not here.
 */
#ifndef OUTPOST_FUZZ_ORACLE_H
#define OUTPOST_FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#define ORACLE_WHY 512

/* message_parse; on success the getters, message_emit, message_parse
 * again (the body byte for byte, the emit idempotent), and the setters a
 * dispatcher uses with text taken from the input. */
int oracle_message(const uint8_t *, size_t, char *why);
/* The input as a mode 0600 file, through config_load. */
int oracle_config(const uint8_t *, size_t, char *why);
/* The first byte picks a limit (0, or 50 to 4096 code points;
 * $ORACLE_RENDER_LIMIT overrides it); the rest is a message (or,
 * unparseable but UTF-8, a body) rendered for every dialect and by
 * render_html, render_text and render_title.  Every part: within the
 * limit, UTF-8, nothing live (a tag, a javascript: link) where the
 * client would act on it; Telegram's balanced, Teams' and Lark's JSON
 * arrays. */
int oracle_render(const uint8_t *, size_t, char *why);
/* The input as a mail file, through inbound_from_mime into a private
 * mailbox; the message must emit and parse back. */
int oracle_mime(const uint8_t *, size_t, char *why);

/* Removes the private directory oracle_mime and oracle_config made. */
void oracle_cleanup(void);

#endif
