package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * GUARANTEES: "Inside the gate nothing waits on another process: every step is bounded by the
 * swap's timeout." The look for other processes with the live file open stats every descriptor of
 * every process the app may see (all of them, for an app run as root), with the gate closed. On a
 * host with many open descriptors that look alone outlasts the timeout, and the requests wait for it.
 */
class GateScanBoundTest {
    private final Fixtures.Scope scope = new Fixtures.Scope();
    private final List<Process> holders = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        holders.forEach(Process::destroyForcibly);
        scope.close();
    }

    @Test
    void theLookForOtherProcessesInsideTheGateKeepsToTheSwapsTimeout() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no python3");
        // Other processes with many descriptors open (none on the database): a busy host's servers.
        for (int i = 0; i < 12; i++) {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", """
                    import os, resource, sys
                    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                    n = min(hard, 20000) - 64
                    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
                    fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(n)]
                    print('ready', flush=True)
                    sys.stdin.read()
                    """).redirectErrorStream(true).start();
            holders.add(p);
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Assumptions.assumeTrue("ready".equals(line), "cannot open many descriptors here: " + line);
        }
        Path dir = scope.dir();
        Path client = scope.dir();
        Path live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        Hotswap h = scope.add(Hotswap.builder().database(live).socket(dir.resolve("hs.sock")).build());
        h.start();
        long t = System.nanoTime();
        OpenHandles.otherProcessesHolding(OpenHandles.inodeOf(live));
        long scanMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
        Assumptions.assumeTrue(scanMillis >= 400, "the look takes only " + scanMillis + " ms here");

        // A request arriving all the time: how long the longest one waited at the gate.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong longestWait = new AtomicLong();
        Thread requests = new Thread(() -> {
            while (!stop.get()) {
                long s = System.nanoTime();
                try (SwapGate.Pass pass = h.gate().enter()) {
                    longestWait.accumulateAndGet(System.nanoTime() - s, Math::max);
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        requests.start();
        Fixtures.Result r;
        try {
            r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null,
                    "cp", "new.sqlite3", live.toString(), "--timeout", "100");
        } finally {
            stop.set(true);
            requests.join(10_000);
        }
        long waited = TimeUnit.NANOSECONDS.toMillis(longestWait.get());
        assertTrue(waited < 100 + scanMillis / 2, "a request waited " + waited + " ms at the gate with --timeout 100 "
                + "(the look for other processes takes " + scanMillis + " ms here); push: " + r);
        if (r.exit() != 0) {
            assertEquals(List.of("old"), Fixtures.query(live, "SELECT name FROM items"));
            assertEquals(List.of(), Fixtures.leftovers(dir));
        }
    }
}
