package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.CopyRequest;
import hotswap.wire.ProtocolException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Databases named in the builder, and named so on the command line, through a real app and the real CLI. */
class NamesTest {
    private Path dir;
    private Path client;
    private Path primary;
    private Path cache;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void dirs() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        primary = Fixtures.itemsDb(dir.resolve("production.sqlite3"), "primary-old");
        cache = Fixtures.itemsDb(dir.resolve("cache.sqlite3"), "cache-old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    private Hotswap started(Hotswap.Builder b) throws IOException {
        Hotswap h = b.socket(dir.resolve("hs.sock")).build();
        cleanup.add(h);
        h.start();
        return h;
    }

    /** primary and cache, by name. */
    private Hotswap app() throws IOException {
        return started(Hotswap.builder().database("primary", primary).database("cache", cache));
    }

    private Fixtures.Result cli(Hotswap h, String... args) throws Exception {
        return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null, args);
    }

    private static List<String> items(Path db) throws Exception {
        return Fixtures.query(db, "SELECT name FROM items ORDER BY id");
    }

    private void assertRefusedChangingNothing(Fixtures.Result r, String expected, Map<Path, byte[]> before) throws Exception {
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains(expected), "expected <" + expected + "> in:\n" + r.stderr());
        assertEquals("", r.out(), r.toString());
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), e.getKey() + " changed");
            assertEquals(List.of(), Fixtures.leftovers(e.getKey().getParent()));
        }
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @Test
    void theBuilderNamesByTheNameGivenOrTheFileNameAndRefusesADuplicateNamingBoth() throws Exception {
        Hotswap h = Hotswap.builder().database("primary", primary).database(cache).build();
        cleanup.add(h);
        assertEquals("primary", h.database(primary).name());
        assertEquals("cache.sqlite3", h.database(cache).name());
        assertSame(h.database(primary), h.database("primary"));
        assertSame(h.database(cache), h.database("cache.sqlite3"));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> h.database("nope"));
        assertEquals("no managed database is named nope; managed: primary (" + primary + "), cache.sqlite3 (" + cache + ")",
                unknown.getMessage());

        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Hotswap.builder().database("primary", primary).database("primary", cache));
        assertEquals("two databases are named primary: " + primary + " and " + cache
                + "; give each its own name with database(name, path)", twice.getMessage());
        // A name given may not be another database's file name either, in either order.
        assertThrows(IllegalArgumentException.class, () -> Hotswap.builder().database(cache).database("cache.sqlite3", primary));
        assertThrows(IllegalArgumentException.class, () -> Hotswap.builder().database("cache.sqlite3", primary).database(cache));
        for (String bad : List.of("", "a/b", "host:db", "-x", ".", "..", "a\0b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Hotswap.builder().database(bad, primary), "name <" + bad + ">");
            assertTrue(e.getMessage().startsWith("cannot name a database"), e.getMessage());
        }
    }

    @Test
    void theBuilderRefusesADirectoryForADatabaseSayingWhatToNameInstead() throws Exception {
        // database(Path.of("db")) for the directory the database is in: SQLite could never open it, and
        // no push could ever name it; the app would learn only from its first request.
        Path db = Files.createDirectories(dir.resolve("db"));
        Path link = Files.createSymbolicLink(dir.resolve("db-link"), db);
        for (Path bad : List.of(db, link, dir.resolve("db/../db"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Hotswap.builder().database(bad),
                    bad.toString());
            assertEquals(bad + " is a directory (" + db + "), not a database file; name the file in it, for example "
                    + bad.resolve("production.sqlite3"), e.getMessage());
        }
    }

    /**
     * A database managed at another's {@code -wal}, {@code -shm}, {@code -journal} or {@code .previous}
     * would be taken for its journal, removed by its swap, or replaced by its {@code --keep-previous}
     * (with the app's connections still on the lost file): refused whichever comes first.
     */
    @Test
    void theBuilderRefusesADatabaseAtTheNameOfAnothersJournalOrKeptPrevious() throws Exception {
        for (String suffix : List.of("-wal", "-shm", "-journal", ".previous")) {
            Path companion = dir.resolve("production.sqlite3" + suffix);
            IllegalArgumentException after = assertThrows(IllegalArgumentException.class,
                    () -> Hotswap.builder().database(primary).database(companion), suffix);
            assertTrue(after.getMessage().startsWith("cannot manage both " + primary + " and " + companion + ": " + companion + " is "),
                    after.getMessage());
            assertTrue(after.getMessage().endsWith("; manage a database of another name"), after.getMessage());
            IllegalArgumentException before = assertThrows(IllegalArgumentException.class,
                    () -> Hotswap.builder().database("kept", companion).database(primary), suffix);
            assertTrue(before.getMessage().startsWith("cannot manage both " + primary + " and " + companion + ": "), before.getMessage());
        }
        assertEquals(2, Hotswap.builder().database("a", primary).database("b", dir.resolve("production.sqlite3.previous-1")).build()
                .databases().size(), "a name that only starts like a kept file's is no companion");
    }

    @Test
    void twoFilesOfTheSameNameStillBuildAndTheirNameIsAmbiguous() throws Exception {
        Path a = Fixtures.itemsDb(Files.createDirectory(dir.resolve("a")).resolve("data.sqlite3"), "a");
        Path b = Fixtures.itemsDb(Files.createDirectory(dir.resolve("b")).resolve("data.sqlite3"), "b");
        Hotswap h = started(Hotswap.builder().database(a).database(b));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.database("data.sqlite3"));
        assertTrue(e.getMessage().startsWith("data.sqlite3 names 2 managed databases: data.sqlite3 (" + a + "), data.sqlite3 ("
                + b + ")"), e.getMessage());

        Map<Path, byte[]> before = Map.of(a, Files.readAllBytes(a), b, Files.readAllBytes(b));
        assertRefusedChangingNothing(cli(h, "cp", "new.sqlite3", "data.sqlite3"), "ERROR: data.sqlite3 names 2 managed databases: "
                + "data.sqlite3 (" + a + "), data.sqlite3 (" + b + "); nothing changed. Name it by its path, or give each its own "
                + "name with Hotswap.builder().database(name, path)", before);
        assertRefusedChangingNothing(cli(h, "cp", "data.sqlite3", "out.sqlite3"), "ERROR: data.sqlite3 names 2 managed databases", before);
        assertFalse(Files.exists(client.resolve("out.sqlite3")));
    }

    @Test
    void pushAndPullByName() throws Exception {
        Hotswap h = app();
        Fixtures.Result push = cli(h, "cp", "new.sqlite3", "primary");
        assertEquals(0, push.exit(), push.toString());
        assertEquals("OK\n", push.out());
        assertEquals(List.of("new"), items(primary));
        assertEquals(List.of("cache-old"), items(cache));

        Fixtures.Result pull = cli(h, "cp", "cache", "backup.sqlite3");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("cache-old"), items(client.resolve("backup.sqlite3")));

        // Into a directory, the pulled file takes the name; over an existing file, --delta patches it.
        Files.createDirectory(client.resolve("backups"));
        Fixtures.Result intoDir = cli(h, "cp", "primary", "backups/");
        assertEquals(0, intoDir.exit(), intoDir.toString());
        assertEquals(List.of("new"), items(client.resolve("backups/primary")));
        Fixtures.itemsDb(client.resolve("older.sqlite3"), "older");
        Fixtures.Result delta = cli(h, "cp", "primary", "older.sqlite3", "--delta");
        assertEquals(0, delta.exit(), delta.toString());
        assertEquals(List.of("new"), items(client.resolve("older.sqlite3")));

        Fixtures.Result deltaPush = cli(h, "cp", "older.sqlite3", "cache", "--delta");
        assertEquals(0, deltaPush.exit(), deltaPush.toString());
        assertEquals(List.of("new"), items(cache)); // older.sqlite3 holds primary's rows since the delta pull

        Fixtures.Result stdout = cli(h, "cp", "cache", "-");
        assertEquals(0, stdout.exit(), stdout.stderr());
        Files.write(client.resolve("piped.sqlite3"), stdout.stdout());
        assertEquals(List.of("new"), items(client.resolve("piped.sqlite3")));
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    @Test
    void theKeywordDatabaseMeansTheFirstManagedDatabase() throws Exception {
        Hotswap h = app();
        Fixtures.Result push = cli(h, "cp", "new.sqlite3", "database");
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("new"), items(primary));
        assertEquals(List.of("cache-old"), items(cache));
        Fixtures.Result pull = cli(h, "cp", "database", "copy.sqlite3");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("new"), items(client.resolve("copy.sqlite3")));
        assertSame(h.database(primary), h.database("database"));
    }

    @Test
    void aPathThatExistsWinsOverAName() throws Exception {
        Hotswap h = app();
        // ./cache is a local file, not the database named cache: this pushes it into primary.
        Fixtures.itemsDb(client.resolve("cache"), "the local file");
        byte[] cacheBefore = Files.readAllBytes(cache);
        Fixtures.Result r = cli(h, "cp", "cache", "primary");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("the local file"), items(primary));
        assertArrayEquals(cacheBefore, Files.readAllBytes(cache));
    }

    @Test
    void anUnknownNameIsRefusedListingTheNamesAndPathsAndNothingChanges() throws Exception {
        Hotswap h = app();
        String managed = "primary (" + primary + "), cache (" + cache + ")";
        Map<Path, byte[]> before = Map.of(primary, Files.readAllBytes(primary), cache, Files.readAllBytes(cache));
        assertRefusedChangingNothing(cli(h, "cp", "new.sqlite3", "nosuch"), "ERROR: neither " + client.resolve("new.sqlite3")
                + " nor " + client.resolve("nosuch") + " is a managed database; nothing changed. Managed: " + managed, before);
        // A name never means a local file: the source was not read, and no file was written.
        assertRefusedChangingNothing(cli(h, "cp", "nosuch", "out.sqlite3"), "ERROR: cannot read nosuch: no such file, and no "
                + "managed database has that name; nothing changed. Managed: " + managed, before);
        assertFalse(Files.exists(client.resolve("out.sqlite3")));
        assertRefusedChangingNothing(cli(h, "cp", "primary", "cache"), "ERROR: both primary (" + primary + ") and cache ("
                + cache + ") are managed databases; nothing changed. One side of cp must be a local file or - (a new file named cache there is ./cache)",
                before);
        assertFalse(Files.exists(client.resolve("cache")));
    }

    @Test
    void aNameOnTheWireIsAWordTheCommandLineCouldType() {
        List<String> request = new ArrayList<>(new CopyRequest("-", "/x", CopyRequest.Integrity.FULL, true, 0, -1, false, false)
                .encode());
        request.add("destination-name=a/b");
        ProtocolException e = assertThrows(ProtocolException.class, () -> CopyRequest.decode(request));
        assertEquals("destination-name is not a database name: a/b", e.getMessage());
    }
}
