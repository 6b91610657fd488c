package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Delta transfers to and from a remote app, on by default there, through a transport that counts
 * the bytes it carries: what lands is what a whole copy gives, and little crosses the link.
 */
class RemoteDeltaTest {
    private static final String TARGET = RemoteSide.HOST + ":db/production.sqlite3";
    RemoteSide remote;
    Path counted;
    Path counts;

    @BeforeEach
    void setUp() throws Exception {
        remote = new RemoteSide("");
        Files.delete(remote.db);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8000; i++) {
            names.add("item " + i + " of a text-heavy table whose rows compress well " + i % 17);
        }
        Fixtures.itemsDb(remote.db, names.toArray(String[]::new));
        remote.start();
        counts = remote.root.resolve("counts");
        // The fake ssh behind a pump that counts the bytes each way, as a link would carry them.
        counted = RemoteSide.script(remote.root.resolve("counted-ssh"), """
                #!/usr/bin/env python3
                import os, subprocess, sys, threading
                child = subprocess.Popen([%s] + sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                sent = [0, 0]
                def pump(src, dst, i):
                    while True:
                        b = os.read(src.fileno(), 65536)
                        if not b:
                            break
                        sent[i] += len(b)
                        os.write(dst.fileno(), b)
                    dst.close()
                up = threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, 0))
                up.daemon = True
                up.start()
                pump(child.stdout, sys.stdout.buffer, 1)
                code = child.wait()
                with open(%s, "a") as f:
                    f.write("%%d %%d\\n" %% (sent[0], sent[1]))
                sys.exit(code)
                """.formatted(quote(remote.fakeSsh.toString()), quote(counts.toString())));
    }

    @AfterEach
    void tearDown() {
        remote.close();
    }

    @Test
    void aDeltaPullOntoAnOlderCopyIsByteIdenticalToAWholePullAndCrossesLittle() throws Exception {
        Path copy = remote.local.resolve("copy.sqlite3");
        assertEquals(0, cp("--no-delta", TARGET, "copy.sqlite3").exit());
        sql(remote.db, "UPDATE items SET name = 'changed ' || id WHERE id % 1000 = 3");

        Fixtures.Result r = cp(TARGET, "copy.sqlite3");
        long crossed = lastCount();
        assertEquals(0, cp("--no-delta", TARGET, "whole.sqlite3").exit());

        assertEquals(0, r.exit(), r.toString());
        assertArrayEquals(Files.readAllBytes(remote.local.resolve("whole.sqlite3")), Files.readAllBytes(copy));
        assertTrue(crossed < Files.size(copy) / 10, crossed + " bytes crossed for a " + Files.size(copy) + "-byte file");
        assertEquals(List.of(), Fixtures.leftovers(remote.local));
    }

    @Test
    void aWholePullIsDeflatedWhereThatPaysAndLandsTheSameBytes() throws Exception {
        Fixtures.Result deflated = cp("--no-delta", TARGET, "deflated.sqlite3");
        long deflatedBytes = lastCount();
        Fixtures.Result plain = cp("--no-delta", "--no-compress", TARGET, "plain.sqlite3");
        long plainBytes = lastCount();

        assertEquals(0, deflated.exit(), deflated.toString());
        assertEquals(0, plain.exit(), plain.toString());
        long size = Files.size(remote.local.resolve("plain.sqlite3"));
        assertArrayEquals(Files.readAllBytes(remote.local.resolve("plain.sqlite3")),
                Files.readAllBytes(remote.local.resolve("deflated.sqlite3")));
        assertTrue(deflatedBytes < size / 2, deflatedBytes + " bytes crossed for a " + size + "-byte file");
        assertTrue(plainBytes > size, plainBytes + " bytes crossed for a " + size + "-byte file");
        assertEquals(List.of(), Fixtures.leftovers(remote.local));
    }

    @Test
    void aDeltaPushLandsTheSameRowsAndDeflatedPagesCrossLessThanPlainOnes() throws Exception {
        assertEquals(0, cp("--no-delta", TARGET, "copy.sqlite3").exit());
        Path copy = remote.local.resolve("copy.sqlite3");
        // Same-length edits: the rows stay on their pages, so few pages change.
        sql(copy, "UPDATE items SET name = replace(name, 'text-heavy', 'TEXT-HEAVY') WHERE id % 500 = 0");

        Fixtures.Result plain = cp("--no-compress", "copy.sqlite3", TARGET);
        long plainBytes = lastCount();
        sql(copy, "UPDATE items SET name = replace(name, 'compress well', 'COMPRESS WELL') WHERE id % 500 = 250");
        Fixtures.Result deflated = cp("copy.sqlite3", TARGET);
        long deflatedBytes = lastCount();

        assertEquals(0, plain.exit(), plain.toString());
        assertEquals(0, deflated.exit(), deflated.toString());
        assertEquals(Fixtures.query(copy, "SELECT id, name FROM items ORDER BY id"),
                Fixtures.query(remote.db, "SELECT id, name FROM items ORDER BY id"));
        assertTrue(plainBytes < Files.size(copy) / 5, plainBytes + " bytes crossed for a " + Files.size(copy) + "-byte file");
        assertTrue(deflatedBytes < plainBytes / 2, "deflated " + deflatedBytes + " vs plain " + plainBytes);
        assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
    }

    @Test
    void aPushOfAnUnrelatedDatabaseGoesWholeAtOnceDeflatedAndSaysWhyUnlessDeltaIsGiven() throws Exception {
        // As many rows of the same length, other words: a rebuilt database that reuses no page of the live one.
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8000; i++) {
            names.add("ITEM " + i + " OF A REBUILT TABLE, NONE OF WHOSE ROWS THE LIVE ONE HAS " + i % 17);
        }
        Path rebuilt = Fixtures.itemsDb(remote.local.resolve("rebuilt.sqlite3"), names.toArray(String[]::new));
        Fixtures.itemsDb(remote.local.resolve("again.sqlite3"), names.stream().map(n -> n.replace("ITEM", "ROW!")).toArray(String[]::new));

        try (LogCapture log = new LogCapture("hotswap")) {
            Fixtures.Result whole = cp("rebuilt.sqlite3", TARGET);
            long wholeBytes = lastCount();
            assertEquals(0, whole.exit(), whole.toString());
            assertTrue(whole.stderr().startsWith("Note: 0 of 32 pages sampled from " + remote.db.toRealPath()
                    + " match the pushed file; copying the whole file (--delta compares every page anyway)\n"), whole.stderr());
            assertEquals(Fixtures.query(rebuilt, "SELECT id, name FROM items ORDER BY id"),
                    Fixtures.query(remote.db, "SELECT id, name FROM items ORDER BY id"));
            // Whole, but deflated where that pays, as delta pages are: this text shrinks to well under half.
            assertTrue(wholeBytes < Files.size(rebuilt) / 2, wholeBytes + " bytes crossed for a " + Files.size(rebuilt) + "-byte file");
            // The app never snapshots its database for a delta it would not use.
            assertTrue(log.messages().stream().noneMatch(m -> m.startsWith("delta push:")), log.dump());

            Fixtures.Result delta = cp("--delta", "again.sqlite3", TARGET);
            assertEquals(0, delta.exit(), delta.toString());
            assertFalse(delta.stderr().contains("sampled"), delta.stderr());
            assertTrue(log.messages().stream().anyMatch(m -> m.startsWith("delta push: received")), log.dump());

            Fixtures.Result plain = cp("--no-compress", "rebuilt.sqlite3", TARGET);
            long plainBytes = lastCount();
            assertEquals(0, plain.exit(), plain.toString());
            assertTrue(plain.stderr().startsWith("Note: 0 of 32 pages sampled"), plain.stderr());
            assertTrue(plainBytes > Files.size(rebuilt), plainBytes + " bytes crossed for a " + Files.size(rebuilt) + "-byte file");
            assertEquals(Fixtures.query(rebuilt, "SELECT id, name FROM items ORDER BY id"),
                    Fixtures.query(remote.db, "SELECT id, name FROM items ORDER BY id"));
        }
        assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
    }

    private Fixtures.Result cp(String... args) throws Exception {
        return remote.cpWith(List.of("--rsh", counted.toString()), null, args);
    }

    /** Bytes both ways of the last copy through the counting transport. */
    private long lastCount() throws Exception {
        List<String> lines = Files.readAllLines(counts);
        String[] last = lines.get(lines.size() - 1).split(" ");
        return Long.parseLong(last[0]) + Long.parseLong(last[1]);
    }

    private static void sql(Path db, String statement) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
