package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Delta;
import hotswap.wire.Frames;
import hotswap.wire.PageHashes;
import hotswap.wire.Protocol;
import hotswap.wire.Strings;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code cp --delta} against the real app and the real CLI: only the pages that differ travel,
 * and what lands is what a whole-file copy would have given; anything else falls back to a whole
 * copy, said once, or is refused with the live database untouched.
 */
class DeltaCopyTest {
    Path client;
    RunningApp app;
    LogCapture log;

    @BeforeEach
    void setUp() throws Exception {
        client = Fixtures.tempDir();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            names.add("item " + i + " " + "x".repeat(150));
        }
        app = RunningApp.start(names.toArray(String[]::new)); // about 1 MiB, some 250 pages
        log = new LogCapture("hotswap");
    }

    @AfterEach
    void tearDown() {
        log.close();
        app.close();
        Fixtures.deleteTree(client);
    }

    @Test
    void aDeltaPushMovesOnlyTheChangedPagesAndTheAppServesTheNewRows() throws Exception {
        Path copy = pullWhole("copy.sqlite3");
        sql(copy, "UPDATE items SET name = 'changed ' || id WHERE id % 1000 = 1");

        Fixtures.Result r = app.cli(client, null, "cp", "--delta", "copy.sqlite3", app.db.toString());

        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out());
        assertEquals(Fixtures.query(copy, "SELECT id, name FROM items ORDER BY id"),
                Fixtures.query(app.db, "SELECT id, name FROM items ORDER BY id"));
        assertTrue(app.get("/items").body().contains("changed 1001"));
        int[] moved = pages("delta push: received (\\d+) of (\\d+) pages");
        assertTrue(moved[0] > 0 && moved[0] <= 12, "pages received: " + moved[0] + " of " + moved[1]);
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void aDeltaPullIsByteIdenticalToAWholePullAndKeepsTheModeRule() throws Exception {
        Path old = pullWhole("backup.sqlite3");
        sql(app.db, "UPDATE items SET name = 'moved on ' || id WHERE id % 700 = 5");
        Files.setPosixFilePermissions(app.db, PosixFilePermissions.fromString("rw-r-----"));
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-rw-rw-"));

        Fixtures.Result r = app.cli(client, null, "cp", "--delta", app.db.toString(), "backup.sqlite3");
        Path whole = pullWhole("whole.sqlite3");

        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.stderr());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(old));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(old)));
        int[] moved = pages("delta pull: sent (\\d+) of (\\d+) pages");
        assertTrue(moved[0] > 0 && moved[0] <= 12, "pages sent: " + moved[0] + " of " + moved[1]);
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @Test
    void anUnchangedDatabaseMovesNoPageEitherWay() throws Exception {
        Path copy = pullWhole("copy.sqlite3");
        Fixtures.Result pull = app.cli(client, null, "cp", "--delta", app.db.toString(), "copy.sqlite3");
        Fixtures.Result push = app.cli(client, null, "cp", "--delta", "copy.sqlite3", app.db.toString());

        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(0, push.exit(), push.toString());
        assertEquals(0, pages("delta pull: sent (\\d+) of (\\d+) pages")[0]);
        assertEquals(0, pages("delta push: received (\\d+) of (\\d+) pages")[0]);
        assertEquals(Fixtures.query(copy, "SELECT count(*) FROM items"), Fixtures.query(app.db, "SELECT count(*) FROM items"));
    }

    @Test
    void aPushOfAnotherPageSizeGoesWholeAndSaysSoOnce() throws Exception {
        Path small = client.resolve("small.sqlite3");
        Fixtures.createDb(small, "PRAGMA page_size = 1024", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "INSERT INTO items(name) VALUES ('from a 1 KiB-page file')");

        Fixtures.Result r = app.cli(client, null, "cp", "--delta", "small.sqlite3", app.db.toString());

        assertEquals(0, r.exit(), r.toString());
        assertEquals(1, count(r.stderr(), "Note: the live database has 4096-byte pages and the pushed file 1024-byte pages; "
                + "copying the whole file"), r.toString());
        assertEquals(List.of("from a 1 KiB-page file"), Fixtures.query(app.db, "SELECT name FROM items"));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void aPullOntoSomethingElseGoesWholeAndSaysSoOnce() throws Exception {
        Path whole = pullWhole("whole.sqlite3");
        Path text = client.resolve("notes.txt");
        Files.writeString(text, "not a database\n");
        Path small = client.resolve("small.sqlite3");
        Fixtures.createDb(small, "PRAGMA page_size = 1024", "CREATE TABLE t(x)");

        Fixtures.Result onText = app.cli(client, null, "cp", "--delta", app.db.toString(), "notes.txt");
        Fixtures.Result onSmall = app.cli(client, null, "cp", "--delta", app.db.toString(), "small.sqlite3");

        assertEquals(0, onText.exit(), onText.toString());
        assertEquals(1, count(onText.stderr(), "is not a SQLite database of whole pages; pulling the whole file"), onText.toString());
        assertEquals(0, onSmall.exit(), onSmall.toString());
        assertEquals(1, count(onSmall.stderr(), "Note: the live database has 4096-byte pages and your copy 1024-byte pages; "
                + "copying the whole file"), onSmall.toString());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(text));
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(small));
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @Test
    void aDamagedSourceIsRefusedAndTheLiveDatabaseStaysAsItWas() throws Exception {
        Path copy = pullWhole("copy.sqlite3");
        try (FileChannel f = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.wrap(new byte[4096]), 4096L * 40); // a b-tree page of zeros
        }
        byte[] live = Files.readAllBytes(app.db);

        Fixtures.Result r = app.cli(client, null, "cp", "--delta", "copy.sqlite3", app.db.toString());

        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("integrity check failed") && r.stderr().contains("nothing changed"), r.toString());
        assertArrayEquals(live, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void usageErrorsOfDeltaAndCompression() throws Exception {
        for (List<String> args : List.of(
                List.of("cp", "--delta", "-", app.db.toString()),
                List.of("cp", "--delta", app.db.toString(), "-"),
                List.of("cp", "--delta", "--no-delta", "a.sqlite3", app.db.toString()),
                List.of("cp", "--compress", "a.sqlite3", app.db.toString()))) {
            Fixtures.Result r = app.cli(client, new byte[0], args.toArray(String[]::new));
            assertEquals(2, r.exit(), args + "\n" + r);
        }
    }

    // ---- a client that does not play by the rules -------------------------------------------

    @Test
    void pagesThatDoNotRebuildTheClientsFileAreRefusedWithNothingChanged() throws Exception {
        Path copy = pullWhole("copy.sqlite3");
        sql(copy, "UPDATE items SET name = 'forged' WHERE id = 3");
        byte[] live = Files.readAllBytes(app.db);

        String reply = rawDeltaPush(copy, "00".repeat(32), Integer.MAX_VALUE);

        assertTrue(reply.contains("ERROR: the delta push failed: the rebuilt file does not hash as the sender's")
                && reply.contains("nothing changed") && reply.contains("If something wrote to the source file during the push"), reply);
        assertArrayEquals(live, Files.readAllBytes(app.db));
        assertNoLeftovers();
    }

    @Test
    void aClientThatHangsUpHalfwayThroughThePagesChangesNothing() throws Exception {
        Path copy = pullWhole("copy.sqlite3");
        sql(copy, "UPDATE items SET name = 'half ' || id WHERE id % 10 = 0");
        byte[] live = Files.readAllBytes(app.db);

        rawDeltaPush(copy, null, 1);

        assertArrayEquals(live, Files.readAllBytes(app.db));
        assertNoLeftovers();
        assertEquals(6000, Integer.parseInt(Fixtures.query(app.db, "SELECT count(*) FROM items WHERE name LIKE 'item %'").get(0)));
    }

    @Test
    void aPullClientWhoseHashesDoNotAddUpIsRefusedAndTheAppServesOn() throws Exception {
        byte[] live = Files.readAllBytes(app.db);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(app.socket));
            Frames frames = new Frames(ch);
            Protocol.sayHello(frames);
            frames.writeStrings(Channel.CONTROL, new CopyRequest(app.db.toString(), client.resolve("x.sqlite3").toString(),
                    CopyRequest.Integrity.FULL, true, 0, -1, false, false, null, new CopyRequest.Pages(4096, 100), false).encode());
            Protocol.readHello(frames);
            StringBuilder said = new StringBuilder();
            boolean sent = false;
            for (Frames.Frame f = frames.read(); f != null && f.channel() != Channel.EXIT; f = frames.read()) {
                if (f.channel() == Channel.CONTROL && Strings.decode(f.payload()).get(0).equals("delta") && !sent) {
                    // 100 pages make 13 ranges of 8 pages: 208 bytes of hashes; send one byte more.
                    frames.write(Channel.DATA_IN, ByteBuffer.allocate(209));
                    frames.writeEnd(Channel.DATA_IN);
                    sent = true;
                } else if (f.channel() == Channel.STDERR) {
                    said.append(f.text());
                }
            }
            assertTrue(sent, said.toString());
            assertTrue(said.toString().contains("ERROR: the delta pull failed: delta message longer than 208 bytes"), said.toString());
        }
        assertArrayEquals(live, Files.readAllBytes(app.db));
        assertEquals(200, app.get("/items").statusCode());
        assertNoLeftovers();
    }

    /**
     * Pushes {@code file} as the CLI would, but with {@code root} (null: the true one) as the
     * file's hash; with {@code batches} below {@code Integer.MAX_VALUE}, hangs up after the first
     * frame of the pages.
     *
     * @return what the app printed before it hung up
     */
    private String rawDeltaPush(Path file, String root, int batches) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.connect(UnixDomainSocketAddress.of(app.socket));
            Frames frames = new Frames(ch);
            CopyRequest.Pages shape = PageHashes.shape(in);
            Protocol.sayHello(frames);
            frames.writeStrings(Channel.CONTROL, new CopyRequest(file.toString(), app.db.toString(), CopyRequest.Integrity.FULL,
                    true, 0, Files.size(file), false, false, shape, null, false).encode());
            Protocol.readHello(frames);
            StringBuilder said = new StringBuilder();
            List<String> delta = null;
            while (delta == null) {
                Frames.Frame f = frames.read();
                if (f.channel() == Channel.CONTROL && Strings.decode(f.payload()).get(0).equals("delta")) {
                    delta = Strings.decode(f.payload());
                } else if (f.channel() == Channel.STDERR) {
                    said.append(f.text());
                }
            }
            PageHashes mine = PageHashes.of(in, shape.pageSize(), shape.count(), n -> { }, null);
            Delta d = new Delta(shape.pageSize(), Integer.parseInt(delta.get(2)), shape.count(), frames, Channel.DATA_IN, () -> {
                Frames.Frame f = frames.read();
                while (f.channel() != Channel.DATA_OUT) {
                    f = frames.read();
                }
                return f.payload();
            });
            d.answerRanges(mine);
            BitSet changed = d.changedPages(mine);
            if (batches < Integer.MAX_VALUE) {
                // The first frame of the pages, then a hang-up in the middle of the rest.
                frames.write(Channel.DATA_IN, ByteBuffer.allocate(48).putLong(changed.cardinality()).flip());
                ch.close();
                return said.toString();
            }
            d.sendPages(in, changed, root != null ? root : mine.root(), false, n -> { });
            for (Frames.Frame f = frames.read(); f != null && f.channel() != Channel.EXIT; f = frames.read()) {
                if (f.channel() == Channel.STDERR) {
                    said.append(f.text());
                }
            }
            return said.toString();
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    private Path pullWhole(String name) throws Exception {
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), name);
        assertEquals(0, r.exit(), r.toString());
        return client.resolve(name);
    }

    private static void sql(Path db, String statement) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }

    /** The numbers of the last app log line that matches {@code regex}. */
    private int[] pages(String regex) {
        int[] found = null;
        for (String m : log.messages()) {
            Matcher matcher = Pattern.compile(regex).matcher(m);
            if (matcher.find()) {
                found = new int[] {Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2))};
            }
        }
        assertTrue(found != null, "no log line matches " + regex + ":\n" + log.dump());
        return found;
    }

    private static int count(String text, String fragment) {
        int n = 0;
        for (int i = text.indexOf(fragment); i >= 0; i = text.indexOf(fragment, i + 1)) {
            n++;
        }
        return n;
    }

    /** The app's session ends a moment after the client's does: wait for its files to go. */
    private void assertNoLeftovers() throws Exception {
        for (int i = 0; i < 100 && !Fixtures.leftovers(app.db.getParent()).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }
}
