/*
 * test_in_whatsapp_media.c - the hosts a WhatsApp source sends its access token
 * to (whatsapp.h wa_media_trusted): Meta's media hosts over https, or
 * base_url's own origin; never a look-alike or a URL that only seems to
 * name one.
 */
#include <criterion/criterion.h>

#include "outpost/whatsapp.h"

#define BASE WHATSAPP_API
#define LOCAL "http://127.0.0.1:8080/v21.0"

Test(wa_media, meta_hosts_over_https)
{
	cr_assert(wa_media_trusted(BASE, "https://lookaside.fbsbx.com/"
	    "whatsapp_business/attachments/?mid=1&ext=2&hash=x"));
	cr_assert(wa_media_trusted(BASE, "https://LOOKASIDE.FBSBX.COM/x"));
	cr_assert(wa_media_trusted(BASE, "https://fbsbx.com/x"));
	cr_assert(wa_media_trusted(BASE, "https://graph.facebook.com/v21.0/1"));
	cr_assert(wa_media_trusted(BASE, "https://lookaside.fbsbx.com:443/x"));
}

Test(wa_media, not_meta)
{
	cr_assert_not(wa_media_trusted(BASE, "http://lookaside.fbsbx.com/x"));
	cr_assert_not(wa_media_trusted(BASE, "https://evilfbsbx.com/x"));
	cr_assert_not(wa_media_trusted(BASE, "https://fbsbx.com.evil.example/"));
	cr_assert_not(wa_media_trusted(BASE,
	    "https://lookaside.fbsbx.com@evil.example/x"));
	cr_assert_not(wa_media_trusted(BASE,
	    "https://evil.example/lookaside.fbsbx.com"));
	cr_assert_not(wa_media_trusted(BASE,
	    "https://evil.example/?u=https://lookaside.fbsbx.com"));
	cr_assert_not(wa_media_trusted(BASE, "ftp://lookaside.fbsbx.com/x"));
	cr_assert_not(wa_media_trusted(BASE, "lookaside.fbsbx.com/x"));
	cr_assert_not(wa_media_trusted(BASE, ""));
	cr_assert_not(wa_media_trusted(BASE, "https://whatsapp.net/x"));
}

Test(wa_media, base_urls_origin)
{
	cr_assert(wa_media_trusted(LOCAL, "http://127.0.0.1:8080/dl?mid=1"));
	cr_assert_not(wa_media_trusted(LOCAL, "http://127.0.0.1:8081/dl"));
	cr_assert_not(wa_media_trusted(LOCAL, "https://127.0.0.1:8080/dl"));
	cr_assert_not(wa_media_trusted(LOCAL, "http://127.0.0.2:8080/dl"));
	cr_assert_not(wa_media_trusted("not a url", "http://x/"));
	/* The default port is the same port. */
	cr_assert(wa_media_trusted("https://proxy.example/v21.0",
	    "https://proxy.example:443/media"));
}
