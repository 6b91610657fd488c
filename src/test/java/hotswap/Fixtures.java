package hotswap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers for tests: real SQLite files, the real jar run as a child process. */
final class Fixtures {
    private Fixtures() {
    }

    /** The built jar; {@code make test} passes its path in HOTSWAP_JAR. */
    static Path jar() {
        String env = System.getenv("HOTSWAP_JAR");
        return (env != null ? Path.of(env) : Path.of("build/hotswap.jar")).toAbsolutePath();
    }

    /** The sqlite-jdbc jar, for child processes that run the app. */
    static Path sqliteJar() {
        String env = System.getenv("HOTSWAP_SQLITE_JAR");
        if (env != null) {
            return Path.of(env).toAbsolutePath();
        }
        try (Stream<Path> s = Files.list(Path.of("lib"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("sqlite-jdbc-")).findFirst().orElseThrow().toAbsolutePath();
        } catch (IOException e) {
            throw new IllegalStateException("sqlite-jdbc jar not found; run make test", e);
        }
    }

    /** The java launcher to run child processes with (the one running the tests). */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Skips the test, saying why, unless it runs as root: it needs to {@code toDo} (play another
     * user with setpriv, give a file away with chown). CI runs as root; a developer may not.
     */
    static void assumeRoot(String toDo) {
        int uid;
        try {
            uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot tell this process's uid from /proc/self", e);
        }
        Assumptions.assumeTrue(uid == 0, "needs root to " + toDo + " (running as uid " + uid + ")");
    }

    /** A short temp directory (Unix socket paths must stay under ~107 bytes). */
    static Path tempDir() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "hs-");
    }

    /**
     * Mounts a tmpfs of {@code size} (as mount's -o size=, e.g. "1m") on the empty directory
     * {@code dir}, for a real full disk; where mounting is refused (not root, no privileges), the
     * test is skipped with the reason. Undo with {@link #unmount}.
     */
    static void mountTmpfs(Path dir, String size) throws IOException, InterruptedException {
        runOrSkip("mounting a tmpfs", List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()));
    }

    /**
     * Makes {@code dir} a read-only bind mount of itself: as root, modes do not stop writes, and this
     * does. Where mounting is refused, the test is skipped with the reason. Undo with {@link #unmount}.
     */
    static void mountReadOnly(Path dir) throws IOException, InterruptedException {
        runOrSkip("a read-only bind mount", List.of("sh", "-c", "mount --bind '" + dir + "' '" + dir + "' && mount -o remount,bind,ro '"
                + dir + "' '" + dir + "'"));
    }

    /** Runs a command only root may run (mount, chattr); where it is refused, the test is skipped with the reason. */
    static void runOrSkip(String what, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String why = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
            System.out.println("skipped, " + what + " was refused: " + why);
            org.junit.jupiter.api.Assumptions.abort(what + " was refused: " + why);
        }
    }

    /**
     * A file whose every read fails with EIO, as a failing disk's would: one of the kernel's that
     * says it holds 4096 bytes (where runtime power management is not in use). Skips where there is none.
     */
    static Path unreadableFile() {
        Path failing = Path.of("/sys/devices/software/power/autosuspend_delay_ms");
        boolean fails = false;
        try (java.io.InputStream in = Files.newInputStream(failing)) {
            in.read();
        } catch (IOException e) {
            fails = failing.toFile().length() > 0 && String.valueOf(e.getMessage()).contains("Input/output error");
        }
        Assumptions.assumeTrue(fails, failing + " is not here, or reads without an error");
        return failing;
    }

    /** Unmounts what {@link #mountTmpfs} mounted on {@code dir} (lazily: a file still open does not stop it). */
    static void unmount(Path dir) throws IOException, InterruptedException {
        new ProcessBuilder("umount", "-l", dir.toString()).inheritIO().start().waitFor();
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Waits until a swap has closed the gate: a look that must not wait is then refused. */
    static void awaitGateClosed(Hotswap h) throws InterruptedException {
        for (int i = 0; i < 30_000; i++) {
            SwapGate.Pass pass = h.gate().tryEnter();
            if (pass == null) {
                return;
            }
            pass.close();
            Thread.sleep(1);
        }
        throw new AssertionError("the swap never closed the gate");
    }

    /** Closes each of {@code closeables}, the last added first, ignoring failures: for tear-downs. */
    static void closeInReverse(List<? extends AutoCloseable> closeables) {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    /** What a test opened and the temp directories it made: closed in reverse order, then deleted. */
    static final class Scope implements AutoCloseable {
        private final List<AutoCloseable> toClose = new ArrayList<>();
        private final List<Path> dirs = new ArrayList<>();

        /** Closes {@code resource} when the test ends; returns it. */
        <T extends AutoCloseable> T add(T resource) {
            toClose.add(resource);
            return resource;
        }

        /** A short temp directory, deleted when the test ends. */
        Path dir() throws IOException {
            Path d = tempDir();
            dirs.add(d);
            return d;
        }

        @Override
        public void close() {
            closeInReverse(toClose);
            dirs.forEach(Fixtures::deleteTree);
        }
    }

    /** Creates a database at {@code file} by running each statement. */
    static Path createDb(Path file, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
        return file;
    }

    /** The demo's schema, in WAL mode, with the given item names. */
    static Path itemsDb(Path file, String... names) throws SQLException {
        List<String> sql = new ArrayList<>(List.of("PRAGMA journal_mode=WAL",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)"));
        for (String n : names) {
            sql.add("INSERT INTO items(name) VALUES ('" + n.replace("'", "''") + "')");
        }
        return createDb(file, sql.toArray(String[]::new));
    }

    /** Every row of a query, each row's columns joined with '|'. */
    static List<String> query(Path file, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file + "?open_mode=1");
             Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            int n = r.getMetaData().getColumnCount();
            while (r.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    if (i > 1) {
                        b.append('|');
                    }
                    b.append(r.getString(i));
                }
                rows.add(b.toString());
            }
        }
        return rows;
    }

    /** Files of ours (temp, snapshot, old-inode links) left in {@code dir}. */
    static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".hotswap-")).sorted().toList();
        }
    }

    /** What a child process did. */
    record Result(int exit, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout (" + stdout.length + " bytes)\n"
                    + (stdout.length < 2000 ? out() : "...") + "\n--- stderr\n" + stderr;
        }
    }

    /**
     * Runs {@code java -jar hotswap.jar ARGS} in {@code cwd} with the extra environment, feeding
     * {@code stdin} (null for none), and waits for it (60 s at most).
     */
    static Result cli(Path cwd, Map<String, String> env, byte[] stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar().toString()));
        command.addAll(List.of(args));
        return run(cwd, env, stdin, command);
    }

    private static final Executor READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "child-output-reader");
        t.setDaemon(true);
        return t;
    });

    /**
     * For a test's commands at once: a thread each. The common pool has one worker on two cores, and
     * from JDK 25 on CompletableFuture's async methods use it even then, so a second command waited
     * for the first, which waited for the second.
     */
    static final Executor CONCURRENTLY = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-command");
        t.setDaemon(true);
        return t;
    });

    /** Runs {@code task} on a thread of its own ({@link #CONCURRENTLY}); what it throws completes the future. */
    static <T> CompletableFuture<T> concurrently(java.util.concurrent.Callable<T> task) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return task.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, CONCURRENTLY);
    }

    static Result run(Path cwd, Map<String, String> env, byte[] stdin, List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        pb.environment().remove("HOTSWAP_SOCKET");
        pb.environment().putAll(env);
        Process p = pb.start();
        // Threads of their own: a test that blocks the common pool's workers (one, on two cores) must not stall these.
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()), READERS);
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()), READERS);
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException e) {
            // The process may exit before reading all its input (a rejected push); that is its business.
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("command did not finish in 60 s: " + command);
        }
        return new Result(p.exitValue(), out.get(), new String(err.get(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
