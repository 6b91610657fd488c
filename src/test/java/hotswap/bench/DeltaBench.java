package hotswap.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Target 9 of {@code make bench}: delta transfers to and from a remote app (issue 11), each goal a
 * ratio against a reference measured in the same run.
 *
 * <p>The "remote machine" is the directory {@value #REMOTE} under the bench directory, on this
 * machine: a {@link BenchApp} serves a database there on a socket of its own. The client's
 * {@code --rsh} is a Python pump ({@link #PUMP}) in front of a stand-in for ssh ({@link #FAKE_SSH}:
 * {@code sh -c COMMAND} in that directory, as sshd hands a command to the login shell, so the
 * relay runs as {@code bin/hotswap relay} there). The pump counts the bytes it carries each way
 * and, given a rate, holds each direction to it as a link of that bandwidth would (with no added
 * latency). The baseline of 9d goes through the same pump and stand-in.
 *
 * <ul>
 * <li>9a: a 1 GiB database of made-up prose, 4 KiB pages, with 1% of its pages' rows rewritten at
 *     random (same length, so they stay on their pages): the bytes a delta push and a delta pull
 *     onto the older copy put on the wire, plain and deflated, against the file's size.
 * <li>9b: the same with nothing changed.
 * <li>9c: 256 MiB, 1% changed, over 10 MB/s: a delta push against a whole push ({@code --no-delta}).
 * <li>9d: a 1 GiB push with nothing to reuse, checks skipped, default settings, against
 *     {@code cat NEW | TRANSPORT 'cat > x && sync x'}; and the A/B of the default's look at a
 *     sample of pages, against {@code --delta}, which compares every page as the default once did.
 * </ul>
 *
 * <p>{@code BENCH9_MIB} (default 1024; 9c uses a quarter) shrinks the databases for a quick trial
 * of the bench itself; the limits are meant for the default.
 */
final class DeltaBench {
    /** The "remote machine": a directory under the bench directory. */
    static final String REMOTE = "remote9";
    private static final long MIB = 1L << 20;
    private static final String HOST = "bench9";
    /** The share of pages changed in 9a and 9c. */
    private static final double CHANGED = 0.01;
    /** 9c's link: 10 MB/s each way. */
    private static final long LINK_BYTES_PER_SECOND = 10_000_000;
    private static final int RUNS = 3;
    /** The length of each row's text: one row per 4 KiB page. */
    private static final int ROW_CHARS = 4000;

    /**
     * The transport: {@code pump RATE COUNTS COMMAND...} runs COMMAND, copies its stdin to it and its
     * stdout back, and when it ends appends "UP DOWN" (the bytes carried each way) to COUNTS. With
     * RATE > 0 (bytes per second) each direction is a link of that bandwidth: a chunk is passed on
     * when the link would have finished carrying it, and an idle link banks no credit.
     */
    private static final String PUMP = """
            import fcntl, os, subprocess, sys, threading, time
            rate = float(sys.argv[1])
            counts = sys.argv[2]
            child = subprocess.Popen(sys.argv[3:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            chunk = 65536
            if rate <= 0:
                # Unlimited: larger pipes and reads, so the pump is no narrower than it must be.
                chunk = 1 << 20
                for fd in (0, 1, child.stdin.fileno(), child.stdout.fileno()):
                    try:
                        fcntl.fcntl(fd, 1031, chunk)  # F_SETPIPE_SZ
                    except OSError:
                        pass
            carried = [0, 0]
            def pump(src, dst, i):
                free = time.monotonic()  # when the link has carried what it was given
                try:
                    while True:
                        b = os.read(src, chunk)
                        if not b:
                            break
                        carried[i] += len(b)
                        if rate > 0:
                            free = max(free, time.monotonic()) + len(b) / rate
                            wait = free - time.monotonic()
                            if wait > 0:
                                time.sleep(wait)
                        v = memoryview(b)
                        while v:
                            v = v[os.write(dst, v):]
                except BrokenPipeError:
                    pass
                finally:
                    os.close(dst)
            up = threading.Thread(target=pump, args=(0, child.stdin.fileno(), 0), daemon=True)
            up.start()
            pump(child.stdout.fileno(), 1, 1)
            code = child.wait()
            with open(counts, "a") as f:
                f.write("%d %d\\n" % (carried[0], carried[1]))
            os._exit(code)
            """;

    /** The stand-in for ssh: {@code fake-ssh HOST COMMAND} runs COMMAND with sh -c in the remote directory. */
    private static final String FAKE_SSH = """
            #!/bin/sh
            [ $# -eq 2 ] || { echo "fake-ssh: expected HOST COMMAND, got $# arguments" >&2; exit 255; }
            [ "$1" = %s ] || { echo "fake-ssh: Could not resolve hostname $1" >&2; exit 255; }
            cd %s || exit 255
            exec sh -c "$2"
            """;

    private final Bench bench;
    private final Path dir;
    private final Path remote;
    private final Path socket;
    private final Path counts;
    private final Path pump;
    private final Path fakeSsh;
    private final String cli;
    private final long bigBytes;
    private final long linkBytes;
    private final String noProbe;
    private String python;
    /** The app the copies go to, whose CPU each copy adds up. */
    private Bench.App currentApp;

    DeltaBench(Bench bench) {
        this.bench = bench;
        this.dir = bench.dir;
        this.remote = dir.resolve(REMOTE);
        this.socket = remote.resolve("hotswap.sock");
        this.counts = dir.resolve("counts9.txt");
        this.pump = dir.resolve("pump9.py");
        this.fakeSsh = dir.resolve("fake-ssh9");
        this.cli = Bench.abs(bench.opt.get("cli"));
        String mib = System.getenv("BENCH9_MIB");
        this.bigBytes = (mib == null || mib.isBlank() ? 1024 : Long.parseLong(mib.trim())) * MIB;
        this.linkBytes = bigBytes / 4;
        this.noProbe = bench.opt.get("ab-dir") + "/no-probe.jar";
    }

    void run() throws Exception {
        setUp();
        bench.progress("9: generating a " + bigBytes / MIB + " MiB prose database and a copy with 1% of its pages changed");
        Path text0 = dir.resolve("text9-0.sqlite3");
        Path text1 = dir.resolve("text9-1.sqlite3");
        makeTextDb(text0, bigBytes, 1);
        Files.copy(text0, text1);
        PageDiff diff = comparePages(text0, text1, changeRows(text1, CHANGED, 2));
        bench.progress("9: " + diff);
        Path liveA = remote.resolve("live-a.sqlite3");
        Path older = dir.resolve("older9.sqlite3");
        Files.copy(text0, liveA);
        Files.copy(text0, older);
        bench.progress("9: generating two " + bigBytes / MIB + " MiB databases of random blobs");
        Path blobs1 = dir.resolve("blobs9-1.sqlite3");
        Path blobs2 = dir.resolve("blobs9-2.sqlite3");
        Bench.makeDb(blobs1, bigBytes);
        Bench.makeDb(blobs2, bigBytes);
        bench.progress("9: generating a " + linkBytes / MIB + " MiB prose database and a copy with 1% of its pages changed");
        Path small0 = dir.resolve("small9-0.sqlite3");
        Path small1 = dir.resolve("small9-1.sqlite3");
        makeTextDb(small0, linkBytes, 3);
        Files.copy(small0, small1);
        PageDiff smallDiff = comparePages(small0, small1, changeRows(small1, CHANGED, 4));
        bench.progress("9: " + smallDiff);
        Path liveC = remote.resolve("live-c.sqlite3");
        Files.copy(small0, liveC);
        bench.settle();

        try (Bench.App app = Bench.App.start(bench, "app-delta.log", liveA, socket)) {
            currentApp = app;
            wire(app, liveA, text0, text1, older, diff);
            Files.delete(text1);
            Files.delete(older);
            wholePush(app, liveA, blobs1, blobs2);
        }
        Files.delete(blobs1);
        Files.delete(blobs2);
        Files.delete(text0);
        try (Bench.App app = Bench.App.start(bench, "app-delta-link.log", liveC, socket)) {
            currentApp = app;
            int liveIs = link(app, liveC, small0, small1, smallDiff);
            local(liveC, small0, small1, liveIs);
            rebuiltOverLink(app, liveC);
        }
    }

    private void setUp() throws Exception {
        Files.createDirectories(remote);
        Bench.Result which = bench.exec(List.of("python3", "-c", "import sys; print(sys.executable)"), null, false);
        if (which.exit() != 0) {
            throw new IllegalStateException("target 9's transport needs python3 (apt-get install -y python3):\n" + which.out());
        }
        python = which.out().trim(); // the interpreter itself: a shim on PATH (pyenv) costs ~0.1 s a start
        Files.writeString(pump, PUMP);
        Files.writeString(fakeSsh, String.format(FAKE_SSH, quote(HOST), quote(remote.toString())));
        Files.setPosixFilePermissions(fakeSsh, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.deleteIfExists(counts);
    }

    // ---- 9a, 9b: bytes on the wire ------------------------------------------------------------

    private void wire(Bench.App app, Path live, Path text0, Path text1, Path older, PageDiff diff) throws Exception {
        String target = HOST + ":" + live;
        // Each copy changes 1% of the pages of the file it lands on: the live database goes text0 -> text1 ->
        // text0, the older copy likewise, a pull behind each push.
        Copy pushPlain = copy(0, List.of("--no-compress"), text1.toString(), target);
        Copy pullPlain = copy(0, List.of("--no-compress"), target, older.toString());
        // Deflating pays only where the link is slower than the deflater: over the unlimited local pipe the
        // default sends pages plain, so the deflated copies run over the 10 MB/s link of 9c.
        Copy pushDeflated = copy(LINK_BYTES_PER_SECOND, List.of(), text0.toString(), target);
        Copy pullDeflated = copy(LINK_BYTES_PER_SECOND, List.of(), target, older.toString());
        Copy pullSame = copy(0, List.of(), target, older.toString());
        Copy pushSame = copy(0, List.of(), text0.toString(), target);
        Thread.sleep(200); // the swap's log lines come just after the client's OK
        List<Line> log = appLog(app);

        long size = Files.size(text0);
        String base = String.format(Locale.ROOT, "file %.1f MB; %.3f%% of pages changed", size / 1e6, 100 * diff.share());
        wireRow("9a delta push, 1% of pages changed, --no-compress: bytes both ways / file", pushPlain, size, base, 1.10);
        wireRow("9a delta pull onto the older copy, --no-compress: bytes both ways / file", pullPlain, size, base, 1.10);
        wireRow("9a delta push, defaults (deflated), 10 MB/s link: bytes both ways / file", pushDeflated, size, base, 0.6);
        wireRow("9a delta pull onto the older copy, defaults (deflated), 10 MB/s link: bytes both ways / file", pullDeflated, size, base, 0.6);
        sameRow("9b push of an unchanged database: bytes both ways", pushSame, size);
        sameRow("9b pull onto an unchanged copy: bytes both ways", pullSame, size);

        bench.notes.add(String.format(Locale.ROOT, "9a reference point: sqlite3_rsync's protocol sends 1.152%% of the file for the same "
                + "shape (1%% of the pages changed, scattered); the plain limit is 1.10%%, deflated 0.6%% for text-heavy data"));
        bench.notes.add(String.format(Locale.ROOT, "9a data: %.0f MiB, %d-byte pages, a table of made-up prose (a %d-word vocabulary drawn "
                + "with Zipf frequencies, %d characters a row, one row per page); %d rows rewritten with other prose of the same length, "
                + "chosen at random: a page compare finds %d of %d pages changed (%.3f%%). The changed pages' bytes would be %.3f%% of "
                + "the file; the deflated push crossed in %.0f%% of the plain push's bytes", size / (double) MIB, diff.pageSize(),
                Prose.WORDS.length, ROW_CHARS, diff.rowsChanged(), diff.differing(), diff.pages(), 100 * diff.share(), 100 * diff.share(),
                100.0 * pushDeflated.bytes() / pushPlain.bytes()));
        bench.notes.add("9a-b bytes = all the pump in --rsh carried, both ways (handshake, requests, hashes, pages, replies); "
                + "one run each (the bytes do not vary from run to run); pages the app received or sent, from its log: "
                + String.join(", ", deltaLines(log, pushPlain, pullPlain, pushDeflated, pullDeflated, pushSame, pullSame)));
        bench.notes.add("9a times over an unlimited local link, one run each, not limits: push --no-compress "
                + pushPhases(log, pushPlain) + "; pull --no-compress " + pullPhases(log, pullPlain));
    }

    private void wireRow(String label, Copy c, long size, String base, double limitPercent) {
        double percent = 100.0 * c.bytes() / size;
        bench.row(label, String.format(Locale.ROOT, "%.2f MB (up %.2f, down %.2f)", c.bytes() / 1e6, c.up() / 1e6, c.down() / 1e6), base,
                String.format(Locale.ROOT, "%.3f%%", percent), String.format(Locale.ROOT, "<= %.2f%%", limitPercent), percent <= limitPercent);
    }

    private void sameRow(String label, Copy c, long size) {
        bench.row(label, String.format(Locale.ROOT, "%.1f KB (up %.1f, down %.1f)", c.bytes() / 1e3, c.up() / 1e3, c.down() / 1e3),
                String.format(Locale.ROOT, "file %.1f MB", size / 1e6), String.format(Locale.ROOT, "%.4f%%", 100.0 * c.bytes() / size),
                "<= 8 KB (8000 B)", c.bytes() <= 8000);
    }

    // ---- 9c: over a 10 MB/s link --------------------------------------------------------------

    /** @return which of the two files the live database holds now: 0 or 1 */
    private int link(Bench.App app, Path live, Path small0, Path small1, PageDiff diff) throws Exception {
        String target = HOST + ":" + live;
        Path[] files = {small0, small1};
        int[] liveIs = {0};
        // A whole push is deflated where that pays: --no-compress too gives the whole push as it was before.
        List<List<Copy>> copies = interleaved("9c", new String[] {"delta push over 10 MB/s", "whole push over 10 MB/s",
                "whole push over 10 MB/s, --no-compress"}, kind -> {
            liveIs[0] = 1 - liveIs[0];
            List<String> options = kind == 1 ? List.of("--no-delta") : kind == 2 ? List.of("--no-delta", "--no-compress") : List.of();
            return copy(LINK_BYTES_PER_SECOND, options, files[liveIs[0]].toString(), target);
        });
        // The app's snapshot of this database, which a push takes before anything else: as a pull takes it (the
        // push's own is not in the app's log), a delta pull onto an unchanged copy over the same link.
        Path copy = dir.resolve("copy9c.sqlite3");
        Files.copy(files[liveIs[0]], copy);
        List<Copy> pulls = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            bench.progress("9c delta pull onto an unchanged copy, run " + (run + 1));
            bench.settle();
            pulls.add(copy(LINK_BYTES_PER_SECOND, List.of(), target, copy.toString()));
        }
        Files.delete(copy);
        Thread.sleep(200);
        List<Line> log = appLog(app);
        List<Copy> deltas = copies.get(0);
        List<Copy> wholes = copies.get(1);
        double d = median(seconds(deltas));
        double w = median(seconds(wholes));
        bench.progress("9c delta " + Bench.fmt2(seconds(deltas)) + " s; whole " + Bench.fmt2(seconds(wholes)) + " s");
        String label = String.format(Locale.ROOT, "9c push %.0f MiB, 1%% changed, 10 MB/s link", Files.size(small0) / (double) MIB);
        String whole = String.format(Locale.ROOT, "%.2f s", w);
        bench.row(label + ": delta vs --no-delta", String.format(Locale.ROOT, "%.2f s", d), whole, ratio3(d / w), "<= 0.05", d / w <= 0.05);
        double raw = median(seconds(copies.get(2)));
        bench.row(label + ": delta vs --no-delta --no-compress", String.format(Locale.ROOT, "%.2f s", d),
                String.format(Locale.ROOT, "%.2f s", raw), ratio3(d / raw), "(0.05)", null);
        double deltaBytes = median(deltas.stream().map(c -> (double) c.bytes()).toList());
        bench.notes.add(String.format(Locale.ROOT, "9c both sides with the default checks (integrity_check and schema check), "
                + "%d runs each, each run in another order, 3 s after a sync; delta %s s (spread %.0f%%), whole %s s (spread %.0f%%); "
                + "%.3f%% of pages changed; bytes on the link: delta %.2f MB (%.2f s of the link at 10 MB/s), whole %.1f MB. "
                + "Delta push phases (median): %s; whole push: %s. The app's snapshot of this database, from %d delta pulls onto an unchanged "
                + "copy: %s", RUNS, Bench.fmt2(seconds(deltas)), 100 * Bench.spread(seconds(deltas)),
                Bench.fmt2(seconds(wholes)), 100 * Bench.spread(seconds(wholes)), 100 * diff.share(), deltaBytes / 1e6,
                deltaBytes / LINK_BYTES_PER_SECOND, median(wholes.stream().map(c -> (double) c.bytes()).toList()) / 1e6,
                pushPhases(log, deltas.toArray(Copy[]::new)), pushPhases(log, wholes.toArray(Copy[]::new)), RUNS,
                pullPhases(log, pulls.toArray(Copy[]::new))));
        return liveIs[0];
    }

    // ---- 9f: a rebuilt text database over a slow link ------------------------------------------

    /**
     * Two unrelated prose databases pushed in turn over the 10 MB/s link: the sample sends each
     * whole, deflated where that pays, against {@code --no-compress}.
     */
    private void rebuiltOverLink(Bench.App app, Path live) throws Exception {
        long bytes = linkBytes / 4;
        Path[] files = {dir.resolve("rebuilt9-1.sqlite3"), dir.resolve("rebuilt9-2.sqlite3")};
        bench.progress("9f: generating two unrelated " + bytes / MIB + " MiB prose databases");
        makeTextDb(files[0], bytes, 5);
        makeTextDb(files[1], bytes, 6);
        String target = HOST + ":" + live;
        int[] next = {0};
        String[] kinds = {"whole push, defaults (deflated where it pays)", "whole push, --no-compress"};
        List<List<Copy>> copies = interleaved("9f", kinds, kind -> {
            Copy c = copy(LINK_BYTES_PER_SECOND, kind == 1 ? List.of("--no-compress") : List.of(), files[next[0]].toString(), target);
            next[0] = 1 - next[0];
            return c;
        });
        Thread.sleep(200);
        List<Line> log = appLog(app);
        long size = Files.size(files[0]);
        String label = String.format(Locale.ROOT, "9f push %.0f MiB of unrelated prose (whole), 10 MB/s link", size / (double) MIB);
        double deflated = median(copies.get(0).stream().map(c -> (double) c.bytes()).toList());
        double plain = median(copies.get(1).stream().map(c -> (double) c.bytes()).toList());
        bench.row(label + ", defaults: bytes both ways / file", String.format(Locale.ROOT, "%.2f MB", deflated / 1e6),
                String.format(Locale.ROOT, "file %.1f MB; --no-compress %.2f MB", size / 1e6, plain / 1e6),
                String.format(Locale.ROOT, "%.1f%%", 100 * deflated / size), "-", null);
        abRow("9f A/B: a whole push deflated where it pays vs --no-compress", seconds(copies.get(0)), seconds(copies.get(1)));
        bench.notes.add(String.format(Locale.ROOT, "9f two prose databases of %d MiB made as 9a's from other seeds, so the sample finds "
                + "nothing alike and each push goes whole; %d runs of each, each run in another order: defaults %s s (spread %.0f%%), "
                + "--no-compress %s s (spread %.0f%%). Phases (median): defaults %s; --no-compress %s", size / MIB, RUNS,
                Bench.fmt2(seconds(copies.get(0))), 100 * Bench.spread(seconds(copies.get(0))), Bench.fmt2(seconds(copies.get(1))),
                100 * Bench.spread(seconds(copies.get(1))), pushPhases(log, copies.get(0).toArray(Copy[]::new)),
                pushPhases(log, copies.get(1).toArray(Copy[]::new))));
        // 9g: the live database (one of the two now) pulled whole to a new file over the same link.
        Path pulled = dir.resolve("pulled9g.sqlite3");
        List<List<Copy>> pulls = interleaved("9g", new String[] {"whole pull, defaults (deflated where it pays)",
                "whole pull, --no-compress"}, kind -> {
            Copy c = copy(LINK_BYTES_PER_SECOND, kind == 1 ? List.of("--no-delta", "--no-compress") : List.of("--no-delta"), target,
                    pulled.toString());
            Files.delete(pulled);
            return c;
        });
        double pulledBytes = median(pulls.get(0).stream().map(c -> (double) c.bytes()).toList());
        bench.row(String.format(Locale.ROOT, "9g pull %.0f MiB of prose whole to a new file, 10 MB/s link, defaults: bytes both ways / file",
                size / (double) MIB), String.format(Locale.ROOT, "%.2f MB", pulledBytes / 1e6), String.format(Locale.ROOT,
                "file %.1f MB; --no-compress %.2f MB", size / 1e6, median(pulls.get(1).stream().map(c -> (double) c.bytes()).toList()) / 1e6),
                String.format(Locale.ROOT, "%.1f%%", 100 * pulledBytes / size), "-", null);
        abRow("9g A/B: a whole pull deflated where it pays vs --no-compress", seconds(pulls.get(0)), seconds(pulls.get(1)));
        bench.notes.add(String.format(Locale.ROOT, "9g the live database after 9f (one of its two) pulled whole to a new file, %d runs of "
                + "each, each run in another order: defaults %s s, --no-compress %s s", RUNS, Bench.fmt2(seconds(pulls.get(0))),
                Bench.fmt2(seconds(pulls.get(1)))));
        for (Path f : files) {
            Files.delete(f);
        }
    }

    // ---- 9e: delta on the local socket --------------------------------------------------------

    /**
     * Whether {@code --delta} pays on this machine, where a whole push costs a copy through the page
     * cache: it decides the local default (off), so it is reported, not held to a limit.
     */
    private void local(Path live, Path small0, Path small1, int liveNow) throws Exception {
        Path[] files = {small0, small1};
        int[] liveIs = {liveNow};
        List<List<Copy>> copies = interleaved("9e", new String[] {"local delta push", "local whole push"}, kind -> {
            liveIs[0] = 1 - liveIs[0];
            List<String> cmd = new ArrayList<>(List.of(cli, "--socket", socket.toString(), "cp"));
            if (kind == 0) {
                cmd.add("--delta");
            }
            cmd.addAll(List.of(files[liveIs[0]].toString(), live.toString()));
            long start = System.currentTimeMillis();
            Bench.Result r = bench.exec(cmd, null, false);
            if (r.exit() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + r.exit() + ":\n" + r.out());
            }
            return new Copy(r.nanos() / 1e9, 0, 0, start, System.currentTimeMillis());
        });
        double d = median(seconds(copies.get(0)));
        double w = median(seconds(copies.get(1)));
        bench.row(String.format(Locale.ROOT, "9e local push %.0f MiB, 1%% changed, default checks: --delta vs whole",
                Files.size(small0) / (double) MIB), String.format(Locale.ROOT, "%.2f s", d), String.format(Locale.ROOT, "%.2f s", w),
                d / w, "(default off)", null);
        bench.notes.add(String.format(Locale.ROOT, "9e the local socket's default: %d runs each, each run in another order; --delta %s s "
                + "(spread %.0f%%), whole %s s (spread %.0f%%)", RUNS, Bench.fmt2(seconds(copies.get(0))), 100 * Bench.spread(seconds(copies.get(0))),
                Bench.fmt2(seconds(copies.get(1))), 100 * Bench.spread(seconds(copies.get(1)))));
    }

    // ---- 9d: a push with nothing to reuse -----------------------------------------------------

    private void wholePush(Bench.App app, Path live, Path blobs1, Path blobs2) throws Exception {
        Path sshdDir = dir.resolve("sshd9");
        deleteTree(sshdDir); // a run cut short leaves its keys, which ssh-keygen would not overwrite
        Files.createDirectories(sshdDir);
        Sshd sshd = null;
        try {
            sshd = Sshd.start(sshdDir);
        } catch (Sshd.Unavailable e) {
            bench.notes.add("9d over a real ssh: left out, " + e.getMessage());
        }
        try {
            wholePush(app, live, blobs1, blobs2, sshd);
        } finally {
            if (sshd != null) {
                sshd.close();
            }
            deleteTree(sshdDir);
        }
    }

    /** 9d, and, with {@code sshd}, the same push and baseline through a real ssh to it, the issue's own transport. */
    private void wholePush(Bench.App app, Path live, Path blobs1, Path blobs2, Sshd sshd) throws Exception {
        String target = HOST + ":" + live;
        Path[] files = {blobs1, blobs2};
        int[] next = {0}; // the live database holds prose: neither is like it
        // --delta is what the default did before its look at a sample of pages: the A/B of that look.
        String probeA = "default, deflating whole chunks to try (A/B)";
        // The push right after `cat over ssh` ran slow in every run that had one there: interleaved's orders put a
        // different kind after it in each run.
        List<String> kindList = new ArrayList<>(List.of("default", "cat", "--delta", "--no-delta"));
        if (sshd != null) {
            kindList.addAll(List.of("default over ssh", "cat over ssh"));
        }
        kindList.addAll(List.of("--no-compress", probeA));
        String[] kinds = kindList.toArray(String[]::new);
        // ssh reaches the sshd whatever the host is called: the pump stays in front, counting as for the stand-in.
        String ssh = sshd == null ? null : sshd.rsh() + " -o HostName=127.0.0.1 -o LogLevel=ERROR";
        List<List<Copy>> byIndex = interleaved("9d", kinds, kind -> {
            if (kinds[kind].startsWith("cat")) {
                return catBaseline(files[next[0]], kinds[kind].endsWith("ssh") ? List.of(ssh.split(" ")) : List.of(fakeSsh.toString()));
            }
            List<String> options = new ArrayList<>(List.of("--skip-integrity-check", "--skip-schema-check"));
            if (kinds[kind].startsWith("--")) {
                options.add(kinds[kind]);
            }
            String jar = kinds[kind].equals(probeA) ? noProbe : bench.opt.get("jar");
            Copy c = copy(0, options, files[next[0]].toString(), target, jar, kinds[kind].endsWith("ssh") ? ssh : fakeSsh.toString());
            next[0] = 1 - next[0];
            return c;
        });
        Function<String, List<Copy>> copiesOf = name -> byIndex.get(kindList.indexOf(name));
        Thread.sleep(200);
        List<Line> log = appLog(app);
        double cat = median(seconds(copiesOf.apply("cat")));
        String catText = String.format(Locale.ROOT, "%.2f s", cat);
        long size = Files.size(blobs1);
        String label = String.format(Locale.ROOT, "9d push %.0f MiB, nothing to reuse, checks skipped", size / (double) MIB);
        for (String kind : List.of("default", "--delta", "--no-delta", "--no-compress")) {
            double t = median(seconds(copiesOf.apply(kind)));
            boolean goal = kind.equals("default");
            String what = goal ? ", defaults, vs cat piped through the transport (the stand-in for ssh)" : ", " + kind;
            bench.row(label + what, String.format(Locale.ROOT, "%.2f s", t), catText, t / cat, goal ? "<= 1.1" : "(1.1)",
                    goal ? t / cat <= 1.1 : null);
        }
        if (sshd != null) {
            double t = median(seconds(copiesOf.apply("default over ssh")));
            double catSsh = median(seconds(copiesOf.apply("cat over ssh")));
            bench.row(label + ", defaults, over a real ssh to 127.0.0.1, vs cat | ssh", String.format(Locale.ROOT, "%.2f s", t),
                    String.format(Locale.ROOT, "%.2f s", catSsh), t / catSsh, "<= 1.1", t / catSsh <= 1.1);
        }
        List<Copy> defaults = copiesOf.apply("default");
        abRow("9d A/B: the default's look at 32 pages (whole at once) vs --delta (every page compared)", seconds(defaults),
                seconds(copiesOf.apply("--delta")));
        // This VM's memory makes gigabyte copies' wall times swing (docs/PERFORMANCE.md); what each measure saves is CPU on both machines.
        abRow("9d A/B, CPU of client, transport, relay and app: the default's look at 32 pages vs --delta", cpuAll(defaults),
                cpuAll(copiesOf.apply("--delta")));
        // What the look is for beyond time: a rebuilt database goes whole, without the app first writing a snapshot of the
        // live one that the pages then overwrite (the snapshot is synced, so each is a write to the disk).
        bench.spreadRow("9d A/B, bytes the app wrote to storage (/proc/PID/io write_bytes): the default's look at 32 pages vs --delta",
                appWrote(defaults), appWrote(copiesOf.apply("--delta")), true, Bench::megabytes);
        abRow("9d A/B: trying a chunk's first 64 KiB before deflating it whole", seconds(defaults), seconds(copiesOf.apply(probeA)));
        abRow("9d A/B, CPU of the client, transport and relay: trying a chunk's first 64 KiB before deflating it whole",
                cpu(defaults), cpu(copiesOf.apply(probeA)));
        notSlowerRow("9d deflating where it pays, on a fast link, data that does not shrink: defaults vs --no-compress",
                seconds(defaults), seconds(copiesOf.apply("--no-compress")));
        notSlowerRow("9d the same, CPU of the client, transport and relay", cpu(defaults), cpu(copiesOf.apply("--no-compress")));
        StringBuilder runs = new StringBuilder();
        for (int kind = 0; kind < kinds.length; kind++) {
            List<Copy> those = byIndex.get(kind);
            String cpu = kinds[kind].startsWith("cat") ? "" : String.format(Locale.ROOT, ", CPU client side %s s, app %s s",
                    Bench.fmt2(cpu(those)), Bench.fmt2(those.stream().map(Copy::appCpu).toList()))
                    + ", app wrote " + those.stream().map(c -> Bench.megabytes((double) c.appWrote())).toList();
            runs.append(String.format(Locale.ROOT, "%s%s %s s (spread %.0f%%%s)", kind == 0 ? "" : ", ", kinds[kind],
                    Bench.fmt2(seconds(those)), 100 * Bench.spread(seconds(those)), cpu));
        }
        bench.notes.add("9d two databases of random blobs as targets 3-8 use, " + size / MIB + " MiB each (makeDb of " + bigBytes / MIB
                + " MiB), pushed in turn onto each other (the first onto 9a's prose), "
                + "so no page matches; baseline `cat NEW | PUMP FAKE-SSH HOST 'cat > x && sync x'` (sync of that file, as the push's fsync; "
                + "a bare sync would also wait for other processes' writes on this shared machine), x removed after each; over ssh, the "
                + "same through OpenSSH (chacha20-poly1305) to an sshd on 127.0.0.1 set up as RemoteSshdTest does, both behind the same "
                + "pump. " + RUNS + " runs of the " + kinds.length + ", each run in another order, 3 s after a sync: " + runs);
        bench.notes.add("9d phases (median): defaults " + pushPhases(log, defaults.toArray(Copy[]::new)) + "; --delta "
                + pushPhases(log, copiesOf.apply("--delta").toArray(Copy[]::new)) + "; --no-delta "
                + pushPhases(log, copiesOf.apply("--no-delta").toArray(Copy[]::new)) + "; pages the app received: "
                + String.join(", ", deltaLines(log, copiesOf.apply("--delta").toArray(Copy[]::new))));
    }

    /** A measure that must cost nothing where it does not help: {@code a} no slower than {@code b} beyond the spread. */
    private void notSlowerRow(String label, List<Double> a, List<Double> b) {
        bench.spreadRow(label, a, b, false);
    }

    /** An A/B row: {@code a} (the code as it is) against {@code b} (the other side), gain against spread. */
    private void abRow(String label, List<Double> a, List<Double> b) {
        bench.spreadRow(label, a, b, true);
    }

    private static void deleteTree(Path tree) throws IOException {
        if (Files.exists(tree)) {
            try (Stream<Path> paths = Files.walk(tree)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** {@code cat SOURCE | PUMP TRANSPORT... HOST 'cat > X && sync X'}, X in the remote directory. */
    private Copy catBaseline(Path source, List<String> transport) throws Exception {
        String x = "baseline9.sqlite3";
        long start = System.currentTimeMillis();
        int before = countLines();
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "cat \"$0\" | \"$@\"", source.toString(), python, pump.toString(), "0",
                counts.toString()));
        cmd.addAll(transport);
        cmd.addAll(List.of(HOST, "cat > " + remote.resolve(x) + " && sync " + remote.resolve(x)));
        Bench.Result r = bench.exec(cmd, null, false);
        long end = System.currentTimeMillis();
        if (r.exit() != 0 || Files.size(remote.resolve(x)) != Files.size(source)) {
            throw new IllegalStateException("the cat baseline failed (" + r.exit() + "):\n" + r.out());
        }
        Files.delete(remote.resolve(x));
        long[] c = lastCounts(before);
        return new Copy(r.nanos() / 1e9, c[0], c[1], start, end);
    }

    // ---- copies through the transport ---------------------------------------------------------

    /**
     * What one copy cost: wall time, bytes each way on the transport, when it began and ended (epoch
     * ms), and CPU seconds: {@code cpu} of the client, transport and relay, {@code appCpu} of the app.
     */
    record Copy(double seconds, long up, long down, long startMs, long endMs, double cpu, double appCpu, long appWrote) {
        Copy(double seconds, long up, long down, long startMs, long endMs) {
            this(seconds, up, down, startMs, endMs, Double.NaN, Double.NaN, -1);
        }

        long bytes() {
            return up + down;
        }
    }

    /** One timed copy of the kind at this index of an {@link #interleaved} run's kinds. */
    private interface CopyOfKind {
        Copy run(int kind) throws Exception;
    }

    /**
     * {@value #RUNS} runs of one copy of each kind, each copy after {@link Bench#settle}, each run in
     * another of {@link #order}'s orders, so that within the runs no kind (of four or more) follows the same other twice.
     *
     * @return the copies of each kind, by its index in {@code kinds}
     */
    private List<List<Copy>> interleaved(String target, String[] kinds, CopyOfKind copy) throws Exception {
        List<List<Copy>> copies = new ArrayList<>();
        for (int i = 0; i < kinds.length; i++) {
            copies.add(new ArrayList<>());
        }
        for (int run = 0; run < RUNS; run++) {
            for (int kind : order(run, kinds.length)) {
                bench.progress(target + " " + kinds[kind] + ", run " + (run + 1));
                bench.settle();
                copies.get(kind).add(copy.run(kind));
            }
        }
        return copies;
    }

    /**
     * Run {@code run}'s order of {@code n} kinds: as listed, reversed, then the odd places before
     * the even ones. Kind k follows k - 1, then k + 1, then mostly k - 2: what a copy leaves behind
     * for the next (on this VM, memory the host has or has not taken back) falls on three different
     * kinds, once each, and the median of three sets it aside. A rotation would keep the cycle: each
     * kind would follow the same other in two runs of three.
     */
    static int[] order(int run, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = switch (run % 3) {
                case 0 -> i;
                case 1 -> n - 1 - i;
                default -> i < n / 2 ? 2 * i + 1 : 2 * (i - n / 2);
            };
        }
        return order;
    }

    /** Runs {@code hotswap cp OPTIONS SRC DST} to or from the remote app, through the pump at {@code rate} bytes/s (0: unlimited). */
    private Copy copy(long rate, List<String> options, String src, String dst) throws Exception {
        return copy(rate, options, src, dst, bench.opt.get("jar"), fakeSsh.toString());
    }

    /**
     * As {@link #copy(long, List, String, String)}, the client running {@code jar} (and the relay too
     * through the stand-in, which passes HOTSWAP_JAR on; ssh does not), through {@code transport}
     * behind the pump: the stand-in for ssh, or an ssh command.
     */
    private Copy copy(long rate, List<String> options, String src, String dst, String jar, String transport) throws Exception {
        // bash's times after the command: the CPU of the client and all it ran (the pump, the transport, the relay).
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "\"$@\"; s=$?; times; exit $s", "bash", cli, "--socket", socket.toString(),
                "cp"));
        cmd.addAll(options);
        cmd.addAll(List.of(src, dst, "--rsh", String.join(" ", python, pump.toString(), Long.toString(rate), counts.toString(),
                transport), "--remote-hotswap", cli));
        int before = countLines();
        double appBefore = currentApp.cpuSeconds();
        long wroteBefore = currentApp.bytesWritten();
        long start = System.currentTimeMillis();
        Bench.Result r = bench.exec(cmd, null, false, jar);
        long end = System.currentTimeMillis();
        double appCpu = currentApp.cpuSeconds() - appBefore;
        long appWrote = currentApp.bytesWritten() - wroteBefore;
        if (r.exit() != 0) {
            throw new IllegalStateException("hotswap cp " + String.join(" ", options) + " " + src + " " + dst + " exited " + r.exit()
                    + ":\n" + r.out());
        }
        long[] c = lastCounts(before);
        bench.progress(String.format(Locale.ROOT, "9 cp %s %s %s: %.2f s, up %d B, down %d B", String.join(" ", options),
                src.replace(dir + "/", ""), dst.replace(dir + "/", ""), r.nanos() / 1e9, c[0], c[1]));
        List<String> lines = r.out().strip().lines().toList();
        return new Copy(r.nanos() / 1e9, c[0], c[1], start, end, FeltBench.times(lines.get(lines.size() - 1)), appCpu, appWrote);
    }


    private int countLines() throws IOException {
        return Files.exists(counts) ? Files.readAllLines(counts).size() : 0;
    }

    /** The pump's count of the copy just run: the one line it added after {@code before}. */
    private long[] lastCounts(int before) throws IOException {
        List<String> lines = Files.readAllLines(counts);
        if (lines.size() != before + 1) {
            throw new IllegalStateException("the pump wrote " + (lines.size() - before) + " counts for one copy");
        }
        String[] f = lines.get(before).trim().split(" ");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
    }

    // ---- where the time goes, from the app's log ----------------------------------------------

    /** One line of the app's log and when it was written (epoch ms). */
    record Line(long ms, String text) {
    }

    private static final Pattern STAMP = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d) (.*)$");

    /** The app's log with each line's time: BenchApp starts each with the time of day, to the millisecond. */
    private static List<Line> appLog(Bench.App app) throws IOException {
        List<Line> lines = new ArrayList<>();
        ZoneId zone = ZoneId.systemDefault();
        for (String l : Files.readAllLines(app.log, StandardCharsets.UTF_8)) {
            Matcher m = STAMP.matcher(l);
            if (m.matches()) {
                long ms = LocalTime.parse(m.group(1)).atDate(LocalDate.now(zone)).atZone(zone).toInstant().toEpochMilli();
                if (ms > System.currentTimeMillis() + 60_000) { // written before midnight
                    ms -= 86_400_000L;
                }
                lines.add(new Line(ms, m.group(2)));
            }
        }
        return lines;
    }

    /** The push's phases, medians over {@code copies}, from the client's start to its exit. */
    private static String pushPhases(List<Line> log, Copy... copies) {
        return phases(log, copies, new String[] {"push started", "bytes received", "integrity check", "lock released"},
                new String[] {"start-up (client JVM, transport, relay JVM)", "receiving (delta: snapshot, hashing, exchange, pages)",
                    "integrity check", "schema check, swap", "to the client's exit"});
    }

    private static String pullPhases(List<Line> log, Copy... copies) {
        return phases(log, copies, new String[] {"pull started", "snapshot taken", "pull complete"},
                new String[] {"start-up (client JVM, transport, relay JVM)", "snapshot", "hashing, exchange, pages sent",
                    "to the client's exit (its pages written, synced, renamed)"});
    }

    /**
     * The median time between the copy's start, the first line of the app's log (within the copy's
     * time) holding each mark in turn, and the copy's end: {@code names[i]} is the phase before mark i.
     */
    private static String phases(List<Line> log, Copy[] copies, String[] marks, String[] names) {
        double[][] spans = new double[names.length][copies.length];
        for (int c = 0; c < copies.length; c++) {
            long at = copies[c].startMs();
            int from = 0;
            for (int i = 0; i < marks.length; i++) {
                long t = -1;
                for (int k = from; k < log.size(); k++) {
                    Line l = log.get(k);
                    if (l.ms() >= copies[c].startMs() && l.ms() <= copies[c].endMs() && l.text().contains(marks[i])) {
                        t = l.ms();
                        from = k;
                        break;
                    }
                }
                spans[i][c] = t < 0 ? Double.NaN : (t - at) / 1000.0;
                at = t < 0 ? at : t;
            }
            spans[marks.length][c] = (copies[c].endMs() - at) / 1000.0;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            double[] v = Arrays.stream(spans[i]).filter(x -> !Double.isNaN(x)).sorted().toArray();
            b.append(i == 0 ? "" : " | ").append(names[i]).append(' ')
                    .append(v.length == 0 ? "?" : String.format(Locale.ROOT, "%.2f s", v[v.length / 2]));
        }
        return b.toString();
    }

    /** The app's "delta push/pull: ... pages" lines within each copy's time. */
    private static List<String> deltaLines(List<Line> log, Copy... copies) {
        List<String> out = new ArrayList<>();
        for (Copy c : copies) {
            String found = "(none)";
            for (Line l : log) {
                if (l.ms() >= c.startMs() && l.ms() <= c.endMs() && l.text().contains(": delta p")) {
                    found = l.text().replaceFirst("^.*?: (delta p)", "$1");
                    break;
                }
            }
            out.add(found);
        }
        return out;
    }

    // ---- databases ----------------------------------------------------------------------------

    /** A WAL database of about {@code bytes}: the demo's items table and a table of prose, one row per 4 KiB page. */
    private static void makeTextDb(Path file, long bytes, long seed) throws SQLException, IOException {
        Files.deleteIfExists(file);
        long rows = Math.max(1, bytes / 4096 * 995 / 1000 - 3);
        Prose prose = new Prose(seed);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=OFF");
            s.execute("PRAGMA synchronous=OFF");
            s.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)");
            s.execute("INSERT INTO items(name) VALUES ('alpha'), ('bravo'), ('charlie')");
            s.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT)");
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO docs(body) VALUES (?)")) {
                for (long i = 0; i < rows; i++) {
                    insert.setString(1, prose.text(ROW_CHARS));
                    insert.executeUpdate();
                }
            }
            c.commit();
            c.setAutoCommit(true);
            s.execute("PRAGMA journal_mode=WAL");
        }
    }

    /**
     * Rewrites, with other prose of the same length, the rows of {@code share} of the file's page
     * count, chosen at random: each on a page of its own, so that many leaf pages change.
     */
    private static int changeRows(Path file, double share, long seed) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            long pages = longOf(s, "PRAGMA page_count");
            long rows = longOf(s, "SELECT max(id) FROM docs");
            int n = (int) Math.round(share * pages);
            SplittableRandom random = new SplittableRandom(seed);
            TreeSet<Long> ids = new TreeSet<>();
            while (ids.size() < Math.min(n, rows)) {
                ids.add(1 + random.nextLong(rows));
            }
            Prose prose = new Prose(seed + 1000);
            c.setAutoCommit(false);
            try (PreparedStatement update = c.prepareStatement("UPDATE docs SET body = ? WHERE id = ?")) {
                for (long id : ids) {
                    update.setString(1, prose.text(ROW_CHARS));
                    update.setLong(2, id);
                    update.executeUpdate();
                }
            }
            c.commit();
            return ids.size();
        }
    }

    private static long longOf(Statement s, String sql) throws SQLException {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    /** How many pages of two files differ (pages one has and the other lacks count as differing). */
    record PageDiff(long differing, long pages, int pageSize, long rowsChanged) {
        double share() {
            return (double) differing / pages;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d of %d pages differ (%.3f%%)", differing, pages, 100 * share());
        }
    }

    private static PageDiff comparePages(Path a, Path b, int rowsChanged) throws IOException {
        int pageSize = 4096;
        byte[] x = new byte[256 * pageSize];
        byte[] y = new byte[256 * pageSize];
        long differing = 0;
        long sizeA = Files.size(a);
        long sizeB = Files.size(b);
        long common = Math.min(sizeA, sizeB);
        try (FileChannel fa = FileChannel.open(a, StandardOpenOption.READ); FileChannel fb = FileChannel.open(b, StandardOpenOption.READ)) {
            for (long at = 0; at < common; at += x.length) {
                int n = (int) Math.min(x.length, common - at);
                readFully(fa, x, n, at);
                readFully(fb, y, n, at);
                for (int p = 0; p < n; p += pageSize) {
                    int end = Math.min(n, p + pageSize);
                    if (!Arrays.equals(x, p, end, y, p, end)) {
                        differing++;
                    }
                }
            }
        }
        long pages = (Math.max(sizeA, sizeB) + pageSize - 1) / pageSize;
        differing += pages - (common + pageSize - 1) / pageSize;
        return new PageDiff(differing, pages, pageSize, rowsChanged);
    }

    private static void readFully(FileChannel f, byte[] into, int n, long at) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(into, 0, n);
        while (b.hasRemaining()) {
            if (f.read(b, at + b.position()) < 0) {
                throw new IOException("short read");
            }
        }
    }

    /**
     * Made-up prose: words of a fixed vocabulary built from syllables, drawn with Zipf frequencies
     * (as words are in text), in sentences of 4-19 words, with a number now and then. Deflate at
     * its fastest level packs it about as it packs English text.
     */
    static final class Prose {
        private static final String[] SYLLABLES = {"ka", "to", "ri", "men", "sa", "lo", "ve", "tra", "in", "dor", "pe", "shi", "al",
            "mu", "ner", "qua", "zo", "bel", "cri", "on", "ta", "lu", "gen", "fi", "ro", "de", "mar", "vi", "sto", "ne", "a", "e",
            "or", "us", "th", "ch", "wa", "po", "st", "ing"};
        static final String[] WORDS = vocabulary(5000);
        /** A word's index for each of 2^20 equal slices of the Zipf distribution. */
        private static final int[] PICK = zipf(WORDS.length, 1 << 20);
        private final SplittableRandom random;

        Prose(long seed) {
            this.random = new SplittableRandom(seed);
        }

        private static String[] vocabulary(int n) {
            SplittableRandom r = new SplittableRandom(9);
            String[] words = new String[n];
            for (int i = 0; i < n; i++) {
                StringBuilder w = new StringBuilder();
                int syllables = 1 + r.nextInt(i < 100 ? 2 : 4);
                for (int k = 0; k < syllables; k++) {
                    w.append(SYLLABLES[r.nextInt(SYLLABLES.length)]);
                }
                words[i] = w.toString();
            }
            return words;
        }

        private static int[] zipf(int words, int slices) {
            double[] cumulative = new double[words];
            double sum = 0;
            for (int i = 0; i < words; i++) {
                sum += 1.0 / (i + 1);
                cumulative[i] = sum;
            }
            int[] pick = new int[slices];
            int w = 0;
            for (int s = 0; s < slices; s++) {
                double u = (s + 0.5) / slices * sum;
                while (cumulative[w] < u) {
                    w++;
                }
                pick[s] = w;
            }
            return pick;
        }

        /** Exactly {@code length} ASCII characters of prose. */
        String text(int length) {
            StringBuilder b = new StringBuilder(length + 200);
            while (b.length() < length) {
                int words = 4 + random.nextInt(16);
                for (int i = 0; i < words; i++) {
                    String w = random.nextInt(30) == 0 ? Integer.toString(random.nextInt(10000)) : WORDS[PICK[random.nextInt(PICK.length)]];
                    if (i == 0) {
                        b.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
                    } else {
                        b.append(random.nextInt(12) == 0 ? ", " : " ").append(w);
                    }
                }
                b.append(". ");
            }
            b.setLength(length);
            return b.toString();
        }
    }

    // ---- small helpers ------------------------------------------------------------------------

    private static List<Double> seconds(List<Copy> copies) {
        return copies.stream().map(Copy::seconds).toList();
    }

    /** The CPU each copy took, client, transport and relay (bash's times for the command). */
    private static List<Double> cpu(List<Copy> copies) {
        return copies.stream().map(Copy::cpu).toList();
    }

    /** The CPU each copy took on both machines: client, transport, relay and app. */
    private static List<Double> appWrote(List<Copy> copies) {
        return copies.stream().map(c -> (double) c.appWrote()).toList();
    }

    private static List<Double> cpuAll(List<Copy> copies) {
        return copies.stream().map(c -> c.cpu() + c.appCpu()).toList();
    }

    private static double median(List<Double> values) {
        return Bench.median(values);
    }

    /** A ratio to three places: the limit 0.05 is too near the two places of the table's usual x0.00. */
    private static String ratio3(double r) {
        return String.format(Locale.ROOT, "x%.3f", r);
    }


    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
