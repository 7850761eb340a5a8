/*
 * test_in_wecom.c - the wecom source's XML reader (in_wecom_xml.c): the
 * envelope and the message as WeCom writes them (INBOUND.md 5.2), and
 * every document it must refuse unread - a DOCTYPE, an entity, a
 * comment - while a user's "<!" inside CDATA is text.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/lib/in_wecom.h"

static int
parse(const char *xml, struct wx *w, struct err *e)
{
	memset(e, 0, sizeof *e);
	return wx_parse(xml, strlen(xml), w, e);
}

Test(wx, envelope_with_cdata_and_newlines)
{
	struct wx w;
	struct err e;

	cr_assert_eq(parse("<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]>"
	    "</ToUserName>\n<Encrypt><![CDATA[Kl7k+/A==]]></Encrypt>\n"
	    "<AgentID><![CDATA[1000002]]></AgentID>\n</xml>", &w, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(w.f[WX_ENCRYPT], "Kl7k+/A==");
	cr_assert_str_eq(w.f[WX_TO], "ww1436e0e65a779aee");
	cr_assert_str_eq(w.f[WX_AGENT], "1000002");
	cr_assert_null(w.f[WX_CONTENT]);
	wx_free(&w);
}

Test(wx, message_fields_first_wins_text_kept)
{
	struct wx w;
	struct err e;

	cr_assert_eq(parse("<xml><FromUserName>ChenJiaShun</FromUserName>"
	    "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType>"
	    "<Content><![CDATA[a <!-- b --> <!DOCTYPE c> &amp;]]></Content>"
	    "<MsgId>1456453720</MsgId><MsgId>2</MsgId>"
	    "<X><MsgType>nested</MsgType></X></xml>", &w, &e), 0, "%s",
	    e.msg);
	cr_assert_str_eq(w.f[WX_CONTENT], "a <!-- b --> <!DOCTYPE c> &amp;");
	cr_assert_str_eq(w.f[WX_MSGID], "1456453720");
	cr_assert_str_eq(w.f[WX_TYPE], "text");
	wx_free(&w);
	cr_assert_eq(parse("<xml><Content>x &lt;y&gt; &amp; z</Content></xml>",
	    &w, &e), 0);
	cr_assert_str_eq(w.f[WX_CONTENT], "x <y> & z");
	wx_free(&w);
}

Test(wx, refused_unread)
{
	static const char *const bad[] = {
		"<!DOCTYPE xml [<!ENTITY x \"y\">]><xml><Encrypt>&x;</Encrypt>"
		    "</xml>",
		"<?xml version=\"1.0\"?><!DOCTYPE xml SYSTEM "
		    "\"http://127.0.0.1:9/x.dtd\"><xml/>",
		"<!doctype xml><xml/>",
		"<xml><!-- a comment --><Encrypt>a</Encrypt></xml>",
		"<xml><Encrypt><![CDATA[a]]></Encrypt></xml><!DOCTYPE x>",
		"<xml><Encrypt>a</Encrypt>",
		"<xml><Encrypt>a</Encrypt></xml><xml/>",
		"<notxml><Encrypt>a</Encrypt></notxml>",
		"<xml><Encrypt>&x;</Encrypt></xml>",
		"",
		"<xml><Encrypt><![CDATA[a</Encrypt></xml>",
	};
	struct wx w;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(parse(bad[i], &w, &e), -1, "accepted: %s", bad[i]);
		cr_assert_eq(e.class, ERR_DATA, "%s: class %d", bad[i],
		    e.class);
		cr_assert_null(w.f[WX_ENCRYPT]);
	}
}

Test(wx, nul_inside_refused)
{
	static const char doc[] = "<xml><Encrypt>a\0<!DOCTYPE</Encrypt></xml>";
	struct wx w;
	struct err e = { 0 };

	cr_assert_eq(wx_parse(doc, sizeof doc - 1, &w, &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
}
