package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Swaps through the real CLI while real HTTP clients hammer the real HttpServer. */
class SwapUnderLoadTest {
    private static final List<String> A = List.of("a1", "a2", "a3");
    private static final List<String> B = List.of("b1", "b2");
    /** Swaps per test: a few in make test, 100 in make stress. */
    private static final int PUSHES = Integer.getInteger("hotswap.stress.swaps", 12);

    private final Fixtures.Scope scope = new Fixtures.Scope();

    @AfterEach
    void tearDown() {
        scope.close();
    }

    /** Parses the demo's JSON array of plain names. */
    private static List<String> names(String body) {
        assertTrue(body.startsWith("[") && body.endsWith("]"), "not a list: " + body);
        String inner = body.substring(1, body.length() - 1);
        if (inner.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : inner.split(",")) {
            out.add(s.substring(1, s.length() - 1));
        }
        return out;
    }

    /** A client directory holding a.sqlite3 (list A) and b.sqlite3 (list B), with A already pushed to {@code app}. */
    private Path clientWithAPushed(RunningApp app) throws Exception {
        Path client = scope.dir();
        Fixtures.itemsDb(client.resolve("a.sqlite3"), A.toArray(String[]::new));
        Fixtures.itemsDb(client.resolve("b.sqlite3"), B.toArray(String[]::new));
        assertEquals(0, app.cli(client, null, "cp", "a.sqlite3", app.db.toString()).exit());
        return client;
    }

    /**
     * Pushes a.sqlite3 and b.sqlite3 of {@code client} alternately, PUSHES times, while the
     * (started) {@code threads} run; then sets {@code stop} and waits for them. Returns the last list pushed.
     */
    private static List<String> pushAlternately(RunningApp app, Path client, AtomicBoolean stop, List<Thread> threads)
            throws Exception {
        try {
            List<String> last = null;
            for (int i = 0; i < PUSHES; i++) {
                boolean a = i % 2 == 0;
                Fixtures.Result r = app.cli(client, null, "cp", a ? "a.sqlite3" : "b.sqlite3", app.db.toString());
                assertEquals(0, r.exit(), "push " + i + ": " + r);
                last = a ? A : B;
            }
            return last;
        } finally {
            stop.set(true);
            for (Thread th : threads) {
                th.join(30_000);
            }
        }
    }

    @Test
    void readersUnderRepeatedPushesSeeOnlyWholeOldOrNewListsAndNeverAnError() throws Exception {
        RunningApp app = RunningApp.start("seed");
        scope.add(app);
        // Start from A so every reply must be exactly A or B.
        Path client = clientWithAPushed(app);

        AtomicBoolean stop = new AtomicBoolean();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Set<List<String>> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger requests = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = app.get("/items");
                        requests.incrementAndGet();
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                            continue;
                        }
                        List<String> got = names(r.body());
                        if (!got.equals(A) && !got.equals(B)) {
                            failures.add("mixed or wrong body: " + r.body());
                        }
                        seen.add(got);
                    } catch (Throwable e) {
                        failures.add(e.toString());
                    }
                }
            }, "reader-" + t);
            th.start();
            readers.add(th);
        }
        List<String> last = pushAlternately(app, client, stop, readers);
        assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())), failures.size() + " failed requests of " + requests.get());
        assertEquals(Set.of(A, B), seen, "readers ran across the swaps and saw both databases");
        assertEquals(last, names(app.get("/items").body()));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    @org.junit.jupiter.api.Tag("stress")
    void writesDuringRepeatedPushesAllSucceedAndReadersNeverSeeAMix() throws Exception {
        RunningApp app = RunningApp.start("seed");
        scope.add(app);
        Path client = clientWithAPushed(app);

        AtomicBoolean stop = new AtomicBoolean();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger writes = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                for (int n = 0; !stop.get(); n++) {
                    try {
                        HttpResponse<String> r = app.post("/items", "name=p-" + id + "-" + n);
                        writes.incrementAndGet();
                        if (r.statusCode() != 201) {
                            failures.add("POST " + r.statusCode() + " " + r.body());
                        }
                    } catch (Throwable e) {
                        failures.add("POST " + e);
                    }
                }
            }, "writer-" + t));
        }
        for (int t = 0; t < 4; t++) {
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = app.get("/items");
                        reads.incrementAndGet();
                        if (r.statusCode() != 200) {
                            failures.add("GET " + r.statusCode() + " " + r.body());
                            continue;
                        }
                        // One pushed list, then only rows posted since that push.
                        List<String> got = names(r.body());
                        List<String> base = got.size() >= A.size() && got.subList(0, A.size()).equals(A) ? A
                                : got.size() >= B.size() && got.subList(0, B.size()).equals(B) ? B : null;
                        if (base == null || !got.subList(base.size(), got.size()).stream().allMatch(s -> s.startsWith("p-"))) {
                            failures.add("mixed or wrong body: " + r.body());
                        }
                    } catch (Throwable e) {
                        failures.add("GET " + e);
                    }
                }
            }, "reader-" + t));
        }
        threads.forEach(Thread::start);
        List<String> last = pushAlternately(app, client, stop, threads);
        assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())),
                failures.size() + " failures; " + writes.get() + " writes, " + reads.get() + " reads");
        assertTrue(writes.get() > PUSHES, "writers ran during the pushes: " + writes.get());
        List<String> now = names(app.get("/items").body());
        assertEquals(last, now.subList(0, last.size()));
    }

    /** A Hotswap on a fresh items database in its own temp dir, with its socket there too. */
    private Hotswap hotswap(Path dir, Duration swapTimeout) throws Exception {
        Path db = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old1", "old2");
        Hotswap h = Hotswap.builder().database(db).socket(dir.resolve("hs.sock")).swapTimeout(swapTimeout).build();
        scope.add(h);
        return h;
    }

    private HttpServer server() throws IOException {
        ExecutorService[] ex = new ExecutorService[1];
        HttpServer server = RunningApp.httpServer(ex);
        scope.add(() -> ex[0].shutdownNow());
        scope.add(() -> server.stop(0));
        return server;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String listItems(DataSource data) throws Exception {
        List<String> names = new ArrayList<>();
        try (Connection c = data.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT name FROM items ORDER BY id")) {
            while (r.next()) {
                names.add(r.getString(1));
            }
        }
        return String.join(",", names);
    }

    @Test
    void concurrentSlowRequestsAreNotSerializedByTheGateFilter() throws Exception {
        Path dir = scope.dir();
        Hotswap hotswap = hotswap(dir, Hotswap.DEFAULT_SWAP_TIMEOUT);
        int n = 8;
        // Each request waits inside its handler until all n are inside; a serializing gate breaks the barrier.
        CyclicBarrier barrier = new CyclicBarrier(n);
        HttpServer server = server();
        server.createContext("/slow", exchange -> {
            try {
                barrier.await(15, TimeUnit.SECONDS);
                respond(exchange, 200, "together");
            } catch (Exception e) {
                respond(exchange, 500, e.toString());
            }
        }).getFilters().add(hotswap.filter());
        server.start();

        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/slow");
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            replies.add(http.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (var reply : replies) {
            HttpResponse<String> r = reply.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("together", r.body());
        }
        // A client can read the reply a moment before the handler's thread leaves the gate.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (hotswap.gate().inFlight() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, hotswap.gate().inFlight());
    }

    @Test
    void slowRequestPastSwapTimeoutFailsPushChangesNothingAndQueuedRequestsComplete() throws Exception {
        Path dir = scope.dir();
        Hotswap hotswap = hotswap(dir, Duration.ofMillis(300));
        Path live = hotswap.databases().get(0).path();
        DataSource data = hotswap.databases().get(0).dataSource();
        CountDownLatch slowEntered = new CountDownLatch(1);
        CountDownLatch releaseSlow = new CountDownLatch(1);
        HttpServer server = server();
        server.createContext("/slow", exchange -> {
            slowEntered.countDown();
            try {
                boolean released = releaseSlow.await(30, TimeUnit.SECONDS);
                respond(exchange, 200, released ? "slow done" : "never released");
            } catch (InterruptedException e) {
                respond(exchange, 500, e.toString());
            }
        }).getFilters().add(hotswap.filter());
        server.createContext("/items", exchange -> {
            try {
                respond(exchange, 200, listItems(data));
            } catch (Exception e) {
                respond(exchange, 500, e.toString());
            }
        }).getFilters().add(hotswap.filter());
        hotswap.start();
        server.start();

        // Record requests the gate holds, through the library's own log.
        try (LogCapture gateLog = new LogCapture(SwapGate.class.getName())) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            var slow = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(slowEntered.await(10, TimeUnit.SECONDS), "slow request never reached its handler");
            byte[] before = Files.readAllBytes(live);

            Path client = scope.dir();
            Fixtures.itemsDb(client.resolve("new.sqlite3"), "new1");
            // While the push runs, keep sending requests: those sent while the gate is closed queue.
            AtomicBoolean stop = new AtomicBoolean();
            List<String> replies = Collections.synchronizedList(new ArrayList<>());
            Thread prober = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/items")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        replies.add(r.statusCode() + " " + r.body());
                    } catch (Exception e) {
                        replies.add(e.toString());
                    }
                }
            }, "prober");
            prober.start();
            Fixtures.Result r;
            try {
                r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                        "cp", "new.sqlite3", live.toString());
            } finally {
                stop.set(true);
                prober.join(30_000);
            }
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().contains("still in flight"), r.stderr());
            assertTrue(r.stderr().contains("nothing changed"), r.stderr());
            assertEquals("", r.out());

            assertTrue(gateLog.countStartingWith("request queued") > 0, "no request was queued while the swap waited");
            assertTrue(!replies.isEmpty());
            Set<String> distinct = Set.copyOf(replies);
            assertEquals(Set.of("200 old1,old2"), distinct, "every request queued during the attempt completed on the old db");

            releaseSlow.countDown();
            HttpResponse<String> slowReply = slow.get(30, TimeUnit.SECONDS);
            assertEquals(200, slowReply.statusCode());
            assertEquals("slow done", slowReply.body());

            assertArrayEquals(before, Files.readAllBytes(live), "the live database changed");
            assertEquals(List.of("old1", "old2"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
            assertEquals(List.of(), Fixtures.leftovers(dir));
        } finally {
            releaseSlow.countDown();
        }
    }
}
