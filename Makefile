# trine — one non-recursive GNU Makefile.
#   make            build/release/trine
#   make run        install deps, build, serve on embedded defaults
#   make test       every test tier (unit, unit under ASan+UBSan, PromQL
#                   conformance, e2e, fuzz smoke); prints "N passed, N failed"
#   make SANITIZE=address,undefined test-unit
#   make fuzz-smoke / make bench / make format / make lint

CC      ?= gcc
# Parallel by default. (A self-referencing `MAKEFLAGS += $(if ...$(MAKEFLAGS)...)`
# is an error in GNU make 4.3, hence the conditional.)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif
PKGS    := libmicrohttpd yaml-0.1 libpcre2-8 libcurl libzstd jansson zlib libcrypto
MODE    ?= release
SANITIZE ?=
comma   := ,
ifneq ($(SANITIZE),)
MODE    := san
B       := build/san-$(subst $(comma),-,$(SANITIZE))
else
B       := build/$(MODE)
endif

WARN    := -Wall -Wextra -Wshadow -Wvla -Wmissing-prototypes -Werror
CSTD    := -std=c11 -D_GNU_SOURCE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -lxxhash -lm -lpthread
INC     := -Isrc
OPT_release := -O2 -g
OPT_san     := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
CFLAGS  += $(CSTD) $(WARN) $(OPT_$(MODE)) $(INC) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(if $(SANITIZE),-fsanitize=$(SANITIZE))

LIB_SRC  := $(sort $(filter-out src/main.c,$(shell find src -name '*.c' -not -path 'src/ui/*')))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c'))
UNIT_BIN := $(UNIT_SRC:%.c=$(B)/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_SRC := $(sort $(wildcard bench/gen/*.c))

.PHONY: all deps run test test-unit test-san test-conformance test-e2e fuzz-smoke \
        bench bench-smoke format lint clean
all: $(B)/trine

deps:
	@scripts/install-deps

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libtrine.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/trine: $(B)/src/main.o $(B)/libtrine.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/unit/%: tests/unit/%.c $(B)/libtrine.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(B)/libtrine.a $(PKG_LIBS) -lcmocka

# Fuzz targets: clang + libFuzzer, the library rebuilt with the same flags.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc $(PKG_CFLAGS) \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/libtrine.a: $(LIB_SRC:%.c=build/fuzz/obj/%.o)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libtrine.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libtrine.a $(PKG_LIBS)

run: deps $(B)/trine
	$(B)/trine serve

test: deps
	@tests/run-all

test-unit: $(UNIT_BIN)
	@tests/run-unit $(B) $(UNIT_BIN:$(B)/%=%)

# The unit tests of threaded modules under ThreadSanitizer (STYLE.md §8).
TSAN_TESTS := $(filter %/test_store %/test_store_wal %/test_store_blocks %/test_wal \
                %/test_scrape_manager %/test_alertmanager %/test_rules,$(UNIT_SRC:%.c=%))
test-tsan:
	@$(MAKE) -s SANITIZE=thread $(TSAN_TESTS:%=build/san-thread/%)
	@TSAN_OPTIONS=halt_on_error=1 tests/run-unit build/san-thread $(TSAN_TESTS)

test-build: $(B)/trine $(UNIT_BIN)

fuzz-build: $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@tests/fuzz/smoke $(FUZZ_BIN)

# The benchmark's workload generator (bench/gen, not part of libtrine).
$(B)/trine-benchgen: $(BENCH_SRC:%.c=$(B)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
# Offline flush of a stopped trine's store, for the bench's disk figure.
$(B)/trine-benchflush: $(B)/bench/flush/flush.o $(B)/libtrine.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: deps $(B)/trine $(B)/trine-benchgen $(B)/trine-benchflush
	@scripts/install-deps --peers
	@bench/run --update-readme

bench-smoke: $(B)/trine $(B)/trine-benchgen $(B)/trine-benchflush
	@bench/smoke

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'lib/*.[ch]' 'bench/*.[ch]')

lint:
	cppcheck --quiet --enable=warning,performance --inline-suppr -Isrc src

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
