package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the app's own connections (a background job's, outside the gate) can do to a swap, through
 * a real Hotswap, real HttpServer, real SQLite files, a real sqlite3 shell and the real client.
 */
class AppConnectionsAtSwapTest {
    private final Fixtures.Scope scope = new Fixtures.Scope();
    private Path dir;
    private Path client;
    private Path live;

    @BeforeEach
    void files() throws Exception {
        dir = scope.dir();
        client = scope.dir();
        live = Fixtures.createDb(dir.resolve("live.sqlite3"), "PRAGMA journal_mode=DELETE",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO items(name) VALUES ('old')");
        Fixtures.createDb(client.resolve("new.sqlite3"), "PRAGMA journal_mode=DELETE",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO items(name) VALUES ('new')");
    }

    @AfterEach
    void cleanUp() {
        scope.close();
    }

    private Hotswap started(Properties connectionProperties) throws Exception {
        Hotswap h = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live, connectionProperties).build();
        scope.add(h);
        h.start();
        return h;
    }

    private Fixtures.Result push(Hotswap h, String... options) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("cp", "new.sqlite3", live.toString()));
        args.addAll(Arrays.asList(options));
        return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, args.toArray(String[]::new));
    }

    @Test
    void aConnectionThatCannotOpenBehindAnotherProcesssLockRefusesTheSwapAtItsTimeoutInsteadOfHoldingTheGate() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/sqlite3")), "the sqlite3 CLI is not installed");
        // The app sets its journal mode on each connection, so opening one reads the file: behind another
        // process's EXCLUSIVE lock (rollback journal) it waits for the busy timeout, here far longer than this
        // test waits for anything. The swap must not wait for it past its own timeout, with requests held.
        Properties properties = new Properties();
        properties.setProperty("journal_mode", "DELETE");
        properties.setProperty("busy_timeout", "600000");
        Hotswap h = started(properties);
        DataSource ds = h.database(live).dataSource();
        HoldingServer server = scope.add(new HoldingServer(h));
        byte[] before = Files.readAllBytes(live);

        // A request in flight holds the push at the gate while a sqlite3 shell locks the file and a job asks
        // for a connection: the push is then past its checks before the gate, and the job's open is counted.
        CompletableFuture<HttpResponse<String>> held = server.hold();
        CompletableFuture<Fixtures.Result> refused = Fixtures.concurrently(() -> push(h, "--timeout", "2000"));
        Fixtures.awaitGateClosed(h);
        Process shell = scope.add(new Shell(live, "BEGIN EXCLUSIVE;")).process;
        CompletableFuture<String> job = new CompletableFuture<>();
        Thread worker = new Thread(() -> {
            try (Connection c = ds.getConnection()) {
                job.complete("opened " + Sqlite.column(c, "SELECT name FROM items"));
            } catch (SQLException | RuntimeException e) {
                job.complete("failed: " + e);
            }
        }, "report-job");
        worker.setDaemon(true);
        worker.start();
        awaitInFrame(worker, "java.sql.DriverManager");
        CompletableFuture<HttpResponse<String>> waiting = server.get("/ping");
        server.release();

        Fixtures.Result r = refused.get(90, TimeUnit.SECONDS);
        assertTrue(shell.isAlive(), "the shell still holds its lock");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: 1 connection from dataSource() was being opened (on thread report-job) when the "
                + "swap's timeout of 2000 ms ran out: opening one reads " + live + ", and waits while another connection or "
                + "process holds a lock on it (a sqlite3 shell or a job in a transaction); nothing changed. End that "
                + "transaction, then push again, or give the swap longer with --timeout MS"), r.stderr());
        assertEquals("pong", waiting.get(30, TimeUnit.SECONDS).body(), "the request that waited at the gate was let go");
        assertEquals("held", held.get(30, TimeUnit.SECONDS).body());
        assertArrayEquals(before, Files.readAllBytes(live));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        assertFalse(job.isDone(), "the job's connection still waits for the shell's lock");

        try (OutputStream in = shell.getOutputStream()) {
            in.write("COMMIT;\n.quit\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("opened [old]", job.get(30, TimeUnit.SECONDS));
        Fixtures.Result ok = push(h);
        assertEquals(0, ok.exit(), ok.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
    }

    @Test
    void aRefusalAfterTheSwapClosedAJobsConnectionSaysSoAndThatItsTransactionWasRolledBack() throws Exception {
        Hotswap h = started(new Properties());
        DataSource ds = h.database(live).dataSource();
        // The app's own connection, opened outside hotswap: it refuses the swap after the DataSource's are closed.
        Connection foreign = scope.add(DriverManager.getConnection("jdbc:sqlite:" + live));
        Connection[] opened = new Connection[1];
        Thread worker = new Thread(() -> {
            try {
                opened[0] = ds.getConnection();
            } catch (SQLException e) {
                throw new RuntimeException(e);
            }
        }, "report-job");
        worker.start();
        worker.join();
        Connection job = scope.add(opened[0]);
        byte[] before = Files.readAllBytes(live);
        job.setAutoCommit(false);
        try (Statement s = job.createStatement()) {
            s.executeUpdate("INSERT INTO items(name) VALUES ('uncommitted')");
        }

        Fixtures.Result r = push(h);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: connection(s) still open on " + live + " that hotswap does not manage (1 open "
                + "file handle(s)); the database file is unchanged, but 1 connection from dataSource() held outside the gate "
                + "(opened on thread report-job) was closed, and its open transaction rolled back: its next use fails with "
                + "SQLState 08003. Take connections from"), r.stderr());
        assertFalse(r.stderr().contains("nothing changed"), r.stderr());
        SQLException e = assertThrows(SQLException.class, job::commit);
        assertEquals("08003", e.getSQLState());
        assertArrayEquals(before, Files.readAllBytes(live));
        assertFalse(Files.exists(dir.resolve("live.sqlite3-journal")));
        assertEquals(List.of(), Fixtures.leftovers(dir));

        // With no connection of the DataSource's open, the same refusal closes none, and says that nothing changed.
        Fixtures.Result again = push(h);
        assertEquals(1, again.exit(), again.toString());
        assertTrue(again.stderr().contains("(1 open file handle(s)); nothing changed. Take connections from"), again.stderr());
        assertFalse(again.stderr().contains("held outside the gate"), again.stderr());
        assertArrayEquals(before, Files.readAllBytes(live));
        assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"));
        foreign.close();
    }

    /** Waits until {@code thread} runs inside a method of {@code className}. */
    private static void awaitInFrame(Thread thread, String className) throws InterruptedException {
        for (int i = 0; i < 30_000; i++) {
            if (Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getClassName().equals(className))) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError(thread.getName() + " never reached " + className);
    }

    /** A sqlite3 shell on a database, which has run {@code sql} once it is constructed; killed on close. */
    static final class Shell implements AutoCloseable {
        final Process process;

        Shell(Path db, String sql) throws Exception {
            process = new ProcessBuilder("sqlite3", db.toString()).redirectErrorStream(true).start();
            OutputStream in = process.getOutputStream();
            in.write((sql + "\nSELECT 'ready';\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (!"ready".equals(line)) {
                process.destroyForcibly();
                throw new AssertionError("sqlite3 said " + line + " to " + sql);
            }
        }

        @Override
        public void close() throws Exception {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
