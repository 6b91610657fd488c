package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every input the server must refuse leaves the live database byte-identical, serving the old
 * rows, with no temp file behind; the client exits 1 with an {@code ERROR:} line that names the
 * problem. Each input is pushed from a file and from standard input.
 */
class RejectedPushTest extends AppAndClientTest {
    private static final String OLD_ITEMS = "[\"alpha\",\"bravo\"]";

    /** How the bytes reach the client. */
    enum Via { FILE, STDIN }

    /** Builds the rejected input's bytes in a scratch directory. */
    interface Input {
        byte[] bytes(Path scratch) throws Exception;
    }

    static Stream<Arguments> rejectedInputs() {
        List<Object[]> inputs = List.of(
                new Object[] {"empty input", (Input) scratch -> new byte[0], "the source is empty"},
                new Object[] {"short garbage text", (Input) scratch -> "hello, this is not a database\n".getBytes(StandardCharsets.UTF_8),
                        "not a SQLite database"},
                new Object[] {"64 KiB of random bytes", (Input) scratch -> randomBytes(64 * 1024), "not a SQLite database"},
                new Object[] {"SQLite magic then 20 bytes of garbage", (Input) scratch -> magicThen(20), "the source is truncated"},
                new Object[] {"SQLite magic then 4 KiB of garbage", (Input) scratch -> magicThen(4096), "header is damaged"},
                new Object[] {"real header then garbage pages", (Input) RejectedPushTest::realHeaderThenGarbage, "integrity check failed"},
                new Object[] {"real db cut to half", (Input) scratch -> cut(realDb(scratch), 0), "the source is truncated"},
                new Object[] {"real db cut to a non-page-multiple size", (Input) scratch -> cut(realDb(scratch), 1234),
                        "truncated or padded"},
                new Object[] {"real db with a corrupted b-tree page", (Input) RejectedPushTest::corruptedPage, "integrity check failed"},
                new Object[] {"gzip of a real db", (Input) scratch -> gzip(Files.readAllBytes(realDb(scratch))), "gzip-compressed"});
        return inputs.stream().flatMap(i -> Arrays.stream(Via.values()).map(via -> Arguments.of(i[0], via, i[1], i[2])));
    }

    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("rejectedInputs")
    void rejectedInputLeavesTheLiveDatabaseUntouched(String what, Via via, Input input, String expected) throws Exception {
        Fixtures.Result r = pushRejected(input.bytes(client), via);
        assertTrue(errorLine(r).contains(expected), "expected \"" + expected + "\" for " + what + "\n" + r);
        assertTrue(r.stderr().contains("nothing changed"), r.toString());
    }

    @Test
    void quickCheckAlsoRefusesACorruptedPage() throws Exception {
        byte[] corrupt = corruptedPage(client);
        Files.write(client.resolve("corrupt.sqlite3"), corrupt);
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", "--quick-check", "corrupt.sqlite3", app.db.toString());
        assertRejected(r, before);
        assertTrue(errorLine(r).contains("quick check failed"), r.toString());
    }

    @Test
    void schemaMismatchIsRefusedWithADiffOfTheSchemasFromFileAndStdin() throws Exception {
        byte[] mismatching = Files.readAllBytes(pricedDb(client.resolve("priced.sqlite3")));
        for (Via via : Via.values()) {
            Fixtures.Result r = pushRejected(mismatching, via);
            List<String> lines = r.stderr().lines().toList();
            assertTrue(lines.contains("ERROR: schema mismatch"), r.toString());
            assertTrue(lines.contains("- CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)"), r.toString());
            assertTrue(lines.contains("+ CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price INTEGER)"), r.toString());
            assertTrue(r.stderr().contains("--skip-schema-check"), "the message says how to push anyway\n" + r);
        }
    }

    @Test
    void skipSchemaCheckPushesTheMismatchingSchema() throws Exception {
        pricedDb(client.resolve("priced.sqlite3"));
        Fixtures.Result r = app.cli(client, null, "cp", "--skip-schema-check", "priced.sqlite3", app.db.toString());
        assertPushed(r, "[\"priced-1\",\"priced-2\"]");
        assertEquals(List.of("items|CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price INTEGER)"),
                Fixtures.query(app.db, "SELECT name, sql FROM sqlite_master"));
    }

    @Test
    void skipSchemaCheckPushesTheMismatchingSchemaFromStdin() throws Exception {
        byte[] priced = Files.readAllBytes(pricedDb(client.resolve("priced.sqlite3")));
        Fixtures.Result r = app.cli(client, priced, "cp", "--skip-schema-check", "-", app.db.toString());
        assertPushed(r, "[\"priced-1\",\"priced-2\"]");
    }

    @Test
    void skipIntegrityCheckPushesAGoodFile() throws Exception {
        Fixtures.itemsDb(client.resolve("good.sqlite3"), "charlie", "delta");
        Fixtures.Result r = app.cli(client, null, "cp", "--skip-integrity-check", "good.sqlite3", app.db.toString());
        assertPushed(r, "[\"charlie\",\"delta\"]");
    }

    @Test
    void skipIntegrityCheckStillRefusesANonDatabase() throws Exception {
        Files.writeString(client.resolve("notes.txt"), "not a database at all\n");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", "--skip-integrity-check", "notes.txt", app.db.toString());
        assertRejected(r, before);
        assertTrue(errorLine(r).contains("not a SQLite database"), r.toString());
    }

    // ---- helpers ----

    /** Pushes {@code bytes} (from a file or stdin), asserts it was refused and changed nothing. */
    private Fixtures.Result pushRejected(byte[] bytes, Via via) throws Exception {
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r;
        if (via == Via.FILE) {
            Path file = Files.write(client.resolve("input.bin"), bytes);
            r = app.cli(client, null, "cp", file.getFileName().toString(), app.db.toString());
        } else {
            r = app.cli(client, bytes, "cp", "-", app.db.toString());
        }
        assertRejected(r, before);
        return r;
    }

    private void assertRejected(Fixtures.Result r, byte[] before) throws Exception {
        assertEquals(1, r.exit(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertNotEquals(null, errorLine(r), "no ERROR: line\n" + r);
        assertArrayEquals(before, Files.readAllBytes(app.db), "the live database changed\n" + r);
        assertEquals(OLD_ITEMS, app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()), r.toString());
    }

    private void assertPushed(Fixtures.Result r, String items) throws Exception {
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out(), r.toString());
        assertEquals(items, app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /** The first {@code ERROR: } line on stderr, or null. */
    private static String errorLine(Fixtures.Result r) {
        return r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse(null);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        b[0] = 'x'; // never the gzip magic by chance
        return b;
    }

    private static byte[] magicThen(int garbage) {
        byte[] b = new byte[16 + garbage];
        System.arraycopy("SQLite format 3\0".getBytes(StandardCharsets.US_ASCII), 0, b, 0, 16);
        Arrays.fill(b, 16, b.length, (byte) 'x'); // page size 0x7878: not a power of two
        return b;
    }

    /** A multi-page database with the live schema, in rollback mode so the file holds everything. */
    private static Path realDb(Path scratch) throws Exception {
        Path file = scratch.resolve("real-" + System.nanoTime() + ".sqlite3");
        Fixtures.createDb(file, "PRAGMA page_size=4096", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
                        + "INSERT INTO items(name) SELECT printf('item-%06d-%080d', i, i * 2654435761 % 1000000007) FROM n");
        return file;
    }

    /** The first {@code half of the pages} bytes of a file, plus {@code extra}. */
    private static byte[] cut(Path file, int extra) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int pages = all.length / 4096;
        assertTrue(pages >= 8, "fixture too small: " + pages + " pages");
        return Arrays.copyOf(all, pages / 2 * 4096 + extra);
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    /** A real database's 100-byte header, then random bytes for the rest of its pages. */
    private static byte[] realHeaderThenGarbage(Path scratch) throws Exception {
        byte[] all = Files.readAllBytes(realDb(scratch));
        byte[] garbage = randomBytes(all.length - 100);
        System.arraycopy(garbage, 0, all, 100, garbage.length);
        return all;
    }

    /**
     * A database with a table and an index over several pages, with the middle of one b-tree page
     * in the middle of the file overwritten (the header and page 1 stay intact).
     */
    private static byte[] corruptedPage(Path scratch) throws Exception {
        Path file = scratch.resolve("indexed-" + System.nanoTime() + ".sqlite3");
        Fixtures.createDb(file, "PRAGMA page_size=4096", "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "CREATE INDEX items_name ON items(name)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                        + "INSERT INTO items(name) SELECT printf('item-%06d-%040d', i, i * 2654435761 % 1000000007) FROM n");
        byte[] all = Files.readAllBytes(file);
        int pages = all.length / 4096;
        assertTrue(pages >= 20, "fixture too small: " + pages + " pages");
        int page = pages / 2; // 0-based: neither page 1 nor the last
        byte b = all[page * 4096];
        assertTrue(b == 0x02 || b == 0x05 || b == 0x0a || b == 0x0d, "page " + (page + 1) + " is not a b-tree page: " + b);
        ByteBuffer.wrap(all, page * 4096 + 1024, 2048).put(randomBytes(2048));
        return all;
    }

    /** The live table with an extra column, holding two rows. */
    private static Path pricedDb(Path file) throws Exception {
        return Fixtures.createDb(file, "PRAGMA journal_mode=WAL",
                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price INTEGER)",
                "INSERT INTO items(name, price) VALUES ('priced-1', 10), ('priced-2', 20)");
    }
}
