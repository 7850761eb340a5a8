#!/bin/sh
# dovecot.sh - a real Dovecot IMAP server on loopback, for the tests.
#
#   dovecot.sh start DIR USER PASSWORD
#   dovecot.sh stop DIR
#
# start writes everything under DIR: a CA and a server certificate for
# 127.0.0.1 (DIR/ca.pem is what clients trust), a passwd-file with USER,
# dovecot.conf (its own base_dir, so it never meets a system Dovecot), and
# the Maildir DIR/mail/USER/ (new/ is where tests put messages; the mail
# files belong to "nobody", as Dovecot refuses uid 0).  It starts Dovecot,
# which daemonises and writes DIR/run/master.pid, and writes the plain
# IMAP port to DIR/imap_port and the IMAPS port to DIR/imaps_port.  Logs
# go to DIR/dovecot.log.  DIR's parent is made searchable (go+x) for the
# dovecot and nobody users.  stop kills the master by its pid and waits.
set -u
cmd=$1 dir=$2

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

certs() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
	    -subj '/CN=outpost dovecot test CA' \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$dir/setup.log" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$dir/srv.key" -out "$dir/srv.csr" -subj '/CN=127.0.0.1' \
	    2>>"$dir/setup.log" &&
	printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
	    'basicConstraints=CA:FALSE' 'extendedKeyUsage=serverAuth' \
	    >"$dir/ext" &&
	openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.pem" \
	    -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/srv.pem" -days 2 \
	    -extfile "$dir/ext" 2>>"$dir/setup.log"
}

config() {
	cat <<EOF
base_dir = $dir/run
state_dir = $dir/state
instance_name = outpost-test-$$
listen = 127.0.0.1
protocols = imap
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
ssl = yes
ssl_cert = <$dir/srv.pem
ssl_key = <$dir/srv.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%u
mail_uid = $uid
mail_gid = $gid
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = no
  }
}
EOF
	[ -r /usr/share/dovecot/dh.pem ] &&
	    echo "ssl_dh = </usr/share/dovecot/dh.pem"
}

start() {
	user=$1 pass=$2
	uid=$(id -u nobody) gid=$(id -g nobody)
	mkdir -p "$dir/run" "$dir/state" "$dir/home/$user" \
	    "$dir/mail/$user/new" "$dir/mail/$user/cur" "$dir/mail/$user/tmp"
	chown -R "$uid:$gid" "$dir/mail" "$dir/home"
	# Dovecot's users must reach DIR: a mktemp -d parent is 0700.
	chmod 755 "$dir"
	chmod go+x "$(dirname "$dir")"
	certs || { echo "dovecot.sh: cannot make certificates" >&2; return 1; }
	printf '%s:{PLAIN}%s\n' "$user" "$pass" >"$dir/passwd"
	imap_port=$(free_port) imaps_port=$(free_port)
	config >"$dir/dovecot.conf"
	dovecot -c "$dir/dovecot.conf" 2>>"$dir/setup.log" || {
		echo "dovecot.sh: dovecot did not start:" \
		    "$(tail -3 "$dir/setup.log" "$dir/dovecot.log" 2>/dev/null)" >&2
		return 1
	}
	i=0
	while [ $i -lt 250 ]; do
		if [ -s "$dir/run/master.pid" ] &&
		    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		    "$imap_port" 2>/dev/null; then
			echo "$imap_port" >"$dir/imap_port"
			echo "$imaps_port" >"$dir/imaps_port"
			return 0
		fi
		sleep 0.02
		i=$((i + 1))
	done
	echo "dovecot.sh: dovecot does not answer on $imap_port" >&2
	return 1
}

stop() {
	[ -s "$dir/run/master.pid" ] || return 0
	pid=$(cat "$dir/run/master.pid")
	kill "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	rm -f "$dir/run/master.pid"
	return 0
}

case $cmd in
start) start "$3" "$4" ;;
stop) stop ;;
*) echo "usage: dovecot.sh start DIR USER PASSWORD | stop DIR" >&2; exit 64 ;;
esac
