# sensi: plain Makefile. Targets: all (the sensi binary), test, asan, fuzz,
# bench, demo, clean, setup. System libraries via pkg-config.
CC      ?= cc
PKGS    := openblas zlib libcjson liblbfgs libpng sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# MPI (OpenMPI's mpicc) when present, unless NO_MPI=1: sweeps under mpirun.
# Without it the binary does everything else.
MPICC   := $(if $(NO_MPI),,$(shell command -v mpicc 2>/dev/null))
ifneq ($(MPICC),)
PKG_CFLAGS += -DSENSI_MPI $(shell $(MPICC) --showme:compile 2>/dev/null)
PKG_LIBS   += $(shell $(MPICC) --showme:link 2>/dev/null)
endif
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wno-sign-compare -fno-fast-math $(PKG_CFLAGS)
override LDLIBS += $(PKG_LIBS) -lm -lpthread
BUILD   ?= build

LIB_SRC  := $(sort $(wildcard src/core/*.c src/data/*.c src/nn/*.c src/sens/*.c src/study/*.c src/analysis/*.c src/report/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HDRS     := $(wildcard src/*/*.h tests/*.h)

.PHONY: all test asan fuzz bench demo clean setup tests
all: sensi

setup:
	@sh scripts/setup.sh

# Rebuild everything when the flags change (e.g. MPI appears after setup).
FLAGS_FILE := $(BUILD)/.flags
FLAGS_NOW  := $(CC) $(CFLAGS) $(LDLIBS)
$(shell mkdir -p $(BUILD); [ "$$(cat $(FLAGS_FILE) 2>/dev/null)" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $(FLAGS_FILE))

$(BUILD)/%.o: %.c $(HDRS) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsensi.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sensi: $(CLI_OBJ) $(BUILD)/libsensi.a
	$(CC) $(CFLAGS) $(CLI_OBJ) $(BUILD)/libsensi.a -o $@ $(LDLIBS)

sensi: $(BUILD)/sensi
	cp $(BUILD)/sensi sensi.tmp && mv -f sensi.tmp sensi

$(BUILD)/tests/%: tests/%.c $(BUILD)/libsensi.a $(HDRS) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/libsensi.a -o $@ $(LDLIBS) $(shell pkg-config --libs cmocka)

tests: $(TEST_BIN) $(BUILD)/sensi

# make test: install dependencies, build, run every unit test and the
# end-to-end CLI tests against real data.
test: setup
	@$(MAKE) --no-print-directory tests
	@sh tests/run.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: setup
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" tests
	@SENSI_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh build-asan

# libFuzzer targets (tests/fuzz/fuzz_*.c, clang) for every parser, each run
# FUZZ_SECONDS (60) on a copy of its corpus; build-fuzz/ (tests/fuzz/run.sh).
fuzz: setup
	@sh tests/fuzz/run.sh

# setup runs first in its own make: the pkg-config and mpicc probes above
# are evaluated when make starts, before setup could install anything.
bench: setup
	@$(MAKE) --no-print-directory all
	@sh scripts/setup.sh bench
	@sh bench/run.sh

demo: setup
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

clean:
	rm -rf build build-asan sensi
