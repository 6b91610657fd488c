package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Protocol;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code hotswap status}, run as users run it: the real jar as a child process against a real app. */
class StatusTest {
    private final Fixtures.Scope scope = new Fixtures.Scope();

    @AfterEach
    void tearDown() {
        scope.close();
    }

    private static Map<String, Object> json(Fixtures.Result r) {
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.stderr(), r.toString());
        assertTrue(r.out().endsWith("}\n") && r.out().indexOf('\n') == r.out().length() - 1, "one line: " + r);
        return TinyJson.object(TinyJson.parse(r.out()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> onlyDatabase(Map<String, Object> status) {
        List<Object> dbs = (List<Object>) status.get("databases");
        assertEquals(1, dbs.size(), status.toString());
        return TinyJson.object(dbs.get(0));
    }

    private static long number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        assertTrue(v instanceof BigDecimal, key + " is not a number: " + m);
        return ((BigDecimal) v).longValueExact();
    }

    @Test
    void statusCountsSwapsAndPullsWithTheLastOfEachAndItsSourceAsOneJsonObject() throws Exception {
        RunningApp app = RunningApp.start("old");
        scope.add(app);
        Path client = scope.dir();
        Path fromFile = Fixtures.itemsDb(client.resolve("new.sqlite3"), "a", "b");
        assertEquals(0, app.cli(client, null, "cp", "new.sqlite3", app.db.toString()).exit());

        Map<String, Object> db = onlyDatabase(json(app.cli(client, null, "status", "--json")));
        assertEquals(1, number(db, "swapCount"));
        Map<String, Object> swap = TinyJson.object(db.get("lastSwap"));
        assertEquals("file", swap.get("source"));
        assertEquals(Files.size(fromFile), number(swap, "bytes"));

        byte[] piped = Files.readAllBytes(Fixtures.itemsDb(client.resolve("piped.sqlite3"), "c", "d", "e"));
        assertEquals(0, app.cli(client, piped, "cp", "-", app.db.toString()).exit());
        Fixtures.Result pull = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3");
        assertEquals(0, pull.exit(), pull.toString());

        Map<String, Object> status = json(app.cli(client, null, "status", "--json"));
        assertEquals(Protocol.RELEASE, status.get("version"));
        Instant.parse((String) status.get("startedAt"));
        assertTrue(number(status, "uptimeMillis") >= 0);
        assertEquals(app.socket.toAbsolutePath().toString(), status.get("socket"));
        assertEquals(Map.of("inUse", BigDecimal.ONE, "limit", BigDecimal.valueOf(Hotswap.DEFAULT_MAX_SESSIONS)), status.get("sessions"));
        assertEquals(Map.of("inFlight", BigDecimal.ZERO, "waiting", BigDecimal.ZERO), status.get("requests"));
        db = onlyDatabase(status);
        assertEquals("production.sqlite3", db.get("name"));
        assertEquals(app.db.toRealPath().toString(), db.get("path"));
        assertEquals(Files.size(app.db), number(db, "sizeBytes"));
        assertEquals(4096, number(db, "pageSize"));
        assertEquals(Long.parseLong(Fixtures.query(app.db, "PRAGMA page_count").get(0)), number(db, "pageCount"));
        assertEquals("wal", db.get("journalMode"));
        Path wal = app.db.resolveSibling("production.sqlite3-wal");
        assertEquals(Files.exists(wal) ? Files.size(wal) : 0, number(db, "walSizeBytes"));
        assertNull(db.get("problem"));
        assertEquals(2, number(db, "swapCount"));
        swap = TinyJson.object(db.get("lastSwap"));
        assertEquals("stdin", swap.get("source"));
        assertEquals(piped.length, number(swap, "bytes"));
        assertTrue(((BigDecimal) swap.get("pauseMillis")).signum() >= 0, swap.toString());
        Instant.parse((String) swap.get("at"));
        assertEquals(1, number(db, "pullCount"));
        Map<String, Object> lastPull = TinyJson.object(db.get("lastPull"));
        assertEquals(Files.size(client.resolve("backup.sqlite3")), number(lastPull, "bytes"));
        assertTrue(number(lastPull, "durationMillis") >= 0);
        assertEquals(java.util.Set.of("at", "bytes", "durationMillis"), lastPull.keySet());

        Fixtures.Result plain = app.cli(client, null, "status");
        assertEquals(0, plain.exit(), plain.toString());
        assertTrue(plain.out().startsWith("hotswap " + Protocol.RELEASE + ", up "), plain.out());
        assertTrue(plain.out().contains("production.sqlite3  " + app.db.toRealPath()), plain.out());
        assertTrue(plain.out().contains("journal wal"), plain.out());
        assertTrue(plain.out().lines().anyMatch(l -> l.matches("  swaps +2, last .* from stdin, requests paused \\d+\\.\\d ms")), plain.out());
        assertTrue(plain.out().lines().anyMatch(l -> l.matches("  pulls +1, last .* in \\d+ ms")), plain.out());
    }

    @Test
    void pathsWithQuotesBackslashesAndControlCharactersComeThroughTheJsonIntact() throws Exception {
        Path weird = Files.createDirectory(scope.dir().resolve("we\"ird \\ dir\n\t\u0001\u007f é"));
        Path db = Fixtures.itemsDb(weird.resolve("\"q\" \\ 1.sqlite3"), "x");
        Path socket = scope.dir().resolve("s.sock");
        Hotswap hotswap = Hotswap.builder().database(db).socket(socket).build();
        scope.add(hotswap);
        hotswap.start();
        Map<String, Object> status = json(Fixtures.cli(weird, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "status", "--json"));
        Map<String, Object> d = onlyDatabase(status);
        assertEquals(db.toRealPath().toString(), d.get("path"));
        assertEquals("\"q\" \\ 1.sqlite3", d.get("name"));
        assertEquals(4096, number(d, "pageSize"));

        Fixtures.Result plain = Fixtures.cli(weird, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "status");
        assertEquals(0, plain.exit(), plain.toString());
        String shown = db.toRealPath().toString().replaceAll("[\\x00-\\x1f\\x7f]", "?");
        assertTrue(plain.out().contains("\n\"q\" \\ 1.sqlite3  " + shown + "\n"), "a name cannot forge a line: " + plain.out());
    }

    @Test
    void aDatabaseThatDoesNotExistYetIsShownAsSuchAndIsNotCreated() throws Exception {
        Path dir = scope.dir();
        Path db = dir.resolve("later.sqlite3");
        Hotswap hotswap = Hotswap.builder().database(db).socket(dir.resolve("s.sock")).build();
        scope.add(hotswap);
        hotswap.start();
        Map<String, Object> d = onlyDatabase(json(Fixtures.cli(dir, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "status", "--json")));
        assertEquals("the file does not exist yet", d.get("problem"));
        assertEquals(0, number(d, "sizeBytes"));
        assertNull(d.get("pageSize"));
        assertNull(d.get("journalMode"));
        assertFalse(Files.exists(db), "the status created the database");
    }

    /**
     * The app's connection properties may set pragmas that write (journal_mode=WAL): status must
     * not apply them. Through a connection with the app's properties, status turned an empty file
     * (one the app registered before anything wrote it) into a 4096-byte WAL database, and a
     * rollback-journal database into a WAL one, before any request of the app's had touched either.
     */
    @Test
    void statusWritesNothingEvenWhereTheAppsPropertiesWouldSetAJournalMode() throws Exception {
        Path dir = scope.dir();
        Path empty = Files.createFile(dir.resolve("empty.sqlite3"));
        Path rollback = Fixtures.itemsDb(dir.resolve("rollback.sqlite3"), "old");
        try (java.sql.Connection c = Sqlite.open(rollback)) {
            c.createStatement().execute("PRAGMA journal_mode=DELETE");
        }
        byte[] rollbackBytes = Files.readAllBytes(rollback);
        java.util.Properties wal = new java.util.Properties();
        wal.setProperty("journal_mode", "WAL");
        Hotswap hotswap = Hotswap.builder().database(empty, wal).database(rollback, wal).socket(dir.resolve("s.sock")).build();
        scope.add(hotswap);
        hotswap.start();
        Map<String, Object> status = json(Fixtures.cli(dir, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "status", "--json"));
        assertEquals(0, Files.size(empty), "the status wrote the empty database: " + status);
        assertArrayEquals(rollbackBytes, Files.readAllBytes(rollback), "the status changed the rollback-journal database: " + status);
        @SuppressWarnings("unchecked")
        List<Object> dbs = (List<Object>) status.get("databases");
        Map<String, Object> first = TinyJson.object(dbs.get(0));
        Map<String, Object> second = TinyJson.object(dbs.get(1));
        assertEquals(0, number(first, "pageCount"), status.toString());
        assertNull(first.get("problem"), status.toString());
        assertEquals("delete", second.get("journalMode"), status.toString());
        assertNull(second.get("problem"), status.toString());
        for (String name : new String[] {"empty.sqlite3", "rollback.sqlite3"}) {
            assertFalse(Files.exists(dir.resolve(name + "-wal")), name + "-wal");
            assertFalse(Files.exists(dir.resolve(name + "-journal")), name + "-journal");
        }
    }

    /**
     * Another connection's exclusive lock (here a rollback-journal database held by BEGIN
     * EXCLUSIVE) does not hold the status for the app's busy timeout: the status says the file is
     * locked. It waited the app's two minutes, past the CLI's 60 s here.
     */
    @Test
    void aDatabaseLockedByAnotherConnectionIsShownAsSuchWithoutWaitingOutTheAppsBusyTimeout() throws Exception {
        Path dir = scope.dir();
        Path db = Fixtures.itemsDb(dir.resolve("p.sqlite3"), "old");
        try (java.sql.Connection c = Sqlite.open(db)) {
            c.createStatement().execute("PRAGMA journal_mode=DELETE"); // in WAL, an exclusive transaction blocks no reader
        }
        java.util.Properties patient = new java.util.Properties();
        patient.setProperty("busy_timeout", "120000");
        Hotswap hotswap = Hotswap.builder().database(db, patient).socket(dir.resolve("s.sock")).build();
        scope.add(hotswap);
        hotswap.start();
        try (java.sql.Connection other = java.sql.DriverManager.getConnection(Sqlite.url(db));
             java.sql.Statement s = other.createStatement()) {
            assertEquals("delete", Sqlite.journalMode(other));
            s.execute("BEGIN EXCLUSIVE");
            s.execute("INSERT INTO items(name) VALUES ('held')");
            Map<String, Object> d = onlyDatabase(json(Fixtures.cli(dir, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "status", "--json")));
            assertTrue(String.valueOf(d.get("problem")).startsWith("SQLite could not read it: ") && String.valueOf(d.get("problem"))
                    .contains("locked"), d.toString());
            s.execute("ROLLBACK");
        }
        assertNull(onlyDatabase(json(Fixtures.cli(dir, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "status", "--json"))).get("problem"));
    }

    @Test
    void requestsInFlightAndWaitingAreCountedAndTheStatusDoesNotWaitForTheSwapThatHoldsThem() throws Exception {
        Path dir = scope.dir();
        Path db = Fixtures.itemsDb(dir.resolve("p.sqlite3"), "old");
        Hotswap hotswap = Hotswap.builder().database(db).socket(dir.resolve("s.sock")).build();
        scope.add(hotswap);
        hotswap.start();
        Map<String, String> env = Map.of("HOTSWAP_SOCKET", "s.sock");
        Fixtures.itemsDb(dir.resolve("new.sqlite3"), "new");

        SwapGate.Pass holder = hotswap.gate().enter(); // a request the swap must wait for
        CompletableFuture<Fixtures.Result> push = CompletableFuture.supplyAsync(() -> {
            try {
                return Fixtures.cli(dir, env, null, "cp", "new.sqlite3", "p.sqlite3", "--timeout", "60000");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, Fixtures.CONCURRENTLY);
        Thread waiter = new Thread(() -> {
            while (true) { // until the swap has closed the gate
                SwapGate.Pass p = hotswap.gate().tryEnter();
                if (p == null) {
                    break;
                }
                p.close();
                sleep(5);
            }
            hotswap.gate().enter().close(); // waits at the gate until the swap ends
        });
        waiter.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (hotswap.gate().waiting() < 1) {
            assertTrue(System.nanoTime() < deadline, "no request came to wait at the gate");
            sleep(10);
        }

        Map<String, Object> status = json(Fixtures.cli(dir, env, null, "status", "--json"));
        assertFalse(push.isDone(), "the swap ended before the status was taken: " + (push.isDone() ? push.get() : ""));
        assertEquals(Map.of("inFlight", BigDecimal.ONE, "waiting", BigDecimal.ONE), status.get("requests"));
        assertEquals(BigDecimal.valueOf(2), TinyJson.object(status.get("sessions")).get("inUse"), "the push's and the status's");
        Map<String, Object> d = onlyDatabase(status);
        assertEquals("a swap is in progress", d.get("problem"));
        assertEquals(0, number(d, "swapCount"));

        holder.close();
        Fixtures.Result pushed = push.get(60, TimeUnit.SECONDS);
        assertEquals(0, pushed.exit(), pushed.toString());
        waiter.join(10_000);
        status = json(Fixtures.cli(dir, env, null, "status", "--json"));
        assertEquals(Map.of("inFlight", BigDecimal.ZERO, "waiting", BigDecimal.ZERO), status.get("requests"));
        d = onlyDatabase(status);
        assertNull(d.get("problem"));
        assertEquals(1, number(d, "swapCount"));
        assertEquals("file", TinyJson.object(d.get("lastSwap")).get("source"));
    }

    @Test
    void aRemoteStatusComesThroughTheRelayAndAPushThroughItCountsAsRemote() throws Exception {
        RemoteSide remote = new RemoteSide("app").start();
        scope.add(remote);
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "fresh");
        Fixtures.Result pushed = remote.cp(null, "new.sqlite3", RemoteSide.HOST + ":db/production.sqlite3", "--remote-dir", "app");
        assertEquals(0, pushed.exit(), pushed.toString());

        Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, "status", RemoteSide.HOST + ":", "--json",
                "--remote-dir", "app", "--rsh", remote.fakeSsh.toString());
        Map<String, Object> status = json(r);
        assertEquals(remote.socket.toAbsolutePath().toString(), status.get("socket"));
        Map<String, Object> d = onlyDatabase(status);
        assertEquals(remote.db.toRealPath().toString(), d.get("path"));
        assertEquals("remote", TinyJson.object(d.get("lastSwap")).get("source"));

        Fixtures.Result plain = Fixtures.cli(remote.local, remote.env(), null, "status", RemoteSide.HOST + ":",
                "--remote-dir", "app", "--rsh", remote.fakeSsh.toString());
        assertEquals(0, plain.exit(), plain.toString());
        assertTrue(plain.out().contains("from remote"), plain.out());

        remote.app.close();
        remote.app = null;
        Fixtures.Result down = Fixtures.cli(remote.local, remote.env(), null, "status", RemoteSide.HOST + ":",
                "--remote-dir", "app", "--rsh", remote.fakeSsh.toString());
        assertEquals(1, down.exit(), down.toString());
        assertEquals("", down.out());
        assertTrue(down.stderr().startsWith("ERROR: on " + RemoteSide.HOST + ": no hotswap server at "), down.toString());
    }

    @Test
    void statusArgumentsAreCheckedBeforeAnythingIsAsked() {
        for (List<String> args : List.of(List.of("status", "host:db/x.sqlite3"), List.of("status", "--frob"),
                List.of("status", "--rsh", "ssh"), List.of("status", "a:", "b:"), List.of("status", "db/x.sqlite3"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = hotswap.cli.Main.run(new ByteArrayInputStream(new byte[0]), out, new PrintStream(err, true, StandardCharsets.UTF_8),
                    Map.of("HOTSWAP_SOCKET", "/nonexistent/s.sock"), Path.of("/"), args.toArray(String[]::new));
            String said = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, exit, args + ": " + said);
            assertTrue(said.startsWith("ERROR: ") && said.contains("hotswap status [HOST:] [--json]"), args + ": " + said);
            assertEquals(0, out.size());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
