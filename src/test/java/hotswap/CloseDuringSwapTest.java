package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Hotswap#close()} while a push is swapping lets the swap finish, so the client is told the truth. */
class CloseDuringSwapTest {
    private Path dir;
    private Path client;

    @BeforeEach
    void dirs() throws IOException {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
    }

    @AfterEach
    void tearDown() {
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    @Test
    void aSwapInProgressFinishesAndItsClientGetsTheTrueOutcome() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Path socket = dir.resolve("hs.sock");
        Hotswap hotswap = Hotswap.builder().socket(socket).database(live).build();
        hotswap.start();
        CountDownLatch swapping = new CountDownLatch(1);
        AtomicBoolean sawClose = new AtomicBoolean();
        hotswap.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                swapping.countDown();
                // close() has begun once the socket refuses new connections.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline && !sawClose.get()) {
                    sawClose.set(!answers(socket));
                    Thread.sleep(10);
                }
            }
        });
        CompletableFuture<Fixtures.Result> push = CompletableFuture.supplyAsync(() -> {
            try {
                return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", "new.sqlite3", live.toString());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, Fixtures.CONCURRENTLY);
        try {
            assertTrue(swapping.await(30, TimeUnit.SECONDS), "the push never reached its swap: " + (push.isDone() ? push.get() : ""));
        } finally {
            hotswap.close(); // returns once the swap in progress has finished
        }
        assertTrue(sawClose.get(), "the listener should have seen close() begin");
        Fixtures.Result r = push.get(60, TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out(), r.toString());
        assertFalse(r.stderr().contains("ERROR"), r.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /**
     * A swap still waiting to begin when close() gives up on it (here behind a long snapshot of the
     * same database) must not replace the database after close() has returned.
     */
    @Test
    void aSwapThatCloseGaveUpOnNeverHappensAfterCloseReturns() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Path socket = dir.resolve("hs.sock");
        Hotswap hotswap = Hotswap.builder().socket(socket).database(live).swapTimeout(java.time.Duration.ofMillis(200)).build();
        hotswap.start();
        ManagedDatabase db = hotswap.database(live);
        db.fileLock.readLock().lock(); // what a pull holds while SQLite copies a large database
        CompletableFuture<Fixtures.Result> push;
        try {
            push = CompletableFuture.supplyAsync(() -> {
                try {
                    return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", "new.sqlite3", live.toString());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, Fixtures.CONCURRENTLY);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!db.fileLock.hasQueuedThreads() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(db.fileLock.hasQueuedThreads(), "the push never began to swap");
            hotswap.close(); // gives up on the waiting swap after its timeout plus the margin
        } finally {
            db.fileLock.readLock().unlock(); // the snapshot ends after close() returned
        }
        Fixtures.Result r = push.get(60, TimeUnit.SECONDS);
        assertTrue(r.exit() != 0, r.toString());
        Thread.sleep(500);
        assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"), "swapped after close() returned");
    }

    /**
     * A swap close() gave up waiting for (a beforeSwap that outlasts the swap's timeout and the stop's
     * margin) fails for its own reason, which the app's log keeps: it is not rewritten as a push the
     * stop cut short before it began swapping.
     */
    @Test
    void aSwapCloseGaveUpOnFailsInTheLogForItsOwnReason() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Path socket = dir.resolve("hs.sock");
        Hotswap hotswap = Hotswap.builder().socket(socket).database(live).swapTimeout(java.time.Duration.ofMillis(200)).build();
        hotswap.start();
        CountDownLatch closed = new CountDownLatch(1); // beforeSwap returns only once close() has given up on its swap
        try (LogCapture log = new LogCapture("hotswap")) {
            CompletableFuture<Fixtures.Result> push = pushHeldInItsSwap(hotswap, live, closed);
            hotswap.close(); // waits the swap's timeout plus the margin, then aborts the session
            closed.countDown();
            push.get(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (log.messages().stream().noneMatch(m -> m.startsWith("command failed: ")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            String failed = log.messages().stream().filter(m -> m.startsWith("command failed: ")).findFirst().orElse("");
            assertTrue(failed.contains("beforeSwap returned after the swap's timeout"), log.messages().toString());
        }
        assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"));
    }

    /** Pushes client's new.sqlite3 onto {@code live}; returns once its swap waits in beforeSwap, which ends when {@code release} does. */
    private CompletableFuture<Fixtures.Result> pushHeldInItsSwap(Hotswap h, Path live, CountDownLatch release) throws Exception {
        CountDownLatch swapping = new CountDownLatch(1);
        h.database(live).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) throws Exception {
                swapping.countDown();
                release.await(60, TimeUnit.SECONDS);
            }
        });
        CompletableFuture<Fixtures.Result> push = Fixtures.concurrently(
                () -> Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, "cp", "new.sqlite3", live.toString()));
        assertTrue(swapping.await(30, TimeUnit.SECONDS), "the push never reached its swap: " + (push.isDone() ? push.get() : ""));
        return push;
    }

    /**
     * close() while a push checks a large file: the check is cancelled, and close() returns with no
     * command of its still running and none of its temp files left (a push's is the database's
     * size); the app's log says the push stopped because the app is shutting down, not that the
     * file is damaged or the directory unwritable.
     */
    @Test
    void closeDuringAPushsIntegrityCheckEndsItAndLeavesNoThreadNorTempFile() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.createDb(client.resolve("new.sqlite3"), "PRAGMA journal_mode=WAL", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "CREATE INDEX items_name ON items(name)",
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000) "
                        + "INSERT INTO items(name) SELECT hex(randomblob(40)) FROM n",
                "PRAGMA wal_checkpoint(TRUNCATE)");
        Path socket = dir.resolve("hs.sock");
        Hotswap hotswap = Hotswap.builder().socket(socket).database(live).build();
        hotswap.start();
        try (LogCapture log = new LogCapture("hotswap")) {
            CompletableFuture<Fixtures.Result> push = Fixtures.concurrently(
                    () -> Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", "new.sqlite3", live.toString()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // The check opens the received file, in WAL mode, with SQLite: its -shm appears.
            while (Fixtures.leftovers(dir).stream().noneMatch(n -> n.endsWith(".push-shm")) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(Fixtures.leftovers(dir).stream().anyMatch(n -> n.endsWith(".push-shm")), "the check never began: " + Fixtures.leftovers(dir));
            hotswap.close();
            assertEquals(List.of(), Fixtures.leftovers(dir), "temp files after close() returned");
            assertEquals(List.of(), Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(n -> n.startsWith("hotswap-session-")).toList(), "sessions still running after close() returned");
            assertTrue(push.get(60, TimeUnit.SECONDS).exit() != 0);
            assertTrue(log.contains(java.util.logging.Level.WARNING, "stopped: the app is shutting down; nothing changed"), log.messages().toString());
            assertFalse(log.messages().stream().anyMatch(m -> m.contains("damaged") || m.contains("directory the app can write")),
                    log.messages().toString());
        }
        assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"));
    }

    /**
     * An app that starts on the socket of one that is closing (a restart that does not wait, or
     * the next version) while that one waits for its swap keeps its socket: the closing app
     * removes only its own socket file, and the command line reaches the new app.
     */
    @Test
    void anAppStartedOnTheSocketOfOneThatIsClosingKeepsItsSocket() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Path socket = dir.resolve("hs.sock");
        Hotswap closing = Hotswap.builder().socket(socket).database(live).build();
        closing.start();
        CountDownLatch restarted = new CountDownLatch(1);
        CompletableFuture<Fixtures.Result> push = pushHeldInItsSwap(closing, live, restarted);
        CompletableFuture<Void> close = CompletableFuture.runAsync(closing::close, Fixtures.CONCURRENTLY);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (answers(socket) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Hotswap next = Hotswap.builder().socket(socket).database(live).build();
        try {
            next.start(); // the closing app no longer listens: its socket is stale
            restarted.countDown();
            close.get(30, TimeUnit.SECONDS);
            assertEquals(0, push.get(30, TimeUnit.SECONDS).exit());
            assertTrue(answers(socket), "the new app's socket was removed by the one that closed");
            Fixtures.Result status = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "status");
            assertEquals(0, status.exit(), status.toString());
        } finally {
            restarted.countDown();
            next.close();
        }
    }

    /**
     * close() while a pull waits for a push's swap to end: the pull is stopped then and there, not
     * once the swap has ended, when it would still snapshot the whole database for a client that
     * close() has already cut off, while close() waits for it. The swap itself finishes.
     */
    @Test
    void aPullWaitingForASwapWhenCloseComesEndsWithoutTakingItsSnapshot() throws Exception {
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Path socket = dir.resolve("hs.sock");
        Hotswap hotswap = Hotswap.builder().socket(socket).database(live).build();
        hotswap.start();
        CountDownLatch release = new CountDownLatch(1);
        Map<String, String> env = Map.of("HOTSWAP_SOCKET", socket.toString());
        CompletableFuture<Fixtures.Result> push = pushHeldInItsSwap(hotswap, live, release);
        CompletableFuture<Void> close = null;
        try {
            CompletableFuture<Fixtures.Result> pull = Fixtures.concurrently(() -> Fixtures.cli(client, env, null, "cp", live.toString(), "copy.sqlite3"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // The pull makes its snapshot file, empty, then waits for the swap to end before SQLite fills it.
            while (Fixtures.leftovers(dir).stream().noneMatch(n -> n.contains("pull")) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(Fixtures.leftovers(dir).stream().anyMatch(n -> n.contains("pull")), "the pull never began: " + Fixtures.leftovers(dir));
            close = CompletableFuture.runAsync(hotswap::close, Fixtures.CONCURRENTLY);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (Fixtures.leftovers(dir).stream().anyMatch(n -> n.contains("pull")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(List.of(), Fixtures.leftovers(dir).stream().filter(n -> n.contains("pull")).toList(),
                    "the stopped pull still waits to take its snapshot");
            assertTrue(pull.get(30, TimeUnit.SECONDS).exit() != 0);
        } finally {
            release.countDown();
            if (close != null) {
                close.get(30, TimeUnit.SECONDS);
            } else {
                hotswap.close();
            }
        }
        Fixtures.Result r = push.get(30, TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /**
     * SQLite forgets a cancel that comes before a statement starts: a push's check that begins
     * after its session was stopped (close() came while it opened the file) must still end at
     * once, not run its whole length while close() waits for it.
     */
    @Test
    void aCheckThatBeginsAfterItsSessionWasStoppedEndsAtOnce() throws Exception {
        Path big = Fixtures.createDb(client.resolve("big.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "CREATE INDEX items_name ON items(name)",
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200000) "
                        + "INSERT INTO items(name) SELECT hex(randomblob(40)) FROM n");
        try (SessionOnASocket stopped = new SessionOnASocket(Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old"))) {
            stopped.session.abortUnlessSwapping();
            // What it says, Push replaces: the push stopped as the app is shutting down.
            org.junit.jupiter.api.Assertions.assertThrows(CommandFailure.class,
                    () -> new PushedFile(big).checkIntegrity(false, stopped.session::running),
                    "the check of a stopped session ran to its end");
        }
    }

    /**
     * A cancel from close() runs on the check's connection: the check, as it ends, must not close
     * that connection (which frees SQLite's memory) while the cancel still runs on it.
     */
    @Test
    void aCheckThatEndsWaitsForACancelUnderWayBeforeItsConnectionCloses() throws Exception {
        CountDownLatch cancelling = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        java.sql.Statement check = (java.sql.Statement) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {java.sql.Statement.class}, (proxy, method, args) -> {
                    if (method.getName().equals("cancel")) {
                        cancelling.countDown();
                        release.await(10, TimeUnit.SECONDS);
                    }
                    return null;
                });
        try (SessionOnASocket s = new SessionOnASocket(Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old"))) {
            s.session.running(check);
            CompletableFuture<Boolean> abort = Fixtures.concurrently(s.session::abortUnlessSwapping);
            assertTrue(cancelling.await(10, TimeUnit.SECONDS), "close() never cancelled the check");
            CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> s.session.running(null), Fixtures.CONCURRENTLY);
            Thread.sleep(300);
            assertFalse(ended.isDone(), "the check went on to close its connection while the cancel ran on it");
            release.countDown();
            ended.get(10, TimeUnit.SECONDS);
            assertTrue(abort.get(10, TimeUnit.SECONDS));
        } finally {
            release.countDown();
        }
    }

    /** A session of a server that is stopping, on a connected socket, not run. */
    private static final class SessionOnASocket implements AutoCloseable {
        final java.nio.channels.ServerSocketChannel server;
        final SocketChannel app;
        final SocketChannel peer;
        final Session session;

        SessionOnASocket(Path live) throws IOException {
            Path socket = live.resolveSibling("s.sock");
            server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
            peer = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            app = server.accept();
            Hotswap hotswap = Hotswap.builder().socket(socket).database(live).build();
            session = new Session(hotswap, app, hotswap.socket().getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByName(System.getProperty("user.name")), java.util.concurrent.ConcurrentHashMap.newKeySet(), () -> true);
        }

        @Override
        public void close() throws IOException {
            app.close();
            peer.close();
            server.close();
        }
    }

    private static boolean answers(Path socket) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
