package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import hotswap.wire.OpenHandles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The library's promises, each through a real Hotswap, real SQLite files, and the real CLI. */
class LibraryBehaviourTest {
    private static final String ITEMS = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

    private Path dir;
    private Path client;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void dirs() throws IOException {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private Path socket() {
        return dir.resolve("hs.sock");
    }

    private Hotswap build(Hotswap.Builder b) {
        Hotswap h = b.build();
        cleanup.add(h);
        return h;
    }

    private Hotswap started(Path... dbs) throws IOException {
        Hotswap.Builder b = Hotswap.builder().socket(socket());
        for (Path db : dbs) {
            b.database(db);
        }
        Hotswap h = build(b);
        h.start();
        return h;
    }

    private Fixtures.Result cli(Hotswap h, String... args) throws Exception {
        return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, args);
    }

    private Fixtures.Result push(Hotswap h, String source, Path live) throws Exception {
        Fixtures.Result r = cli(h, "cp", source, live.toString());
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    /** Items in DELETE (rollback journal) mode. */
    private static Path rollbackItemsDb(Path file, String... names) throws SQLException {
        List<String> sql = new ArrayList<>(List.of("PRAGMA journal_mode=DELETE", ITEMS));
        for (String n : names) {
            sql.add("INSERT INTO items(name) VALUES ('" + n + "')");
        }
        return Fixtures.createDb(file, sql.toArray(String[]::new));
    }

    private static List<String> names(DataSource ds) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT name FROM items ORDER BY id")) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }

    private static String journalMode(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return Sqlite.journalMode(c);
        }
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** An HttpServer (not started) whose {@code GET /items} lists the names in {@code db}, behind {@code h}'s gate. */
    private HttpServer itemsServer(Hotswap h, ManagedDatabase db, Runnable onRequest) throws IOException {
        ExecutorService[] ex = new ExecutorService[1];
        HttpServer server = RunningApp.httpServer(ex);
        cleanup.add(() -> ex[0].shutdownNow());
        cleanup.add(() -> server.stop(0));
        server.createContext("/items", exchange -> {
            onRequest.run();
            try {
                respond(exchange, 200, String.join(",", names(db.dataSource())));
            } catch (SQLException e) {
                respond(exchange, 500, e.toString());
            }
        }).getFilters().add(h.filter());
        return server;
    }

    /** Captures messages of one of the library's loggers while a test runs. */
    private LogCapture capture(Class<?> source) {
        LogCapture c = new LogCapture(source.getName());
        cleanup.add(c);
        return c;
    }

    // ---- (a) journal mode ------------------------------------------------------------------------

    @Test
    void liveWalStaysWalWhenARollbackJournalFileIsPushed() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        rollbackItemsDb(client.resolve("new.sqlite3"), "new");
        assertEquals("delete", Fixtures.query(client.resolve("new.sqlite3"), "PRAGMA journal_mode").get(0));
        Hotswap h = started(live);
        push(h, "new.sqlite3", live);
        DataSource ds = h.database(live).dataSource();
        assertEquals("wal", journalMode(ds));
        assertEquals(List.of("new"), names(ds));
    }

    @Test
    void liveRollbackJournalStaysDeleteWhenAWalFileIsPushed() throws Exception {
        Path live = rollbackItemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        push(h, "new.sqlite3", live);
        DataSource ds = h.database(live).dataSource();
        assertEquals("delete", journalMode(ds));
        assertEquals(List.of("new"), names(ds));
        assertFalse(Files.exists(dir.resolve("live.sqlite3-wal")), "a DELETE-mode db has no WAL");
    }

    // ---- (b) permission bits ---------------------------------------------------------------------

    @Test
    void aDatabaseARequestOpenedBeforeItsFirstPushTakesThePushWithItsSchemaAndJournalMode() throws Exception {
        // The app starts before its database exists; a request asks dataSource() for a connection, and SQLite
        // makes an empty file there. That file is no database to compare schemas or journal modes with.
        Path live = dir.resolve("live.sqlite3");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertThrows(SQLException.class, () -> s.executeQuery("SELECT name FROM items"));
        }
        assertEquals(0, Files.size(live), "SQLite made an empty file");
        push(h, "new.sqlite3", live);
        assertEquals(List.of("new"), names(ds));
        assertEquals("wal", journalMode(ds));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void swappedInFileKeepsTheLiveFilesPermissionBits() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Files.setPosixFilePermissions(live, PosixFilePermissions.fromString("rw-r-----"));
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Files.setPosixFilePermissions(client.resolve("new.sqlite3"), PosixFilePermissions.fromString("rw-rw-rw-"));
        Hotswap h = started(live);
        push(h, "new.sqlite3", live);
        assertEquals("rw-r-----", mode(live));
        assertEquals(List.of("new"), names(h.database(live).dataSource()));
    }

    /**
     * A database another user (a backup agent, a worker) reads or writes through its owner or group
     * must stay theirs after a push: the app (root here) may give the new file the same owner and group.
     */
    @Test
    void swappedInFileKeepsTheLiveFilesOwnerAndGroupWhereTheAppMayGiveThem() throws Exception {
        Fixtures.assumeRoot("give the live database to another user");
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Files.setPosixFilePermissions(live, PosixFilePermissions.fromString("rw-rw----"));
        Files.setAttribute(live, "unix:uid", 65534);
        Files.setAttribute(live, "unix:gid", 65534);
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        push(h, "new.sqlite3", live);
        assertEquals(List.of("new"), names(h.database(live).dataSource()));
        assertEquals(65534, Files.getAttribute(live, "unix:uid"));
        assertEquals(65534, Files.getAttribute(live, "unix:gid"));
        assertEquals("rw-rw----", mode(live));
    }

    // ---- (c) no stale WAL ------------------------------------------------------------------------

    @Test
    void unCheckpointedWalFramesOfTheOldDbAreNeverAppliedToTheNewOne() throws Exception {
        RunningApp app = RunningApp.start("alpha", "bravo");
        cleanup.add(app);
        DataSource ds = app.app.database().dataSource();
        Path wal = app.db.resolveSibling(app.db.getFileName() + "-wal");
        // The app's connection writes with checkpoints off and stays open: the frames live only in -wal.
        Connection held = ds.getConnection();
        cleanup.add(held);
        try (Statement s = held.createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint=0");
            for (int i = 0; i < 200; i++) {
                s.executeUpdate("INSERT INTO items(name) VALUES ('stale-" + i + "')");
            }
        }
        assertTrue(Files.size(wal) > 0, "the live db has un-checkpointed WAL frames");
        assertTrue(app.get("/items").body().contains("stale-199"));

        Fixtures.itemsDb(client.resolve("new.sqlite3"), "x", "y", "z");
        Fixtures.Result r = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(held.isClosed(), "the app's open connection was closed by the swap");
        HttpResponse<String> items = app.get("/items");
        assertEquals(200, items.statusCode());
        assertEquals("[\"x\",\"y\",\"z\"]", items.body());
        assertEquals(List.of("ok"), Fixtures.query(app.db, "PRAGMA integrity_check"));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    // ---- (d) DataSource follows swaps ------------------------------------------------------------

    @Test
    void dataSourceConnectionHeldAcrossASwapIsClosedAndNewConnectionsReadTheNewFile() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new1", "new2");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        Connection held = ds.getConnection();
        try {
            assertEquals(List.of("1"), Sqlite.column(held, "SELECT count(*) FROM items"));
            push(h, "new.sqlite3", live);
            assertTrue(held.isClosed(), "a connection open across the swap must be closed by it");
            assertFalse(held.isValid(1));
            // The app's code learns why, and what to do, not just that the connection is closed.
            SQLException e = assertThrows(SQLException.class, () -> Sqlite.column(held, "SELECT count(*) FROM items"));
            assertEquals("this connection to " + live + " was closed by a swap (hotswap closes the connections open outside "
                    + "its gate before it replaces the database), and any transaction open on it was rolled back. Take a new "
                    + "connection from dataSource(), and use it inside hotswap.gate().enter() or a request behind "
                    + "hotswap.filter(), where no swap happens", e.getMessage());
            assertEquals("08003", e.getSQLState());
        } finally {
            held.close();
        }
        assertEquals(List.of("new1", "new2"), names(ds));
    }

    @Test
    void dataSourceConnectionsInATransactionOutsideTheGateAreClosedByTheSwapInWalModeAsIdleOnesAre() throws Exception {
        // A background job that does not pass the gate: one connection streams a query (a read transaction),
        // another has written in a transaction it has not committed. The swap closes them as it closes an idle one.
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        Connection reader = ds.getConnection();
        Connection writer = ds.getConnection();
        try (Statement s = reader.createStatement(); ResultSet streaming = s.executeQuery("SELECT name FROM items")) {
            assertTrue(streaming.next());
            writer.setAutoCommit(false);
            try (Statement w = writer.createStatement()) {
                w.executeUpdate("INSERT INTO items(name) VALUES ('uncommitted')");
            }
            Fixtures.Result r = cli(h, "cp", "new.sqlite3", live.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(reader.isClosed(), "the reading connection must be closed by the swap");
            assertTrue(writer.isClosed(), "the writing connection must be closed by the swap");
            SQLException commit = assertThrows(SQLException.class, writer::commit);
            assertTrue(commit.getMessage().contains("was closed by a swap"), commit.getMessage());
        } finally {
            reader.close();
            writer.close();
        }
        assertEquals(List.of("new"), names(ds));
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
    }

    @Test
    void aStatementRunningOutsideTheGateIsInterruptedByTheSwapInsteadOfHoldingTheGateUntilItEnds() throws Exception {
        // A background job outside the gate runs a long query (about 20 s here) on a dataSource() connection.
        // Closing that connection waits for the statement (the driver serializes them), so the swap stops it
        // first: requests are never held until an app's query ends, and the push goes through within --timeout.
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        CompletableFuture<String> job = new CompletableFuture<>();
        Thread worker = new Thread(() -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000000) "
                         + "SELECT count(*) FROM n")) {
                r.next();
                job.complete("finished: " + r.getString(1));
            } catch (SQLException e) {
                job.complete("failed: " + e.getMessage());
            }
        }, "report-job");
        worker.start();
        cleanup.add(() -> worker.join(120_000));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!running(worker, "step") && !job.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(running(worker, "step"), "the job's query never ran: " + job.getNow("still running"));

        Fixtures.Result r = cli(h, "cp", "new.sqlite3", live.toString(), "--timeout", "1000");
        assertEquals(0, r.exit(), r.toString());
        String outcome = job.get(60, TimeUnit.SECONDS);
        assertTrue(outcome.startsWith("failed: "), outcome);
        assertEquals(List.of("new"), names(ds));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /** {@code holder}, closed when the test ends, in a transaction that has written: it holds the write lock. */
    private Connection holdingTheWriteLock(Connection holder) throws Exception {
        cleanup.add(holder);
        holder.setAutoCommit(false);
        try (Statement s = holder.createStatement()) {
            s.executeUpdate("INSERT INTO items(name) VALUES ('holder')");
        }
        return holder;
    }

    /**
     * A background job's write on a dataSource() connection waits in SQLite's busy handler for a lock that
     * another connection of the app holds, with the app's busy timeout (30 s here). sqlite3_interrupt
     * does not end that wait, and closing the connection waits for the statement: the swap must not hold
     * requests at the gate until the lock is free, but refuse within --timeout, with nothing changed.
     */
    @Test
    void aStatementWaitingForALockTheSwapCannotFreeRefusesTheSwapWithinItsTimeoutInsteadOfHoldingTheGate() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        // Not hotswap's: the swap cannot close it.
        Connection holder = holdingTheWriteLock(java.sql.DriverManager.getConnection("jdbc:sqlite:" + live));
        CompletableFuture<String> job = waitingWriter(ds, "import-job");
        Fixtures.Result r = cli(h, "cp", "new.sqlite3", live.toString(), "--timeout", "1000");
        boolean jobWasWaiting = !job.isDone();
        holder.rollback();
        String outcome = job.get(120, TimeUnit.SECONDS);
        assertTrue(jobWasWaiting, "the push ended only after the job's statement had: " + outcome + "; " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: 1 connection(s) from dataSource() (opened on thread import-job) did not close "
                + "within the swap's timeout of 1000 ms"), r.stderr());
        // The job's connection is closed once its statement ends: the message says so, not that nothing changed.
        assertTrue(r.stderr().contains("; the database file is unchanged, but each of them closes once its statement ends, "
                + "any transaction open on it rolled back, and its next use fails with SQLState 08003. End the transaction"),
                r.stderr());
        assertTrue(outcome.startsWith("failed: "), outcome);
        assertEquals(List.of("old"), names(ds));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /**
     * Two background jobs outside the gate: one has written in a transaction it has not committed, the
     * other's write waits for it (busy timeout 30 s). The swap closes both, whichever it reaches first,
     * and swaps within --timeout: the waiting one ends once the other is rolled back.
     */
    @Test
    void aStatementWaitingForTheLockOfAnotherDataSourceConnectionDoesNotHoldTheSwap() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        Connection holder = holdingTheWriteLock(ds.getConnection());
        List<CompletableFuture<String>> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jobs.add(waitingWriter(ds, "import-job-" + i));
        }
        Fixtures.Result r = cli(h, "cp", "new.sqlite3", live.toString(), "--timeout", "5000");
        assertEquals(0, r.exit(), r.toString());
        for (CompletableFuture<String> job : jobs) {
            String outcome = job.get(120, TimeUnit.SECONDS);
            assertTrue(outcome.startsWith("failed: ") && outcome.contains("interrupt"), outcome);
        }
        assertTrue(holder.isClosed());
        assertEquals(List.of("new"), names(ds));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /**
     * The swap's checkpoint connection opens inside the gate with the app's connection properties.
     * Setting journal_mode there reads the file as the connection opens, which behind another
     * process's exclusive lock (a sqlite3 shell in locking_mode=EXCLUSIVE that wrote, passed by
     * --force) waits the app's busy timeout: the open must wait no longer than the swap has left.
     */
    @Test
    void theSwapsCheckpointConnectionWaitsForALockOnlyAsLongAsTheSwapHasLeftWhateverTheAppsBusyTimeout() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        java.util.Properties properties = new java.util.Properties();
        properties.setProperty("journal_mode", "WAL");
        properties.setProperty("busy_timeout", "60000");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live, properties));
        Process holder = new ProcessBuilder("sqlite3", live.toString()).redirectErrorStream(true).start();
        cleanup.add(holder::destroyForcibly);
        try (OutputStream in = holder.getOutputStream();
             java.io.BufferedReader out = holder.inputReader(StandardCharsets.UTF_8)) {
            in.write(("PRAGMA locking_mode=EXCLUSIVE;\nINSERT INTO items(name) VALUES ('held');\nSELECT 'holding';\n")
                    .getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertEquals("exclusive", out.readLine());
            assertEquals("holding", out.readLine(), "the sqlite3 shell should hold the database's exclusive lock");

            long started = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> h.database(live).swappableDataSource().openBounded(300).close());
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(e.getMessage().contains("SQLITE_BUSY"), e.getMessage());
            assertTrue(tookMillis < 30_000, "the open waited " + tookMillis + " ms, the app's busy timeout, not the 300 ms left");
        }
    }

    /**
     * An app may give its swaps a timeout past what SQLite's busy timeout holds (an int of
     * milliseconds, about 24.8 days): "never give up" written as 30 days. The checkpoint
     * connection's busy timeout is the time the swap has left, so it must fit in SQLite's, or the
     * driver refuses the number and the push fails. The checkpoint runs when the -wal outlives the
     * app's connections: here a sqlite3 shell keeps it open, and --force swaps all the same.
     */
    @Test
    void aSwapTimeoutLongerThanSqlitesBusyTimeoutHoldsStillCheckpointsAndSwaps() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Path fresh = Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live).swapTimeout(Duration.ofDays(30)));
        h.start();
        Process holder = new ProcessBuilder("sqlite3", live.toString()).redirectErrorStream(true).start();
        cleanup.add(holder::destroyForcibly);
        try (OutputStream in = holder.getOutputStream();
             java.io.BufferedReader out = holder.inputReader(StandardCharsets.UTF_8)) {
            in.write("INSERT INTO items(name) VALUES ('in the wal');\nSELECT 'open';\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertEquals("open", out.readLine(), "the sqlite3 shell should have the database open");
            assertTrue(Files.exists(dir.resolve("live.sqlite3-wal")));

            Fixtures.Result r = cli(h, "cp", fresh.toString(), live.toString(), "--force");

            assertEquals(0, r.exit(), r.toString());
            assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
        }
    }

    /** A job on its own thread whose write waits (busy timeout 30 s) for a lock held elsewhere; returns once it waits. */
    private CompletableFuture<String> waitingWriter(DataSource ds, String threadName) throws Exception {
        CompletableFuture<String> job = new CompletableFuture<>();
        Thread worker = new Thread(() -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 30000");
                s.executeUpdate("INSERT INTO items(name) VALUES ('" + threadName + "')");
                job.complete("finished");
            } catch (SQLException e) {
                job.complete("failed: " + e.getMessage());
            }
        }, threadName);
        worker.start();
        cleanup.add(() -> worker.join(120_000));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!running(worker, "_exec_utf8") && !job.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(running(worker, "_exec_utf8"), "the job's write did not wait: " + job.getNow("still running"));
        return job;
    }

    /** Whether {@code t} is running a method named {@code method} now. */
    private static boolean running(Thread t, String method) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    // ---- (e) SwapListener ------------------------------------------------------------------------

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Test
    void listenersRunBeforeAndAfterTheSwapAndAfterSwapRunsBeforeQueuedRequestsAreLetGo() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live));
        ManagedDatabase db = h.database(live);
        AtomicBoolean handlerRan = new AtomicBoolean();
        HttpServer server = itemsServer(h, db, () -> handlerRan.set(true));
        LogCapture gateLog = capture(SwapGate.class);
        LogCapture pushLog = capture(Push.class);
        pushLog.expect("push complete");
        h.start();
        server.start();

        HttpClient http = HttpClient.newHttpClient();
        URI items = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/items");
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
        db.addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                events.add("before " + (database == db));
                // A request arriving now must wait at the closed gate.
                queued.add(http.sendAsync(HttpRequest.newBuilder(items).build(), HttpResponse.BodyHandlers.ofString()));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (h.gate().waiting() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                if (h.gate().waiting() != 1) {
                    events.add("waiting at the gate: " + h.gate().waiting());
                }
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                events.add("after " + replaced + " inFlight=" + h.gate().inFlight() + " queuedRequestRan=" + handlerRan.get());
                try {
                    events.add("after sees " + names(database.dataSource()));
                } catch (SQLException e) {
                    events.add("after could not read: " + e);
                }
            }
        });

        push(h, "new.sqlite3", live);
        assertEquals(List.of("before true", "after true inFlight=0 queuedRequestRan=false", "after sees [new]"), events);
        assertEquals(1, queued.size());
        HttpResponse<String> reply = queued.get(0).get(30, TimeUnit.SECONDS);
        assertEquals(200, reply.statusCode(), reply.body());
        assertEquals("new", reply.body(), "the request queued during the swap ran on the new db");
        // Its two lines are written by the swap once it has let the request go, each with the time it happened.
        assertTrue(pushLog.await(30, TimeUnit.SECONDS), "the push never logged its end:\n" + pushLog.dump());
        List<LogRecord> lines = gateLog.records();
        assertEquals(List.of("request queued, waiting for swap to complete: GET /items",
                "swap complete, resuming request: GET /items"), gateLog.messages(), gateLog.dump());
        assertFalse(lines.get(0).getInstant().isAfter(lines.get(1).getInstant()));
    }

    /**
     * An app's own filter that holds a connection around the handler (a transaction per request,
     * committed once the handler has answered) must run inside the gate, or a swap can close its
     * connection between the answer and the commit, and a write the client was told about is lost.
     * The README's order: hotswap's filter first.
     */
    @Test
    void withTheGateFilterFirstAnAppsTransactionFilterCommitsBeforeASwapCanCloseItsConnection() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live));
        DataSource ds = h.database(live).dataSource();
        ThreadLocal<Connection> tx = new ThreadLocal<>();
        CountDownLatch answered = new CountDownLatch(1);
        CountDownLatch commitNow = new CountDownLatch(1);
        CompletableFuture<String> commit = new CompletableFuture<>();
        ExecutorService[] ex = new ExecutorService[1];
        HttpServer server = RunningApp.httpServer(ex);
        cleanup.add(() -> ex[0].shutdownNow());
        cleanup.add(() -> server.stop(0));
        cleanup.add(commitNow::countDown);
        com.sun.net.httpserver.HttpContext context = server.createContext("/items", exchange -> {
            try (Statement s = tx.get().createStatement()) {
                s.executeUpdate("INSERT INTO items(name) VALUES ('written')");
                respond(exchange, 201, "written");
            } catch (SQLException e) {
                respond(exchange, 500, e.toString());
            }
        });
        context.getFilters().add(new com.sun.net.httpserver.Filter() {
            @Override
            public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    tx.set(c);
                    chain.doFilter(exchange);
                    answered.countDown();
                    commitNow.await(30, TimeUnit.SECONDS);
                    c.commit();
                    commit.complete("committed");
                } catch (SQLException | InterruptedException e) {
                    commit.complete(e.toString());
                } finally {
                    tx.remove();
                }
            }

            @Override
            public String description() {
                return "the app's transaction per request";
            }
        });
        context.getFilters().add(0, h.filter());
        h.start();
        server.start();

        URI items = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/items");
        CompletableFuture<HttpResponse<String>> post = HttpClient.newHttpClient().sendAsync(
                HttpRequest.newBuilder(items).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(answered.await(30, TimeUnit.SECONDS), "the handler never answered");
        assertEquals(201, post.get(30, TimeUnit.SECONDS).statusCode());
        CompletableFuture<Fixtures.Result> push = CompletableFuture.supplyAsync(() -> {
            try {
                return cli(h, "cp", "new.sqlite3", live.toString());
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, Fixtures.CONCURRENTLY);
        // Until the swap holds the gate closed while the request is still inside it (with its transaction
        // open), or, were the request outside the gate meanwhile, until the push is done.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!push.isDone() && System.nanoTime() < deadline) {
            SwapGate.Pass pass = h.gate().tryEnter();
            if (pass == null && h.gate().inFlight() > 0) {
                break;
            }
            if (pass != null) {
                pass.close();
            }
            Thread.sleep(1);
        }
        commitNow.countDown();
        assertEquals("committed", commit.get(30, TimeUnit.SECONDS), "the write the client was told about");
        Fixtures.Result r = push.get(60, TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("new"), names(ds));
    }

    @Test
    void aLogHandlerThatBlocksDoesNotHoldRequestsAtTheGate() throws Exception {
        // An app's log handler may write to a pipe nobody reads: inside the gate nothing may wait on it.
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live));
        ManagedDatabase db = h.database(live);
        HttpServer server = itemsServer(h, db, () -> { });
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Logger swapLogger = Logger.getLogger(Swap.class.getName());
        Handler stuck = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getMessage() != null && record.getMessage().startsWith("lock acquired")) {
                    blocked.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        swapLogger.addHandler(stuck);
        cleanup.add(() -> swapLogger.removeHandler(stuck));
        cleanup.add(release::countDown);
        h.start();
        server.start();

        CompletableFuture<Fixtures.Result> pushed = CompletableFuture.supplyAsync(() -> {
            try {
                return cli(h, "cp", "new.sqlite3", live.toString());
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, Fixtures.CONCURRENTLY);
        assertTrue(blocked.await(30, TimeUnit.SECONDS), "the swap never logged that it closed the gate");
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/items"))
                .timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> reply = http.send(get, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, reply.statusCode(), reply.body());
        assertEquals("new", reply.body(), "the request ran on the new database while the swap's log handler was stuck");
        release.countDown();
        Fixtures.Result r = pushed.get(60, TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.toString());
    }

    @Test
    void aRequestPathOrMethodCannotForgeALineInTheAppsLogWhileItWaitsForASwap() throws Exception {
        // Anyone who can reach the app over HTTP chooses the path and the method (the JDK's server takes
        // any bytes there but a space): a percent-encoded newline, or an escape sequence, must not reach
        // the app's log as such, where it would forge a line of hotswap's or rewrite one on a terminal.
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live));
        HttpServer server = itemsServer(h, h.database(live), () -> { });
        server.start();
        LogCapture gateLog = capture(SwapGate.class);
        String path = "/items%0AINFO%20hotswap.Push:%20push%20complete%1B%5B2K";
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
        CompletableFuture<HttpResponse<String>> reply;
        h.gate().close(5_000); // held closed by this thread, as a swap holds it
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", server.getAddress().getPort())) {
            try {
                reply = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
                awaitWaiting(h.gate(), 1);
                raw.getOutputStream().write("G\u001b[2KET /items HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                awaitWaiting(h.gate(), 2);
            } finally {
                h.gate().open().announce();
            }
            reply.get(30, TimeUnit.SECONDS);
            raw.setSoTimeout(30_000);
            assertTrue(raw.getInputStream().read() >= 0, "the raw request got no answer");
        }
        assertEquals(List.of("request queued, waiting for swap to complete: GET " + path,
                "swap complete, resuming request: GET " + path,
                "request queued, waiting for swap to complete: G?[2KET /items",
                "swap complete, resuming request: G?[2KET /items"), gateLog.messages(), gateLog.dump());
    }

    private static void awaitWaiting(SwapGate gate, int requests) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (gate.waiting() < requests && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(requests, gate.waiting(), "requests waiting at the closed gate");
    }

    @Test
    void beforeSwapThatThrowsAbandonsTheSwapAndAfterSwapStillRunsWithReplacedFalse() throws Exception {
        Fixtures.Result r = pushAbandonedByBeforeSwap(() -> {
            throw new IllegalStateException("pool refused to suspend");
        });
        assertTrue(r.stderr().contains("pool refused to suspend"), r.stderr());
    }

    /**
     * A beforeSwap that returns after the swap's timeout has run out (a pool that waits for its
     * borrowed connections) has held requests longer than the operator allowed: the swap is
     * refused, saying so, and nothing changes; not blamed on the look for other processes.
     */
    @Test
    void aBeforeSwapThatOutlastsTheSwapTimeoutRefusesTheSwapSayingSoAndNothingChanges() throws Exception {
        Fixtures.Result r = pushAbandonedByBeforeSwap(() -> Thread.sleep(800), "--timeout", "200");
        assertTrue(r.stderr().contains("ERROR: the swap listeners' beforeSwap returned after the swap's timeout of 200 ms had run out"),
                r.stderr());
    }

    interface BeforeSwap {
        void run() throws Exception;
    }

    /**
     * Pushes to an app whose listener's beforeSwap runs {@code before}, and checks what any
     * abandoned swap must leave: exit 1 saying nothing changed, afterSwap run with false, the live
     * database byte-identical and still served, no temp file.
     */
    private Fixtures.Result pushAbandonedByBeforeSwap(BeforeSwap before, String... options) throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        ManagedDatabase db = h.database(live);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        db.addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                events.add("before");
                before.run();
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                events.add("after " + replaced);
            }
        });
        byte[] bytes = Files.readAllBytes(live); // no connection is open now
        List<String> args = new ArrayList<>(List.of("cp", "new.sqlite3", live.toString()));
        args.addAll(List.of(options));
        Fixtures.Result r = cli(h, args.toArray(String[]::new));
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("nothing changed"), r.stderr());
        assertEquals("", r.out());
        assertEquals(List.of("before", "after false"), events);
        assertArrayEquals(bytes, Files.readAllBytes(live), "the live database changed");
        assertEquals(List.of("old"), names(db.dataSource()));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        return r;
    }

    /**
     * A listener is the app's code, and may throw an Error (an AssertionError under -ea, a
     * NoClassDefFoundError): the swap must still open the gate, or every later request waits
     * there for good.
     */
    @Test
    void aListenerThatThrowsAnErrorAbandonsTheSwapAndTheGateOpens() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = started(live);
        ManagedDatabase db = h.database(live);
        db.addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) {
                throw new AssertionError("the pool's invariant broke");
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                throw new NoClassDefFoundError("com/example/Missing");
            }
        });
        byte[] before = Files.readAllBytes(live);
        Fixtures.Result r = cli(h, "cp", "new.sqlite3", live.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("the pool's invariant broke"), r.stderr());
        assertTrue(r.stderr().contains("nothing changed"), r.stderr());
        assertArrayEquals(before, Files.readAllBytes(live), "the live database changed");
        assertEquals(List.of(), Fixtures.leftovers(dir));
        CompletableFuture<Boolean> passed = CompletableFuture.supplyAsync(() -> {
            try (SwapGate.Pass pass = h.gate().enter()) {
                return true;
            }
        }, Fixtures.CONCURRENTLY);
        assertTrue(passed.get(10, TimeUnit.SECONDS), "the gate stayed closed after the swap was abandoned");
        assertEquals(List.of("old"), names(db.dataSource()));
    }

    // ---- (f) several databases -------------------------------------------------------------------

    @Test
    void twoManagedDatabasesArePushedAndPulledIndependently() throws Exception {
        Path one = Fixtures.itemsDb(dir.resolve("one.sqlite3"), "one-old");
        Files.createDirectories(dir.resolve("sub"));
        Path two = Fixtures.itemsDb(dir.resolve("sub").resolve("two.sqlite3"), "two-old");
        Fixtures.itemsDb(client.resolve("n1.sqlite3"), "one-new");
        Fixtures.itemsDb(client.resolve("n2.sqlite3"), "two-new");
        Hotswap h = started(one, two);

        push(h, "n1.sqlite3", one);
        assertEquals(List.of("one-new"), names(h.database(one).dataSource()));
        assertEquals(List.of("two-old"), names(h.database(two).dataSource()));
        push(h, "n2.sqlite3", two);
        assertEquals(List.of("one-new"), names(h.database(one).dataSource()));
        assertEquals(List.of("two-new"), names(h.database(two).dataSource()));

        Fixtures.Result p1 = cli(h, "cp", one.toString(), "p1.sqlite3");
        Fixtures.Result p2 = cli(h, "cp", two.toString(), "p2.sqlite3");
        assertEquals(0, p1.exit(), p1.toString());
        assertEquals(0, p2.exit(), p2.toString());
        assertEquals(List.of("one-new"), Fixtures.query(client.resolve("p1.sqlite3"), "SELECT name FROM items"));
        assertEquals(List.of("two-new"), Fixtures.query(client.resolve("p2.sqlite3"), "SELECT name FROM items"));
    }

    @Test
    void copyBetweenTwoUnmanagedPathsFailsListingEveryManagedDatabase() throws Exception {
        Path one = Fixtures.itemsDb(dir.resolve("one.sqlite3"), "a");
        Path two = Fixtures.itemsDb(dir.resolve("two.sqlite3"), "b");
        Fixtures.itemsDb(client.resolve("x.sqlite3"), "x");
        Hotswap h = started(one, two);
        Fixtures.Result r = cli(h, "cp", "x.sqlite3", "y.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("neither"), r.stderr());
        assertTrue(r.stderr().contains(one.toRealPath().toString()), r.stderr());
        assertTrue(r.stderr().contains(two.toRealPath().toString()), r.stderr());
        assertFalse(Files.exists(client.resolve("y.sqlite3")));
    }

    // ---- (g) server lifecycle --------------------------------------------------------------------

    @Test
    void startRemovesAStaleSocketFileAndServes() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket()));
        }
        assertTrue(Files.exists(socket()), "closing a Unix server channel leaves its file behind");
        Hotswap h = started(live);
        Fixtures.Result r = cli(h, "cp", live.toString(), "snap.sqlite3");
        assertEquals(0, r.exit(), r.toString());
    }

    @Test
    void startRefusesWhenAnotherServerAnswersAtTheSocketAndLeavesItAlone() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Hotswap first = started(live);
        Hotswap second = build(Hotswap.builder().socket(socket()).database(live));
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().contains("already listening"), e.getMessage());
        second.close();
        assertTrue(Files.exists(socket()), "the refused server must not remove the live server's socket");
        Fixtures.Result r = cli(first, "cp", live.toString(), "snap.sqlite3");
        assertEquals(0, r.exit(), r.toString());
    }

    /**
     * A second app started on the same database and socket (a deploy that starts the new process
     * before the old one stops) is refused; until then it must not remove the files of the commands
     * the running one is serving: a push being received, a snapshot being offered, a replaced
     * database being kept.
     */
    @Test
    void aSecondAppThatIsRefusedLeavesTheRunningAppsFilesAlone() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        started(live);
        List<Path> inFlight = List.of(dir.resolve(".live.sqlite3.hotswap-0123456789abcdef.push"),
                dir.resolve(".live.sqlite3.hotswap-fedcba9876543210.pull"));
        for (Path p : inFlight) {
            Files.writeString(p, "in use by the running app");
        }
        Hotswap second = build(Hotswap.builder().socket(socket()).database(live));
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().contains("already listening"), e.getMessage());
        for (Path p : inFlight) {
            assertTrue(Files.exists(p), p + " belongs to the running app's commands and must stay");
        }
    }

    @Test
    void closeRemovesTheSocketFile() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Hotswap h = started(live);
        assertTrue(Files.exists(socket()));
        h.close();
        assertFalse(Files.exists(socket()));
    }

    @Test
    void closeLeavesNoDescriptorOnTheDatabaseOnceTheAppsConnectionsAreClosed() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Hotswap h = started(live);
        try (Connection c = h.database(live).dataSource().getConnection()) {
            assertEquals(List.of("a"), Sqlite.column(c, "SELECT name FROM items"));
        }
        h.close();
        assertEquals(0, OpenHandles.count(live), "this process still has the database open after close()");
    }

    @Test
    void requestsThatFinishAfterCloseLeaveNoDescriptorOnTheDatabaseEither() throws Exception {
        // An app that closes hotswap first and then lets its HTTP server drain: the requests still running
        // use the DataSource after close(), which must not keep the database open for the rest of the JVM.
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Hotswap h = started(live);
        DataSource ds = h.database(live).dataSource();
        assertEquals(List.of("a"), names(ds));
        h.close();
        assertEquals(List.of("a"), names(ds), "getConnection() still works after close()");
        assertEquals(0, OpenHandles.count(live), "this process still has the database open after its last connection closed");
    }

    @Test
    void startRefusesARegularFileAtTheSocketPathAndKeepsIt() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Files.writeString(socket(), "not a socket");
        Hotswap h = build(Hotswap.builder().socket(socket()).database(live));
        IOException e = assertThrows(IOException.class, h::start);
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("not a socket", Files.readString(socket()));
    }

    // ---- (h) orphaned temp files -----------------------------------------------------------------

    @Test
    void startRemovesOrphanedTempFilesOfItsDatabaseOnly() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        List<String> orphans = List.of(".live.sqlite3.hotswap-0123456789abcdef.push",
                ".live.sqlite3.hotswap-0123456789abcdef.push-wal", ".live.sqlite3.hotswap-fedcba9876543210.pull");
        List<String> others = List.of(".other.sqlite3.hotswap-0123456789abcdef.push", "live.sqlite3.bak", "notes.txt");
        for (String n : orphans) {
            Files.writeString(dir.resolve(n), "left by a crash");
        }
        for (String n : others) {
            Files.writeString(dir.resolve(n), "not ours");
        }
        started(live);
        for (String n : orphans) {
            assertFalse(Files.exists(dir.resolve(n)), n + " should be removed");
        }
        for (String n : others) {
            assertTrue(Files.exists(dir.resolve(n)), n + " is not ours and must stay");
        }
        assertEquals(List.of("a"), Fixtures.query(live, "SELECT name FROM items"));
    }

    // ---- (i) socket and directory modes ----------------------------------------------------------

    @Test
    void socketIsOwnerOnlyAndDirectoriesHotswapCreatesAreOwnerOnly() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Path sock = dir.resolve("made").resolve("deeper").resolve("hs.sock");
        Hotswap h = build(Hotswap.builder().socket(sock).database(live));
        h.start();
        assertEquals("rw-------", mode(sock));
        assertEquals("rwx------", mode(dir.resolve("made").resolve("deeper")));
        assertEquals("rwx------", mode(dir.resolve("made")));
    }

    @Test
    void startRefusesASocketDirectoryOthersCanWrite() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path sock = open.resolve("hs.sock");
        Hotswap h = build(Hotswap.builder().socket(sock).database(live));
        IOException e = assertThrows(IOException.class, h::start);
        assertTrue(e.getMessage().contains("writable by other users"), e.getMessage());
        assertFalse(Files.exists(sock), "socket created in an unsafe directory");
    }

    /**
     * A directory another user owns is theirs to write, whatever its mode: they could put a socket
     * of their own in the place of ours (or chmod the directory) at any moment.
     */
    @Test
    void startRefusesASocketDirectoryAnotherUserOwns() throws Exception {
        Fixtures.assumeRoot("give a directory to another user");
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "a");
        Path theirs = Files.createDirectory(dir.resolve("theirs"));
        Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(theirs, "unix:uid", 65534);
        Path sock = theirs.resolve("hs.sock");
        Hotswap h = build(Hotswap.builder().socket(sock).database(live));
        IOException e = assertThrows(IOException.class, h::start);
        assertTrue(e.getMessage().contains("socket directory " + theirs.toAbsolutePath() + " belongs to user "), e.getMessage());
        assertFalse(Files.exists(sock), "socket created in another user's directory");
    }
}
