package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An operator who stops a push (Ctrl-C, a killed client) before the swap has happened means
 * "don't": the app must not swap the file in later, unseen, once what held the swap up is gone.
 */
class HungUpClientTest {
    private final Fixtures.Scope scope = new Fixtures.Scope();

    @AfterEach
    void cleanUp() {
        scope.close();
    }

    @Test
    void aPushWhoseClientIsStoppedWhileTheSwapWaitsForARequestChangesNothing() throws Exception {
        Path dir = scope.dir();
        Path client = scope.dir();
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = scope.add(Hotswap.builder().database(live).socket(dir.resolve("hs.sock")).build());
        h.start();

        // A request (or background job) in flight that takes its time, on a thread of its own.
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread jobThread = new Thread(() -> {
            try (SwapGate.Pass pass = h.gate().enter()) {
                inside.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        jobThread.start();
        inside.await();
        List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-jar", Fixtures.jar().toString(),
                "cp", "new.sqlite3", live.toString(), "--timeout", "30000"));
        ProcessBuilder pb = new ProcessBuilder(command).directory(client.toFile());
        pb.environment().put("HOTSWAP_SOCKET", h.socket().toString());
        Process push = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!gateClosed(h)) {
                assertTrue(System.nanoTime() < deadline, "the push never closed the gate");
                Thread.sleep(5);
            }
            push.destroy(); // SIGTERM, as Ctrl-C: the client is gone, and the swap has not happened
            assertTrue(push.waitFor(10, TimeUnit.SECONDS));
            Thread.sleep(200);
        } finally {
            done.countDown();
            jobThread.join(10_000);
            push.destroyForcibly();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (h.sessionsInUse() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(200);
        assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"),
                "the live database after its push's client was stopped before the swap");
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    private static boolean gateClosed(Hotswap h) {
        SwapGate.Pass pass = h.gate().tryEnter();
        if (pass == null) {
            return true;
        }
        pass.close();
        return false;
    }
}
