package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two or more pushes to one database at once, through the real client: each is checked against
 * the schema it replaces, and none fails because another one's swap ran meanwhile.
 */
class ConcurrentPushesTest {
    private static final String ITEMS = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";
    private final Fixtures.Scope scope = new Fixtures.Scope();
    private Path dir;
    private Path client;
    private Path live;

    @BeforeEach
    void files() throws Exception {
        dir = scope.dir();
        client = scope.dir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
    }

    @AfterEach
    void cleanUp() {
        scope.close();
    }

    private Hotswap started(int sessions) throws Exception {
        Hotswap h = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).maxSessions(sessions).build();
        scope.add(h);
        h.start();
        return h;
    }

    private CompletableFuture<Fixtures.Result> push(Hotswap h, ExecutorService pool, String... args) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, args);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, pool);
    }

    @Test
    void aPushIsCheckedAgainstTheSchemaItReplacesNotOneAnotherPushReplacedMeanwhile() throws Exception {
        Hotswap h = started(4);
        ExecutorService pool = Executors.newCachedThreadPool();
        scope.add(pool::shutdownNow);
        HoldingServer server = scope.add(new HoldingServer(h));
        // The first push changes the schema (a tags table), as a release with a migration does; the second
        // has the schema that is live when it starts, and is checked against it.
        Path migrated = Fixtures.createDb(client.resolve("migrated.sqlite3"), "PRAGMA journal_mode=WAL", ITEMS,
                "CREATE TABLE tags(id INTEGER PRIMARY KEY, tag TEXT)", "INSERT INTO items(name) VALUES ('migrated')");
        Fixtures.itemsDb(client.resolve("unmigrated.sqlite3"), "unmigrated");
        byte[] migratedBytes = Files.readAllBytes(migrated);

        // A request in flight holds the first push at the gate while the second arrives and waits for it.
        CompletableFuture<HttpResponse<String>> held = server.hold();
        CompletableFuture<Fixtures.Result> first = push(h, pool, "cp", "--skip-schema-check", "migrated.sqlite3", live.toString(),
                "--timeout", "30000");
        Fixtures.awaitGateClosed(h);
        CompletableFuture<Fixtures.Result> second = push(h, pool, "cp", "unmigrated.sqlite3", live.toString());
        ManagedDatabase db = h.database(live);
        for (int i = 0; db.fileLock.getQueueLength() == 0; i++) {
            assertTrue(i < 30_000, "the second push never waited for the first");
            Thread.sleep(1);
        }
        server.release();

        Fixtures.Result a = first.get(60, TimeUnit.SECONDS);
        Fixtures.Result b = second.get(60, TimeUnit.SECONDS);
        assertEquals("held", held.get(30, TimeUnit.SECONDS).body());
        assertEquals(0, a.exit(), a.toString());
        assertEquals(1, b.exit(), b.toString());
        assertTrue(b.stderr().contains("ERROR: schema mismatch\n- CREATE TABLE tags(id INTEGER PRIMARY KEY, tag TEXT)\nNothing "
                + "changed."), b.stderr());
        assertArrayEquals(migratedBytes, Files.readAllBytes(live), "the live database is the first push's file, byte for byte");
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void manyPushesAtOnceAllSucceedAndTheLiveDatabaseIsOneOfThem() throws Exception {
        int pushes = 12;
        Hotswap h = started(pushes);
        ExecutorService pool = Executors.newCachedThreadPool();
        scope.add(pool::shutdownNow);
        // Many tables make each push's read of the live schema long enough to overlap another push's swap.
        List<String> schema = new ArrayList<>(List.of("PRAGMA journal_mode=WAL", ITEMS));
        for (int t = 0; t < 1500; t++) {
            schema.add("CREATE TABLE t" + t + "(id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)");
        }
        Fixtures.createDb(dir.resolve("base.sqlite3"), schema.toArray(String[]::new));
        Files.delete(live);
        Files.copy(dir.resolve("base.sqlite3"), live);
        Files.delete(dir.resolve("base.sqlite3"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < pushes; i++) {
            List<String> sql = new ArrayList<>(schema);
            sql.add("INSERT INTO items(name) VALUES ('push-" + i + "')");
            Fixtures.createDb(client.resolve("p" + i + ".sqlite3"), sql.toArray(String[]::new));
            names.add("push-" + i);
        }
        for (int round = 0; round < 3; round++) {
            List<CompletableFuture<Fixtures.Result>> all = new ArrayList<>();
            for (int i = 0; i < pushes; i++) {
                all.add(push(h, pool, "cp", "p" + i + ".sqlite3", live.toString(), "--timeout", "30000"));
            }
            for (CompletableFuture<Fixtures.Result> f : all) {
                Fixtures.Result r = f.get(120, TimeUnit.SECONDS);
                assertEquals(0, r.exit(), "round " + round + ": " + r);
            }
            List<String> rows = Fixtures.query(live, "SELECT name FROM items");
            assertEquals(1, rows.size(), rows.toString());
            assertTrue(names.contains(rows.get(0)), rows.toString());
            assertEquals(List.of("ok"), Fixtures.query(live, "PRAGMA integrity_check"));
            assertEquals(List.of(), Fixtures.leftovers(dir));
        }
    }
}
