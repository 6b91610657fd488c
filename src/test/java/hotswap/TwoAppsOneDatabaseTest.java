package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two apps (two JVMs) that both manage one database file, a mistake of configuration: the second
 * one's start must not take the files the first one's commands are using for leftovers.
 */
class TwoAppsOneDatabaseTest {
    private Path dir;
    private Path client;
    private Path live;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old-1", "old-2");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    /**
     * A push holds the gate (its listener waits) with its temp file and the hold on the old file,
     * kept as asked, while a pull has made its snapshot file and waits for the swap to end.
     */
    @Test
    void aSecondAppStartingOnTheSameDatabaseLeavesTheFirstOnesCommandsAlone() throws Exception {
        CountDownLatch inGate = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Hotswap h = startHoldingSwaps(inGate, release);
        Map<String, String> env = Map.of("HOTSWAP_SOCKET", h.socket().toString());
        CompletableFuture<Fixtures.Result> push = Fixtures.concurrently(() ->
                Fixtures.cli(client, env, null, "cp", "new.sqlite3", live.toString(), "--keep-previous"));
        assertTrue(inGate.await(30, TimeUnit.SECONDS));
        CompletableFuture<Fixtures.Result> pull = Fixtures.concurrently(() ->
                Fixtures.cli(client, env, null, "cp", live.toString(), "pulled.sqlite3"));
        // The pull has made its snapshot file and waits for the swap to end.
        while (Fixtures.leftovers(dir).stream().noneMatch(n -> n.endsWith(".pull"))) {
            Thread.sleep(5);
        }
        // A second app that manages the same file starts meanwhile, through a socket of its own.
        Process second = startSecondApp(dir.resolve("second.sock"));
        release.countDown();
        Fixtures.Result pushed = push.get(60, TimeUnit.SECONDS);
        Fixtures.Result pulled = pull.get(60, TimeUnit.SECONDS);
        // Before, the second start removed both commands' files: the push failed, and the pull said OK over an empty file.
        assertEquals(0, pulled.exit(), pulled.toString());
        assertEquals(0, pushed.exit(), pushed.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("old-1", "old-2"), Fixtures.query(dir.resolve("live.sqlite3.previous"), "SELECT name FROM items ORDER BY id"));
        // The pull waited for the swap, and took the database it put in place.
        assertEquals(List.of("new"), Fixtures.query(client.resolve("pulled.sqlite3"), "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        second.destroy();
        assertTrue(second.waitFor(30, TimeUnit.SECONDS));
    }

    /**
     * Whatever removes a pull's snapshot file while the pull waits to fill it (here a listener of a
     * swap the pull waits for), the backup then writes a new file at that name, and the file the pull
     * holds open stays empty: the pull fails saying nothing was copied, never OK over an empty file.
     */
    @Test
    void aPullWhoseSnapshotFileIsRemovedWhileItWaitsFailsInsteadOfHandingOverAnEmptyFile() throws Exception {
        CountDownLatch inGate = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Hotswap h = startHoldingSwaps(inGate, release);
        Map<String, String> env = Map.of("HOTSWAP_SOCKET", h.socket().toString());
        CompletableFuture<Fixtures.Result> push = Fixtures.concurrently(() ->
                Fixtures.cli(client, env, null, "cp", "new.sqlite3", live.toString()));
        assertTrue(inGate.await(30, TimeUnit.SECONDS));
        CompletableFuture<Fixtures.Result> pull = Fixtures.concurrently(() ->
                Fixtures.cli(client, env, null, "cp", live.toString(), "pulled.sqlite3"));
        Path snapshot = null;
        while (snapshot == null) {
            try (var files = Files.list(dir)) {
                snapshot = files.filter(p -> p.getFileName().toString().endsWith(".pull")).findFirst().orElse(null);
            }
            Thread.sleep(5);
        }
        Files.delete(snapshot);
        release.countDown();
        assertEquals(0, push.get(60, TimeUnit.SECONDS).exit());
        Fixtures.Result pulled = pull.get(60, TimeUnit.SECONDS);
        assertEquals(1, pulled.exit(), pulled.toString());
        assertTrue(pulled.stderr().contains("ERROR: pull of " + live + " failed: its snapshot file " + snapshot
                + " was removed or replaced while the pull ran"), pulled.stderr());
        assertTrue(pulled.stderr().contains("; nothing was copied"), pulled.stderr());
        assertFalse(Files.exists(client.resolve("pulled.sqlite3")));
        assertEquals(List.of(), Fixtures.leftovers(dir));
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    /**
     * The lock file is opened, and made when missing, beside the database, in a directory another
     * user may be able to write: a symbolic link planted at its name made the app (root, perhaps)
     * create a file wherever the link led. The start leaves the link's target alone, and, since it
     * cannot tell whether another app holds a lock there, leaves the temp files beside the database too.
     */
    @Test
    void aSymbolicLinkAtTheLockFilesNameIsNotFollowed() throws Exception {
        Path target = client.resolve("made-through-the-link");
        Files.createSymbolicLink(DatabaseClaim.lockFileOf(live), target);
        Path temp = Files.write(TempFiles.beside(live, "push"), new byte[] {1});
        Hotswap h = Hotswap.builder().socket(dir.resolve("first.sock")).database(live).build();
        cleanup.add(h);
        h.start();
        assertFalse(Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the start created the link's target");
        assertTrue(Files.isSymbolicLink(DatabaseClaim.lockFileOf(live)));
        assertTrue(Files.exists(temp), "a temp file another app may be using was removed");
    }

    /** The first app; each swap waits in beforeSwap, once {@code inGate} is open, until {@code release} opens. */
    private Hotswap startHoldingSwaps(CountDownLatch inGate, CountDownLatch release) throws Exception {
        Hotswap h = Hotswap.builder().socket(dir.resolve("first.sock")).database(live).build();
        cleanup.add(h);
        h.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                inGate.countDown();
                release.await(30, TimeUnit.SECONDS);
            }
        });
        h.start();
        return h;
    }

    private Process startSecondApp(Path socket) throws Exception {
        Process app = new ProcessBuilder(Fixtures.java(), "-cp",
                Path.of(SecondApp.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                        + java.io.File.pathSeparator + Fixtures.jar() + java.io.File.pathSeparator + Fixtures.sqliteJar(),
                SecondApp.class.getName(), live.toString(), socket.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        cleanup.add(app::destroyForcibly);
        BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream()));
        assertEquals("ready", out.readLine());
        return app;
    }

    /** Another app managing the same database through a socket of its own. */
    public static final class SecondApp {
        public static void main(String[] args) throws Exception {
            Hotswap h = Hotswap.builder().database(Path.of(args[0])).socket(Path.of(args[1])).jmx(false).build();
            h.start();
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
