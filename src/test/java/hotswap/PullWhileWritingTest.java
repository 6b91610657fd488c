package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pulls through the real CLI while the app keeps writing (DESIGN.md invariant 5): each pull
 * finishes, and its snapshot is one consistent instant.
 */
class PullWhileWritingTest {
    private Path dir;
    private Path client;
    private Hotswap hotswap;
    private Writer writer;

    @BeforeEach
    void dirs() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (writer != null) {
            writer.stop();
        }
        if (hotswap != null) {
            hotswap.close();
        }
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    /**
     * Each write is one transaction that adds one row to each of two tables, so in any consistent
     * snapshot both tables hold rows 1..n for the same n.
     */
    private Path makeDb(String journalMode) throws Exception {
        Path db = dir.resolve("live.sqlite3");
        Fixtures.createDb(db, "PRAGMA journal_mode=" + journalMode,
                "CREATE TABLE a(id INTEGER PRIMARY KEY, v BLOB)",
                "CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB)",
                // some bulk (about 4 MB) so a snapshot takes long enough for writes to land during it
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) "
                        + "INSERT INTO a(v) SELECT randomblob(100) FROM n",
                "INSERT INTO b(v) SELECT v FROM a ORDER BY id");
        return db;
    }

    private void startHotswap(Path db) throws Exception {
        Properties props = new Properties();
        props.setProperty("busy_timeout", "20000");
        hotswap = Hotswap.builder().database(db, props).socket(dir.resolve("hs.sock")).build();
        hotswap.start();
    }

    /** The app's background job: an insert every ~1 ms, through the gate and the managed DataSource. */
    private static final class Writer {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger committed = new AtomicInteger();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final Thread thread;

        Writer(SwapGate gate, DataSource data) {
            thread = new Thread(() -> {
                while (!stop.get()) {
                    try (SwapGate.Pass pass = gate.enter(); Connection c = data.getConnection()) {
                        c.setAutoCommit(false);
                        try (PreparedStatement a = c.prepareStatement("INSERT INTO a(v) VALUES (randomblob(100))");
                             PreparedStatement b = c.prepareStatement("INSERT INTO b(v) VALUES (randomblob(100))")) {
                            a.executeUpdate();
                            b.executeUpdate();
                        }
                        c.commit();
                        committed.incrementAndGet();
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "app-writer");
            thread.start();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }
    }

    @Test
    void aPullToStdoutRedirectedToAFileIsConsistentUnderWalWrites() throws Exception {
        Path db = makeDb("WAL");
        // About 40 MB more, so the backup takes long enough for many writes to land meanwhile.
        Fixtures.createDb(db, "CREATE TABLE bulk AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) "
                + "SELECT randomblob(1000) AS v FROM n");
        startHotswap(db);
        LogCapture log = new LogCapture("hotswap");
        writer = new Writer(hotswap.gate(), hotswap.database(db).dataSource());
        try {
            for (int i = 0; i < 3; i++) {
                Fixtures.Result r = Fixtures.run(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                        List.of("sh", "-c", "\"$0\" -jar \"$1\" cp \"$2\" - > out.sqlite3",
                                Fixtures.java(), Fixtures.jar().toString(), db.toString()));
                assertEquals(0, r.exit(), r.toString());
                checkSnapshot(client.resolve("out.sqlite3"), "pull " + i);
            }
            assertEquals(3, log.messages().stream().filter(m -> m.startsWith("pull complete: ")
                    && m.endsWith(", copied by the client)")).count(), String.join("\n", log.messages()));
        } finally {
            log.close();
        }
        writer.stop();
        assertEquals(List.of(), writer.failures);
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /** Pulls to {@code name}, checks the snapshot, returns its row count. */
    private long pullAndCheck(Path db, String name) throws Exception {
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                "cp", db.toString(), name);
        assertEquals(0, r.exit(), r.toString());
        return checkSnapshot(client.resolve(name), name);
    }

    /** Checks that a pulled snapshot is whole and from one instant; returns its row count. */
    private static long checkSnapshot(Path snap, String name) throws Exception {
        assertEquals(List.of("ok"), Fixtures.query(snap, "PRAGMA integrity_check"), name);
        String a = Fixtures.query(snap, "SELECT count(*), min(id), max(id) FROM a").get(0);
        String b = Fixtures.query(snap, "SELECT count(*), min(id), max(id) FROM b").get(0);
        String[] f = a.split("\\|");
        long count = Long.parseLong(f[0]);
        assertEquals("1", f[1], name + ": ids start at 1");
        assertEquals(f[0], f[2], name + ": ids are exactly 1..count, no gaps");
        assertEquals(a, b, name + ": both tables from the same instant");
        return count;
    }

    @Test
    void pullsUnderContinuousWalWritesFinishWithConsistentGaplessSnapshots() throws Exception {
        Path db = makeDb("WAL");
        startHotswap(db);
        writer = new Writer(hotswap.gate(), hotswap.database(db).dataSource());
        // Count the app's commits between the server's "pull started" and "snapshot taken" log lines.
        AtomicInteger writesWhileSnapshotting = new AtomicInteger();
        java.util.logging.Logger pullLog = java.util.logging.Logger.getLogger(Pull.class.getName());
        java.util.logging.Handler watch = new java.util.logging.Handler() {
            int atStart = -1;

            @Override
            public synchronized void publish(java.util.logging.LogRecord record) {
                String m = record.getMessage() == null ? "" : record.getMessage();
                if (m.startsWith("pull started")) {
                    atStart = writer.committed.get();
                } else if (m.startsWith("snapshot taken") && atStart >= 0) {
                    writesWhileSnapshotting.addAndGet(writer.committed.get() - atStart);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        pullLog.addHandler(watch);
        long previous = 0;
        int writesBefore = -1;
        int writesDuring;
        try {
            for (int i = 0; i < 5; i++) {
                long count = pullAndCheck(db, "snap" + i + ".sqlite3");
                assertTrue(count >= previous, "snapshots go forward: " + previous + " then " + count);
                assertTrue(count >= 50000, "snapshot has at least the initial rows");
                previous = count;
                if (i == 0) {
                    writesBefore = writer.committed.get();
                }
            }
            writesDuring = writer.committed.get() - writesBefore;
        } finally {
            pullLog.removeHandler(watch);
        }
        writer.stop();
        assertEquals(List.of(), writer.failures, "the app's writes failed during pulls");
        assertTrue(writesWhileSnapshotting.get() > 0, "no write committed while a snapshot was being taken");
        assertTrue(writesDuring > 0, "the writer kept committing while the CLI pulled");
        assertTrue(previous > 50000, "snapshots include rows written while pulling");
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void pullUnderContinuousRollbackJournalWritesFinishesAndWritersOnlyWait() throws Exception {
        Path db = makeDb("DELETE");
        startHotswap(db);
        writer = new Writer(hotswap.gate(), hotswap.database(db).dataSource());
        // let writes start before the pull
        while (writer.committed.get() < 20 && writer.failures.isEmpty()) {
            Thread.sleep(5);
        }
        long count = pullAndCheck(db, "snap.sqlite3");
        int afterPull = writer.committed.get();
        while (writer.committed.get() < afterPull + 20 && writer.failures.isEmpty()) {
            Thread.sleep(5); // writes go on after the pull
        }
        writer.stop();
        assertEquals(List.of(), writer.failures, "the app's writes failed during the pull (busy_timeout 20000 ms)");
        assertTrue(count >= 50020, "snapshot includes the writes before the pull: " + count);
        try (Connection c = hotswap.database(db).dataSource().getConnection()) {
            assertEquals("delete", Sqlite.journalMode(c));
        }
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }
}
