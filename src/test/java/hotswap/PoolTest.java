package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import hotswap.cli.Main;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An app with a pool of its own, as the README's HikariCP recipe has it: the pool draws from
 * {@code dataSource()}, and a listener suspends and evicts it before the swap and resumes it after.
 */
class PoolTest {
    private static final List<String> A = List.of("a1", "a2", "a3");
    private static final List<String> B = List.of("b1", "b2");
    private static final int PUSHES = Integer.getInteger("hotswap.stress.swaps", 20);

    private Path dir;
    private Path client;
    private Path live;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), A.toArray(String[]::new));
        Fixtures.itemsDb(client.resolve("a.sqlite3"), A.toArray(String[]::new));
        Fixtures.itemsDb(client.resolve("b.sqlite3"), B.toArray(String[]::new));
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    private Hotswap started() throws IOException {
        Hotswap h = Hotswap.builder().database(live).socket(dir.resolve("hs.sock")).build();
        cleanup.add(h);
        h.start();
        return h;
    }

    private TinyPool poolWithRecipe(ManagedDatabase db) {
        TinyPool pool = new TinyPool(db.dataSource(), 8);
        cleanup.add(pool);
        db.addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) {
                pool.suspendPool();
                pool.softEvictConnections();
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                pool.resumePool();
            }
        });
        return pool;
    }

    /** The CLI, in this JVM: a real client on the real socket, without a JVM start per push. */
    private String[] cp(Hotswap h, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of("cp"));
        all.addAll(List.of(args));
        int exit = Main.run(new ByteArrayInputStream(new byte[0]), out, new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of("HOTSWAP_SOCKET", h.socket().toString()), client, all.toArray(String[]::new));
        return new String[] {Integer.toString(exit), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private static List<String> names(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT name FROM items ORDER BY id")) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The list a GET returned, less the rows the writers added: what was pushed last. */
    private static List<String> pushed(String body) {
        List<String> out = new ArrayList<>();
        for (String name : body.split(",")) {
            if (!name.equals("w")) {
                out.add(name);
            }
        }
        return out;
    }

    @Test
    void aPoolOnTheDataSourceWithTheRecipeListenerTakesTwentyPushesUnderReadsAndWritesWithoutAFailedRequest() throws Exception {
        Hotswap h = started();
        TinyPool pool = poolWithRecipe(h.database(live));
        ExecutorService[] ex = new ExecutorService[1];
        HttpServer server = RunningApp.httpServer(ex);
        cleanup.add(() -> ex[0].shutdownNow());
        cleanup.add(() -> server.stop(0));
        server.createContext("/items", exchange -> {
            try (exchange; Connection c = pool.getConnection()) {
                if (exchange.getRequestMethod().equals("POST")) {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("INSERT INTO items(name) VALUES ('w')");
                    }
                }
                respond(exchange, 200, String.join(",", names(c)));
            } catch (SQLException e) {
                respond(exchange, 500, e.toString());
            }
        }).getFilters().add(h.filter());
        server.start();

        HttpClient http = HttpClient.newHttpClient();
        URI items = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/items");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger requests = new AtomicInteger();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            boolean writer = t < 2;
            Thread th = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        HttpRequest.Builder b = HttpRequest.newBuilder(items);
                        HttpResponse<String> r = http.send(writer ? b.POST(HttpRequest.BodyPublishers.noBody()).build() : b.build(),
                                HttpResponse.BodyHandlers.ofString());
                        requests.incrementAndGet();
                        List<String> got = pushed(r.body());
                        if (r.statusCode() != 200 || !got.equals(A) && !got.equals(B)) {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, (writer ? "writer-" : "reader-") + t);
            th.start();
            clients.add(th);
        }
        try {
            for (int i = 0; i < PUSHES; i++) {
                List<String> expected = i % 2 == 0 ? B : A;
                String[] r = cp(h, i % 2 == 0 ? "b.sqlite3" : "a.sqlite3", live.toString());
                assertEquals("0", r[0], "push " + i + " of " + PUSHES + ":\n" + r[2]);
                assertEquals("OK\n", r[1], r[2]);
                // The data served switches with each push: a request after it sees what was pushed.
                HttpResponse<String> after = http.send(HttpRequest.newBuilder(items).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, after.statusCode(), after.body());
                assertEquals(expected, pushed(after.body()), "push " + i);
            }
        } finally {
            stop.set(true);
            for (Thread th : clients) {
                th.join(30_000);
            }
        }
        assertEquals(List.of(), failures, requests.get() + " requests");
        assertTrue(requests.get() > PUSHES, "the clients ran: " + requests.get() + " requests");
        assertEquals(List.of(), pool.failures);
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void connectionsAListenerLeavesOpenRefuseTheSwapOnceTheTimeoutRunsOutNamingTheirThreadAndNothingChanges() throws Exception {
        Hotswap h = started();
        ManagedDatabase db = h.database(live);
        TinyPool pool = new TinyPool(db.dataSource(), 2);
        cleanup.add(pool);
        db.addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) {
                pool.suspendPool(); // suspending closes nothing
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                pool.resumePool();
            }
        });
        long waitStart = System.nanoTime();
        while (db.swappableDataSource().openConnections() < 2 && TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - waitStart) < 10) {
            Thread.sleep(1);
        }
        String[] r = cp(h, "b.sqlite3", live.toString(), "--timeout", "300");
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].endsWith("\nERROR: 2 connection(s) from dataSource() were still open when the swap's timeout of 300 ms "
                + "ran out, after the swap listeners' beforeSwap (2 opened on thread tiny-pool-adder); nothing changed. Have a "
                + "SwapListener close them (a pool: suspend it and evict its connections), or give them longer with --timeout MS\n"),
                r[2]);
        try (Connection c = pool.getConnection()) {
            assertEquals(A, names(c), "the pool still serves the old database on the connections it kept");
        }
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void theSwapWaitsForAConnectionOpenedOutsideHotswapThatTheListenerClosesOnAnotherThread() throws Exception {
        Hotswap h = started();
        Connection foreign = DriverManager.getConnection("jdbc:sqlite:" + live);
        assertEquals(A, names(foreign));
        ExecutorService closer = java.util.concurrent.Executors.newSingleThreadExecutor();
        cleanup.add(closer::shutdownNow);
        AtomicBoolean closedBeforeReturn = new AtomicBoolean();
        h.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) {
                closer.execute(() -> {
                    try {
                        Thread.sleep(20);
                        foreign.close();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                closedBeforeReturn.set(isClosed(foreign));
            }
        });
        String[] r = cp(h, "b.sqlite3", live.toString());
        assertEquals("0", r[0], r[2]);
        assertFalse(closedBeforeReturn.get(), "the connection must still be open when beforeSwap returns");
        assertTrue(foreign.isClosed());
        assertEquals(B, Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
    }

    private static boolean isClosed(Connection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    @Test
    void aConnectionClosedThroughItsStatementOrItsUnwrappedDriverConnectionCountsAsClosed() throws Exception {
        // Code that closes a connection it reached through a statement (stmt.getConnection().close(), as
        // helpers that are handed only a statement do) or through unwrap() never calls the handle dataSource()
        // gave out; with a listener, the swap must not wait for that connection nor refuse because of it.
        Hotswap h = started();
        ManagedDatabase db = h.database(live);
        db.addSwapListener(new SwapListener() { });
        Connection viaStatement = db.dataSource().getConnection();
        try (Statement s = viaStatement.createStatement()) {
            s.getConnection().close();
        }
        Connection viaUnwrap = db.dataSource().getConnection();
        viaUnwrap.unwrap(Class.forName("org.sqlite.SQLiteConnection").asSubclass(Connection.class)).close();
        assertTrue(viaStatement.isClosed());
        assertTrue(viaUnwrap.isClosed());
        String[] r = cp(h, "b.sqlite3", live.toString(), "--timeout", "300");
        assertEquals("0", r[0], r[2]);
        assertEquals(B, Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void aListenerThatAsksTheDataSourceForAConnectionInBeforeSwapAbandonsTheSwapInsteadOfWaitingForItself() throws Exception {
        Hotswap h = started();
        h.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                database.dataSource().getConnection().close();
            }
        });
        String[] r = cp(h, "b.sqlite3", live.toString());
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].contains("\nERROR: swap abandoned: a connection was asked for on the swap's own thread"), r[2]);
        assertTrue(r[2].contains("nothing changed"), r[2]);
        assertEquals(A, Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
    }
}
