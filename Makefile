# pop3d - hand-written GNU make. `make` alone runs autoreconf and configure
# when needed; `./configure --prefix=... && make && make install` works too.

SHELL := /bin/sh
.SUFFIXES:
.DELETE_ON_ERROR:

.DEFAULT_GOAL := all
NOCONFIG_GOALS := clean distclean maintainer-clean help deps
GOALS := $(or $(MAKECMDGOALS),all)
ifneq ($(filter-out $(NOCONFIG_GOALS),$(GOALS)),)
include config.mk
endif

# ---- configure on demand -------------------------------------------------
# The README's set-up commands, `make check` and `make demo`, first make sure
# the Debian packages they need are there (installed when root, else the
# apt-get line is printed). Any other goal never changes the system's
# packages: configure stops at a missing one with the apt-get line to run.
DEPS_GOALS := $(filter check demo,$(MAKECMDGOALS))
config.mk: config.mk.in configure src/build_config.h.in
	@$(if $(DEPS_GOALS),sh tests/ensure-deps $(DEPS_GOALS))
	@if [ -x config.status ]; then ./config.status --recheck && ./config.status; else ./configure; fi

configure: configure.ac
	@command -v autoreconf >/dev/null 2>&1 || { \
	  echo "autoreconf not found: run apt-get install --no-install-recommends autoconf"; exit 1; }
	autoreconf -fi

src/build_config.h: config.mk
	@test -f $@ || ./config.status

# ---- flags ----------------------------------------------------------------
WARNFLAGS := -Wall -Wextra -Werror
ALL_CPPFLAGS = -Isrc $(CPPFLAGS)
TEST_CPPFLAGS = -DPOP3D_SOURCE_DIR=\"$(CURDIR)\"
ALL_CXXFLAGS = -std=c++20 $(WARNFLAGS) $(HARDEN_CXXFLAGS) $(CXXFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(LDFLAGS) -pthread

BUILD := build

# ---- sources ---------------------------------------------------------------
CORE_SRCS := \
	src/common/text.cpp \
	src/common/stack.cpp \
	src/common/filesystem_kind.cpp \
	src/common/shared_state.cpp \
	src/common/nss.cpp \
	src/common/civil_time.cpp \
	src/config/config.cpp \
	src/log/log.cpp \
	src/log/session_id.cpp \
	src/auth/username.cpp \
	src/auth/sasl_plain.cpp \
	src/auth/never_served.cpp \
	src/auth/pam_authenticator.cpp \
	src/priv/credentials.cpp \
	src/priv/thread_credentials.cpp \
	src/mailbox/file_io.cpp \
	src/mailbox/message_index.cpp \
	src/mailbox/mbox_index.cpp \
	src/mailbox/message_encoder.cpp \
	src/mailbox/sha256.cpp \
	src/mailbox/sha256_lanes.cpp \
	src/mailbox/content_digest.cpp \
	src/mailbox/uid.cpp \
	src/mailbox/uid_unique.cpp \
	src/mailbox/md5.cpp \
	src/mailbox/uid_compat.cpp \
	src/mailbox/uid_scan.cpp \
	src/mailbox/cpu_features.cpp \
	src/mailbox/mailbox_lock.cpp \
	src/mailbox/snapshot.cpp \
	src/mailbox/mbox_expunge.cpp \
	src/mailbox/test_hooks.cpp \
	src/mailbox/mbox_maildrop.cpp \
	src/mailbox/session_lock.cpp \
	src/mailbox/private_file.cpp \
	src/mailbox/index_cache.cpp \
	src/mailbox/helper_thread.cpp \
	src/mailbox/file_digest.cpp \
	src/mailbox/uid_prefetch.cpp \
	src/session/line_reader.cpp \
	src/session/output_buffer.cpp \
	src/session/command.cpp \
	src/session/session.cpp \
	src/session/session_login.cpp \
	src/session/refusals.cpp \
	src/net/stop_flag.cpp \
	src/net/listen_address.cpp \
	src/net/listener.cpp \
	src/net/systemd.cpp \
	src/net/connection_table.cpp \
	src/net/fd_transport.cpp \
	src/net/address_match.cpp \
	src/net/address_key.cpp \
	src/net/proxy_header.cpp \
	src/net/proxy_reader.cpp \
	src/app/mailbox_path.cpp \
	src/app/failure_table.cpp \
	src/app/login_gate.cpp \
	src/app/host_throttle.cpp \
	src/app/session_registry.cpp \
	src/app/control.cpp \
	src/app/spool_opener.cpp \
	src/app/serve.cpp \
	src/app/daemon.cpp \
	src/app/self_check.cpp src/app/self_check_spool.cpp src/app/self_check_files.cpp
ifeq ($(HAVE_TLS),1)
CORE_SRCS += src/tls/tls_openssl.cpp
else
CORE_SRCS += src/tls/tls_none.cpp
endif
MAIN_SRCS := src/app/main.cpp
UNIT_SRCS := $(sort $(wildcard tests/unit/*.cpp))

CORE_OBJS := $(CORE_SRCS:%.cpp=$(BUILD)/%.o)
MAIN_OBJS := $(MAIN_SRCS:%.cpp=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.cpp=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libpop3dcore.a

POP3D := src/pop3d
UNIT_TESTS := $(BUILD)/unit_tests
TEST_PAM_MODULE := $(BUILD)/tests/pam_bigstack.so
TEST_FAULTS := $(BUILD)/tests/libfailwrite.so $(BUILD)/tests/libsetuid_probe.so
FUZZ_TARGETS := session mbox config sasl proxy
# The fuzz targets built with g++ and a plain main(): make check replays the
# seed corpora through them (make fuzz runs them under libFuzzer).
FUZZ_REPLAYS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
# Kept, not deleted as intermediates (whose "rm" would follow the summary line).
.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(BUILD)/tests/fuzz/replay_main.o

# ---- targets ---------------------------------------------------------------
.PHONY: all check check-tls unit-tests demo install uninstall clean distclean maintainer-clean help deps tsan asan soak fuzz dist distcheck deb check-build install-strip tsan-build bench bench-tools

all: $(POP3D)

$(BUILD)/%.o: %.cpp src/build_config.h
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.cpp src/build_config.h
	@mkdir -p $(@D)
	$(CXX) $(ALL_CPPFLAGS) $(TEST_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(POP3D): $(MAIN_OBJS) $(CORE_LIB)
	$(CXX) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJS) $(CORE_LIB) $(PAM_LIBS) $(TLS_LIBS) $(LIBS)

$(UNIT_TESTS): $(UNIT_OBJS) $(CORE_LIB)
	$(CXX) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJS) $(CORE_LIB) $(GTEST_LIBS) $(PAM_LIBS) $(TLS_LIBS) $(LIBS)

unit-tests: $(UNIT_TESTS)


$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -o $@ $(BUILD)/tests/fuzz/fuzz_$*.o $(BUILD)/tests/fuzz/replay_main.o $(CORE_LIB) \
	    $(PAM_LIBS) $(TLS_LIBS) $(LIBS)

# LD_PRELOAD shims: libfailwrite makes writes fail (the full-disk tests),
# libsetuid_probe tries to regain root after the drop (the privilege tests).
$(BUILD)/tests/lib%.so: tests/faults/%.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 $(WARNFLAGS) -O2 -fPIC -shared -o $@ $< -ldl

# A PAM module the integration tests load (a deep stack, like pam_cap).
$(TEST_PAM_MODULE): tests/pam/pam_bigstack.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 $(WARNFLAGS) -O0 -fPIC -shared -o $@ $< $(PAM_LIBS)

# Unit tests, integration tests through real clients, one summary line.
CHECK_DEPS = $(POP3D) $(UNIT_TESTS) $(TEST_PAM_MODULE) $(TEST_FAULTS) $(FUZZ_REPLAYS)
# Everything make check runs, built but not run (CI builds ahead).
check-build: $(CHECK_DEPS)
check: $(CHECK_DEPS)
	@sh tests/ensure-deps check
	@python3 tests/run_tests.py --pop3d $(POP3D) --unit $(UNIT_TESTS) --fuzz-replays $(BUILD)/fuzz

# For a build configured --with-openssl: the unit tests, the TLS and SASL
# tests, and the protocol, auth and launcher suites (CI runs it next to the
# full make check of the default build).
TLS_SUITES := test_tls,test_sasl,test_protocol,test_auth,test_launchers,test_sandbox,test_selfcheck,test_live_control
check-tls: $(POP3D) $(UNIT_TESTS) $(TEST_PAM_MODULE) $(TEST_FAULTS)
	@test "$(HAVE_TLS)" = 1 || { echo "check-tls: configure --with-openssl first"; exit 1; }
	@python3 tests/run_tests.py --pop3d $(POP3D) --unit $(UNIT_TESTS) --only $(TLS_SUITES) --with-unit

# The threaded daemon built with ThreadSanitizer, run through the threaded
# test suites; any report fails the run.
TSAN_BUILD := build-tsan
tsan: tsan-build
	@python3 tests/run_tests.py --pop3d $(TSAN_BUILD)/pop3d --sanitizer thread

tsan-build: src/build_config.h $(TEST_PAM_MODULE) $(TEST_FAULTS)
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) POP3D=$(TSAN_BUILD)/pop3d \
	    HARDEN_CXXFLAGS="$(HARDEN_CXXFLAGS) -fsanitize=thread" \
	    HARDEN_LDFLAGS="$(HARDEN_LDFLAGS) -fsanitize=thread" $(TSAN_BUILD)/pop3d

# libFuzzer (clang-14) on each target for FUZZ_SECONDS, with ASan and UBSan;
# the corpus grows in build-fuzz/corpus, crashes land in build-fuzz/artifacts
# (copy one to tests/fuzz/regressions/TARGET/ and make check replays it).
# FUZZ_SEED=N makes a run repeatable (CI uses 1); FUZZ_RUNS=N stops each
# target after N runs (FUZZ_SECONDS still caps it).
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= clang++-14
FUZZ_BUILD := build-fuzz
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
fuzz: src/build_config.h
	@command -v $(FUZZ_CXX) >/dev/null || { echo "fuzz: $(FUZZ_CXX) not found: apt-get install clang-14 libclang-rt-14-dev"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CXX=$(FUZZ_CXX) \
	    HARDEN_CXXFLAGS="-g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link" \
	    HARDEN_LDFLAGS="$(FUZZ_SANITIZE)" $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/fuzz_%)
	@sh tests/fuzz/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CXX) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(BUILD)/tests/fuzz/fuzz_$*.o $(CORE_LIB) $(PAM_LIBS) $(TLS_LIBS) $(LIBS)

# Every test (unit, fuzz replays, integration in every launch mode) against
# binaries built with AddressSanitizer and UBSan; any report fails the run.
ASAN_BUILD := build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# GCC 12 warns falsely in libstdc++ <regex> under the sanitizers.
ASAN_WARN := -Wno-maybe-uninitialized
asan: src/build_config.h $(TEST_PAM_MODULE) $(TEST_FAULTS)
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) POP3D=$(ASAN_BUILD)/pop3d \
	    HARDEN_CXXFLAGS="-fstack-protector-strong -fPIE $(ASAN_FLAGS) $(ASAN_WARN)" CXXFLAGS="-g -O1" \
	    HARDEN_LDFLAGS="-pie $(ASAN_FLAGS)" $(ASAN_BUILD)/pop3d $(ASAN_BUILD)/unit_tests \
	    $(FUZZ_TARGETS:%=$(ASAN_BUILD)/fuzz/replay_%)
	@python3 tests/run_tests.py --pop3d $(ASAN_BUILD)/pop3d --unit $(ASAN_BUILD)/unit_tests \
	    --fuzz-replays $(ASAN_BUILD)/fuzz --sanitizer address

# The long kill -9 loop: SOAK_TRIALS expunges killed at random instants
# (make check runs 200). SOAK_SEED picks another random sequence.
SOAK_TRIALS ?= 5000
SOAK_SEED ?= 1
soak: $(POP3D) $(TEST_FAULTS)
	@POP3D_SOAK_TRIALS=$(SOAK_TRIALS) POP3D_SOAK_SEED=$(SOAK_SEED) python3 tests/run_tests.py --pop3d $(POP3D) \
	    --only test_mailbox_expunge.KillDuringExpungeTest

# pop3d against popa3d and Dovecot (bench/run_bench.py; needs root, fetches
# the peers' Debian packages). BENCH_ARGS=--quick: the 160 MB workload only.
BENCH_TOOLS := $(BUILD)/bench/gen_mbox $(BUILD)/bench/pop3_bench $(BUILD)/bench/pam_loop $(BUILD)/bench/mbox_kernels \
	$(BUILD)/bench/uidl_dups
.SECONDARY: $(BENCH_TOOLS:%=%.o)
bench: bench-tools
	@python3 bench/run_bench.py $(BENCH_ARGS)

bench-tools: $(POP3D) $(BENCH_TOOLS)

$(BUILD)/bench/mbox_kernels $(BUILD)/bench/uidl_dups: $(BUILD)/bench/%: $(BUILD)/bench/%.o $(CORE_LIB)
	$(CXX) $(ALL_LDFLAGS) -o $@ $< $(CORE_LIB) $(PAM_LIBS) $(TLS_LIBS) $(LIBS)

$(BUILD)/bench/pam_loop: $(BUILD)/bench/pam_loop.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $< $(PAM_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(CXX) $(ALL_LDFLAGS) -o $@ $<

# Serve a demo mailbox on 127.0.0.1:1110 (user demo, password demo).
demo: $(POP3D)
	@sh tests/ensure-deps demo
	@sh tests/demo/run-demo $(POP3D)

deps:
	@sh tests/ensure-deps check

# make install: the daemon, the man pages, README, LICENSE and DESIGN.md
# in docdir, the contrib files as examples in docdir/examples, and two files
# an admin edits, installed only where none exists: the configuration
# (sysconfdir/pop3d.conf) and the PAM service file (pamdir/PAM_SERVICE).
# The contrib files and man pages name Debian's paths; install rewrites
# them to this build's (configure's prefix, sbindir, sysconfdir,
# runstatedir, docdir, pamdir, or the same set on make's command line).
# make uninstall removes exactly what install wrote (the two admin files
# only while unchanged) and pop3d's own directories of docdir once empty. mk/install-files does both from one manifest.
EXAMPLE_FILES := pop3d.conf pam.d/pop3 inetd/pop3d.inetd xinetd/pop3d \
	$(patsubst contrib/%,%,$(sort $(wildcard contrib/systemd/*))) \
	fail2ban/filter.d/pop3d.conf fail2ban/jail.d/pop3d.conf
# pop3d's documents: docdir when it is pop3d's own (named pop3d), else a
# pop3d directory in it, so that a docdir every package shares
# (/usr/share/doc) never gets pop3d's README beside another's.
DOCS_DIR = $(if $(filter $(PACKAGE_TARNAME),$(notdir $(docdir))),$(docdir),$(docdir)/$(PACKAGE_TARNAME))
EXAMPLES_DIR = $(DOCS_DIR)/examples
# Directories uninstall removes when empty, deepest first, one per line.
EXAMPLE_DIRS := $(filter-out ./,$(sort $(dir $(EXAMPLE_FILES))))
EXAMPLE_DIRS += $(filter-out ./,$(sort $(dir $(EXAMPLE_DIRS:%/=%))))
define newline


endef
OWN_DOC_DIRS = $(foreach d,$(EXAMPLE_DIRS:%/=$(EXAMPLES_DIR)/%) $(EXAMPLES_DIR) $(DOCS_DIR),$(d)$(newline))
# The spool the units may write: the mailbox pattern's directory when it is
# fixed (no %u or %h in it), else Debian's.
SPOOL_DIR = $(if $(findstring %,$(dir $(MAILBOX_PATTERN))),/var/mail,$(patsubst %/,%,$(dir $(MAILBOX_PATTERN))))
# Each path is first replaced by a token that no later rule matches, then
# the tokens by this build's values (escaped for sed), so that no value is
# rewritten twice (pamdir=/usr/local/etc/pam.d holds /etc/pam.d).
sed_value = $(subst |,\|,$(subst &,\&,$(subst \,\\,$(1))))
SUBST_PATHS = s|/usr/sbin/pop3d|@SBIN@|g; s|/etc/pop3d\.conf|@CONF@|g; s|/etc/pam\.d/pop3\>|@PAMFILE@|g; \
	s|/run/pop3d|@RUN@|g; s|/usr/share/doc/pop3d|@DOCS@|g; s|^ReadWritePaths=-/var/mail$$|ReadWritePaths=-@SPOOL@|; \
	/^\.B pam_service$$/,/^\.TP/s|^\.BR pop3 \.$$|.BR @PAMSERVICE@ .|; s|^\#pam_service = pop3$$|\#pam_service = @PAMSERVICE@|; \
	/^\.B mailbox$$/,/^\.TP/s|^\.BR /var/mail/%u \.$$|.BR @MAILBOX@ .|; s|^\#mailbox = /var/mail/%u$$|\#mailbox = @MAILBOX@|; \
	s|@SBIN@|$(call sed_value,$(sbindir))/pop3d|g; s|@CONF@|$(call sed_value,$(sysconfdir))/pop3d.conf|g; \
	s|@PAMFILE@|$(call sed_value,$(pamdir)/$(PAM_SERVICE))|g; s|@RUN@|$(call sed_value,$(runstatedir))/pop3d|g; \
	s|@DOCS@|$(call sed_value,$(DOCS_DIR))|g; s|@SPOOL@|$(call sed_value,$(SPOOL_DIR))|g; \
	s|@PAMSERVICE@|$(call sed_value,$(PAM_SERVICE))|g; s|@MAILBOX@|$(call sed_value,$(MAILBOX_PATTERN))|g
ADMIN_FILE_NOTE = \# Installed by make install of pop3d; make uninstall removes it while unchanged.
define INSTALL_MANIFEST
bin 0755 $(POP3D) $(sbindir)/pop3d
subst 0644 man/pop3d.8 $(mandir)/man8/pop3d.8
subst 0644 man/pop3d.conf.5 $(mandir)/man5/pop3d.conf.5
file 0644 README $(DOCS_DIR)/README
file 0644 LICENSE $(DOCS_DIR)/LICENSE
file 0644 docs/DESIGN.md $(DOCS_DIR)/DESIGN.md
$(foreach f,$(EXAMPLE_FILES),subst 0644 contrib/$(f) $(EXAMPLES_DIR)/$(f)
)admin 0644 contrib/pop3d.conf $(sysconfdir)/pop3d.conf
admin 0644 contrib/pam.d/pop3 $(pamdir)/$(PAM_SERVICE)
endef
install uninstall: export POP3D_MANIFEST = $(INSTALL_MANIFEST)
install uninstall: export SUBST = $(SUBST_PATHS)
install uninstall: export ADMIN_NOTE = $(ADMIN_FILE_NOTE)
install uninstall: export OWN_DIRS = $(OWN_DOC_DIRS)
install: export STRIP = $(INSTALL_STRIP)

install: $(POP3D)
	@sh mk/install-files install

# The same, with the program stripped of its debugging information.
install-strip:
	@$(MAKE) --no-print-directory install INSTALL_STRIP=-s

uninstall:
	@sh mk/install-files uninstall

# make dist: pop3d-VERSION.tar.gz with every file git tracks (or, in an
# unpacked release, every file MANIFEST lists) plus the generated configure,
# so that a machine without autoconf builds it. make distcheck proves that.
DISTNAME = $(PACKAGE_TARNAME)-$(PACKAGE_VERSION)
dist: configure
	@rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/$(DISTNAME)
	@if [ -e .git ] && command -v git >/dev/null; then git ls-files; else cat MANIFEST; fi | \
	    grep -v -x -e configure -e MANIFEST >$(BUILD)/dist/files
	@echo configure >>$(BUILD)/dist/files
	@tar -cf - -T $(BUILD)/dist/files | tar -xf - -C $(BUILD)/dist/$(DISTNAME)
	@(cat $(BUILD)/dist/files; echo MANIFEST) | LC_ALL=C sort >$(BUILD)/dist/$(DISTNAME)/MANIFEST
	@tar -C $(BUILD)/dist -czf $(DISTNAME).tar.gz --owner=0 --group=0 --numeric-owner --sort=name $(DISTNAME)
	@rm -rf $(BUILD)/dist
	@echo "$(DISTNAME).tar.gz: $$(tar -tzf $(DISTNAME).tar.gz | grep -vc '/$$') files"

distcheck: dist
	@sh tests/distcheck $(DISTNAME).tar.gz

# make deb: a Debian package built by dpkg-buildpackage from the release
# tarball with contrib/debian as debian/; the .deb ends up in build/deb/.
deb: dist
	@command -v dh >/dev/null || { echo "deb: dh not found: apt-get install --no-install-recommends debhelper"; exit 1; }
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	tar -xzf $(DISTNAME).tar.gz -C $(BUILD)/deb
	cp -R contrib/debian $(BUILD)/deb/$(DISTNAME)/debian
	cd $(BUILD)/deb/$(DISTNAME) && dpkg-buildpackage -b -us -uc -j$$(getconf _NPROCESSORS_ONLN) >../build.log 2>&1 || \
	    { tail -30 ../build.log; exit 1; }
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD) $(POP3D) build-*

# distclean leaves the tree as the release tarball has it (configure kept);
# maintainer-clean also removes what autoreconf generates.
distclean: clean
	rm -rf config.mk config.status config.log src/build_config.h

maintainer-clean: distclean
	rm -rf autom4te.cache configure configure~

help:
	@echo "make, make all         build src/pop3d (runs configure when needed)"
	@echo "make check             build and run every test; ends with 'N passed, M failed'"
	@echo "make check-build       build what make check runs, without running it"
	@echo "make unit-tests        build the unit tests (build/unit_tests)"
	@echo "make check-tls         TLS, SASL and protocol tests (configure --with-openssl)"
	@echo "make tsan              the threaded daemon's tests under ThreadSanitizer"
	@echo "make tsan-build        build that daemon (build-tsan/pop3d) only"
	@echo "make asan              every test against AddressSanitizer+UBSan builds"
	@echo "make soak              the long kill -9 loop (SOAK_TRIALS, SOAK_SEED)"
	@echo "make fuzz              libFuzzer on each target for FUZZ_SECONDS (clang-14)"
	@echo "make bench             pop3d against popa3d and Dovecot (root; BENCH_ARGS)"
	@echo "make bench-tools       build the benchmark programs only"
	@echo "make demo              serve a demo mailbox on 127.0.0.1:1110 (demo/demo)"
	@echo "make deps              install the Debian packages make check needs (root)"
	@echo "make install           install (DESTDIR, prefix from configure)"
	@echo "make install-strip     the same, with the program stripped"
	@echo "make uninstall         remove what make install wrote"
	@echo "make dist              the release tarball pop3d-VERSION.tar.gz"
	@echo "make distcheck         build and test that tarball"
	@echo "make deb               a Debian package in build/deb (needs debhelper)"
	@echo "make clean             remove what the build made"
	@echo "make distclean         also configure's output (config.mk, config.status)"
	@echo "make maintainer-clean  also configure itself (autoreconf makes it again)"
	@echo "make help              this list"

-include $(CORE_OBJS:.o=.d) $(MAIN_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(wildcard $(BUILD)/bench/*.d) $(wildcard $(BUILD)/tests/fuzz/*.d)
