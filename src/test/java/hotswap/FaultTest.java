package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault injection with real processes: the client or the app is killed (SIGKILL) in the middle of
 * a push, the disk fills up during a push, pushes and pulls run at the same time. After each fault
 * the live database is whole (old or new, never a mix), passes {@code PRAGMA integrity_check}, and
 * no temp file of ours is left beside it (DESIGN.md §2, invariants 1 and 4).
 *
 * <p>The app runs as a child JVM (the demo's {@code main}), so it can be killed, and so this JVM
 * can read the live file's bytes without touching the app's SQLite locks. Trials per stress test:
 * {@code -Dhotswap.stress.trials=N} (default 3); kill moments come from
 * {@code -Dhotswap.stress.seed=S} (printed, random by default).
 */
class FaultTest {
    private static final int TRIALS = Integer.getInteger("hotswap.stress.trials", 3);
    private static final long SEED = Long.getLong("hotswap.stress.seed", System.nanoTime());
    /** ~50 MB: 120k rows of 200 random bytes, plus an index, so the integrity check takes a while. */
    private static final int BIG_ROWS = 120_000;
    private static final String SCHEMA = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";
    private static final Pattern READY = Pattern.compile("demo app on http://127\\.0\\.0\\.1:(\\d+)/");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static Path shared;
    private static Path bigA;
    private static Path bigB;
    private static String digestA;
    private static String digestB;

    private final List<Process> processes = new ArrayList<>();
    private final List<Path> dirs = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void makeDatabases() throws Exception {
        System.out.println("FaultTest: seed " + SEED + " (-Dhotswap.stress.seed), " + TRIALS + " trial(s) per stress test");
        shared = Fixtures.tempDir();
        bigA = makeDb(shared.resolve("a.sqlite3"), BIG_ROWS, 200);
        bigB = makeDb(shared.resolve("b.sqlite3"), BIG_ROWS, 200);
        digestA = digest(bigA);
        digestB = digest(bigB);
        assertFalse(digestA.equals(digestB), "the two big databases must differ");
    }

    @AfterAll
    static void removeDatabases() {
        Fixtures.deleteTree(shared);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
        for (Path d : dirs) {
            Fixtures.deleteTree(d);
        }
    }

    // ---------------------------------------------------------------- 1. client killed

    @Test
    @Tag("stress")
    void killingTheClientMidPushLeavesOldOrNewWholeAndNoTempFile() throws Exception {
        Random random = new Random(SEED ^ 0x11);
        Path dir = newDir();
        Path client = newDir();
        Path live = liveCopyOf(bigA, dir);
        App app = startApp(live, client);
        long window = windowNanos(app, client, bigB, digestB);
        boolean liveIsA = false;
        for (int i = 0; i < TRIALS; i++) {
            Path source = liveIsA ? bigB : bigA;
            String newDigest = liveIsA ? digestB : digestA;
            String beforeSha = fileSha(live);
            long logOffset = app.logSize();
            Process cli = startTrialPush(app, client, source, "kill-" + i, i);
            String when = awaitKillMoment(random, i, window, dir, cli);
            cli.destroyForcibly();
            assertTrue(cli.waitFor(10, TimeUnit.SECONDS), "killed client did not exit within 10 s");
            awaitNoLeftovers(dir, "trial " + i + " (client killed " + when + ")");

            String outcome;
            if (fileSha(live).equals(beforeSha)) {
                outcome = "old (byte-identical)";
            } else {
                assertEquals(newDigest, digest(live), "trial " + i + ": the live db is neither byte-identical to before "
                        + "nor exactly the pushed content (client killed " + when + ")");
                outcome = "new";
                liveIsA = !liveIsA;
            }
            assertEquals(List.of("ok"), integrity(live), "trial " + i + ": integrity_check of the live db");
            System.out.printf(Locale.ROOT, "client-kill trial %d/%d: killed %s, server got to %s -> %s%n",
                    i + 1, TRIALS, when, phase(app.logSince(logOffset)), outcome);

            // The app still takes a normal push.
            Path next = liveIsA ? bigB : bigA;
            pushAndCheck(app, client, next, liveIsA ? digestB : digestA, "normal push after trial " + i);
            liveIsA = !liveIsA;
        }
    }

    // ---------------------------------------------------------------- 2. app killed

    @Test
    @Tag("stress")
    void killingTheAppMidPushLeavesOldOrNewWholeAndRestartCleansUp() throws Exception {
        Random random = new Random(SEED ^ 0x22);
        Path dir = newDir();
        Path client = newDir();
        Path live = liveCopyOf(bigA, dir);
        App app = startApp(live, client);
        long window = windowNanos(app, client, bigB, digestB);
        boolean liveIsA = false;
        for (int i = 0; i < TRIALS; i++) {
            Path source = liveIsA ? bigB : bigA;
            String oldDigest = liveIsA ? digestA : digestB;
            String newDigest = liveIsA ? digestB : digestA;
            long logOffset = app.logSize();
            Process cli = startTrialPush(app, client, source, "appkill-" + i, i);
            String when = awaitKillMoment(random, i, window, dir, cli);
            app.kill();
            String hint = phase(app.logSince(logOffset));
            if (!cli.waitFor(30, TimeUnit.SECONDS)) {
                fail("trial " + i + ": the client did not exit within 30 s after the app was killed");
            }
            List<String> orphans = Fixtures.leftovers(dir);

            app.start(); // the socket file of the killed app is still there: the restart must handle it
            assertEquals(List.of(), Fixtures.leftovers(dir), "trial " + i + ": temp files remain after the restart");
            assertEquals(List.of("ok"), integrity(live), "trial " + i + ": integrity_check of the live db after the restart");
            String now = digest(live);
            String outcome;
            if (now.equals(oldDigest)) {
                outcome = "old";
            } else if (now.equals(newDigest)) {
                outcome = "new";
                liveIsA = !liveIsA;
            } else {
                throw new AssertionError("trial " + i + ": after the app was killed " + when + " (" + hint
                        + "), the live db holds neither the old nor the new content");
            }
            assertEquals(200, app.health(), "trial " + i + ": GET /health after the restart");
            System.out.printf(Locale.ROOT, "app-kill trial %d/%d: killed %s, app got to %s, "
                            + "client exit %d, orphans before restart %s -> %s%n",
                    i + 1, TRIALS, when, hint, cli.exitValue(), orphans, outcome);
        }
        pushAndCheck(app, client, liveIsA ? bigB : bigA, liveIsA ? digestB : digestA, "normal push after the last restart");
    }

    // ---------------------------------------------------------------- 4. disk full

    @Test
    void diskFullDuringAPushChangesNothing() throws Exception {
        Path dir = newDir();
        Path client = newDir();
        Path disk = Files.createDirectory(dir.resolve("disk"));
        String mounted = run(List.of("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk.toString()));
        if (mounted != null) {
            System.out.println("diskFullDuringAPushChangesNothing: skipped, cannot mount a tmpfs: " + mounted);
            Assumptions.abort("cannot mount a 2 MB tmpfs (needs root and CAP_SYS_ADMIN): " + mounted);
        }
        App app = null;
        try {
            Path live = makeDb(disk.resolve("live.sqlite3"), 300, 200);
            Path big = makeDb(client.resolve("big.sqlite3"), 10_000, 200); // ~4 MB, twice the disk
            Path small = makeDb(client.resolve("small.sqlite3"), 100, 200);
            app = new App(live, dir.resolve("hotswap.sock"), client.resolve("app.log"));
            app.start();
            byte[] before = Files.readAllBytes(live);
            Map<String, String> env = Map.of("HOTSWAP_SOCKET", app.socket.toString());

            // Size unknown (stdin): the push stops before the disk fills under the app's own writes.
            Fixtures.Result fromStdin = Fixtures.cli(client, env, Files.readAllBytes(big), "cp", "-", live.toString());
            assertEquals(1, fromStdin.exit(), fromStdin.toString());
            assertTrue(fromStdin.stderr().contains("ERROR: not enough disk space in " + disk + " for the pushed database: after "), fromStdin.toString());
            assertTrue(fromStdin.stderr().contains("stay for the app's own writes; nothing changed. Free some space and push again"),
                    fromStdin.toString());
            assertEquals(List.of(), Fixtures.leftovers(disk), "temp file left after a push that filled the disk");
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(live)), "the live db changed after a failed push");

            // Size known, and it would fit only by taking the app's reserve (1% of the disk): refused before any byte.
            long spare = Files.getFileStore(disk).getUsableSpace() - Files.getFileStore(disk).getTotalSpace() / 100;
            Path tight = client.resolve("tight.bin");
            Files.write(tight, new byte[(int) (spare + Files.getFileStore(disk).getTotalSpace() / 200)]);
            Fixtures.Result tightPush = Fixtures.cli(client, env, null, "cp", tight.toString(), live.toString());
            assertEquals(1, tightPush.exit(), tightPush.toString());
            assertTrue(tightPush.stderr().contains("ERROR: not enough disk space in " + disk + ": the push needs "), tightPush.toString());
            assertEquals(List.of(), Fixtures.leftovers(disk), "temp file left after a refused push");
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(live)), "the live db changed after a refused push");

            // Size known (a path): refused before any byte is sent.
            Fixtures.Result byPath = Fixtures.cli(client, env, null, "cp", big.toString(), live.toString());
            assertEquals(1, byPath.exit(), byPath.toString());
            assertTrue(byPath.stderr().contains("not enough disk space"), "expected a fast refusal:\n" + byPath);
            assertFalse(byPath.stderr().contains("could not write"), "the push should fail before receiving:\n" + byPath);
            assertEquals(List.of(), Fixtures.leftovers(disk), "temp file left after a refused push");
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(live)), "the live db changed after a refused push");
            System.out.println("disk full: stdin push -> " + firstErrorLine(fromStdin.stderr()) + "; path push -> "
                    + firstErrorLine(byPath.stderr()));

            // The space is back: a push that fits goes through.
            Fixtures.Result ok = Fixtures.cli(client, env, null, "cp", small.toString(), live.toString());
            assertEquals(0, ok.exit(), ok.toString());
            assertEquals(digest(small), digest(live));
            assertEquals(List.of(), Fixtures.leftovers(disk));
        } finally {
            if (app != null) {
                app.kill();
            }
            String unmounted = run(List.of("umount", disk.toString()));
            if (unmounted != null) {
                String lazy = run(List.of("umount", "-l", disk.toString()));
                System.out.println("umount " + disk + " failed (" + unmounted + "); lazy umount: " + (lazy == null ? "ok" : lazy));
            }
        }
    }

    // ---------------------------------------------------------------- 5. concurrency

    @Test
    void twoPushesAtOnceAreSerializedAndOneWinsWhole() throws Exception {
        Path dir = newDir();
        Path client = newDir();
        Path live = makeDb(dir.resolve("live.sqlite3"), 100, 200);
        App app = startApp(live, client);
        Process a = startCli(client, app.socket, "push-a", "cp", bigA.toString(), live.toString());
        Process b = startCli(client, app.socket, "push-b", "cp", bigB.toString(), live.toString());
        int exitA = awaitExit(a, "push of a");
        int exitB = awaitExit(b, "push of b");
        assertEquals(0, exitA, "push of a:\n" + cliOutput(client, "push-a"));
        assertEquals(0, exitB, "push of b:\n" + cliOutput(client, "push-b"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        assertEquals(List.of("ok"), integrity(live));
        String now = digest(live);
        assertTrue(now.equals(digestA) || now.equals(digestB), "the live db is neither of the two pushed databases");
        System.out.println("two pushes at once: both exit 0, live db = " + (now.equals(digestA) ? "a" : "b"));
    }

    @Test
    void aPushDuringAPullLeavesThePullWholeAndPrePush() throws Exception {
        Path dir = newDir();
        Path client = newDir();
        Path live = liveCopyOf(bigA, dir);
        App app = startApp(live, client);
        for (int attempt = 1; attempt <= 3; attempt++) {
            Path pulled = client.resolve("pulled-" + attempt + ".sqlite3");
            Process pull = startCli(client, app.socket, "pull-" + attempt, "cp", live.toString(), pulled.toString());
            if (!awaitTempFile(dir, ".pull", pull)) {
                assertEquals(0, awaitExit(pull, "pull"), "pull:\n" + cliOutput(client, "pull-" + attempt));
                System.out.println("push during pull: attempt " + attempt + " finished before its snapshot file was seen; again");
                Files.deleteIfExists(pulled);
                continue;
            }
            Process push = startCli(client, app.socket, "push-" + attempt, "cp", bigB.toString(), live.toString());
            int pullExit = awaitExit(pull, "pull");
            int pushExit = awaitExit(push, "push");
            assertEquals(0, pullExit, "pull:\n" + cliOutput(client, "pull-" + attempt));
            assertEquals(0, pushExit, "push:\n" + cliOutput(client, "push-" + attempt));
            assertEquals(List.of("ok"), integrity(pulled), "integrity_check of the pulled file");
            assertEquals(digestA, digest(pulled), "the pulled file must hold exactly the pre-push content");
            assertEquals(digestB, digest(live), "the push must have replaced the live db");
            assertEquals(List.of("ok"), integrity(live));
            assertEquals(List.of(), Fixtures.leftovers(dir));
            System.out.println("push during pull: pull exit 0 with the pre-push content, push exit 0 (attempt " + attempt + ")");
            return;
        }
        Assumptions.abort("could not start a push while a pull was in progress in 3 attempts (each pull finished first)");
    }

    // ---------------------------------------------------------------- helpers

    private Path newDir() throws IOException {
        Path d = Fixtures.tempDir();
        dirs.add(d);
        return d;
    }

    /** A copy of {@code source} as live.sqlite3 in {@code dir}. */
    private static Path liveCopyOf(Path source, Path dir) throws IOException {
        Path live = dir.resolve("live.sqlite3");
        Files.copy(source, live);
        return live;
    }

    /** Starts the app on {@code live}, its socket beside it, its log in {@code client}; waits until it serves. */
    private App startApp(Path live, Path client) throws Exception {
        App app = new App(live, live.resolveSibling("hotswap.sock"), client.resolve("app.log"));
        app.start();
        return app;
    }

    /** A WAL database with the demo's table plus an index, filled with random bytes. */
    static Path makeDb(Path file, int rows, int blobBytes) throws SQLException {
        return Fixtures.createDb(file, "PRAGMA journal_mode=WAL", SCHEMA,
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + rows + ") "
                        + "INSERT INTO items(name) SELECT randomblob(" + blobBytes + ") FROM c",
                "CREATE INDEX items_name ON items(name)");
    }

    /** SHA-256 over the schema and every row, in id order: equal content, equal digest. */
    static String digest(Path db) throws SQLException {
        MessageDigest md = sha256();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db + "?open_mode=1"); Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT type, name, sql FROM sqlite_master ORDER BY name")) {
                while (r.next()) {
                    md.update((r.getString(1) + "|" + r.getString(2) + "|" + r.getString(3) + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
            try (ResultSet r = s.executeQuery("SELECT id, name FROM items ORDER BY id")) {
                ByteBuffer head = ByteBuffer.allocate(12);
                while (r.next()) {
                    byte[] name = r.getBytes(2);
                    head.clear();
                    head.putLong(r.getLong(1)).putInt(name == null ? -1 : name.length);
                    md.update(head.array());
                    if (name != null) {
                        md.update(name);
                    }
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String fileSha(Path file) throws IOException {
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> integrity(Path db) throws SQLException {
        return Fixtures.query(db, "PRAGMA integrity_check");
    }

    /** Starts the real CLI with stdout/stderr in files named after {@code tag}, stdin empty. */
    private Process startCli(Path cwd, Path socket, String tag, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-jar", Fixtures.jar().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        pb.environment().put("HOTSWAP_SOCKET", socket.toString());
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(cwd.resolve(tag + ".out").toFile());
        pb.redirectError(cwd.resolve(tag + ".err").toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static String cliOutput(Path cwd, String tag) {
        try {
            return "--- stderr\n" + Files.readString(cwd.resolve(tag + ".err"))
                    + "\n--- stdout (" + Files.size(cwd.resolve(tag + ".out")) + " bytes)";
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static int awaitExit(Process p, String what) throws InterruptedException {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(what + " did not finish within 60 s");
        }
        return p.exitValue();
    }

    /**
     * Waits until a temp file of ours ending with {@code kind} appears in {@code dir}. Returns
     * false when {@code process} exits first.
     */
    private static boolean awaitTempFile(Path dir, String kind, Process process) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (String name : Fixtures.leftovers(dir)) {
                if (name.endsWith(kind)) {
                    return true;
                }
            }
            if (!process.isAlive()) {
                return false;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("no " + kind + " temp file appeared in " + dir + " within " + WAIT.toSeconds() + " s");
    }

    /** Polls (10 s at most) until no temp file of ours is left, seen empty three times in a row. */
    private static void awaitNoLeftovers(Path dir, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int emptyInARow = 0;
        List<String> left = List.of();
        while (System.nanoTime() < deadline) {
            left = Fixtures.leftovers(dir);
            emptyInARow = left.isEmpty() ? emptyInARow + 1 : 0;
            if (emptyInARow == 3) {
                return;
            }
            Thread.sleep(50);
        }
        fail(what + ": temp files still beside the live db after 10 s: " + left);
    }

    /**
     * A normal push, which must succeed; returns the time from its temp file appearing to the
     * client's exit, the span the kills are spread over.
     */
    private long windowNanos(App app, Path client, Path source, String expected) throws Exception {
        Process p = startCli(client, app.socket, "calibrate", "cp", source.toString(), app.db.toString());
        assertTrue(awaitTempFile(app.db.getParent(), ".push", p), "calibration push ended before its temp file was seen:\n"
                + cliOutput(client, "calibrate"));
        long seen = System.nanoTime();
        assertEquals(0, awaitExit(p, "calibration push"), cliOutput(client, "calibrate"));
        long window = (System.nanoTime() - seen) * 13 / 10;
        assertEquals(expected, digest(app.db), "calibration push did not replace the live db");
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        System.out.println("kill window: " + ms(window) + " ms after the temp file appears");
        return window;
    }

    /**
     * Starts trial {@code i}'s push of {@code source} (its output in files tagged {@code tag}) and
     * returns once the push's temp file is beside the live db; fails if the client exits first.
     */
    private Process startTrialPush(App app, Path client, Path source, String tag, int i) throws IOException, InterruptedException {
        Process cli = startCli(client, app.socket, tag, "cp", source.toString(), app.db.toString());
        if (!awaitTempFile(app.db.getParent(), ".push", cli)) {
            fail("trial " + i + ": the push never created its temp file before the client exited:\n" + cliOutput(client, tag));
        }
        return cli;
    }

    private static void pushAndCheck(App app, Path client, Path source, String expected, String what) throws Exception {
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", app.socket.toString()), null,
                "cp", source.toString(), app.db.toString());
        assertEquals(0, r.exit(), what + ":\n" + r);
        assertEquals(expected, digest(app.db), what + ": the live db does not hold the pushed content");
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()), what + ": temp files left");
    }

    /**
     * Waits (after the push's temp file appeared) for trial {@code i}'s kill moment and says what it
     * was. Every third trial waits for the old-inode link the swap makes just before its rename, so
     * the kill lands inside the swap; the others sleep to a random point of their own equal slice
     * of {@code window}, which covers receiving and checking. Returns a description for the output.
     */
    private static String awaitKillMoment(Random random, int i, long window, Path dir, Process cli)
            throws IOException, InterruptedException {
        if (i % 3 == 2) {
            long start = System.nanoTime();
            return awaitTempFile(dir, ".old", cli)
                    ? "as the swap began (.old link seen " + ms(System.nanoTime() - start) + " ms after the temp file)"
                    : "after the push ended (the swap's .old link was not caught)";
        }
        int slices = TRIALS - TRIALS / 3;
        long delay = (long) ((i - i / 3 + random.nextDouble()) / slices * window);
        TimeUnit.NANOSECONDS.sleep(delay);
        return ms(delay) + " ms after the temp file appeared";
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }

    /** How far the app's log says the push got (a hint for the output, never asserted). */
    private static String phase(String log) {
        String abandoned = log.contains("command failed") || log.contains("control connection ended") ? ", then stopped" : "";
        return reached(log) + abandoned;
    }

    private static String reached(String log) {
        if (log.contains("push complete")) {
            return "done";
        }
        if (log.contains("renamed ")) {
            return "swap (renamed)";
        }
        if (log.contains("lock acquired")) {
            return "swap (gate closed)";
        }
        if (log.contains("integrity check") || log.contains("schema check")) {
            return "check";
        }
        if (log.contains("bytes received")) {
            return "check (received all)";
        }
        if (log.contains("push started")) {
            return "receive";
        }
        return "before the push started";
    }

    private static String firstErrorLine(String stderr) {
        return stderr.lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("(no ERROR line)");
    }

    /** Runs a command; null when it exits 0, else its output and status. */
    private static String run(List<String> command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return String.join(" ", command) + " did not finish in 10 s";
            }
            return p.exitValue() == 0 ? null
                    : String.join(" ", command) + " exited " + p.exitValue() + ": " + new String(out, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return String.join(" ", command) + " could not run: " + e.getMessage();
        }
    }

    /** The demo app as a child JVM: killable, restartable, logging to a file. */
    private final class App {
        final Path db;
        final Path socket;
        final Path log;
        Process process;
        int port;

        App(Path db, Path socket, Path log) {
            this.db = db;
            this.socket = socket;
            this.log = log;
        }

        /** Starts (or restarts) the app and waits until it serves. */
        void start() throws Exception {
            long offset = logSize();
            ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-cp",
                    Fixtures.jar() + File.pathSeparator + Fixtures.sqliteJar(), "hotswap.demo.DemoApp")
                    .directory(socket.getParent().toFile());
            pb.environment().put("PORT", "0");
            pb.environment().put("HOTSWAP_DB", db.toString());
            pb.environment().put("HOTSWAP_SOCKET", socket.toString());
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = pb.start();
            processes.add(process);
            long deadline = System.nanoTime() + WAIT.toNanos();
            String text = "";
            while (System.nanoTime() < deadline) {
                text = logSince(offset);
                Matcher m = READY.matcher(text);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    return;
                }
                if (!process.isAlive()) {
                    fail("the app exited with status " + process.exitValue() + " before it was ready:\n" + text);
                }
                Thread.sleep(20);
            }
            fail("the app was not ready within " + WAIT.toSeconds() + " s:\n" + text);
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the killed app did not exit within 10 s");
        }

        long logSize() throws IOException {
            return Files.exists(log) ? Files.size(log) : 0;
        }

        String logSince(long offset) throws IOException {
            if (!Files.exists(log)) {
                return "";
            }
            byte[] all = Files.readAllBytes(log);
            return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset), StandardCharsets.UTF_8);
        }

        int health() throws IOException, InterruptedException {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                    .timeout(Duration.ofSeconds(10)).build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }
}
