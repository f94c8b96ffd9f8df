# keel - one non-recursive Makefile for the library, the programs, the tests,
# the benchmarks and the fuzz targets.
#
#   make run      install missing packages, build, serve the main program
#   make test     install missing packages, build every build type, run checks,
#                 unit tests (Criterion, sanitizers) and integration tests (pytest)
#   make bench    build with -O2 and run the benchmarks
#   make fuzz     run every fuzz target for FUZZ_TIME seconds each
#   make install  PREFIX=/usr/local DESTDIR= : library, headers, keel.pc
#
# Build types live in separate folders: build/release (-O2 -g),
# build/test (ASan + UBSan), build/fuzz (clang + libFuzzer).

.DEFAULT_GOAL := all
# One job per core unless the caller chose (-j1 to serialise).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
DESTDIR   ?=
FUZZ_TIME ?= 60
PYTHON    := /usr/bin/python3

ifeq ($(origin CC),default)
CC := gcc
endif
FUZZ_CC := clang

# Debian packages, checked (and installed when missing) before anything else.
DEBS := gcc libc6-dev make binutils pkg-config python3 python3-pytest python3-requests \
        clang libclang-rt-14-dev clang-format libcriterion-dev wrk procps \
        libjansson-dev zlib1g-dev libsqlite3-dev libsodium-dev
# Only `make bench` needs these: nginx is the reference server.
DEBS_BENCH := nginx-light util-linux curl python3-fastapi uvicorn \
              python3-django gunicorn python3-djangorestframework python3-jwt

# pkg-config modules; recursive (=) so they are only expanded in recipes,
# after `deps` has installed them.
LIB_PKGS  := jansson zlib sqlite3 libsodium
TEST_PKGS := criterion
LIB_CFLAGS   = $(if $(LIB_PKGS),$(shell pkg-config --cflags $(LIB_PKGS)))
LIB_LDLIBS   = $(if $(LIB_PKGS),$(shell pkg-config --libs $(LIB_PKGS))) -pthread -lm
TEST_CFLAGS_PKG = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LDLIBS_PKG = $(shell pkg-config --libs $(TEST_PKGS))

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes -Werror
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -Iinclude -Isrc -fvisibility=hidden \
               -MMD -MP $(WARN)
REL_FLAGS  := -O2 -g -fPIC
TEST_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
              -fno-omit-frame-pointer

# ---------------------------------------------------------------- sources
SRC        := $(sort $(wildcard src/*/*.c))
HDR        := $(sort $(wildcard include/keel/*.h src/*/*.h))
APP_SRC    := $(sort $(wildcard apps/*/*.c apps/*/*.h))
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC  := $(sort $(wildcard bench/*_bench.c))
EX_SRC     := $(sort $(wildcard examples/*/*.c tests/apps/*.c))
FMT_FILES  := $(sort $(SRC) $(HDR) $(APP_SRC) $(UNIT_SRC) $(FUZZ_SRC) \
              $(BENCH_SRC) $(EX_SRC) $(wildcard tests/unit/*.h))

REL_OBJ  := $(SRC:%.c=build/release/obj/%.o)
TEST_OBJ := $(SRC:%.c=build/test/obj/%.o)
FUZZ_OBJ := $(SRC:%.c=build/fuzz/obj/%.o)

REL_LIB_A  := build/release/libkeel.a
REL_LIB_SO := build/release/libkeel.so.$(VERSION)
TEST_LIB_A := build/test/libkeel.a
FUZZ_LIB_A := build/fuzz/libkeel.a

# Apps: apps/<name>/*.c plus its migrations (apps/<name>/migrations/*.sql,
# embedded by tools/embed_sql.py) make build/<type>/apps/<name>/<name>.
APP_NAMES  := $(notdir $(wildcard apps/*))
APP_MIGS   := $(sort $(wildcard apps/*/migrations/*.sql))
REL_APPS   := $(foreach a,$(APP_NAMES),build/release/apps/$(a)/$(a))
TEST_APPS  := $(foreach a,$(APP_NAMES),build/test/apps/$(a)/$(a))

UNIT_BIN   := build/test/unit_tests
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_BINS := $(BENCH_SRC:bench/%.c=build/release/bench/%)
EX_REL     := $(EX_SRC:%.c=build/release/%)
EX_TEST    := $(EX_SRC:%.c=build/test/%)

CHECK_STAMP := build/check-source.stamp

.PHONY: all deps deps-bench release testbuild fuzzbuild run test test-unit \
        test-integration check-format check-source bench fuzz fuzz-smoke \
        install uninstall clean format

all: release

deps:
	@sh tools/deps.sh $(DEBS)

deps-bench: deps
	@sh tools/deps.sh $(DEBS_BENCH)

release: $(REL_LIB_A) $(REL_LIB_SO) build/release/libkeel.so $(EX_REL) $(REL_APPS)
testbuild: $(TEST_LIB_A) $(UNIT_BIN) $(EX_TEST) $(TEST_APPS)
fuzzbuild: $(FUZZ_BINS)

# ---------------------------------------------------------------- checks
# The banned-function checker gates every library build.
$(CHECK_STAMP): tools/check_source.py $(SRC) $(HDR) $(APP_SRC) | deps
	@mkdir -p $(@D)
	$(PYTHON) tools/check_source.py src include apps
	@touch $@

check-source: $(CHECK_STAMP)

check-format: | deps
	@clang-format --dry-run --Werror $(FMT_FILES) && \
	  echo "format: $(words $(FMT_FILES)) files clean"

format: | deps
	clang-format -i $(FMT_FILES)

# ---------------------------------------------------------------- objects
build/release/obj/%.o: %.c | deps $(CHECK_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(REL_FLAGS) $(LIB_CFLAGS) -c $< -o $@

build/test/obj/%.o: %.c | deps $(CHECK_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(TEST_FLAGS) $(LIB_CFLAGS) $(TEST_CFLAGS_PKG) -c $< -o $@

build/fuzz/obj/%.o: %.c | deps $(CHECK_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) $(LIB_CFLAGS) -c $< -o $@

-include $(REL_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
-include $(UNIT_SRC:%.c=build/test/obj/%.d) $(FUZZ_SRC:%.c=build/fuzz/obj/%.d)
-include $(BENCH_SRC:%.c=build/release/obj/%.d)
-include $(EX_SRC:%.c=build/release/obj/%.d) $(EX_SRC:%.c=build/test/obj/%.d)

# ---------------------------------------------------------------- libraries
$(REL_LIB_A): $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(REL_LIB_SO): $(REL_OBJ)
	$(CC) -shared -Wl,-soname,libkeel.so.$(SOVERSION) -Wl,-z,defs \
	  -o $@ $^ $(LIB_LDLIBS)

build/release/libkeel.so: $(REL_LIB_SO)
	ln -sf libkeel.so.$(VERSION) build/release/libkeel.so.$(SOVERSION)
	ln -sf libkeel.so.$(VERSION) $@

$(TEST_LIB_A): $(TEST_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_LIB_A): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---------------------------------------------------------------- programs
# Conduit's handlers are unit-tested through the in-process test client:
# the unit binary links the app's objects, all but its main().
UNIT_APP_OBJ := $(patsubst %.c,build/test/obj/%.o,$(filter-out \
  apps/conduit/main.c,$(wildcard apps/conduit/*.c))) \
  $(if $(wildcard apps/conduit),build/test/obj/build/gen/conduit_migrations.o)

$(UNIT_BIN): $(UNIT_SRC:%.c=build/test/obj/%.o) $(UNIT_APP_OBJ) $(TEST_LIB_A)
	$(CC) $(TEST_FLAGS) -o $@ $^ $(LIB_LDLIBS) $(TEST_LDLIBS_PKG)

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_A)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIB_LDLIBS)

build/release/bench/%: build/release/obj/bench/%.o $(REL_LIB_A)
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $^ $(LIB_LDLIBS)

build/release/examples/%: build/release/obj/examples/%.o $(REL_LIB_A)
	@mkdir -p $(@D)
	$(CC) -O2 -g -pthread -o $@ $^ $(LIB_LDLIBS)

build/release/tests/apps/%: build/release/obj/tests/apps/%.o $(REL_LIB_A)
	@mkdir -p $(@D)
	$(CC) -O2 -g -pthread -o $@ $^ $(LIB_LDLIBS)

build/test/examples/%: build/test/obj/examples/%.o $(TEST_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -pthread -o $@ $^ $(LIB_LDLIBS)

build/test/tests/apps/%: build/test/obj/tests/apps/%.o $(TEST_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_FLAGS) -pthread -o $@ $^ $(LIB_LDLIBS)

# The folder is a prerequisite too: its time changes when a file is added,
# removed or renamed, which the files' own times do not show.
build/gen/%_migrations.c: tools/embed_sql.py $(APP_MIGS) apps/%/migrations | deps
	@mkdir -p $(@D)
	$(PYTHON) tools/embed_sql.py --symbol $*_migrations apps/$*/migrations $@

define APP_RULES
build/release/apps/$(1)/$(1): $(patsubst %.c,build/release/obj/%.o,$(wildcard apps/$(1)/*.c)) build/release/obj/build/gen/$(1)_migrations.o $(REL_LIB_A)
	@mkdir -p $$(@D)
	$$(CC) -O2 -g -pthread -o $$@ $$^ $$(LIB_LDLIBS)

build/test/apps/$(1)/$(1): $(patsubst %.c,build/test/obj/%.o,$(wildcard apps/$(1)/*.c)) build/test/obj/build/gen/$(1)_migrations.o $(TEST_LIB_A)
	@mkdir -p $$(@D)
	$$(CC) $$(TEST_FLAGS) -pthread -o $$@ $$^ $$(LIB_LDLIBS)
endef
$(foreach a,$(APP_NAMES),$(eval $(call APP_RULES,$(a))))
-include $(foreach a,$(APP_NAMES),$(patsubst %.c,build/release/obj/%.d,$(wildcard apps/$(a)/*.c)) $(patsubst %.c,build/test/obj/%.d,$(wildcard apps/$(a)/*.c)))

# ---------------------------------------------------------------- commands
# The main program: Conduit on SQLite (var/conduit.db, migrated at start).
RUN_ARGS ?= --port 8080
run: release
	@echo "conduit: API on http://127.0.0.1:8080/api, OpenAPI document on http://127.0.0.1:8080/openapi.json (Ctrl-C stops)"
	@exec build/release/apps/conduit/conduit serve $(RUN_ARGS)

# Unit and integration suites both run even when the first fails, so the
# output always ends with both summaries; the exit status reports either.
test: check-format check-source release fuzzbuild testbuild
	@rc=0; \
	echo "== unit tests (Criterion, ASan+UBSan)"; \
	$(UNIT_BIN) --jobs 2 || rc=1; \
	echo "== integration tests (pytest)"; \
	KEEL_BUILD=build/test KEEL_RELEASE=build/release \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration || rc=1; \
	exit $$rc

test-unit: testbuild
	$(UNIT_BIN) --jobs 2

test-integration: release testbuild
	KEEL_BUILD=build/test KEEL_RELEASE=build/release \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

bench: deps-bench release $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@if [ -x bench/http/run.sh ]; then echo "== bench/http/run.sh"; \
	  bench/http/run.sh; fi
	@echo "== bench/http/framework.sh"; bench/http/framework.sh
	@echo "== bench/conduit/run.sh"; bench/conduit/run.sh
	@echo "== bench/peers/run.sh"; bench/peers/run.sh
	@echo "== bench/auth/run.sh"; bench/auth/run.sh || \
	  echo "bench/auth: p99 under load above 2x idle on this run (see bench/README.md)"

# Each target keeps a corpus under build/fuzz/corpus and starts from the
# committed seeds in tests/fuzz/seeds/<name>/ when present.
fuzz: fuzzbuild
	@for b in $(FUZZ_BINS); do \
	  n=$${b##*/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  seeds=; test -d tests/fuzz/seeds/$$n && seeds=tests/fuzz/seeds/$$n; \
	  echo "== $$b ($(FUZZ_TIME)s)"; \
	  $$b -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	    build/fuzz/corpus/$$n $$seeds > build/fuzz/$$n.log 2>&1; rc=$$?; \
	  tail -n 12 build/fuzz/$$n.log; test $$rc = 0 || exit 1; \
	done

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_TIME=10

install: release
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/keel
	install -m 644 $(REL_LIB_A) $(DESTDIR)$(LIBDIR)/libkeel.a
	install -m 755 $(REL_LIB_SO) $(DESTDIR)$(LIBDIR)/libkeel.so.$(VERSION)
	ln -sf libkeel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libkeel.so.$(SOVERSION)
	ln -sf libkeel.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libkeel.so
	install -m 644 include/keel/*.h $(DESTDIR)$(INCDIR)/keel/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(LIB_PKGS)|' \
	    keel.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/keel.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libkeel.a $(DESTDIR)$(LIBDIR)/libkeel.so \
	      $(DESTDIR)$(LIBDIR)/libkeel.so.$(SOVERSION) \
	      $(DESTDIR)$(LIBDIR)/libkeel.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/keel.pc
	rm -rf $(DESTDIR)$(INCDIR)/keel

clean:
	rm -rf build
