package hotswap.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code make bench}: measures the performance targets of hotswap against baselines taken in the
 * same run and prints one table. Not a test: nothing here is asserted in CI.
 *
 * <p>The app under test is {@link BenchApp}, a separate JVM (so its resident memory can be read
 * from /proc). Throughput (targets 1, 2) is measured with wrk when it is installed, else with
 * {@link LoadGen}; the swap pause (target 3) always with {@link LoadGen}, which records every
 * request's start and latency. Target 9, delta transfers to and from a remote app, is
 * {@link DeltaBench}.
 *
 * <p>Usage: {@code Bench --jar J --sqlite-jar S --ab-dir D --classes DIR --dir BENCHDIR --cli bin/hotswap --java JAVA}; D holds
 * the jars of the A/Bs' other sides, each built from a patch in {@code bench/ab}.
 */
public final class Bench {
    private static final long MIB = 1L << 20;
    private static final int CONCURRENCY = 16;
    private static final int ROUNDS = 7;
    private static final int ROUND_SECONDS = 3;
    private static final int REPEATS = 7;
    private static final int WARM_UP_SWAPS = 8;
    /**
     * Runs of each 1 GiB copy: the disk's speed varies from run to run (freed blocks are discarded,
     * dirty pages flushed). Each run takes the three copies compared in one of {@link #ORDERS}.
     */
    private static final int COPY_REPEATS = 6;
    /**
     * The six orders of three copies, one per run: each copy comes first twice, and right after each
     * of the other two twice. On this VM what a copy costs depends on what ran just before it:
     * memory freed a few seconds earlier is fast to write into again, memory the host has taken back
     * is slow. A rotation keeps the cyclic order, so one copy would always follow the one that
     * frees a gigabyte at its end (a pull to stdout frees its snapshot; a push, the replaced file)
     * and always find warm memory (docs/PERFORMANCE.md has the runs that showed it). The pulls'
     * outputs are also removed after each copy, so every copy comes right after a gigabyte was
     * freed (see {@link #pull}).
     */
    private static final int[][] ORDERS = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    /**
     * The pull compares four copies: a balanced Latin square of four orders, each copy first once
     * and right after each other copy once; the pull takes every order twice.
     */
    private static final int[][] PULL_ORDERS = {{0, 1, 3, 2}, {1, 2, 0, 3}, {2, 3, 1, 0}, {3, 0, 2, 1}};
    private static final int PULL_REPEATS = 2 * PULL_ORDERS.length;
    /** Before each timed copy: see {@link #settle()}. */
    private static final long SETTLE_MILLIS = 3000;

    final Map<String, String> opt;
    final Path dir;
    final Path socket;
    final Path live;
    final String java;
    private final String appClasspath;
    private final long began = System.nanoTime();
    private final String loadBefore = loadAverage();
    private final boolean wrk;
    private final List<String[]> rows = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    private int passed;
    private int failed;
    private long clientPeakKb;

    private Bench(Map<String, String> opt) {
        this.opt = opt;
        this.dir = Path.of(opt.get("dir")).toAbsolutePath();
        this.socket = dir.resolve("hotswap.sock");
        this.live = dir.resolve("live.sqlite3");
        this.java = opt.getOrDefault("java", "java");
        this.appClasspath = abs(opt.get("classes")) + ":" + abs(opt.get("jar")) + ":" + abs(opt.get("sqlite-jar"));
        this.wrk = onPath("wrk");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        for (String required : List.of("jar", "sqlite-jar", "ab-dir", "classes", "dir", "cli")) {
            if (!opt.containsKey(required)) {
                System.err.println("usage: Bench --jar J --sqlite-jar S --ab-dir D --classes DIR --dir BENCHDIR --cli bin/hotswap [--java JAVA]");
                System.exit(2);
            }
        }
        Bench bench = new Bench(opt);
        // make bench stops a run at 25 minutes: the app and any command still running go with it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroy)));
        int status;
        try {
            status = bench.run();
        } finally {
            bench.cleanUp();
        }
        System.exit(status);
    }

    private int run() throws Exception {
        Files.createDirectories(dir);
        cleanUp();
        if (!onPath("sqlite3")) {
            throw new IllegalStateException("the sqlite3 CLI is needed for the pull baseline; apt-get install -y sqlite3");
        }
        Path src1m = dir.resolve("src-1m.sqlite3");
        Path src100m = dir.resolve("src-100m.sqlite3");
        Path src1g = dir.resolve("src-1g.sqlite3");
        if (only("12345678")) { // target 9 makes its own
            progress("generating databases in " + dir);
            makeDb(src1m, MIB);
            makeDb(src100m, 100 * MIB);
            makeDb(src1g, 1024 * MIB);
            Files.copy(src1m, live);
            // Written with synchronous=OFF: without a sync here the kernel writes their 1.1 GiB back about 30 s
            // later (dirty_expire), in the middle of target 1, and takes CPU from both of its variants.
            settle();
            progress("databases: 1m " + Files.size(src1m) + " B, 100m " + Files.size(src100m) + " B, 1g " + Files.size(src1g) + " B");
        }

        if (only("123")) {
            notes.add("1-3 the bench app sets sun.net.httpserver.nodelay=true in both variants: without it the JDK HttpServer "
                    + "answers each keep-alive request about 40 ms late (Nagle vs delayed ACK), ~360 req/s here, gate or not");
        }
        if (only("6")) {
            clientStartup();
        }
        if (only("123")) {
            try (App app = App.start(this, "app-load.log")) {
                if (only("1")) {
                    throughput(app, "/items", "1 GET /items throughput, gate/none", 0.97);
                }
                if (only("2")) {
                    throughput(app, "/slow", "2 5 ms handler throughput, gate/none", 0.95);
                }
                if (only("3")) {
                    swapPause(app, List.of(src1m, src100m, src1g), List.of("1 MiB", "100 MiB", "1 GiB"));
                }
            }
        }
        if (only("457")) {
            long[] pushGrowth;
            long[] pullGrowth;
            try (App app = App.start(this, "app-copy.log")) {
                new LoadGen(app.gated, "/items", CONCURRENCY).run(1000); // a warm app, as in production
                pushGrowth = push(app, src1g);
                pullGrowth = pull(app);
            }
            memory(pushGrowth, pullGrowth);
        }
        if (only("8")) {
            new FeltBench(this, src1m, src1g).run();
        }
        if (only("9")) {
            new DeltaBench(this).run();
        }
        printTable();
        return failed == 0 ? 0 : 1;
    }

    // ---- target 1, 2: throughput with and without the gate --------------------------------------

    private void throughput(App app, String path, String label, double limit) throws Exception {
        progress("throughput " + path + ": warm-up");
        for (int i = 0; i < 2; i++) { // until both variants are compiled and the heap has settled
            measureThroughput(app.gated, path, 3);
            measureThroughput(app.plain, path, 3);
        }
        List<Double> gated = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        for (int i = 0; i < ROUNDS; i++) {
            boolean gatedFirst = i % 2 == 0;
            for (int k = 0; k < 2; k++) {
                if (gatedFirst == (k == 0)) {
                    gated.add(measureThroughput(app.gated, path, ROUND_SECONDS));
                } else {
                    plain.add(measureThroughput(app.plain, path, ROUND_SECONDS));
                }
            }
        }
        double g = median(gated);
        double p = median(plain);
        // Each round measures both variants back to back, so the ratio within a round is free of the machine's
        // drift from round to round (throughput here wanders by 10% over a minute, gate or not).
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < ROUNDS; i++) {
            ratios.add(gated.get(i) / plain.get(i));
        }
        double ratio = median(ratios);
        progress("throughput " + path + ": gate " + gated + " none " + plain + " ratios per round "
                + ratios.stream().map(r -> String.format("%.3f", r)).toList());
        row(label, String.format("%.0f req/s", g), String.format("%.0f req/s", p), ratio, ">= " + limit, ratio >= limit);
    }

    /** Requests per second at {@link #CONCURRENCY} for {@code seconds}. */
    private double measureThroughput(int port, String path, int seconds) throws Exception {
        if (!wrk) {
            LoadGen.Samples s = new LoadGen(port, path, CONCURRENCY).run(seconds * 1000L);
            if (s.errors() > 0) {
                throw new IllegalStateException(s.errors() + " failed requests on " + path);
            }
            return s.perSecond();
        }
        Result r = exec(List.of("wrk", "-t2", "-c" + CONCURRENCY, "-d" + seconds + "s", "--timeout", "5s",
                "http://127.0.0.1:" + port + path), null, false);
        Matcher m = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(r.out);
        if (r.exit != 0 || !m.find() || r.out.contains("Non-2xx") || r.out.contains("Socket errors")) {
            throw new IllegalStateException("wrk failed on " + path + ":\n" + r.out);
        }
        return Double.parseDouble(m.group(1));
    }

    // ---- target 3: swap pause under load ---------------------------------------------------------

    private void swapPause(App app, List<Path> sources, List<String> names) throws Exception {
        double[] gatePauses = new double[sources.size()];
        progress("swap pause: warm-up swaps under load");
        cliOk(null, "cp", "--skip-integrity-check", "--skip-schema-check", sources.get(0).toString(), live.toString());
        String firstSwap = app.logSince(0);
        warmUpSwaps(app, sources.get(0));
        Matcher cold = Pattern.compile("lock released: requests paused ([0-9.,]+) ms").matcher(firstSwap);
        if (cold.find()) {
            notes.add("3 the first swap in a fresh app JVM (no load, code not yet compiled) paused requests " + cold.group(1)
                    + " ms; " + WARM_UP_SWAPS + " warm-up swaps under load follow before the measured ones");
        }
        for (int i = 0; i < sources.size(); i++) {
            Path src = sources.get(i);
            progress("swap pause " + names.get(i) + ": live becomes " + names.get(i));
            cliOk(null, "cp", "--skip-integrity-check", "--skip-schema-check", src.toString(), live.toString());
            List<SwapSample> swaps = new ArrayList<>();
            for (int rep = 0; rep < REPEATS; rep++) {
                swaps.add(measureSwap(app, src));
            }
            List<Double> extra = each(swaps, SwapSample::extra);
            List<Double> pauses = each(swaps, SwapSample::pause);
            List<Double> drains = each(swaps, SwapSample::drain);
            List<Double> control = each(swaps, SwapSample::control);
            List<Double> cliExtra = each(swaps, SwapSample::cliExtra);
            List<Double> p99s = each(swaps, SwapSample::p99);
            long errors = swaps.stream().mapToLong(SwapSample::errors).sum();
            double e = median(extra);
            gatePauses[i] = median(pauses);
            progress("swap pause " + names.get(i) + ": extra " + fmt(extra) + " ms, gate pause " + fmt(pauses)
                    + " ms, max-in-CLI-window extra " + fmt(cliExtra) + " ms, p99 outside " + fmt(p99s)
                    + " ms, drain wait " + fmt(drains) + " ms, max outside " + fmt(each(swaps, SwapSample::outsideMax))
                    + " ms, same-length windows without a swap: extra " + fmt(control) + " ms");
            row("3 swap pause " + names.get(i) + ": max latency in swap", String.format("%.1f ms", median(each(swaps, SwapSample::maxInSwap))),
                    String.format("p99 %.1f ms", median(p99s)), String.format("+%.1f ms", e), "<= +5 ms", e <= 5);
            notes.add(String.format("3 %s: app log: drain wait %.0f ms + pause %.1f ms; control (windows as long as the swap's, "
                    + "in the second before the push): max p99 %+.1f ms; max over the whole CLI run p99 %+.1f ms; failed requests %d",
                    names.get(i), median(drains), median(pauses), median(control), median(cliExtra), errors));
            if (errors > 0) {
                failed++;
            }
        }
        int last = gatePauses.length - 1;
        double growth = gatePauses[last] - gatePauses[0];
        row("3 gate pause (app log), 1 GiB vs 1 MiB", String.format("%.1f ms", gatePauses[last]),
                String.format("%.1f ms", gatePauses[0]), String.format("%+.1f ms", growth), "flat: <= +2 ms", growth <= 2);
    }

    /**
     * Swaps {@code src} in {@link #WARM_UP_SWAPS} times under load, a second apart: until the app's
     * request path and swap path are compiled, early swaps measured p99s of 12-15 ms, later ones ~5.5.
     */
    private void warmUpSwaps(App app, Path src) throws Exception {
        LoadGen warm = new LoadGen(app.gated, "/items", CONCURRENCY);
        warm.start();
        for (int i = 0; i < WARM_UP_SWAPS; i++) {
            Thread.sleep(1000);
            cliOk(null, "cp", "--skip-integrity-check", "--skip-schema-check", src.toString(), live.toString());
        }
        warm.stop();
    }

    /**
     * One swap under load, all times in ms.
     *
     * @param extra      the longest latency of the requests that overlap the swap window (from the
     *                   app's swap listener) minus the p99 of the requests outside the CLI's run
     * @param maxInSwap  that longest latency
     * @param pause      the gate pause the app logged
     * @param drain      how long the swap waited for in-flight requests (app log)
     * @param cliExtra   the longest latency over the CLI's whole run, minus the p99
     * @param outsideMax the longest latency outside the CLI's run
     * @param control    the typical longest latency in windows as long as the swap's, in the second
     *                   before the push, minus the p99
     */
    private record SwapSample(double extra, double p99, double maxInSwap, double pause, double drain, double cliExtra,
                              double outsideMax, double control, long errors) {
    }

    /**
     * Swaps {@code src} in once while a {@link LoadGen} with {@link #CONCURRENCY} keep-alive
     * connections requests {@code /items}, from a second before the push to a second after it.
     */
    private SwapSample measureSwap(App app, Path src) throws Exception {
        LoadGen load = new LoadGen(app.gated, "/items", CONCURRENCY);
        load.start();
        Thread.sleep(1000);
        long offset = app.logSize();
        long cliStart = System.nanoTime();
        cliOk(null, "cp", "--skip-integrity-check", "--skip-schema-check", src.toString(), live.toString());
        long cliEnd = System.nanoTime();
        Thread.sleep(1000);
        LoadGen.Samples s = load.stop();
        String log = app.logSince(offset);
        Matcher w = Pattern.compile("bench-swap-window (\\d+) (\\d+)").matcher(log);
        Matcher p = Pattern.compile("lock released: requests paused ([0-9.,]+) ms").matcher(log);
        if (!w.find() || !p.find()) {
            throw new IllegalStateException("no swap logged by the app:\n" + log);
        }
        long before = Long.parseLong(w.group(1));
        long after = Long.parseLong(w.group(2));
        List<Long> outside = new ArrayList<>();
        long maxInSwap = 0;
        long maxInCli = 0;
        for (int k = 0; k < s.count(); k++) {
            long start = s.starts()[k];
            long end = start + s.latencies()[k];
            if (end < cliStart || start > cliEnd) {
                outside.add(s.latencies()[k]);
            } else {
                maxInCli = Math.max(maxInCli, s.latencies()[k]);
            }
            if (start <= after && end >= before) {
                maxInSwap = Math.max(maxInSwap, s.latencies()[k]);
            }
        }
        double p99 = percentile(outside, 0.99) / 1e6;
        Matcher d = Pattern.compile("lock acquired: waited (\\d+) ms").matcher(log);
        return new SwapSample(maxInSwap / 1e6 - p99, p99, maxInSwap / 1e6, Double.parseDouble(p.group(1).replace(',', '.')),
                d.find() ? Double.parseDouble(d.group(1)) : Double.NaN, maxInCli / 1e6 - p99, percentile(outside, 1.0) / 1e6,
                controlMax(s, after - before, cliStart) / 1e6 - p99, s.errors());
    }

    private static List<Double> each(List<SwapSample> swaps, ToDoubleFunction<SwapSample> field) {
        return swaps.stream().map(field::applyAsDouble).toList();
    }

    /**
     * The typical (median) longest latency among requests overlapping a window of {@code length}
     * nanos, over 100 windows in the 900 ms before {@code cliStart}, when no swap runs.
     */
    private static double controlMax(LoadGen.Samples s, long length, long cliStart) {
        List<Double> maxes = new ArrayList<>();
        long from = cliStart - 900_000_000L;
        long span = 850_000_000L - length;
        for (int w = 0; w < 100; w++) {
            long ws = from + span * w / 100;
            long we = ws + length;
            long max = 0;
            for (int k = 0; k < s.count(); k++) {
                long start = s.starts()[k];
                if (start > we) {
                    break;
                }
                if (start + s.latencies()[k] >= ws) {
                    max = Math.max(max, s.latencies()[k]);
                }
            }
            maxes.add((double) max);
        }
        return median(maxes);
    }

    // ---- target 4: push; 7: memory -----------------------------------------------------------

    private long[] push(App app, Path src) throws Exception {
        Path other = dir.resolve("cat-copy.sqlite3");
        Path otherNew = dir.resolve("cat-copy.sqlite3.new");
        exec(List.of("sh", "-c", "cat \"$0\" > \"$1\" && sync", src.toString(), other.toString()), null, false);
        List<Double> pushes = new ArrayList<>();
        List<Double> cats = new ArrayList<>();
        List<Double> catsSynced = new ArrayList<>();
        List<Long> growth = new ArrayList<>();
        for (int rep = 0; rep < COPY_REPEATS; rep++) {
            progress("push 1 GiB, run " + (rep + 1));
            for (int k = 0; k < 3; k++) { // each run in another of the six orders
                settle();
                switch (ORDERS[rep % ORDERS.length][k]) {
                    case 0 -> cats.add(seconds(exec(List.of("sh", "-c", "cat \"$0\" > \"$1\"", src.toString(), other.toString()), null, false)));
                    case 1 -> catsSynced.add(seconds(exec(List.of("sh", "-c", "cat \"$0\" > \"$1\" && sync \"$1\" && mv \"$1\" \"$2\"",
                            src.toString(), otherNew.toString(), other.toString()), null, false)));
                    default -> {
                        Rss rss = Rss.watch(app.process.pid());
                        Result r = cliOk(null, "cp", "--skip-integrity-check", "--skip-schema-check", src.toString(), live.toString());
                        growth.add(rss.stop());
                        pushes.add(seconds(r));
                    }
                }
            }
        }
        double push = median(pushes);
        double base = median(catsSynced);
        progress("push: " + pushes + " s; cat+sync " + catsSynced + " s; cat " + cats + " s");
        row("4 push 1 GiB, checks skipped, vs cat NEW+fsync+mv", String.format("%.2f s", push), String.format("%.2f s", base),
                push / base, "<= 1.5", push / base <= 1.5);
        row("4 push 1 GiB vs literal `cat SRC > OTHER`", String.format("%.2f s", push), String.format("%.2f s", median(cats)),
                push / median(cats), "(1.5)", null);
        notes.add("4 the push writes a new temp file, fsyncs it and renames it over the live file; the matching baseline does the same "
                + "with `cat SRC > NEW && sync NEW && mv NEW OTHER`. The literal `cat SRC > OTHER` truncates OTHER and writes into "
                + "the page-cache pages it just freed, and does not fsync");

        progress("integrity check rate");
        settle();
        long offset = app.logSize();
        Rss rss = Rss.watch(app.process.pid());
        cliOk(null, "cp", src.toString(), live.toString());
        growth.add(rss.stop());
        Matcher m = Pattern.compile("integrity check: ok \\((\\d+) ms\\)").matcher(app.logSince(offset));
        if (!m.find()) {
            throw new IllegalStateException("the app logged no integrity check time");
        }
        double mb = Files.size(src) / 1e6;
        double rate = mb / (Long.parseLong(m.group(1)) / 1000.0);
        double cliRate = mb / seconds(exec(List.of("sqlite3", src.toString(), "PRAGMA integrity_check"), null, false));
        row("4 integrity_check rate (reported only)", String.format("%.0f MB/s", rate), String.format("sqlite3 %.0f MB/s", cliRate),
                rate / cliRate, "-", null);
        return growth.stream().mapToLong(Long::longValue).toArray();
    }

    // ---- target 5: pull ----------------------------------------------------------------------

    private long[] pull(App app) throws Exception {
        Path toFile = dir.resolve("pull-file.sqlite3");
        Path toStdout = dir.resolve("pull-stdout.sqlite3");
        Path backup = dir.resolve("backup.sqlite3");
        Path backupCat = dir.resolve("backup-cat.sqlite3");
        List<Double> files = new ArrayList<>();
        List<Double> stdouts = new ArrayList<>();
        List<Double> backups = new ArrayList<>();
        List<Double> backupCats = new ArrayList<>();
        List<Long> growth = new ArrayList<>();
        long logOffset = app.logSize();
        long size = -1; // the first copy's, which every other must match
        for (int rep = 0; rep < PULL_REPEATS; rep++) {
            progress("pull 1 GiB, run " + (rep + 1));
            for (int k = 0; k < 4; k++) {
                settle();
                Path output;
                switch (PULL_ORDERS[rep % PULL_ORDERS.length][k]) {
                    case 0 -> {
                        backups.add(seconds(exec(List.of("sqlite3", live.toString(), ".backup '" + backup + "'"), null, false)));
                        output = backup;
                    }
                    case 1 -> {
                        Rss rss = Rss.watch(app.process.pid());
                        files.add(seconds(cliOk(null, "cp", live.toString(), toFile.toString())));
                        growth.add(rss.stop());
                        output = toFile;
                    }
                    case 3 -> {
                        // What a shell user does for a snapshot on stdout with sqlite3: it cannot .backup to a pipe.
                        Path temp = dir.resolve("backup-cat.tmp");
                        backupCats.add(seconds(exec(List.of("sh", "-c", "sqlite3 \"$0\" \".backup '$1'\" && cat \"$1\" && rm \"$1\"",
                                live.toString(), temp.toString()), backupCat, false)));
                        output = backupCat;
                    }
                    default -> {
                        Rss rss = Rss.watch(app.process.pid());
                        stdouts.add(seconds(cliOk(toStdout, "cp", live.toString(), "-")));
                        growth.add(rss.stop());
                        output = toStdout;
                    }
                }
                if (size < 0) {
                    size = Files.size(output);
                } else if (Files.size(output) != size) {
                    throw new IllegalStateException(output.getFileName() + " holds " + Files.size(output) + " bytes, not " + size);
                }
                // Each copy frees a gigabyte of page cache when it is done, so the next one finds the same memory
                // whatever ran before it: a pull to stdout frees its snapshot at its end, and the others' outputs
                // go here. Kept, they gave the copies after a pull to stdout fresher memory than the pull ever got.
                Files.delete(output);
            }
        }
        double base = median(backups);
        progress("pull: file " + files + " s; stdout " + stdouts + " s; sqlite3 .backup " + backups + " s; .backup+cat+rm "
                + backupCats + " s");
        double f = median(files);
        double s = median(stdouts);
        row("5 pull 1 GiB to a file, vs sqlite3 .backup", String.format("%.2f s", f), String.format("%.2f s", base), f / base, "<= 1.3", f / base <= 1.3);
        // A pull to stdout writes the data twice (the snapshot, then stdout's file), which .backup does once.
        row("5 pull 1 GiB to stdout, vs sqlite3 .backup", String.format("%.2f s", s), String.format("%.2f s", base), s / base, "<= 2.0", s / base <= 2.0);
        double twice = median(backupCats);
        row("5 pull 1 GiB to stdout, vs sqlite3 .backup to a temp file, cat, rm", String.format("%.2f s", s), String.format("%.2f s", twice),
                s / twice, "-", null);
        notes.add("5 a pull to stdout writes the gigabyte twice, as `sqlite3 DB \".backup T\" && cat T && rm T` does: its second "
                + "baseline. The disk is mounted with discard, so freeing a gigabyte (rm, or closing the last descriptor of a "
                + "deleted snapshot) is part of both");
        // The app logs each pull's two parts: the snapshot (SQLite's backup), then the offer of its file to the
        // client (which a client on this machine takes: its copy, if any, is not in the app's log) or the stream.
        List<Double> snapshots = new ArrayList<>();
        List<Double> streams = new ArrayList<>();
        Matcher m = Pattern.compile("snapshot taken: \\d+ bytes in (\\d+) ms[\\s\\S]*?pull complete: .*? bytes in (\\d+) ms")
                .matcher(app.logSince(logOffset));
        while (m.find()) {
            double snapshot = Long.parseLong(m.group(1)) / 1000.0;
            snapshots.add(snapshot);
            streams.add(Long.parseLong(m.group(2)) / 1000.0 - snapshot);
        }
        progress("pull parts: snapshot " + snapshots + " s; offer+stream " + streams + " s");
        if (!snapshots.isEmpty()) {
            row("5 pull's snapshot alone (app log), vs sqlite3 .backup", String.format("%.2f s", median(snapshots)),
                    String.format("%.2f s", base), median(snapshots) / base, "-", null);
            row("5 pull's offer+stream, app side (app log)", String.format("%.2f s", median(streams)),
                    String.format("%.2f s", base), median(streams) / base, "-", null);
        }
        return growth.stream().mapToLong(Long::longValue).toArray();
    }

    // ---- target 6: client start-up -----------------------------------------------------------

    private void clientStartup() throws Exception {
        progress("client start-up");
        List<String> hello = List.of(java, "-cp", abs(opt.get("classes")), "hotswap.bench.Hello");
        List<String> version = List.of(abs(opt.get("cli")), "version");
        List<Double> h = new ArrayList<>();
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            double a = seconds(exec(hello, null, false));
            Result r = exec(version, null, false);
            if (r.exit != 0 || !r.out.startsWith("hotswap ")) {
                throw new IllegalStateException("hotswap version failed: " + r.out);
            }
            if (i >= 2) { // the first two warm the page cache
                h.add(a);
                v.add(seconds(r));
            }
        }
        double hm = median(h) * 1000;
        double vm = median(v) * 1000;
        row("6 client start-up: hotswap version vs hello", String.format("%.0f ms", vm), String.format("%.0f ms", hm), vm / hm, "<= 1.2", vm / hm <= 1.2);
        List<Long> peaks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peaks.add(exec(List.of(java, "-cp", abs(opt.get("classes")), "hotswap.bench.Hello", "300"), null, true).peakKb);
        }
        helloPeakKb = median(peaks.stream().map(Long::doubleValue).toList());
    }

    private double helloPeakKb;

    // ---- target 7: memory --------------------------------------------------------------------

    private void memory(long[] pushGrowth, long[] pullGrowth) {
        long push = Arrays.stream(pushGrowth).max().orElse(0);
        long pull = Arrays.stream(pullGrowth).max().orElse(0);
        row("7 app RSS growth during 1 GiB push (max)", mib(push), "-", "-", "<= 64 MiB", push <= 64 * 1024);
        row("7 app RSS growth during 1 GiB pull (max)", mib(pull), "-", "-", "<= 64 MiB", pull <= 64 * 1024);
        row("7 client peak RSS, push/pull vs hello JVM", mib(clientPeakKb), mib((long) helloPeakKb),
                clientPeakKb / helloPeakKb, "< 100 MiB", clientPeakKb < 100 * 1024);
        notes.add("7 app growth = peak RSS during the command (VmHWM after resetting it, and VmRSS sampled every 5 ms) "
                + "minus VmRSS just before; each push, integrity-checked push and pull counted, max shown");
    }

    // ---- the table ---------------------------------------------------------------------------

    /**
     * {@code a} (the code as it is) against {@code b} (an A/B's other side, or a baseline) by their
     * medians: with {@code mustGain}, a gain beyond the spread of either side; else no loss beyond it.
     */
    void spreadRow(String label, List<Double> a, List<Double> b, boolean mustGain) {
        spreadRow(label, a, b, mustGain, v -> String.format(Locale.ROOT, "%.2f s", v));
    }

    /** As {@link #spreadRow(String, List, List, boolean)}, the medians shown by {@code shown}. */
    void spreadRow(String label, List<Double> a, List<Double> b, boolean mustGain, java.util.function.DoubleFunction<String> shown) {
        double ma = median(a);
        double mb = median(b);
        double gain = (mb - ma) / mb;
        double spread = Math.max(spread(a), spread(b));
        String what = mustGain ? "gain" : "loss";
        row(label + ": " + what + " vs spread", shown.apply(ma), shown.apply(mb),
                String.format(Locale.ROOT, "%s %.0f%%, spread %.0f%%", what, 100 * (mustGain ? gain : -gain), 100 * spread),
                mustGain ? "gain > spread" : "loss <= spread", mustGain ? gain > spread : -gain <= spread);
    }

    void row(String target, String measured, String baseline, Object versus, String limit, Boolean ok) {
        String vs = versus instanceof Double d ? String.format("x%.2f", d) : String.valueOf(versus);
        String result = ok == null ? "info" : ok ? "PASS" : "FAIL";
        if (ok != null) {
            if (ok) {
                passed++;
            } else {
                failed++;
            }
        }
        rows.add(new String[] {target, measured, baseline, vs, limit, result});
    }

    private void printTable() {
        String[] head = {"target", "measured (median)", "baseline (same run)", "vs baseline", "limit", "result"};
        int[] width = new int[head.length];
        for (String[] r : concat(head)) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format("hotswap bench: %d cores, Java %s (%s), %s; load average before %s, after %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.runtime.version"), System.getProperty("java.vm.name"),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME.withLocale(Locale.ROOT)).replaceFirst("\\.\\d+", ""),
                loadBefore, loadAverage()));
        out.append(String.format("load: %s, %d connections, %d x %d s per variant after 2 x 2 x 3 s warm-up, interleaved (targets 1, 2); "
                        + "Java fixed-concurrency keep-alive generator, %d connections (target 3, %d swaps per size); 1 GiB copies %d runs each (pull %d)%n",
                wrk ? "wrk -t2" : "Java fixed-concurrency keep-alive generator (wrk not found)", CONCURRENCY, ROUNDS, ROUND_SECONDS,
                CONCURRENCY, REPEATS, COPY_REPEATS, PULL_REPEATS));
        String sep = line(width);
        out.append(sep);
        out.append(format(head, width));
        out.append(sep);
        for (String[] r : rows) {
            out.append(format(r, width));
        }
        out.append(sep);
        for (String n : notes) {
            out.append("note ").append(n).append('\n');
        }
        out.append(String.format("bench: %d of %d targets met, %d missed; wall time %.0f s%n", passed, passed + failed, failed,
                (System.nanoTime() - began) / 1e9));
        System.out.print(out);
        System.out.flush();
    }

    private List<String[]> concat(String[] head) {
        List<String[]> all = new ArrayList<>(rows);
        all.add(head);
        return all;
    }

    private static String format(String[] r, int[] width) {
        StringBuilder b = new StringBuilder("|");
        for (int i = 0; i < r.length; i++) {
            b.append(' ').append(String.format("%-" + width[i] + "s", r[i])).append(" |");
        }
        return b.append('\n').toString();
    }

    private static String line(int[] width) {
        StringBuilder b = new StringBuilder("+");
        for (int w : width) {
            b.append("-".repeat(w + 2)).append('+');
        }
        return b.append('\n').toString();
    }

    // ---- processes ---------------------------------------------------------------------------

    /** What a child process did: wall time from start to exit, exit status, stdout+stderr, peak RSS. */
    record Result(long nanos, int exit, String out, long peakKb) {
    }

    /** {@code bin/hotswap --socket SOCKET ARGS...}. */
    List<String> cliCommand(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(abs(opt.get("cli")), "--socket", socket.toString()));
        cmd.addAll(args);
        return cmd;
    }

    /** Runs {@link #cliCommand} and requires it to succeed. */
    Result cli(List<String> args) throws Exception {
        return cliOk(null, args.toArray(String[]::new));
    }

    private Result cliOk(Path stdoutFile, String... args) throws Exception {
        List<String> cmd = cliCommand(List.of(args));
        Result r = exec(cmd, stdoutFile, true);
        if (r.exit != 0) {
            throw new IllegalStateException("hotswap " + String.join(" ", args) + " exited " + r.exit + ":\n" + r.out);
        }
        clientPeakKb = Math.max(clientPeakKb, r.peakKb);
        return r;
    }

    /** Runs a command; stdout goes to {@code stdoutFile} when given, else is captured with stderr. */
    Result exec(List<String> cmd, Path stdoutFile, boolean sampleRss) throws Exception {
        return exec(cmd, stdoutFile, sampleRss, opt.get("jar"));
    }

    /** As {@link #exec(List, Path, boolean)}, with bin/hotswap running {@code jar}: an A/B's other side, or the one built. */
    Result exec(List<String> cmd, Path stdoutFile, boolean sampleRss, String jar) throws Exception {
        Path err = dir.resolve("child.out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().put("HOTSWAP_JAR", abs(jar));
        if (stdoutFile != null) {
            pb.redirectOutput(stdoutFile.toFile()).redirectError(err.toFile());
        } else {
            pb.redirectErrorStream(true).redirectOutput(err.toFile());
        }
        long t0 = System.nanoTime();
        Process p = pb.start();
        Rss rss = sampleRss ? Rss.watch(p.pid()) : null;
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        long nanos = System.nanoTime() - t0;
        long peak = rss == null ? 0 : rss.stopPeak();
        return new Result(nanos, p.exitValue(), Files.readString(err, StandardCharsets.UTF_8), peak);
    }

    /**
     * Flushes dirty pages and waits, so that each timed copy starts alike. This VM hands memory
     * freed by deleted files back to the host about 2 s later (free page reporting), and writing
     * into such memory again is slow: 1 GiB received over a Unix socket took 0.40-0.51 s in 7 of 7
     * runs when the previous gigabyte had been deleted just before, and 0.29-2.6 s when it had been
     * deleted a second earlier. With a short wait, whichever copy came right after one that freed a
     * gigabyte ran on warm memory. After 3 s, every copy should find memory the host has taken
     * back, as a push or pull minutes after the last one does.
     */
    void settle() throws Exception {
        exec(List.of("sync"), null, false);
        Thread.sleep(SETTLE_MILLIS);
    }

    /** The app under test, as its own JVM. */
    static final class App implements AutoCloseable {
        final Process process;
        final int gated;
        final int plain;
        final Path log;

        private App(Process process, int gated, int plain, Path log) {
            this.process = process;
            this.gated = gated;
            this.plain = plain;
            this.log = log;
        }

        static App start(Bench bench, String logName) throws IOException {
            return start(bench, logName, bench.live, bench.socket);
        }

        /** An app serving {@code live} on {@code socket}. */
        static App start(Bench bench, String logName, Path live, Path socket) throws IOException {
            Path log = bench.dir.resolve(logName);
            Files.deleteIfExists(log);
            List<String> cmd = new ArrayList<>(List.of(bench.java));
            String extra = System.getenv("BENCH_APP_JAVA_OPTS"); // for experiments, e.g. a logging config
            if (extra != null && !extra.isBlank()) {
                cmd.addAll(List.of(extra.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-cp", bench.appClasspath, "hotswap.bench.BenchApp", live.toString(), socket.toString()));
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            if (ready == null || !ready.startsWith("ready ")) {
                p.destroyForcibly();
                throw new IllegalStateException("the bench app did not start:\n" + Files.readString(log));
            }
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) {
                        // discard
                    }
                } catch (IOException e) {
                    // the app exited
                }
            });
            drain.setDaemon(true);
            drain.start();
            String[] ports = ready.split(" ");
            return new App(p, Integer.parseInt(ports[1]), Integer.parseInt(ports[2]), log);
        }

        /** Bytes this app has caused to be written to storage (/proc/PID/io write_bytes): page cache it dirtied. */
        long bytesWritten() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "io"))) {
                if (line.startsWith("write_bytes:")) {
                    return Long.parseLong(line.substring("write_bytes:".length()).trim());
                }
            }
            throw new IllegalStateException("no write_bytes in /proc/" + process.pid() + "/io");
        }

        /** The app's CPU so far (user+sys, seconds), as the JDK reads it from the system. */
        double cpuSeconds() {
            return process.info().totalCpuDuration().orElseThrow(() -> new IllegalStateException("the app's CPU time is unknown here"))
                    .toNanos() / 1e9;
        }

        long logSize() throws IOException {
            return Files.size(log);
        }

        String logSince(long offset) throws IOException {
            byte[] all = Files.readAllBytes(log);
            return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset), StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
    }

    /**
     * Samples a process's resident memory every 5 ms; for a process of ours whose peak was reset,
     * also reads VmHWM at the end.
     */
    static final class Rss {
        private final long pid;
        private final long startKb;
        private final boolean hwmReset;
        private final Thread thread;
        private volatile boolean stop;
        private volatile long maxKb;
        private volatile long lastHwmKb;

        private Rss(long pid, boolean resetHwm) {
            this.pid = pid;
            this.startKb = field(pid, "VmRSS");
            this.hwmReset = resetHwm && resetHwm(pid);
            this.thread = new Thread(this::sample, "rss-" + pid);
            thread.setDaemon(true);
            thread.start();
        }

        /** Watches a process that runs on (the app): {@link #stop()} returns its growth. */
        static Rss watch(long pid) {
            return new Rss(pid, true);
        }

        private void sample() {
            while (!stop) {
                long rss = field(pid, "VmRSS");
                long hwm = field(pid, "VmHWM");
                if (rss < 0) {
                    return; // exited
                }
                maxKb = Math.max(maxKb, rss);
                lastHwmKb = Math.max(lastHwmKb, hwm);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Peak RSS in kB of a process that has exited (its last VmHWM read). */
        long stopPeak() throws InterruptedException {
            stop = true;
            thread.join();
            return Math.max(maxKb, lastHwmKb);
        }

        /** Growth in kB of the app's RSS since this watch began. */
        long stop() throws InterruptedException {
            stop = true;
            thread.join();
            long peak = maxKb;
            if (hwmReset) {
                peak = Math.max(peak, field(pid, "VmHWM"));
            }
            return Math.max(0, peak - startKb);
        }

        private static boolean resetHwm(long pid) {
            try {
                Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
                return field(pid, "VmHWM") <= field(pid, "VmRSS") + 1024;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        static long field(long pid, String name) {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (l.startsWith(name + ":")) {
                        return Long.parseLong(l.substring(name.length() + 1).replace("kB", "").trim());
                    }
                }
                return -1;
            } catch (IOException | UncheckedIOException e) {
                return -1;
            }
        }
    }

    // ---- databases ---------------------------------------------------------------------------

    /** A WAL database of about {@code bytes}: the demo's items table and a table of random blobs, one page each. */
    static void makeDb(Path file, long bytes) throws SQLException, IOException {
        Files.deleteIfExists(file);
        long rows = Math.max(1, bytes / 4096 * 995 / 1000 - 3);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=OFF");
            s.execute("PRAGMA synchronous=OFF");
            s.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)");
            s.execute("INSERT INTO items(name) VALUES ('alpha'), ('bravo'), ('charlie')");
            s.execute("CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB)");
            s.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + rows + ") "
                    + "INSERT INTO blobs(b) SELECT randomblob(4000) FROM c");
            s.execute("PRAGMA journal_mode=WAL");
        }
    }

    /** Removes the databases and outputs (they are regenerated on every run), here and in target 9's remote directory; keeps the logs. */
    private void cleanUp() throws IOException {
        cleanUp(dir);
        cleanUp(dir.resolve(DeltaBench.REMOTE));
    }

    private static void cleanUp(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (name.contains(".sqlite3") || name.endsWith(".sock")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    // ---- small helpers -----------------------------------------------------------------------

    /** BENCH_ONLY=3 (or 14, ...) runs only the targets named; the default runs all. */
    private static boolean only(String targets) {
        String only = System.getenv("BENCH_ONLY");
        if (only == null || only.isBlank()) {
            return true;
        }
        for (char c : targets.toCharArray()) {
            if (only.indexOf(c) >= 0) {
                return true;
            }
        }
        return false;
    }

    void progress(String what) {
        System.err.printf("[%4.0f s] %s%n", (System.nanoTime() - began) / 1e9, what);
    }

    /** The 1-minute load average: other work on the machine skews every figure. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }

    static String abs(String path) {
        return Path.of(path).toAbsolutePath().toString();
    }

    private static double seconds(Result r) {
        return r.nanos / 1e9;
    }

    private static String mib(long kb) {
        return String.format("%.1f MiB", kb / 1024.0);
    }

    private static String fmt(List<Double> values) {
        return values.stream().map(v -> String.format("%.1f", v)).toList().toString();
    }

    /** Values to two places, as a list. */
    static String fmt2(List<Double> values) {
        return values.stream().map(v -> String.format(Locale.ROOT, "%.2f", v)).toList().toString();
    }

    /** (max - min) / median: the run-to-run spread an A/B gain must exceed. */
    static double spread(List<Double> values) {
        return (Collections.max(values) - Collections.min(values)) / median(values);
    }

    static String megabytes(double bytes) {
        return String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static double percentile(List<Long> values, double q) {
        long[] v = values.stream().mapToLong(Long::longValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * v.length) - 1;
        return v[Math.max(0, Math.min(v.length - 1, i))];
    }
}
