# hotswap: built with plain javac and jar. Maven only fetches the pinned jars into lib/.
#   make          build build/hotswap.jar, and build/hotswap.jsa (the client's class-data archive)
#   make run      start the demo app on db/production.sqlite3
#   make test     run every test; the last line reads "N passed, N failed"
# Set JAVA_HOME to build and test with another JDK (17 or newer).

SQLITE_JDBC_VERSION := 3.54.1.0
JUNIT_VERSION       := 6.1.3
DEPENDENCY_PLUGIN   := org.apache.maven.plugins:maven-dependency-plugin:3.8.1

ifdef JAVA_HOME
JAVA  := $(JAVA_HOME)/bin/java
JAVAC := $(JAVA_HOME)/bin/javac
JAR   := $(JAVA_HOME)/bin/jar
else
JAVA  := java
JAVAC := javac
JAR   := jar
endif
JAVAC_FLAGS := --release 17 -encoding UTF-8 -Xlint:all,-serial,-try -Werror

SQLITE_JAR := lib/sqlite-jdbc-$(SQLITE_JDBC_VERSION).jar
JUNIT_JAR  := lib/junit-platform-console-standalone-$(JUNIT_VERSION).jar
MAIN_SRC   := $(shell find src/main/java -name '*.java')
TEST_SRC   := $(shell find src/test/java -name '*.java')
JARFILE    := build/hotswap.jar
ARCHIVE    := build/hotswap.jsa

.PHONY: all run test stress clean bench
.DELETE_ON_ERROR:

all: $(JARFILE) $(ARCHIVE)

# String concatenation compiled to StringBuilder calls, not invokedynamic: a call site's first run then
# costs no bootstrap, which a short-lived client pays at start (make bench, target 8, has the A/B).
INLINE_CONCAT := -XDstringConcat=inline

# $(call build_jar,JAVAC_FLAGS,CLASSES,JAR,SOURCES): compiles SOURCES into the directory CLASSES and packs
# them as JAR, whose entry point is the client; the jar, and the A/B jars make bench builds, are made so.
build_jar = $(JAVAC) $(1) -d $(2) $(4) && $(JAR) --create --file $(3) --main-class hotswap.cli.Main -C $(2) .

$(JARFILE): $(MAIN_SRC) Makefile
	@rm -rf build/classes && mkdir -p build/classes
	@echo "javac build/classes, jar $@"
	@$(call build_jar,$(JAVAC_FLAGS) $(INLINE_CONCAT),build/classes,$@,$(MAIN_SRC))

# The client's class-data archive, recorded from one real push to the demo app started on a scratch
# database: bin/hotswap maps it when the JDK running it accepts it, and starts without it otherwise.
# A failed recording leaves no archive and fails nothing: the client works the same, a little slower.
$(ARCHIVE): $(JARFILE) $(SQLITE_JAR)
	@rm -rf build/cds-train $@ && mkdir -p build/cds-train
	@echo "recording $@"
	@cd build/cds-train && export PORT=0 HOTSWAP_DB=live.sqlite3 HOTSWAP_SOCKET=app.sock HOTSWAP_JAR=$(abspath $(JARFILE)) && \
	  { $(JAVA) -cp ../hotswap.jar:../../$(SQLITE_JAR) hotswap.demo.DemoApp >app.log 2>&1 & app=$$!; } && \
	  for i in $$(seq 100); do [ -S app.sock ] && break; sleep 0.1; done && \
	  ../../bin/hotswap cp live.sqlite3 copy.sqlite3 >>app.log 2>&1 && \
	  JAVA_TOOL_OPTIONS="-XX:ArchiveClassesAtExit=../hotswap.jsa" ../../bin/hotswap cp copy.sqlite3 live.sqlite3 >>app.log 2>&1; \
	  kill $$app 2>/dev/null; wait $$app 2>/dev/null; \
	  [ -s ../hotswap.jsa ] || { rm -f ../hotswap.jsa; echo "note: no class-data archive (see build/cds-train/app.log); bin/hotswap runs without it"; }

lib/sqlite-jdbc-%.jar:
	mvn -B -q $(DEPENDENCY_PLUGIN):copy -Dartifact=org.xerial:sqlite-jdbc:$* -DoutputDirectory=lib

lib/junit-platform-console-standalone-%.jar:
	mvn -B -q $(DEPENDENCY_PLUGIN):copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$* -DoutputDirectory=lib

build/test-classes.stamp: $(JARFILE) $(ARCHIVE) $(TEST_SRC) $(SQLITE_JAR) $(JUNIT_JAR)
	@rm -rf build/test-classes && mkdir -p build/test-classes
	@echo "javac build/test-classes"
	@$(JAVAC) $(JAVAC_FLAGS) -cp $(JARFILE):$(JUNIT_JAR) -d build/test-classes $(TEST_SRC)
	@touch $@

# sqlite-jdbc loads its native library with System.load, which JDK 24 and later warn about unless allowed.
run: $(JARFILE) $(ARCHIVE) $(SQLITE_JAR)
	$(JAVA) --enable-native-access=ALL-UNNAMED -cp $(JARFILE):$(SQLITE_JAR) hotswap.demo.DemoApp

# $(call junit,JVM_FLAGS,LAUNCHER_FLAGS,PREFIX): runs the test classes with the JUnit console launcher, then
# prints one "N passed, N failed, N skipped" line and exits non-zero on any failure.
define junit
	@mkdir -p build/test-reports
	@HOTSWAP_JAR=$(abspath $(JARFILE)) HOTSWAP_SQLITE_JAR=$(abspath $(SQLITE_JAR)) \
	  $(3) $(JAVA) $(1) -jar $(JUNIT_JAR) execute --disable-banner --details=tree --details-theme=ascii \
	    --class-path build/test-classes:$(JARFILE):$(SQLITE_JAR) --scan-class-path $(2) \
	    --reports-dir build/test-reports > build/test-output.txt 2>&1; \
	  status=$$?; cat build/test-output.txt; \
	  count() { sed -n "s/^\[ *\([0-9]*\) tests $$1 *\]$$/\1/p" build/test-output.txt; }; \
	  passed=$$(count successful); failed=$$(count failed); skipped=$$(count skipped); aborted=$$(count aborted); \
	  echo "$${passed:-0} passed, $${failed:-0} failed, $$(( $${skipped:-0} + $${aborted:-0} )) skipped"; \
	  if [ -z "$$passed" ]; then echo "the test runner printed no summary (exit $$status)"; exit 1; fi; \
	  exit $$status
endef

test: build/test-classes.stamp
	@command -v sqlite3 >/dev/null || echo "note: sqlite3 CLI not found; tests that compare with it are skipped"
	$(call junit,,)

# The randomized fault and load tests at full size (make test runs them small), bounded to 10 minutes.
stress: build/test-classes.stamp
	$(call junit,-Dhotswap.stress.trials=20 -Dhotswap.stress.swaps=100,--include-tag stress,timeout 600)

clean:
	rm -rf build

# make bench: the performance targets, measured against baselines of the same run, printed as one
# table (not part of CI; about 25 minutes on 2 cores, stopped at 40; BENCH_ONLY=9 runs target 9 alone, about 7). Installs
# wrk, sqlite3 and python3 (target 9's transport) from Debian when missing.
BENCH_SRC := $(shell find src/test/java/hotswap/bench -name '*.java')

bench: $(JARFILE) $(ARCHIVE) $(SQLITE_JAR)
	@command -v wrk >/dev/null && command -v sqlite3 >/dev/null && command -v python3 >/dev/null || { apt-get update && apt-get install -y wrk sqlite3 python3; }
	@rm -rf build/bench-classes && mkdir -p build/bench-classes build/bench
	$(JAVAC) $(JAVAC_FLAGS) -cp $(JARFILE) -d build/bench-classes $(BENCH_SRC)
	@# Each patch under bench/ab undoes one measure the code takes: built into a jar of its own, an A/B's other side,
	@# built as the jar is (inline concatenation too), so that the patch is the only difference.
	@rm -rf build/bench-ab && mkdir -p build/bench-ab
	@for p in $$(find src/test/java/hotswap/bench/ab -name '*.patch'); do n=$$(basename $$p .patch); mkdir -p build/bench-ab/$$n/classes; \
	  cp -r src build/bench-ab/$$n/ && patch -s -p1 -d build/bench-ab/$$n < $$p && echo "javac build/bench-ab/$$n.jar" && \
	  $(call build_jar,$(JAVAC_FLAGS) $(INLINE_CONCAT),build/bench-ab/$$n/classes,build/bench-ab/$$n.jar,$$(find build/bench-ab/$$n/src/main/java -name '*.java')) \
	  || exit 1; done
	@# A measure in the build rather than the code: the jar without inline concatenation.
	@mkdir -p build/bench-ab/indy-concat/classes && echo "javac build/bench-ab/indy-concat.jar"
	@$(call build_jar,$(JAVAC_FLAGS),build/bench-ab/indy-concat/classes,build/bench-ab/indy-concat.jar,$(MAIN_SRC))
	@# The jar as built, with no class-data archive beside it: bin/hotswap runs it without one.
	cp $(JARFILE) build/bench-ab/no-archive.jar
	timeout 2400 $(JAVA) -cp build/bench-classes:$(JARFILE):$(SQLITE_JAR) hotswap.bench.Bench --jar $(JARFILE) --sqlite-jar $(SQLITE_JAR) \
	  --ab-dir build/bench-ab --classes build/bench-classes --dir build/bench --cli bin/hotswap --java $(JAVA)
