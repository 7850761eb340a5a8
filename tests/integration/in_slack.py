#!/usr/bin/env python3
"""in_slack.py - Slack's side of t_in_slack.sh, made here, not by outpost.

  in_slack.py sign SECRET TS FILE   the X-Slack-Signature of FILE's bytes:
                                    "v0=" hex HMAC-SHA256(SECRET, "v0:TS:" body)
  in_slack.py events DIR            the request bodies, as Slack sends them,
                                    one file each in DIR
"""
import hashlib, hmac, json, os, sys

TEAM, APP, BOT = "T0TEAM", "A0OURAPP", "U0OURBOT"


def sign(secret, ts, body):
    base = b"v0:" + ts.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def envelope(eid, event, t=1700000000):
    return {"token": "XXYYZZ", "team_id": TEAM, "api_app_id": APP,
            "event": event, "type": "event_callback", "event_id": eid,
            "event_time": t,
            "authorizations": [{"enterprise_id": None, "team_id": TEAM,
                                "user_id": BOT, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "context_team_id": TEAM}


def msg(ts, text, **kw):
    e = {"type": "message", "channel": "C024BE91L", "user": "U2147483697",
         "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel"}
    e.update(kw)
    return e


def f(fid, name, url, mime="application/octet-stream"):
    return {"id": fid, "name": name, "title": name, "mimetype": mime,
            "filetype": "binary", "size": 9, "mode": "hosted",
            "url_private": url, "url_private_download": url + "?dl=1"}


def events(d, files, foreign):
    fp = "http://127.0.0.1:%s/files-pri/T0TEAM-" % files
    ev = {
        "msg": envelope("Ev0MSG1", msg("1700000000.000100",
                        "Live long & prosper &lt;b&gt; <@U0OURBOT>")),
        "mention": envelope("Ev0MENTION1", {
            "type": "app_mention", "channel": "C024BE91L",
            "user": "U2147483697", "ts": "1700000000.000100",
            "event_ts": "1700000000.000100",
            "text": "Live long & prosper &lt;b&gt; <@U0OURBOT>"}),
        "inthread": envelope("Ev0THREAD1", msg(
            "1700000100.000200", "a reply in the thread",
            thread_ts="1700000000.000100", parent_user_id="U2147483697",
            user_profile={"display_name": "", "real_name": "Ann Lee"})),
        "changed": envelope("Ev0CHANGED1", {
            "type": "message", "subtype": "message_changed", "hidden": True,
            "channel": "C024BE91L", "ts": "1700000200.000300",
            "event_ts": "1700000200.000300",
            "message": {"type": "message", "user": "U2147483697",
                        "text": "edited", "ts": "1700000000.000100"},
            "previous_message": {"type": "message", "user": "U2147483697",
                                 "text": "before", "ts": "1700000000.000100"}}),
        "join": envelope("Ev0JOIN1", msg("1700000300.000400",
                         "<@U2147483697> has joined the channel",
                         subtype="channel_join")),
        "reaction": envelope("Ev0REACT1", {
            "type": "reaction_added", "user": "U2147483697",
            "reaction": "thumbsup", "event_ts": "1700000400.000500",
            "item": {"type": "message", "channel": "C024BE91L",
                     "ts": "1700000000.000100"}}),
        "own": envelope("Ev0OWN1", msg("1700000500.000600", "our answer",
                        user=BOT, bot_id="B0OURBOT", app_id=APP,
                        bot_profile={"id": "B0OURBOT", "app_id": APP})),
        "ownold": envelope("Ev0OWN2", msg("1700000510.000600", "our old",
                           subtype="bot_message", bot_id="B0OURBOT",
                           user=None, username="ourbot",
                           bot_profile={"id": "B0OURBOT", "app_id": APP})),
        "otherbot": envelope("Ev0BOT1", msg("1700000600.000700", "CI failed",
                             bot_id="B0CI", app_id="A0CI", user="U0CIBOT")),
        "files": envelope("Ev0FILES1", msg(
            "1700000700.000800", "the report", subtype="file_share",
            files=[f("F1", "report.bin", fp + "F1/report.bin"),
                   f("F2", "evil.txt",
                     "http://127.0.0.1:%s/files-pri/T0TEAM-F2/evil.txt"
                     % foreign, "text/plain"),
                   f("F3", "gone.txt", fp + "F3/gone.txt", "text/plain"),
                   {"id": "F4", "mode": "file_access",
                    "file_access": "check_file_info"},
                   # The allowed origin as user info: the host is foreign.
                   f("F6", "trick.txt", "http://127.0.0.1:%s@127.0.0.1:%s"
                     "/files-pri/T0TEAM-F6/trick.txt" % (files, foreign))])),
        "flaky": envelope("Ev0FLAKY1", msg(
            "1700000800.000900", "flaky file", subtype="file_share",
            files=[f("F5", "flaky.bin", fp + "F5/flaky.bin")])),
        "ratelimited": {"token": "XXYYZZ", "type": "app_rate_limited",
                        "team_id": TEAM, "minute_rate_limited": 1518467820,
                        "api_app_id": APP},
    }
    # Slack's own ordering and spacing is its business: compact here.
    for k, v in ev.items():
        if k == "ownold":
            del v["event"]["user"]
        with open(os.path.join(d, k + ".json"), "wb") as o:
            o.write(json.dumps(v, separators=(",", ":")).encode())


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        print(sign(sys.argv[2], sys.argv[3], open(sys.argv[4], "rb").read()))
    elif sys.argv[1] == "events":
        events(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
