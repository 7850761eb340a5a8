# outpost - one GNU Makefile: all check install uninstall demo bench fuzz clean
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/outpost
# The programs read /etc/outpost/outpost.yaml (or $OUTPOST_CONFIG);
# SYSCONFDIR only says where "make install" puts the example.
SYSCONFDIR ?= /etc
# Where systemd looks under /usr and /usr/local alike.
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
PKG_CONFIG ?= pkg-config
# check, demo, bench and fuzz install the Debian packages they lack first;
# INSTALL_DEPS=true skips that.
INSTALL_DEPS ?= sh contrib/install-deps

PKGS := libcurl yaml-0.1 libcmark-gfm jansson libcrypto libxml-2.0
# GMime is linked only into what reads inbound mail.
MIMEPKG := gmime-3.0
# Asked when a command needs them, never when the Makefile is read: the
# packages may not be there yet (deps installs them), so every variable
# below that calls pkg-config stays recursively expanded.
pkgconf = $(shell $(PKG_CONFIG) $(1) 2>/dev/null)
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-Wmissing-prototypes -Wstrict-prototypes -Iinclude -MMD -MP \
	$(call pkgconf,--cflags $(PKGS) $(MIMEPKG))
LDLIBS += $(call pkgconf,--libs $(PKGS))
MIMELIBS = $(call pkgconf,--libs $(MIMEPKG))
# libmicrohttpd only into outpost-listen.
MHDLIBS = $(call pkgconf,--libs libmicrohttpd) -lpthread

# SANITIZE=1 builds everything again, apart, under ASan and UBSan.
ifdef SANITIZE
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
B := build-san
BIN := build-san/bin
else
B := build
BIN := bin
endif

PROGS := outpost outpost-drop outpost-queue outpost-dispatch outpost-archive \
	outpost-watch outpost-poll outpost-render outpost-sendmail
PROGS += outpost-listen outpost-route
LIBSRC := $(wildcard src/lib/*.c)
LIBOBJ := $(LIBSRC:src/lib/%.c=$(B)/lib/%.o)
LIB := $(B)/liboutpost.a
UNITS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
MANS := $(wildcard man/*.[1-8])

all: $(PROGS:%=$(BIN)/%)

$(B)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(LIB): $(LIBOBJ)
	$(AR) rcs $@ $^

$(B)/cmd/%.o: src/cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BIN)/%: $(B)/cmd/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/outpost-poll: $(B)/cmd/outpost-poll.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MIMELIBS)

$(BIN)/outpost-listen: $(B)/cmd/outpost-listen.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MHDLIBS)

$(BIN)/outpost-sendmail: $(B)/cmd/outpost-sendmail.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MIMELIBS)

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(call pkgconf,--cflags criterion) \
		$(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(MIMELIBS) \
		$(call pkgconf,--libs criterion)

deps:
	@$(INSTALL_DEPS)

# The targets that install packages build in a second make, started after
# deps, so that nothing is compiled or linked before the packages exist.
SUBMAKE = $(MAKE) --no-print-directory INSTALL_DEPS=true

# The programs, the unit tests, the integration tests, the man pages.
check: deps
	@$(SUBMAKE) all units
	@$(SUBMAKE) run-check

units: $(UNITS)

# The LD_PRELOAD shim of t_nfs.sh and t_errno.sh, built without the
# sanitizers even under SANITIZE=1 (tests/faults/shim_nfs.c).
units: $(B)/tests/shim_nfs.so
$(B)/tests/shim_nfs.so: tests/faults/shim_nfs.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -g -Wall -Wextra -o $@ $< -ldl

# Under SANITIZE=1 every report of every process, tests and programs
# alike, lands in SANLOG; any report fails the check.  It is outside the
# tree and open to all (sticky), for the programs that switch to a
# mailbox's owner in t_users.sh write there too.
SANLOG := /tmp/outpost-san.$(notdir $(CURDIR))
ifdef SANITIZE
SANENV := ASAN_OPTIONS=log_path=$(SANLOG)/asan \
	UBSAN_OPTIONS=log_path=$(SANLOG)/ubsan:print_stacktrace=1
endif

run-check:
	@rm -rf $(SANLOG); mkdir -p $(SANLOG); chmod 1777 $(SANLOG); \
	$(if $(SANENV),export $(SANENV);) \
	fail=0; for t in $(UNITS); do \
		echo "== $$t"; \
		$$t --jobs 2 || fail=1; \
	done; \
	echo "== integration"; \
	OUTPOST_BIN=$(CURDIR)/$(BIN) sh tests/integration/run || fail=1; \
	echo "== mandoc -Tlint -Wwarning"; \
	mandoc -Tlint -Wwarning $(MANS) || fail=1; \
	if [ -n "$$(ls $(SANLOG))" ]; then \
		echo "== sanitizer reports:"; cat $(SANLOG)/* | head -60; fail=1; \
	fi; \
	exit $$fail

# Figures, not assertions: see tests/bench/run.
bench:
	@$(INSTALL_DEPS) bench
	@$(SUBMAKE) all $(B)/bench-limit $(B)/bench-drop $(B)/bench-lease \
	    $(B)/bench-post
	@sh tests/bench/run $(CURDIR)/$(BIN) $(CURDIR)/$(B)

$(B)/bench-%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

$(B)/bench-post: tests/bench/post.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

$(B)/bench-lease: tests/bench/lease.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# libFuzzer targets, built apart with clang in build-fuzz/: see tests/fuzz/run.
FUZZ_SECONDS ?= 60
fuzz:
	@$(INSTALL_DEPS) fuzz
	@PKGS="$(PKGS) $(MIMEPKG)" PKG_CONFIG=$(PKG_CONFIG) \
	    sh tests/fuzz/run $(FUZZ_SECONDS) $(LIBSRC)

demo: deps
	@$(SUBMAKE) all
	@sh contrib/demo $(CURDIR)/$(BIN)

# DATADIR gets the example configuration and the crontab; the config
# itself is written only where there is none yet.  Units, sysusers.d,
# tmpfiles.d and completions go where systemd and bash-completion look.
CONF := $(DESTDIR)$(SYSCONFDIR)/outpost/outpost.yaml
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(SYSCONFDIR)/outpost $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(COMPLETIONDIR)
	install -m 755 $(PROGS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; \
	done
	install -m 644 contrib/outpost.yaml.example $(DESTDIR)$(DATADIR)
	sed 's|/usr/local/bin|$(BINDIR)|g' contrib/crontab \
	    >$(DESTDIR)$(DATADIR)/crontab
	[ -e $(CONF) ] || install -m 644 contrib/outpost.yaml.example $(CONF)
	for u in contrib/systemd/*; do \
		sed 's|/usr/local/bin/|$(BINDIR)/|g' $$u \
		    >$(DESTDIR)$(UNITDIR)/$${u##*/}; \
	done
	install -m 644 contrib/sysusers.d/outpost.conf $(DESTDIR)$(SYSUSERSDIR)
	install -m 644 contrib/tmpfiles.d/outpost.conf $(DESTDIR)$(TMPFILESDIR)
	install -m 644 contrib/bash-completion/outpost $(DESTDIR)$(COMPLETIONDIR)
	for p in $(filter-out outpost,$(PROGS)); do \
		ln -sf outpost $(DESTDIR)$(COMPLETIONDIR)/$$p; \
	done

# The configuration stays unless it is still the example.
uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%)
	for m in $(MANS); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; \
	done
	rm -rf $(DESTDIR)$(DATADIR)
	for u in contrib/systemd/*; do rm -f $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/outpost.conf \
	    $(DESTDIR)$(TMPFILESDIR)/outpost.conf \
	    $(PROGS:%=$(DESTDIR)$(COMPLETIONDIR)/%)
	! cmp -s contrib/outpost.yaml.example $(CONF) || \
	    { rm -f $(CONF); rmdir $(DESTDIR)$(SYSCONFDIR)/outpost 2>/dev/null || :; }

clean:
	rm -rf build build-san build-fuzz bin demo

.PHONY: all check units run-check deps demo bench fuzz install uninstall clean
.SECONDARY:

-include $(LIBOBJ:.o=.d) $(wildcard $(B)/cmd/*.d)
